"""The one row model every rendering reads: a change as symbols and display strings."""

from __future__ import annotations

from dataclasses import dataclass

from cincopa_sync.kinds import get, kinds
from cincopa_sync.plan import Change, FieldChange, Plan
from cincopa_sync.shown import show_value

SYMBOLS = {"create": "+", "update": "~", "rename": ">", "delete": "-"}


@dataclass(frozen=True, slots=True)
class FieldRow:
    field: str
    before: str
    after: str
    # For a set (tags, events) changed in place: the items added and removed, e.g.
    # `+"gallery.created"` and `-"lead.created"`, which is what a reviewer reads.
    added: str = ""
    removed: str = ""
    # The same, one shown value per item (`"gallery.created"`), for layouts of their own.
    added_items: tuple[str, ...] = ()
    removed_items: tuple[str, ...] = ()

    @property
    def delta(self) -> str:
        return " ".join(part for part in (self.added, self.removed) if part)


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


def plural(kind: str) -> str:
    return get(kind).plural


def kind_order() -> list[str]:
    return [k.name for k in kinds()]


def field_rows(fc: FieldChange) -> list[FieldRow]:
    """A field as rows: a map (portal settings) one row per key that changes."""
    if isinstance(fc.after, dict) and not fc.sensitive:
        before = fc.before if isinstance(fc.before, dict) else {}
        return [
            FieldRow(f"{fc.field}.{key}", show_value(before.get(key)), show_value(value))
            for key, value in fc.after.items()
        ]
    row = FieldRow(
        fc.field,
        show_value(fc.before, sensitive=fc.sensitive),
        show_value(fc.after, sensitive=fc.sensitive),
    )
    if fc.is_set and not fc.sensitive:
        added, removed = tuple(map(show_value, fc.added)), tuple(map(show_value, fc.removed))
        row = FieldRow(
            row.field,
            row.before,
            row.after,
            " ".join(f"+{v}" for v in added),
            " ".join(f"-{v}" for v in removed),
            added,
            removed,
        )
    return [row]


def call_text(change: Change, index: int) -> str:
    call = change.calls[index]
    # A deferred param holds a placeholder (shown bare) until apply knows its value.
    args = ", ".join(
        f"{k}={v if k in call.deferred else show_value(v, sensitive=k in call.secret)}"
        for k, v in call.shown().items()
    )
    return f"{call.endpoint}({args})"


def change_row(change: Change) -> ChangeRow:
    return ChangeRow(
        symbol=SYMBOLS[change.action],
        action=change.action,
        kind=change.kind,
        address=change.address,
        location=str(change.location) if change.location else "",
        fields=tuple(row for f in change.fields for row in field_rows(f)),
        calls=tuple(call_text(change, i) for i in range(len(change.calls))),
        notes=change.notes,
    )


# plan --base: how each group of changes is introduced.
ORIGIN_HEADINGS = {
    "change": "Changes this pull request makes",
    "drift": "Drift: the account already differs from the base branch (its plan makes "
    "these same changes)",
}


def origin_groups(plan: Plan) -> list[tuple[str | None, list[Change]]]:
    """The changes in plan order, by origin when the plan is scoped to a pull request
    (its own first, then drift; empty groups left out); else one group, origin None."""
    if plan.drift_adopted is None:
        return [(None, list(plan.changes))]
    groups = [(o, [c for c in plan.changes if c.origin == o]) for o in ORIGIN_HEADINGS]
    return [(origin, changes) for origin, changes in groups if changes]


def adopted_line(plan: Plan) -> str | None:
    if not plan.drift_adopted:
        return None
    return (
        "Drift adopted: the base branch's plan changes these and this pull request does "
        f"not, so the account keeps its current values: {', '.join(plan.drift_adopted)}."
    )


def context_line(plan: Plan) -> str | None:
    """Which environment, account and API the plan is for, or None when it does not say."""
    ctx = plan.context
    if ctx is None:
        return None
    where = f"account {ctx.account} at {ctx.api_host}"
    return (
        f"Plan for environment {ctx.environment}: {where}"
        if ctx.environment
        else f"Plan for {where}"
    )


def summary_line(plan: Plan) -> str:
    counts = plan.summary()
    n = plan.left_out
    if plan.empty:
        if n:
            return f"No change matches --target; it left out the plan's {_changes(n)}."
        return "No changes. The account matches the manifests."
    line = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['rename']} to rename, {counts['delete']} to delete"
    )
    if plan.drift_adopted is not None:
        drift = sum(c.origin == "drift" for c in plan.changes)
        line += f" ({len(plan.changes) - drift:,} from this pull request, {drift:,} drift)"
    return f"{line}; --target left out {_changes(n, 'other ')}." if n else f"{line}."


def _changes(n: int, other: str = "") -> str:
    return f"{n:,} {other}{'change' if n == 1 else 'changes'}"


def unmanaged_line(plan: Plan) -> str | None:
    if not plan.unmanaged:
        return None
    parts = [f"{n} {plural(k) if n != 1 else k}" for k, n in plan.unmanaged]
    return f"Left alone: {', '.join(parts)} that no manifest names (prune is off for them)."
