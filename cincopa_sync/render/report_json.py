"""The apply report as JSON (`apply --report FILE`), documented by
schemas/apply-report.schema.json.

Every change of the plan is listed with one status:
- applied: made and read back holding the values sent;
- failed: the API refused it or could not be reached (message: why);
- skipped: not started (interrupted, a delete waiting on a failed create, or apply
  stopped before any write: message says why);
- unknown: sent, and its answer lost: it may or may not have taken effect;
- not_verified: made, but not confirmed by reading it back (the read-back failed, the
  apply was interrupted first, or a field did not take the value sent).
"""

from __future__ import annotations

import json
from typing import Any

from cincopa_sync.engine.apply import ApplyReport, Outcome
from cincopa_sync.plan import Change, Plan
from cincopa_sync.shown import show_value

FORMAT_VERSION = 1
STATUSES = ("applied", "failed", "skipped", "unknown", "not_verified")


def report_to_dict(
    plan: Plan | None, report: ApplyReport | None, *, exit_code: int, error: str | None = None
) -> dict[str, Any]:
    """The report of an apply that ended with `exit_code`; `error` is why it stopped, when
    it stopped before or outside the writes (then the changes it did not start are
    skipped). Messages are as the engine and the CLI made them: already redacted."""
    outcomes = {o.change.address: o for o in (report.outcomes if report else [])}
    changes = [_change(c, outcomes.get(c.address), report, error) for c in _changes(plan, report)]
    summary = dict.fromkeys(STATUSES, 0)
    for change in changes:
        summary[change["status"]] = summary.get(change["status"], 0) + 1
    return {
        "format_version": FORMAT_VERSION,
        "exit_code": exit_code,
        "error": error or None,
        "interrupted": bool(report and report.interrupted),
        "summary": summary,
        "changes": changes,
        "drift": [
            {
                "address": d.address,
                "field": d.field,
                "expected": show_value(d.expected),
                "actual": show_value(d.actual),
            }
            for d in (report.drift if report else [])
        ],
    }


def render_report_json(
    plan: Plan | None, report: ApplyReport | None, *, exit_code: int, error: str | None = None
) -> str:
    document = report_to_dict(plan, report, exit_code=exit_code, error=error)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _changes(plan: Plan | None, report: ApplyReport | None) -> list[Change]:
    if plan is not None:
        return list(plan.changes)
    return [o.change for o in sorted(report.outcomes if report else [], key=_order)]


def _order(outcome: Outcome) -> tuple:
    return outcome.change.sort_key


def _change(
    change: Change, outcome: Outcome | None, report: ApplyReport | None, error: str | None
) -> dict[str, Any]:
    status, message = _status(change, outcome, report, error)
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "status": status,
        "message": message or None,
    }


def _status(
    change: Change, outcome: Outcome | None, report: ApplyReport | None, error: str | None
) -> tuple[str, str]:
    if outcome is None:
        return "skipped", f"not started: {error}" if error else "not started"
    if outcome.status != "applied" or report is None:
        return outcome.status, outcome.message
    drift = [d for d in report.drift if d.address == change.address]
    if drift:
        fields = "; ".join(
            f"{d.field} is {show_value(d.actual)}, expected {show_value(d.expected)}" for d in drift
        )
        return "not_verified", f"made, but read back: {fields} (the API did not take it)"
    if report.unverified:
        return "not_verified", f"made; could not read it back: {report.unverified}"
    if report.interrupted:
        return "not_verified", "made; not read back (the apply was interrupted)"
    return "applied", outcome.message
