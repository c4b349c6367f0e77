"""A plan is plain data: a sorted list of changes, each with the calls it will make.

Values in a plan are canonical and printable: str, int, bool, None, sorted tuples (a set
such as tags or events) and dicts of str (portal settings); a secret is only ever a
placeholder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from fnmatch import fnmatchcase

from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import Location, Problem

ACTIONS = ("create", "update", "rename", "delete")
# Kind name -> its plural, in the order plans list kinds; filled by kinds.register().
KIND_NAMES: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One managed field that differs; a sensitive value is only ever a placeholder."""

    field: str
    before: object
    after: object
    sensitive: bool = False

    @property
    def is_set(self) -> bool:
        """A set on both sides (tags, events): shown as the items added and removed."""
        return isinstance(self.before, tuple) and isinstance(self.after, tuple)

    @property
    def added(self) -> tuple:
        return tuple(v for v in self.after if v not in self.before) if self.is_set else ()  # type: ignore[union-attr]

    @property
    def removed(self) -> tuple:
        return tuple(v for v in self.before if v not in self.after) if self.is_set else ()  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class Observed:
    """An object as the plan saw it live: the values it planned against, or absent.

    A saved plan records these so `apply --plan` can refuse when the account moved since.
    """

    kind: str
    key: str  # the object's identity: rid, subdomain, webhook URL
    fields: tuple[tuple[str, object], ...] | None  # None: absent; () present, no fields


@dataclass(frozen=True, slots=True)
class Change:
    address: str
    kind: str  # a registered kind's name
    action: str  # one of ACTIONS
    fields: tuple[FieldChange, ...]
    calls: tuple[Call, ...]
    location: Location | None = None  # the manifest entry that asked for it (None: a prune)
    notes: tuple[str, ...] = ()
    # Whether the first call creates something (retried only after a read says it is absent).
    creates: bool = False
    observed: tuple[Observed, ...] = ()
    # In a plan scoped to a pull request (plan --base): "change" when the pull request asks
    # for it, "drift" when the base branch's plan makes the identical change (the account
    # already differs from the base); None otherwise.
    origin: str | None = None

    @property
    def sort_key(self) -> tuple:
        return (_rank(self.kind), self.address, ACTIONS.index(self.action))


def _rank(kind: str) -> int:
    names = list(KIND_NAMES)
    return names.index(kind) if kind in KIND_NAMES else len(names)


def warning_text(problem: Problem) -> str:
    """A warning as plans show it: `file:line:col: message`, or the message alone."""
    return f"{problem.location}: {problem.message}" if problem.location else problem.message


