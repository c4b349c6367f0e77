"""apply's question, in a real process on a pseudo-terminal: stdin is the terminal, stdout and
stderr go to one pipe (as with `2>&1 | tail`), and the question still reaches the person at
the terminal, naming what it will change and where."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from support import EXAMPLES, REPO

SECRETS = {
    "CINCOPA_HOOK_KEY": "demo-key-not-secret",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0000/B0000/demo",
}


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def apply_on_a_terminal(state: Path, answer: str) -> tuple[int, str, str]:
    """(exit code, what the terminal showed, what went down the pipe)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CINCOPA_")}
    env.update(SECRETS, NO_COLOR="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "cincopa_sync", "apply", str(EXAMPLES), "--emulator",
         "--emulator-state", str(state)],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env=env,
        preexec_fn=_controlling_terminal,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 30
    while b"Type yes" not in shown:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:  # the question never came to the terminal: stop the run, then fail
            process.kill()
            piped, _ = process.communicate()
            pytest.fail(f"no question on the terminal; the pipe got: {piped.decode()!r}")
        shown += os.read(master, 4096)
    os.write(master, answer.encode() + b"\n")
    piped, _ = process.communicate(timeout=60)
    os.close(master)
    return process.returncode, shown.decode(), piped.decode()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux pseudo-terminal")
def test_the_question_reaches_the_terminal_when_the_output_goes_to_a_pipe(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    code, shown, piped = apply_on_a_terminal(state, "no")
    assert code == 4
    asked = re.search(
        r"Apply (\d+) change\(s\) \((\d+ to \w+(, )?)+\) to account 100001 at emulator\?", shown
    )
    assert asked, shown
    assert "Type yes to apply, anything else to cancel:" in shown
    assert "[]" not in shown  # not click's empty default
    assert "Type yes" not in piped  # the question went to the terminal, not down the pipe
    assert piped.startswith("Plan for account 100001 at emulator\n")
    assert "apply cancelled: nothing was written" in piped

    code, shown, piped = apply_on_a_terminal(state, "yes")
    assert code == 0, piped
    assert f"Apply complete: {asked.group(1)} applied, 0 failed, 0 skipped" in piped
