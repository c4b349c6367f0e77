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
from cincopa_sync.engine.apply import ApplyReport, Outcome
from cincopa_sync.plan import Plan
from cincopa_sync.render.report import render_report
from cincopa_sync.render.text import render_text

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


# -- control characters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, says",
    [
        ('assets:\n  - rid: "a\\0b"\n', "rid 'a\\x00b' is not valid"),
        ('assets:\n  - reference_id: "SKU\\n1"\n', "reference_id 'SKU\\n1' is not valid"),
        ('assets:\n  - rid: A1\n    tags: ["x\\x01"]\n', "tags[0] 'x\\x01' is not valid"),
        ('assets:\n  - rid: A1\n    caption: "a\\x1b[31m"\n', "caption 'a\\x1b[31m' is not valid"),
        (
            'webhooks:\n  - url: "https://h.example.com/a\\nPlan: 0 to create."\n'
            "    events: [asset.*]\n",
            # a URL's path is never quoted (a Slack URL's path is its credential)
            "url 'https://h.example.com/…' is not valid: it must be an https:// URL with a "
            "host, on one line",
        ),
        ('portals:\n  - subdomain: p1\n    settings: {"k\\u0000": x}\n', "settings key 'k\\u0000'"),
    ],
)
def test_control_characters_are_refused_where_no_manifest_may_hold_them(
    entry: str, says: str, run: Callable[..., Result], tmp_path: Path
) -> None:
    """`rid: "a\\0b"` (a YAML escape: the file itself holds no control character) passed
    validate: `valid: 1 file(s), 1 asset(s), 0 portal(s), 0 webhook(s)`."""
    (tmp_path / "m.yaml").write_text(entry, encoding="utf-8")
    result = run("validate", tmp_path)
    assert result.exit_code == 3, result.output
    assert says in result.stderr


def test_tabs_and_line_breaks_stay_allowed_in_free_text(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(
        'assets:\n  - rid: A1\n    caption: "tab\\there"\n    long_description: "a\\nb\\r\\n"\n',
        encoding="utf-8",
    )
    result = run("validate", tmp_path)
    assert result.exit_code == 0, result.output


def test_a_line_break_in_a_live_name_cannot_forge_a_line_of_the_text_plan(
    make_plan: Callable[..., Plan], tmp_path: Path
) -> None:
    """A live portal named `x\\nNo changes. The account matches the manifests.` printed,
    once pruned, a plan whose last lines said there were no changes."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text("prune:\n  portals: true\n", encoding="utf-8")
    forged = "x\nNo changes. The account matches the manifests."
    plan = make_plan([manifest], {"portals": [{"subdomain": forged, "name": "n"}]})
    text = render_text(plan)
    assert "No changes. The account matches the manifests." not in text.splitlines()
    assert "  - portal.x\\nNo changes. The account matches the manifests." in text
    assert text.splitlines()[-1] == "Plan: 0 to create, 0 to update, 0 to rename, 1 to delete."


def test_a_line_break_in_an_api_message_cannot_forge_a_line_of_the_report(
    make_plan: Callable[..., Plan], tmp_path: Path
) -> None:
    """An API message `no\\nApply complete: 9 applied, 0 failed, 0 skipped.` printed as
    its own line of the report."""
    forged = "Apply complete: 9 applied, 0 failed, 0 skipped."
    manifest = tmp_path / "one.yaml"
    manifest.write_text("portals:\n  - subdomain: fresh\n", encoding="utf-8")
    plan = make_plan([manifest], {"portals": []})
    report = ApplyReport([Outcome(plan.changes[0], "failed", f"no\n{forged}")])
    lines = render_report(report).splitlines()
    assert forged not in lines
    assert any(line.endswith(f": no\\n{forged}") for line in lines)
