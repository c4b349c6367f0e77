"""doctor: does this account's API answer as cincopa-sync expects? Read-only."""

from __future__ import annotations

from collections.abc import Sequence

from cincopa_sync.api import endpoints as ep
from cincopa_sync.cli.app import cli, echo
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.cli.options import api_options, common_options, connect
from cincopa_sync.engine.doctor import DIFFERS, OK, SKIPPED, DoctorReport, KindAccess, examine
from cincopa_sync.errors import EXIT_API, EXIT_OK


@cli.command()
@api_options
@common_options
def doctor(
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    http_log: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Check that the API answers in the shape cincopa-sync relies on, endpoint by endpoint,
    and what the token may do. Writes nothing. Exit 0 when every answer matches, 1 if not.
    """
    setup_logging(verbose=verbose, debug=debug)
    with connect(api_url, use_emulator, emulator_state, http_log=http_log) as client:
        report = examine(client)
    echo(render(report, http_log), nl=False)
    return EXIT_OK if report.ok else EXIT_API


def render(report: DoctorReport, http_log: str | None) -> str:
    lines = [f"Checking {report.api} against the shapes cincopa-sync relies on (schemas/api/):"]
    for check in report.checks:
        if check.outcome == DIFFERS:
            lines += [f"{check.endpoint}: {d} ({check.breaks})" for d in check.deviations]
            continue
        lines.append(f"{check.endpoint}: {check.outcome}")
        lines += [f"  {note}" for note in check.notes]
    lines.append("")
    if report.account is not None:
        who = report.account
        lines.append(
            f"Account {who.get(ep.F_ACCID)} ({who.get('accemail')}), "
            f"user {who.get('userid')} ({who.get('useremail')})."
        )
    if report.permissions is not None:
        shown = " ".join(sorted(report.permissions)) or "none"
        lines.append(f"Token permissions: {shown}")
        lines += [f"  {line}" for line in access_lines(report.access)]
        lines.append("  ping, doctor and validate need no permission.")
    lines.append("")
    differ = [c for c in report.checks if c.outcome not in (OK, SKIPPED)]
    if not differ:
        lines.append(f"Every endpoint checked answers as expected ({len(report.checks)} checked).")
    else:
        names = ", ".join(c.endpoint for c in differ)
        lines.append(
            f"{len(differ)} of {len(report.checks)} endpoints did not answer as expected "
            f"({names}): every command that reads them stops with exit 1 and plans nothing "
            "from them."
        )
        log = http_log or "doctor.jsonl"
        lines.append(
            f"Please report it with the HTTP log of this run "
            f"(`cincopa-sync doctor --http-log {log}`: tokens and secrets are masked)."
        )
    return "\n".join(lines) + "\n"


def access_lines(access: Sequence[KindAccess]) -> list[str]:
    """One line per kind: what plan, export and apply may do with it."""
    lines = []
    for kind in access:
        if kind.unreadable == kind.reads:
            read = f"plan and export cannot read them (they need {_need(kind.reads[0])})"
        elif kind.unreadable:
            read = f"plan and export read them, but not with {', '.join(kind.unreadable)}"
        else:
            read = "plan and export read them"
        if not kind.writes:
            write = "nothing to write"
        elif kind.unwritable == kind.writes:
            write = f"apply may not write them (it needs {_need(kind.writes[0])})"
        elif kind.unwritable:
            write = f"apply writes them, but not with {', '.join(kind.unwritable)}"
        else:
            write = "apply writes them"
        lines.append(f"{kind.plural}: {read}; {write}")
    return lines


def _need(endpoint: str) -> str:
    space_all, space_kind, _ = ep.allowing(endpoint)
    return f"{space_all} or {space_kind}"
