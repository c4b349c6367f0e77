"""`apply --report FILE` and what apply prints without a terminal.

The report is JSON (schemas/apply-report.schema.json), written however the apply ends;
without a terminal apply prints one flushed line per change as it completes, and a
progress line whenever a phase goes quiet for long (10 s, scaled by
CINCOPA_SYNC_TIME_SCALE here).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from jsonschema import Draft202012Validator
from support import EXAMPLES, Served, serving, start_process

from cincopa_sync.resources import schema_path

NO_CHANGES = "No changes. The account matches the manifests."
# The defaults examples/manifests/webhooks.yaml uses: a saved plan needs them set.
DEMO_SECRETS = {
    "CINCOPA_HOOK_KEY": "demo-key-not-secret",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0000/B0000/demo",
}


@pytest.fixture(scope="module")
def report_schema() -> Draft202012Validator:
    schema = json.loads(schema_path("apply-report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _plan_json(run: Callable[..., Result], served: Served) -> dict[str, Any]:
    result = run("plan", EXAMPLES, "--format", "json", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _report(path: Path, schema: Draft202012Validator) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(schema.iter_errors(document)) == []
    return document


def test_report_of_a_partial_apply_names_what_failed_and_what_remains(
    run: Callable[..., Result],
    served: Served,
    tmp_path: Path,
    report_schema: Draft202012Validator,
) -> None:
    total = len(_plan_json(run, served)["changes"])
    served.emulator.set_faults("asset.set_meta#1=fail:caption is too long for this account")
    report_file = tmp_path / "report.json"
    applied = run(
        "apply", EXAMPLES, "--auto-approve", "--report", report_file, *served.args, env=served.env
    )
    assert applied.exit_code == 5, applied.stdout + applied.stderr
    # the summary says what was checked, not "every change verified"
    applied_count = total - 1
    assert (
        f"Apply complete: {applied_count} applied, 1 failed, 0 skipped; "
        f"the {applied_count} applied verified"
    ) in applied.stdout

    report = _report(report_file, report_schema)
    assert report["exit_code"] == 5 and report["error"] is None
    assert report["summary"] == {
        "applied": applied_count,
        "failed": 1,
        "skipped": 0,
        "unknown": 0,
        "not_verified": 0,
    }
    assert len(report["changes"]) == total
    (failed,) = [c for c in report["changes"] if c["status"] == "failed"]
    assert failed["kind"] == "asset" and failed["action"] == "update"
    assert "caption is too long for this account" in failed["message"]
    assert all(c["message"] is None for c in report["changes"] if c["status"] == "applied")

    # the report is honest: what it calls failed is exactly what a plan still shows
    remaining = json.loads(
        run("plan", EXAMPLES, "--format", "json", *served.args, env=served.env).stdout
    )
    assert [c["address"] for c in remaining["changes"]] == [failed["address"]]
    again = run(
        "apply", EXAMPLES, "--auto-approve", "--report", report_file, *served.args, env=served.env
    )
    assert again.exit_code == 0, again.stdout + again.stderr
    assert _report(report_file, report_schema)["summary"]["applied"] == 1
    final = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=served.env)
    assert final.exit_code == 0 and NO_CHANGES in final.stdout


@pytest.fixture
def report_file(tmp_path: Path) -> Path:
    return tmp_path / "report.json"


def test_report_of_an_apply_stopped_before_any_write_skips_every_change_and_says_why(
    run: Callable[..., Result], served: Served, report_file: Path, report_schema
) -> None:
    total = len(_plan_json(run, served)["changes"])
    saved = report_file.parent / "plan.json"
    assert run("plan", EXAMPLES, "--out", saved, *served.args, env=served.env).exit_code == 0
    # applied with a token that may not write: stopped before the first write
    refused = run(
        "apply",
        "--plan",
        saved,
        "--report",
        report_file,
        *served.args,
        env={**served.env, **DEMO_SECRETS, "CINCOPA_API_TOKEN": "emulator-readonly"},
    )
    assert refused.exit_code == 1, refused.stdout + refused.stderr  # may not write
    report = _report(report_file, report_schema)
    assert report["exit_code"] == 1
    assert "may not call" in report["error"]
    assert {c["status"] for c in report["changes"]} == {"skipped"}
    assert report["summary"]["skipped"] == total
    assert all(c["message"].startswith("not started: ") for c in report["changes"])
    assert served.writes() == []


def test_a_report_even_for_an_apply_that_could_not_start(
    run: Callable[..., Result], tmp_path: Path, report_schema: Draft202012Validator
) -> None:
    report_file = tmp_path / "report.json"
    result = run("apply", "--plan", tmp_path / "missing.json", "--report", report_file)
    assert result.exit_code == 3
    report = _report(report_file, report_schema)
    assert report["exit_code"] == 3 and report["changes"] == []
    assert "missing.json" in report["error"]


def _watch(args: list[str], env: dict[str, str]) -> tuple[int, list[tuple[float, str]], float]:
    """A real process with stdout and stderr as pipes: its stderr lines with the time each
    arrived, and when it ended."""
    process = start_process(*args, env=env)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(
        target=lambda: lines.extend((time.monotonic(), line) for line in process.stderr)  # type: ignore[union-attr]
    )
    reader.start()
    process.stdout.read()  # type: ignore[union-attr]
    code = process.wait(timeout=120)
    ended = time.monotonic()
    reader.join()
    return code, lines, ended


def test_without_a_terminal_each_change_is_a_line_as_it_completes_and_long_phases_tick(
    demo_seed: dict[str, Any], tmp_path: Path
) -> None:
    manifest = tmp_path / "portals.yaml"
    manifest.write_text(
        "portals:\n"
        "  - subdomain: acme-videos\n    name: Acme Videos\n"
        "  - subdomain: acme-2019-archive\n    name: Old archive, kept\n",
        encoding="utf-8",
    )
    # Every answer takes 0.7 s; progress ticks every 10 s x 0.05 = 0.5 s of silence.
    with serving(demo_seed, latency_ms=700) as served:
        code, lines, ended = _watch(
            ["apply", str(manifest), "--auto-approve", "--parallelism", "1", *served.args],
            {**served.env, "CINCOPA_SYNC_TIME_SCALE": "0.05"},
        )
    text = "".join(line for _, line in lines)
    assert code == 0, text
    done = [(at, line) for at, line in lines if line.startswith("[")]
    assert [line.split()[:2] for _, line in done] == [["[1/2]", "applied"], ["[2/2]", "applied"]]
    # the first change's line came while the second was still being written and read back
    assert ended - done[0][0] > 1.0, text
    ticks = [line for _, line in lines if line.startswith("... still ")]
    assert any("reading the live account" in t for t in ticks), text
    assert any("applying: " in t or "verify" in t for t in ticks), text
