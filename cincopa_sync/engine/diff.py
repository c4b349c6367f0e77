"""desired x live -> Plan. Pure: no I/O, no clock, no randomness.

Each kind diffs its own specs (`Kind.diff`): only the fields a manifest writes are
compared, value by value in canonical form, so an object whose fields all match costs
one comparison per field and yields nothing. A change to an object that several layers
wrote is placed at the entry of the latest layer that wrote one of its differing fields.
"""

from __future__ import annotations

from dataclasses import replace

from cincopa_sync.engine.read import LiveState
from cincopa_sync.errors import InvalidInput, Problem
from cincopa_sync.kinds import kinds
from cincopa_sync.kinds.base import PlanOptions
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, FieldChange, Plan, make_plan

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
        changes += _placed(part.changes, desired) if desired.origins else part.changes
        notes += part.notes
        warnings += part.warnings
        if part.unmanaged:
            unmanaged[kind.name] = part.unmanaged
        if part.live_count is not None:
            live_counts[kind.name] = part.live_count
    if problems:
        raise InvalidInput(problems)
    return make_plan(changes, unmanaged, warnings, notes=notes, live_counts=live_counts)


def _placed(changes: list[Change], desired: DesiredState) -> list[Change]:
    """Each change of an object several layers wrote, at the entry that made it differ."""
    out = []
    for change in changes:
        origins = desired.origins.get(change.address)
        if origins is None or change.location is None:
            out.append(change)
        else:
            keys = [key for fc in change.fields for key in _keys(fc)]
            out.append(replace(change, location=origins.latest(keys)))
    return out


def _keys(fc: FieldChange) -> list[str]:
    """The manifest keys behind a field change: a map field's (portal settings) per key."""
    for side in (fc.after, fc.before):
        if isinstance(side, dict):
            return [f"{fc.field}.{key}" for key in side]
    return [fc.field]
