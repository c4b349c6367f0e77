"""`apply --report FILE`: the JSON report, written however the apply ends, and the line
apply prints for each change as it completes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from cincopa_sync.api.redact import redact
from cincopa_sync.cli.app import token
from cincopa_sync.engine.apply import ApplyReport, Outcome
from cincopa_sync.errors import EXIT_API, EXIT_INTERRUPTED, EXIT_INVALID, CincopaSyncError
from cincopa_sync.files import write_atomic
from cincopa_sync.plan import Plan
from cincopa_sync.render.report_json import render_report_json
from cincopa_sync.render.rows import SYMBOLS

report_option = click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False),
    help="Also write what apply did as JSON to FILE (schemas/apply-report.schema.json), "
    "however it ends.",
)


@dataclass
class ReportSink:
    """What the apply got to, for the report: the plan it ran and what happened."""

    plan: Plan | None = None
    report: ApplyReport | None = None
    exit_code: int = 0


@contextlib.contextmanager
def reporting(path: str | None) -> Iterator[ReportSink]:
    """Write the report to `path` on the way out: the apply's outcome, or the error that
    stopped it (with its exit code), then let the error go on."""
    sink = ReportSink()
    try:
        yield sink
    except CincopaSyncError as exc:
        _write(path, sink, exc.exit_code, str(exc))
        raise
    except (KeyboardInterrupt, click.Abort):
        _write(path, sink, EXIT_INTERRUPTED, "interrupted")
        raise
    except click.ClickException as exc:
        _write(path, sink, EXIT_INVALID if exc.exit_code == 2 else exc.exit_code, exc.message)
        raise
    except Exception as exc:
        _write(path, sink, EXIT_API, f"internal error: {exc!r}")
        raise
    else:
        _write(path, sink, sink.exit_code, None)


def _write(path: str | None, sink: ReportSink, exit_code: int, error: str | None) -> None:
    if not path:
        return
    text = render_report_json(
        sink.plan, sink.report, exit_code=exit_code, error=redact(error, token()) if error else None
    )
    write_atomic(Path(path), text, mode=0o644)  # messages are redacted: no secret in it


def outcome_line(done: int, total: int, outcome: Outcome) -> str:
    """`[3/120] applied  ~ asset.abc`, or the status and why for anything else."""
    change = outcome.change
    line = f"[{done}/{total}] {outcome.status:<8} {SYMBOLS[change.action]} {change.address}"
    if outcome.status != "applied" and outcome.message:
        line += f": {outcome.message}"
    return line
