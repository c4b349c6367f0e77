"""Hostile input that is not a manifest: the API base, local files the tool did not write
(saved plans, --emulator-state, the GitHub step summary), control characters in values.
Each is a clear exit 3 that names the input (never the token), before any API call."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import EXAMPLES

from cincopa_sync import files
from cincopa_sync.engine import planfile

TOKEN = "tok-hostile-input-5e1f0a"


@pytest.mark.parametrize(
    "url, says",
    [
        (f"https://{'a' * 64}.example.com/v2/", "a label longer than 63 characters"),
        ("https://api..example.com/v2/", "an empty label"),
        (f"https://{'abcdefgh.' * 30}com/", "longer than 253 characters"),
    ],
)
def test_an_api_url_whose_host_cannot_resolve_is_invalid_input(
    url: str, says: str, run: Callable[..., Result]
) -> None:
    """CINCOPA_API_URL="https://$(printf 'a%.0s' {1..64}).example.com/v2/" cincopa-sync ping
    used to print `internal error: UnicodeError("encoding with 'idna' codec failed
    (UnicodeError: label empty or too long)")`, exit 1."""
    result = run("ping", env={"CINCOPA_API_TOKEN": TOKEN, "CINCOPA_API_URL": url})
    assert result.exit_code == 3, result.output
    assert says in result.stderr and url in result.stderr
    assert "internal error" not in result.stderr and TOKEN not in result.output


# -- files the tool did not write: regular files only, under a cap ----------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "f"
    os.mkfifo(path)
    return path


def test_a_saved_plan_that_is_a_fifo_is_refused_without_blocking(
    fifo: Path, run_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """mkfifo f; cincopa-sync apply --plan f --emulator
    used to block forever, reading the FIFO."""
    result = run_process("apply", "--plan", fifo, "--emulator", timeout=20)
    assert result.returncode == 3, result.stderr
    assert f"{fifo}: not a regular file" in result.stderr


def test_an_emulator_state_that_is_a_fifo_is_refused_without_blocking(
    fifo: Path, run_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """mkfifo f; cincopa-sync plan examples/manifests --emulator --emulator-state f
    used to block forever."""
    result = run_process("plan", EXAMPLES, "--emulator", "--emulator-state", fifo, timeout=20)
    assert result.returncode == 3, result.stderr
    assert f"--emulator-state {fifo}: not a regular file" in result.stderr


def test_a_step_summary_that_is_a_fifo_is_refused_without_blocking(
    fifo: Path, run_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """mkfifo f; GITHUB_STEP_SUMMARY=$PWD/f cincopa-sync plan examples/manifests --emulator
    used to block forever, opening the FIFO to append."""
    result = run_process(
        "plan", EXAMPLES, "--emulator", env={"GITHUB_STEP_SUMMARY": str(fifo)}, timeout=20
    )
    assert result.returncode == 3, result.stderr
    assert f"GITHUB_STEP_SUMMARY={fifo}: not a regular file" in result.stderr


def test_a_saved_plan_from_a_device_is_refused_before_it_is_read(
    run: Callable[..., Result],
) -> None:
    """cincopa-sync apply --plan /dev/zero --emulator
    used to read until memory ran out."""
    result = run("apply", "--plan", "/dev/zero", "--emulator")
    assert result.exit_code == 3, result.output
    assert "/dev/zero: not a regular file" in result.stderr


def test_a_saved_plan_over_the_cap_is_refused_from_its_size(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200 MB file given to `apply --plan` took 6 s and 850 MB before exit 3: the size
    is now checked before the file is opened (here with the cap lowered to 1 KiB)."""
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:  # sparse: the size is there, the bytes are not
        handle.write(b"{")
        handle.truncate(2048)
    monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", 1024)
    real_open = os.open

    def never(file: str, *args: object, **kwargs: object) -> int:
        assert os.fspath(file) != str(path), "a file over the cap must not be opened"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", never)
    result = run("apply", "--plan", path, "--emulator")
    assert result.exit_code == 3, result.output
    assert f"{path}: file is larger than the 1024 bytes limit for a saved plan" in result.stderr


def test_the_step_summary_is_appended_to_and_created_when_missing(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    first = run("plan", EXAMPLES, "--emulator", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert first.exit_code == 0, first.output
    once = summary.read_text(encoding="utf-8")
    assert once.startswith("<!-- cincopa-sync plan -->")
    run("plan", EXAMPLES, "--emulator", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == once * 2


def test_an_http_log_that_is_a_fifo_is_refused_without_blocking(
    fifo: Path, run_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """mkfifo f; cincopa-sync ping --emulator --http-log f would block opening the FIFO."""
    result = run_process("plan", EXAMPLES, "--emulator", "--http-log", fifo, timeout=20)
    assert result.returncode == 3, result.stderr
    assert f"--http-log {fifo}: not a regular file" in result.stderr
