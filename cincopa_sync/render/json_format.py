"""The machine format of a plan, documented by schemas/plan.schema.json."""

from __future__ import annotations

import json
from typing import Any

from cincopa_sync.plan import Change, FieldChange, Plan
from cincopa_sync.shown import PLACEHOLDERS, SENSITIVE

FORMAT_VERSION = 1


def _value(value: object, sensitive: bool) -> Any:
    if sensitive and value is not None and value not in PLACEHOLDERS:
        return SENSITIVE
    if isinstance(value, tuple | frozenset | set):
        return sorted(value) if not isinstance(value, tuple) else list(value)
    return value


def _field(fc: FieldChange) -> dict[str, Any]:
    out = {
        "field": fc.field,
        "before": _value(fc.before, fc.sensitive),
        "after": _value(fc.after, fc.sensitive),
        "sensitive": fc.sensitive,
    }
    if fc.is_set and not fc.sensitive:
        out["added"], out["removed"] = list(fc.added), list(fc.removed)
    return out


def change_to_dict(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "location": str(change.location) if change.location else None,
        "fields": [_field(f) for f in change.fields],
        "calls": [{"endpoint": c.endpoint, "params": c.shown()} for c in change.calls],
        "notes": list(change.notes),
        "origin": change.origin,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    where = {}
    if plan.context is not None:
        ctx = plan.context
        where["context"] = {
            "environment": ctx.environment,
            "account": ctx.account,
            "api_host": ctx.api_host,
        }
    return {
        "format_version": FORMAT_VERSION,
        **where,
        "summary": plan.summary(),
        "changes": [change_to_dict(c) for c in plan.changes],
        "unmanaged": dict(plan.unmanaged),
        "notes": list(plan.notes),
        "warnings": plan.warning_lines(),
        "targets": _targets(plan),
        "drift_adopted": list(plan.drift_adopted) if plan.drift_adopted is not None else None,
    }


def _targets(plan: Plan) -> dict[str, Any] | None:
    """The --target patterns and how many changes they left out; None: not targeted."""
    if not plan.targets:
        return None
    return {"patterns": list(plan.targets), "left_out": plan.left_out}


def render_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"
