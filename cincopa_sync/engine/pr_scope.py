"""Plans scoped to a pull request (`plan --base DIR`). Pure: two plans in, one plan out.

The pull request's manifests and the base branch's are planned against the same live
read. A change of the pull request's plan that the base plan makes identically is
"drift": the account already differs from the base branch, whatever the pull request
does. Every other change is the pull request's own ("change"). A base change with no
change at its address in the pull request's plan is drift the pull request adopts: it
keeps the account's current values there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, Plan

CHANGE = "change"
DRIFT = "drift"


def _same(change: Change) -> tuple:
    """What makes two changes the same change: not where a manifest asked for it. (Field
    values may be mappings, which do not hash: their canonical repr does, keys sorted.)"""
    return (change.address, change.kind, change.action, repr(change.fields), change.calls)


def scope_to_base(head: Plan, base: Plan | None) -> Plan:
    """`head` with each change's origin and the drift it adopts. Without a base plan
    (the base manifests do not load), every change is the pull request's."""
    if base is None:
        changes = tuple(replace(c, origin=CHANGE) for c in head.changes)
        return replace(head, changes=changes, drift_adopted=())
    in_base = {_same(c) for c in base.changes}
    changes = tuple(
        replace(c, origin=DRIFT if _same(c) in in_base else CHANGE) for c in head.changes
    )
    addresses = {c.address for c in head.changes}
    adopted = tuple(sorted({c.address for c in base.changes} - addresses))
    return replace(head, changes=changes, drift_adopted=adopted)


def both(head: DesiredState, base: DesiredState) -> DesiredState:
    """What one live read must cover to plan both: every spec of each, prune where either
    prunes."""
    names = set(head.specs) | set(base.specs)
    return DesiredState(
        specs={name: (*head.of(name), *base.of(name)) for name in names},
        prune={name: head.prunes(name) or base.prunes(name) for name in {*head.prune, *base.prune}},
    )


def base_paths(paths: Sequence[str], base_dir: str, cwd: str) -> list[str]:
    """The same manifest paths in the base branch's checkout: relative ones under
    `base_dir`, absolute ones inside `cwd` by their place in it. A path the base does
    not have (the pull request adds it) is left out. InvalidInput for an absolute path
    outside `cwd` (it has no place in a checkout)."""
    found = []
    for path in paths:
        relative = path
        if os.path.isabs(path):
            relative = os.path.relpath(path, cwd)
            if relative.startswith(os.pardir):
                raise InvalidInput(
                    f"--base: {path} is outside the current directory, so it has no place "
                    "in the base checkout: give the manifest paths relative to the repository"
                )
        candidate = os.path.join(base_dir, relative)
        if os.path.exists(candidate):
            found.append(candidate)
    return found
