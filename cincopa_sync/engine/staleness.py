"""`apply --plan`: resolve a saved plan's secrets again and re-read exactly the objects
it touches; refuse (exit 4) if any moved since the plan was made."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.engine.planfile import FROM_LIVE, Ref, SavedPlan, digest
from cincopa_sync.engine.read import reader_for
from cincopa_sync.errors import InvalidInput, Refused
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.base import LiveObject
from cincopa_sync.manifest.interpolate import resolve_parts
from cincopa_sync.plan import Change, Observed, Plan
from cincopa_sync.shown import show_value


def resolve_secrets(
    saved: SavedPlan, env: Mapping[str, str], live_keys: Mapping[str, list[str]]
) -> dict[str, str]:
    """Each reference's value, from the environment or the live objects' keys (by kind),
    checked against its digest. Missing variables: InvalidInput (exit 3); a different
    value: Refused (exit 4)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    changed: list[str] = []
    for ref, source in saved.secrets.items():
        if source.get("from") == FROM_LIVE:
            kind = str(source.get("kind"))
            keys = live_keys.get(kind, [])
            matches = [k for k in keys if digest(saved.salt, k) == source["digest"]]
            if matches:
                values[ref] = matches[0]
            else:
                changed.append(f"a {kind} the plan deletes is no longer live")
            continue
        parts = [(kind, text) for kind, text in source["template"]]
        value, unset = resolve_parts(parts, env)
        if unset:
            missing += unset
        elif source["digest"] is not None and digest(saved.salt, value) != source["digest"]:
            names = ", ".join(text for kind, text in parts if kind == "env")
            changed.append(f"the secret from {names} is not the value the plan was made with")
        else:
            values[ref] = value
    if missing:
        raise InvalidInput(
            "the saved plan needs these environment variables: " + ", ".join(sorted(set(missing)))
        )
    if changed:
        raise Refused("the saved plan is stale: " + "; ".join(changed) + "; nothing was written")
    return values


def with_secrets(plan: Plan, values: Mapping[str, str]) -> Plan:
    """The plan with every secret reference replaced by its value (in memory only)."""

    def real(value: object) -> object:
        return values[value] if isinstance(value, Ref) else value

    changes = []
    for change in plan.changes:
        calls = tuple(
            replace(c, params=tuple((k, real(v)) for k, v in c.params)) for c in change.calls
        )
        observed = tuple(replace(o, key=real(o.key)) for o in change.observed)
        changes.append(replace(change, calls=calls, observed=observed))
    return replace(plan, changes=tuple(changes))


def stale_objects(client: CincopaClient, saved: SavedPlan, *, parallelism: int = 8) -> Plan:
    """Re-read exactly the objects the plan touches; the plan with its secrets resolved
    when none moved, else Refused (exit 4) naming every object that changed or appeared."""
    observed = [o for c in saved.plan.changes for o in c.observed]
    from_live = {str(s.get("kind")) for s in saved.secrets.values() if s.get("from") == FROM_LIVE}
    live: dict[str, dict[str, LiveObject]] = {}
    with reader_for(client, parallelism) as reader:
        for kind in kinds():
            keys = [o.key for o in observed if o.kind == kind.name]
            if keys or kind.name in from_live:
                live[kind.name] = kind.reread(reader, [k for k in keys if not isinstance(k, Ref)])
    # Only the secrets of the changes kept (after --target) are needed.
    used = {
        str(v)
        for c in saved.plan.changes
        for v in [*(v for call in c.calls for _, v in call.params), *(o.key for o in c.observed)]
        if isinstance(v, Ref)
    }
    needed = replace(saved, secrets={r: s for r, s in saved.secrets.items() if r in used})
    values = resolve_secrets(needed, os.environ, {k: list(v) for k, v in live.items()})
    plan = with_secrets(saved.plan, values)
    secret_keys = set(values.values())
    moved = []
    for change in plan.changes:
        for seen in change.observed:
            current = live.get(seen.kind, {}).get(seen.key)
            now = get(seen.kind).observe_again(seen, current)
            if now != seen:
                moved.append(_describe(change, seen, now, seen.key in secret_keys))
    if moved:
        raise Refused(
            "the saved plan is stale, the account changed since it was made; nothing was "
            "written. Plan again.\n  " + "\n  ".join(moved)
        )
    return plan


def _describe(change: Change, seen: Observed, now: Observed, secret_key: bool) -> str:
    name = change.address if secret_key else f"{seen.kind}.{seen.key}"
    if seen.fields is None:
        return f"{name}: appeared since the plan was made (the plan saw none)"
    if now.fields is None:
        return f"{name}: gone since the plan was made"
    then, current = dict(seen.fields), dict(now.fields or ())
    diffs = [
        f"{field} is now {show_value(current.get(field))} (the plan saw {show_value(value)})"
        for field, value in then.items()
        if current.get(field) != value
    ]
    return f"{name}: " + "; ".join(diffs)
