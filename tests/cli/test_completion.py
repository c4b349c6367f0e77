"""Shell completion as the README sets it up: the shell asks the program itself."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import REPO


def complete(words: str, shell: str = "bash") -> list[str]:
    env = {
        **os.environ,
        "_CINCOPA_SYNC_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = subprocess.run(
        [sys.executable, "-c", "from cincopa_sync.cli import main; main()"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_commands_options_and_choices_complete() -> None:
    assert set(complete("cincopa-sync s")) == {"show", "schema"}
    assert "--base" in complete("cincopa-sync plan --ba")
    assert complete("cincopa-sync plan --format ") == ["text", "json", "markdown"]
    assert complete("cincopa-sync schema ") == ["apply-report", "manifest", "plan"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_its_script(shell: str) -> None:
    env = {**os.environ, "_CINCOPA_SYNC_COMPLETE": f"{shell}_source"}
    result = subprocess.run(
        [sys.executable, "-c", "from cincopa_sync.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "_CINCOPA_SYNC_COMPLETE" in result.stdout
