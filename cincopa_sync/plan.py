"""A plan is plain data: a sorted list of changes, each with the calls it will make."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import Location

KINDS = ("asset", "portal", "webhook")
ACTIONS = ("create", "update", "rename", "delete")
SENSITIVE = "(sensitive)"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One managed field that differs. Values are canonical: str, int, None, sorted tuples,
    dicts of str; a sensitive value is shown and saved only as "(sensitive)"."""

    field: str
    before: object
    after: object
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    address: str
    kind: str  # one of KINDS
    action: str  # one of ACTIONS
    fields: tuple[FieldChange, ...]
    calls: tuple[Call, ...]
    location: Location | None = None  # the manifest entry that asked for it (None: a prune)
    notes: tuple[str, ...] = ()
    # Whether the first call creates something (retried only after a read says it is absent).
    creates: bool = False

    @property
    def sort_key(self) -> tuple:
        return (KINDS.index(self.kind), self.address, ACTIONS.index(self.action))


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[tuple[str, int], ...] = ()  # (kind, count) of live objects left alone
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        return {action: counts.get(action, 0) for action in ACTIONS}

    def calls(self) -> list[Call]:
        return [call for change in self.changes for call in change.calls]

    def targeted(self, patterns: Iterable[str]) -> Plan:
        """Only the changes whose address matches one of the patterns (`*` globs allowed)."""
        patterns = list(patterns)
        if not patterns:
            return self
        kept = tuple(c for c in self.changes if any(fnmatchcase(c.address, p) for p in patterns))
        return replace(self, changes=kept)


def make_plan(
    changes: Iterable[Change],
    unmanaged: dict[str, int] | None = None,
    warnings: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Plan:
    """The one way to build a Plan: changes sorted, so the same inputs give the same plan."""
    return Plan(
        changes=tuple(sorted(changes, key=lambda c: c.sort_key)),
        unmanaged=tuple(sorted((unmanaged or {}).items())),
        warnings=tuple(sorted(set(warnings))),
        notes=tuple(notes),
    )
