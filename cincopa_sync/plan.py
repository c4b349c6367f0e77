"""A plan is plain data: a sorted list of changes, each with the calls it will make."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import Location

KINDS = ("asset", "portal", "webhook")
ACTIONS = ("create", "update", "rename", "delete")
SENSITIVE = ep.SENSITIVE


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One managed field that differs. Values are canonical: str, int, None, sorted tuples,
    dicts of str; a sensitive value is shown and saved only as "(sensitive)"."""

    field: str
    before: object
    after: object
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    """An object as the plan saw it live: the values it planned against, or absent.

    A saved plan records these so `apply --plan` can refuse when the account moved since.
    """

    kind: str
    key: str  # rid, subdomain or webhook URL
    fields: tuple[tuple[str, object], ...] | None  # None: absent; () present, no fields


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
    observed: tuple[Observed, ...] = ()

    @property
    def sort_key(self) -> tuple:
        return (KINDS.index(self.kind), self.address, ACTIONS.index(self.action))


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[tuple[str, int], ...] = ()  # (kind, count) of live objects left alone
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    live_counts: tuple[tuple[str, int], ...] = ()  # (kind, live objects) of pruned kinds

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

    def all_warnings(self) -> list[str]:
        """The plan's warnings and, computed from its changes as they are now (after
        --target too), the delete-safety ones."""
        return [*self.warnings, *self.risky_deletes()]

    def risky_deletes(self) -> list[str]:
        """Why apply would refuse without --allow-deletes: per kind, deleting both more
        than DELETE_MIN_COUNT objects and more than DELETE_MAX_SHARE of the live ones."""
        counts = Counter(c.kind for c in self.changes if c.action == "delete")
        live = dict(self.live_counts)
        reasons = []
        for kind in KINDS:
            deleting, total = counts.get(kind, 0), live.get(kind, 0)
            if deleting > DELETE_MIN_COUNT and deleting > DELETE_MAX_SHARE * total:
                reasons.append(
                    f"the plan deletes {deleting} of {total} live {kind}s "
                    f"(more than {DELETE_MIN_COUNT} and more than "
                    f"{DELETE_MAX_SHARE:.0%}): apply refuses without --allow-deletes"
                )
        return reasons


# The delete safety of design §3: a plan deleting more than both, of one kind, is refused.
DELETE_MIN_COUNT = 3
DELETE_MAX_SHARE = 0.30


def make_plan(
    changes: Iterable[Change],
    unmanaged: dict[str, int] | None = None,
    warnings: Iterable[str] = (),
    notes: Iterable[str] = (),
    live_counts: dict[str, int] | None = None,
) -> Plan:
    """The one way to build a Plan: changes sorted, so the same inputs give the same plan."""
    return Plan(
        changes=tuple(sorted(changes, key=lambda c: c.sort_key)),
        unmanaged=tuple(sorted((unmanaged or {}).items())),
        warnings=tuple(sorted(set(warnings))),
        notes=tuple(notes),
        live_counts=tuple(sorted((live_counts or {}).items())),
    )
