"""The end report of an apply: applied, failed (with the API's message), skipped, unknown
(may have taken effect, with what to check), drift."""

from __future__ import annotations

from cincopa_sync.engine.apply import ApplyReport
from cincopa_sync.render.rows import SYMBOLS
from cincopa_sync.shown import escape_controls as one_line
from cincopa_sync.shown import show_value


def render_report(report: ApplyReport) -> str:
    applied = report.by_status("applied")
    failed = report.by_status("failed")
    skipped = report.by_status("skipped")
    unknown = report.by_status("unknown")
    lines = []
    for outcome in applied:
        address = one_line(outcome.change.address)
        lines.append(f"  applied  {SYMBOLS[outcome.change.action]} {address}")
    # An API message may hold anything: escaped, it cannot print a line of its own.
    for outcome in failed:
        lines.append(f"  FAILED   {one_line(outcome.change.address)}: {one_line(outcome.message)}")
    for outcome in skipped:
        lines.append(f"  skipped  {one_line(outcome.change.address)}: {one_line(outcome.message)}")
    for outcome in unknown:
        lines.append(f"  UNKNOWN  {one_line(outcome.change.address)}: {one_line(outcome.message)}")
    for d in report.drift:
        lines.append(
            f"  DRIFT    {one_line(d.address)}: {one_line(d.field)} is {show_value(d.actual)}, "
            f"expected {show_value(d.expected)} (the API did not take the value sent)"
        )
    verdict = (
        f"Apply {'interrupted' if report.interrupted else 'complete'}: {len(applied)} applied, "
        f"{len(failed)} failed, {len(skipped)} skipped"
    )
    if unknown:
        verdict += f", {len(unknown)} unknown (may have taken effect)"
    if report.unverified:
        unverified = one_line(report.unverified)
        lines.append(f"  could not read the changes back to verify them: {unverified}")
        verdict += "; not verified"
    elif report.drift:
        verdict += f", {len(report.drift)} field(s) did not take"
    elif report.interrupted:
        pass  # nothing was read back: the verdict says interrupted
    elif applied and len(applied) < len(report.outcomes):  # the summary says what it checked
        verdict += f"; the {len(applied)} applied verified by reading them back"
    elif applied:
        verdict += "; every change verified by reading it back"
    lines.append(verdict + ".")
    if failed or skipped or unknown or report.drift or report.unverified:
        lines.append("Run `plan` again to see exactly what remains.")
    return "\n".join(lines) + "\n"
