"""The one row model every rendering reads: a change as symbols and display strings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cincopa_sync.plan import SENSITIVE, Change, FieldChange, Plan

SYMBOLS = {"create": "+", "update": "~", "rename": ">", "delete": "-"}
KIND_PLURAL = {"asset": "assets", "portal": "portals", "webhook": "webhooks"}


@dataclass(frozen=True, slots=True)
class FieldRow:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ChangeRow:
    symbol: str
    action: str
    kind: str
    address: str
    location: str
    fields: tuple[FieldRow, ...]
    calls: tuple[str, ...]
    notes: tuple[str, ...]


PLACEHOLDERS = (SENSITIVE, "(none)", "(set)")


def show_value(value: object, *, sensitive: bool = False) -> str:
    """A value for people: strings quoted (escapes visible), absent as (none); a sensitive
    value only as a placeholder. Only unquoted text is a placeholder, so a caption that
    really reads "(none)" stays distinguishable."""
    if value is None:
        return "(none)"
    if sensitive:
        return value if value in PLACEHOLDERS else SENSITIVE  # type: ignore[return-value]
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def field_row(fc: FieldChange) -> FieldRow:
    return FieldRow(
        fc.field,
        show_value(fc.before, sensitive=fc.sensitive),
        show_value(fc.after, sensitive=fc.sensitive),
    )


def call_text(change: Change, index: int) -> str:
    call = change.calls[index]
    args = ", ".join(
        f"{k}={show_value(v, sensitive=k in call.secret)}" for k, v in call.shown().items()
    )
    return f"{call.endpoint}({args})"


def change_row(change: Change) -> ChangeRow:
    return ChangeRow(
        symbol=SYMBOLS[change.action],
        action=change.action,
        kind=change.kind,
        address=change.address,
        location=str(change.location) if change.location else "",
        fields=tuple(field_row(f) for f in change.fields),
        calls=tuple(call_text(change, i) for i in range(len(change.calls))),
        notes=change.notes,
    )


def summary_line(plan: Plan) -> str:
    counts = plan.summary()
    if plan.empty:
        return "No changes. The account matches the manifests."
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['rename']} to rename, {counts['delete']} to delete."
    )


def unmanaged_line(plan: Plan) -> str | None:
    if not plan.unmanaged:
        return None
    parts = [f"{n} {KIND_PLURAL[k] if n != 1 else k}" for k, n in plan.unmanaged]
    return f"Left alone: {', '.join(parts)} that no manifest names (prune is off for them)."