def as_warning(warning: Problem | str) -> Problem:
    if isinstance(warning, Problem):
        return Problem(warning.location, warning.message, "warning")
    return Problem(None, warning, "warning")


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Where a plan is for, which every rendering names first: the account the token opened,
    the API host (never a URL: no path, no query) and the environment when one was used."""

    account: str
    api_host: str
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[tuple[str, int], ...] = ()  # (kind, count) of live objects left alone
    # Everything a reviewer should be warned of: the manifests' warnings (unknown events,
    # unset secret variables...), the kinds' (new tags...), --target's.
    warnings: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())
    live_counts: tuple[tuple[str, int], ...] = ()  # (kind, live objects) of pruned kinds
    # Per note (same order), the addresses it is about: --target keeps a note only while
    # one of them is kept. Empty: about the whole plan. Missing: every note is.
    note_about: tuple[tuple[str, ...], ...] = ()
    targets: tuple[str, ...] = ()  # the --target patterns this plan was cut to
    left_out: int = 0  # changes --target left out
    # plan --base: the addresses the base branch's plan changes and this plan leaves alone
    # (the pull request accepts the account's current values); None: not scoped.
    drift_adopted: tuple[str, ...] | None = None
    context: PlanContext | None = None  # set by whoever read the account (the CLI)

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        return {action: counts.get(action, 0) for action in ACTIONS}

    def calls(self) -> list[Call]:
        return [call for change in self.changes for call in change.calls]

    def targeted(self, patterns: Iterable[str]) -> Plan:
        """Only the changes whose address matches one of the patterns (`*` globs allowed);
        it counts what it left out, warns of each pattern that matched nothing, and keeps
        only the notes about changes it kept."""
        patterns = list(patterns)
        if not patterns:
            return self
        targets = (*self.targets, *(p for p in patterns if p not in self.targets))
        kept = tuple(c for c in self.changes if any(fnmatchcase(c.address, p) for p in patterns))
        addresses = {c.address for c in kept}
        warnings = list(self.warnings)
        for pattern in patterns:
            warning = as_warning(_no_match(pattern, self.changes))
            if warning not in warnings and not any(fnmatchcase(c.address, pattern) for c in kept):
                warnings.append(warning)
        about = self.note_about or tuple(() for _ in self.notes)
        notes = [
            (n, a) for n, a in zip(self.notes, about, strict=True) if not a or addresses & set(a)
        ]
        return replace(
            self,
            changes=kept,
            warnings=tuple(warnings),
            notes=tuple(n for n, _ in notes),
            note_about=tuple(a for _, a in notes),
            targets=targets,
            left_out=self.left_out + len(self.changes) - len(kept),
        )

    def all_warnings(self) -> list[Problem]:
        """The plan's warnings and, computed from its changes as they are now (after
        --target too), the delete-safety ones."""
        return [*self.warnings, *(as_warning(r) for r in self.risky_deletes())]

    def warning_lines(self) -> list[str]:
        return [warning_text(w) for w in self.all_warnings()]

    def risky_deletes(self) -> list[str]:
        """Why apply would refuse without --allow-deletes: per kind, deleting both more
        than DELETE_MIN_COUNT objects and more than DELETE_MAX_SHARE of the live ones."""
        counts = Counter(c.kind for c in self.changes if c.action == "delete")
        live = dict(self.live_counts)
        reasons = []
        for kind in sorted(counts, key=_rank):
            deleting, total = counts[kind], live.get(kind, 0)
            if deleting > DELETE_MIN_COUNT and deleting > DELETE_MAX_SHARE * total:
                reasons.append(
                    f"the plan deletes {deleting} of {total} live {KIND_NAMES.get(kind, kind)} "
                    f"(more than {DELETE_MIN_COUNT} and more than "
                    f"{DELETE_MAX_SHARE:.0%}): apply refuses without --allow-deletes"
                )
        return reasons


# Delete safety: a plan deleting, of one kind, more than both of these is refused unless
# --allow-deletes is given (a typo in a manifest must not empty an account).
DELETE_MIN_COUNT = 3
DELETE_MAX_SHARE = 0.30


def _no_match(pattern: str, changes: tuple[Change, ...]) -> str:
    message = f"--target {pattern} matches no change of this plan"
    # the addresses, and each kind's `kind.*` for a pattern such as `portl.*`
    known = {c.address for c in changes} | {f"{c.kind}.*" for c in changes}
    close = get_close_matches(pattern, sorted(known), n=1, cutoff=0.75)
    if close:
        message += f" (did you mean {close[0]}?)"
    return message


def make_plan(
    changes: Iterable[Change],
    unmanaged: Mapping[str, int] | None = None,
    warnings: Iterable[Problem | str] = (),
    notes: Iterable[str | tuple[str, Iterable[str]]] = (),
    live_counts: Mapping[str, int] | None = None,
) -> Plan:
    """The one way to build a Plan: changes sorted, so the same inputs give the same plan.

    A note is its text, or (text, the addresses it is about) when --target should drop it
    with them."""
    scoped = [(n, ()) if isinstance(n, str) else (n[0], tuple(sorted(n[1]))) for n in notes]
    return Plan(
        changes=tuple(sorted(changes, key=lambda c: c.sort_key)),
        unmanaged=tuple(sorted((unmanaged or {}).items())),
        warnings=tuple(sorted(set(map(as_warning, warnings)), key=_warning_order)),
        notes=tuple(n for n, _ in scoped),
        live_counts=tuple(sorted((live_counts or {}).items())),
        note_about=tuple(a for _, a in scoped) if any(a for _, a in scoped) else (),
    )


def _warning_order(problem: Problem) -> tuple:
    loc = problem.location
    return (loc is not None, loc or Location("", 0, 0), problem.message)


def plain(value: object) -> object:
    """A canonical value as plans hold it: a set as a sorted tuple, a mapping as a dict
    sorted by key."""
    if isinstance(value, frozenset | set):
        return tuple(sorted(value))
    if isinstance(value, Mapping):
        return dict(sorted(value.items()))
    return value
