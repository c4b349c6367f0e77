"""`cincopa-sync validate` through the command line: every problem, exit 3, no network."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from support import REPO, invoke

CASES = REPO / "tests" / "manifest" / "cases"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("validate must not touch the network")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def run(*args: str, env: dict | None = None):
    return invoke(*args, env=env)


def test_examples_are_valid():
    result = run("validate", str(REPO / "examples" / "manifests"))
    assert result.exit_code == 0, result.output
    assert "31 asset(s), 2 portal(s), 3 webhook(s)" in result.stdout


def test_every_problem_of_every_file_in_one_run_with_exit_3(tmp_path):
    (tmp_path / "a.yaml").write_text("assets:\n  - rid: R1\n    captoin: x\n")
    (tmp_path / "b.yaml").write_text("portals:\n  - subdomain: Bad_Name\nwebhooks: 5\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    a, b = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    assert any(line.startswith(f"{a}:3:5: unknown key 'captoin'") for line in lines), lines
    assert any(line.startswith(f"{b}:2:16: subdomain 'Bad_Name' is not valid") for line in lines)
    assert any(line.startswith(f"{b}:3:11: ") for line in lines), lines
    assert lines[-1].startswith("3 error(s) in 2 file(s)")
    assert result.stdout == ""


def test_a_usage_error_is_exit_3_not_clicks_2():
    result = run("validate")
    assert result.exit_code == 3
    assert "give manifest PATHs" in result.stderr


@pytest.mark.parametrize("case", ["alias", "duplicate-key", "unknown-key", "yaml11-boolean"])
def test_output_is_the_same_with_and_without_a_terminal(case):
    """A real process, once with a pipe and once under a pseudo-terminal."""
    import pty

    argv = [sys.executable, "-m", "cincopa_sync", "validate", "."]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    piped = subprocess.run(
        argv, cwd=CASES / case, env=env, capture_output=True, text=True, timeout=60
    )
    out_fd, in_fd = pty.openpty()
    tty = subprocess.run(argv, cwd=CASES / case, env=env, stdout=in_fd, stderr=in_fd, timeout=60)
    os.close(in_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(out_fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(out_fd)
    assert piped.returncode == tty.returncode == 3
    expected = (CASES / case / "expected.txt").read_text().splitlines()
    own = "expected.txt:"  # the case's expectation is not a manifest, and is said so
    shown = [
        line for line in (piped.stdout + piped.stderr).splitlines() if not line.startswith(own)
    ]
    assert shown[: len(expected)] == expected
    assert b"".join(chunks).decode().replace("\r\n", "\n") == piped.stdout + piped.stderr
