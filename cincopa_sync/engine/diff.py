"""desired x live -> Plan. Pure: no I/O, no clock, no randomness.

Each kind diffs its own specs (`Kind.diff`): only the fields a manifest writes are
compared, value by value in canonical form, so an object whose fields all match costs
one comparison per field and yields nothing.
"""

from __future__ import annotations

from cincopa_sync.engine.read import LiveState
from cincopa_sync.errors import InvalidInput, Problem
from cincopa_sync.kinds import kinds
from cincopa_sync.kinds.base import PlanOptions
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, Plan, make_plan

__all__ = ["PlanOptions", "make_plan_for"]


def make_plan_for(
    desired: DesiredState, live: LiveState, options: PlanOptions | None = None
) -> Plan:
    """The plan that takes `live` to `desired`; raises InvalidInput listing every conflict."""
    options = options or PlanOptions()
    problems: list[Problem] = []
    changes: list[Change] = []
    unmanaged: dict[str, int] = {}
    live_counts: dict[str, int] = {}
    notes: list[str | tuple[str, list[str]]] = []
    # One path for every warning: the manifests' first, then each kind's.
    warnings: list[Problem] = list(desired.warnings)
    for kind in kinds():
        part, found = kind.diff(
            desired.of(kind.name), live.of(kind.name), desired.prunes(kind.name), options
        )
        problems += found
        changes += part.changes
        notes += part.notes
        warnings += part.warnings
        if part.unmanaged:
            unmanaged[kind.name] = part.unmanaged
        if part.live_count is not None:
            live_counts[kind.name] = part.live_count
    if problems:
        raise InvalidInput(problems)
    return make_plan(changes, unmanaged, warnings, notes=notes, live_counts=live_counts)
