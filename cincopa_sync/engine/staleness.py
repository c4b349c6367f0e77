"""`apply --plan`: plan again from the desired state a saved plan records, against the
account as it is now, and go on only when the result is exactly the recorded plan.

The calls apply then makes are the ones derived here, never the file's: an edited call,
an appended change or an emptied observation cannot reach the API. What is planned again
is every kind that has a change in the plan being applied (after `--target`). Its
secrets come from the environment again, each checked against its digest; a secret that
is only ever sent (a webhook's key, `Kind.send_only`) is not needed to plan, so it stands
in as a placeholder then and is needed only when a call sends it (apply stops before any
write without it).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.redact import register_secrets
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.planfile import (
    FROM_ENVIRONMENT,
    Ref,
    SavedPlan,
    changes_as_written,
    digest,
)
from cincopa_sync.engine.read import read_live, reader_for
from cincopa_sync.errors import InvalidInput, Refused
from cincopa_sync.kinds import get, kinds
from cincopa_sync.manifest.interpolate import resolve_parts
from cincopa_sync.plan import Change, Observed, Plan
from cincopa_sync.shown import Unresolved, show_value

STALE = "the saved plan is stale, the account changed since it was made; nothing was written"


def stale_objects(
    client: CincopaClient,
    saved: SavedPlan,
    *,
    targets: Sequence[str] = (),
    parallelism: int = 8,
) -> Plan:
    """The plan to apply: planned again from the recorded desired state (the kinds the
    changes kept by `targets` touch), when that is exactly the recorded plan; else Refused
    (exit 4) naming what moved."""
    recorded = saved.plan.targeted(targets)
    names = [k.name for k in kinds() if any(c.kind == k.name for c in recorded.changes)]
    sends = {
        ref
        for c in recorded.changes
        for call in c.calls
        for _, v in call.params
        for ref in [v]
        if isinstance(v, Ref)
    }
    values, sent = _secrets_of(saved, names, sends)
    register_secrets(*(v for v in sent.values() if not isinstance(v, Unresolved)))
    desired = saved.desired(names, values.__getitem__)
    live = read_live(client, desired, parallelism=parallelism)
    try:
        derived = make_plan_for(desired, live, saved.options).targeted(saved.targets)
    except InvalidInput as exc:  # the account changed so that no plan can be made now
        moved = _moves(client, saved, recorded, values, parallelism)
        now = [f"a plan made now fails: {p}" for p in exc.problems]
        raise Refused(f"{STALE}. Plan again.\n  " + "\n  ".join([*moved, *now])) from None
    refs = _references(saved, derived, values)
    differences = _differences(saved, names, derived, refs)
    if differences:
        moved = _moves(client, saved, recorded, values, parallelism)
        raise Refused(f"{STALE}. Plan again.\n  " + "\n  ".join(moved or differences))
    # The same plan: it takes what only review adds (pull-request origins), and the
    # values of the secrets it sends.
    origins = [c.origin for c in saved.plan.changes if c.kind in names]
    swap = {values[ref]: value for ref, value in sent.items() if values[ref] is not value}
    changes = tuple(
        replace(_sending(change, swap), origin=origin)
        for change, origin in zip(derived.changes, origins, strict=True)
    )
    derived = replace(
        derived,
        changes=changes,
        context=saved.plan.context,
        drift_adopted=saved.plan.drift_adopted,
    )
    return derived.targeted(targets)


class Withheld(str):
    """A secret that is only ever sent, while the plan is made again: planning needs to
    know only that there is one (it cannot be compared), never its value."""

    @classmethod
    def of(cls, ref: str) -> Withheld:
        return cls(f"\0withheld {ref}")  # no manifest value holds a NUL: none equals it


def _sending(change: Change, swap: Mapping[str, str]) -> Change:
    """The change with each stand-in of a secret it sends replaced by the value: in the
    call's secret params only, so that no public text equal to a stand-in (a caption that
    reads `${CINCOPA_HOOK_KEY}`) is ever sent as the secret."""
    if not swap:
        return change
    calls = tuple(
        replace(c, params=tuple((k, swap.get(v, v) if k in c.secret else v) for k, v in c.params))
        for c in change.calls
    )
    return replace(change, calls=calls)


def _secrets_of(
    saved: SavedPlan, names: Iterable[str], sends: Collection[str] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """For each secret the desired state of these kinds holds: what stands for it while
    planning again, and what a call sends. Both are its value from the environment,
    checked against its digest, except for a secret only ever sent: then a stand-in
    (Withheld, or Unresolved when it was unset when planned, as then), and its value, or
    Unresolved when its variables are unset (apply stops before sending it). A missing
    variable of any other secret: InvalidInput (exit 3), naming those of the secrets the
    recorded calls send (`sends`) too; another value: Refused (exit 4)."""
    planning: dict[str, str] = {}
    sending: dict[str, str] = {}
    missing: list[str] = []
    later: list[str] = []
    changed: list[str] = []
    specs = [(name, spec) for name in names for spec in saved.specs.get(name, ())]
    send_only = {
        ref
        for name, spec in specs
        for key in get(name).send_only
        if isinstance(spec, dict)
        for ref in _refs(spec.get(key))
    }
    for ref in sorted({ref for _, spec in specs for ref in _refs(spec)}):
        source = saved.secrets.get(ref)
        if source is None or source["from"] != FROM_ENVIRONMENT:
            raise saved.damaged(f"secrets.{ref}", "not a secret the desired state can hold")
        parts = [(kind, text) for kind, text in source["template"]]
        value, unset = resolve_parts(parts, os.environ)
        known = source["digest"]
        stale = not unset and known is not None and digest(saved.salt, value) != known
        if stale:
            names_ = ", ".join(text for kind, text in parts if kind == "env")
            changed.append(f"the secret from {names_} is not the value the plan was made with")
        if ref in send_only:
            written = _as_written(parts)
            every = [text for kind, text in parts if kind == "env"]
            planning[ref] = Unresolved(written, every) if known is None else Withheld.of(ref)
            sending[ref] = Unresolved(written, unset) if unset else value
            if unset and ref in sends:
                later += unset  # said now if anything else is missing
        elif unset:
            missing += unset
        else:
            planning[ref] = sending[ref] = value
    if missing:
        names_ = ", ".join(sorted({*missing, *later}))
        raise InvalidInput(
            f"the saved plan needs these environment variables: {names_} (it never records "
            "the :-default of a secret)"
        )
    if changed:
        raise Refused("the saved plan is stale: " + "; ".join(changed) + "; nothing was written")
    return planning, sending


def _as_written(parts: Sequence[tuple[str, str]]) -> str:
    """A template's text: `${NAME}` for each variable."""
    return "".join(
        f"${{{text}}}" if kind == "env" else text.replace("${", "$${") for kind, text in parts
    )


def _refs(data: Any) -> Iterable[str]:
    """The secret references in a spec's JSON."""
    if isinstance(data, dict):
        if set(data) == {"secret"} and isinstance(data["secret"], str):
            yield data["secret"]
        else:
            for value in data.values():
                yield from _refs(value)
    elif isinstance(data, list):
        for value in data:
            yield from _refs(value)


def _references(saved: SavedPlan, plan: Plan, values: Mapping[str, str]) -> dict[str, str]:
    """Secret value -> its reference in the saved plan, for every secret the derived plan
    holds (the desired state's, and the live ones of objects it deletes, by digest); a
    secret the saved plan does not know keeps its value, so it can never compare equal."""
    by_digest = {source["digest"]: ref for ref, source in saved.secrets.items()}
    found = {value: ref for ref, value in values.items()}
    for change in plan.changes:
        for call in change.calls:
            for name, value in call.params:
                if name in call.secret and value not in found:
                    ref = by_digest.get(digest(saved.salt, value))
                    if ref is not None:
                        found[value] = ref
    return found


def _differences(
    saved: SavedPlan, names: Sequence[str], derived: Plan, refs: Mapping[str, str]
) -> list[str]:
    """How the plan made now differs from the recorded one, for these kinds (none: the
    same); addresses only, never a value."""
    mine = set(names)
    recorded = [_reviewed(c) for c in saved.recorded if c["kind"] in mine]
    made = [_reviewed(c) for c in changes_as_written(derived.changes, refs) if c["kind"] in mine]
    out = []
    if recorded != made:  # the lists, whole: a change held twice is a difference too
        then, now = {_named(c): c for c in recorded}, {_named(c): c for c in made}
        for name in [*then, *(n for n in now if n not in then)]:
            if name not in now:
                out.append(f"{name}: the saved plan holds a change a plan made now does not")
            elif name not in then:
                out.append(f"{name}: a plan made now makes a change the saved plan does not hold")
            elif then[name] != now[name]:
                out.append(f"{name}: a plan made now makes this change otherwise")
        if not out:
            out.append(f"the saved plan holds {len(recorded)} changes, a plan made now {len(made)}")

    def of_mine(pairs: tuple[tuple[str, int], ...]) -> dict[str, int]:
        return {k: n for k, n in pairs if k in mine}

    if of_mine(saved.plan.unmanaged) != of_mine(derived.unmanaged):
        out.append("the count of objects no manifest names is not what it was")
    if of_mine(saved.plan.live_counts) != of_mine(derived.live_counts):
        out.append("the count of live objects a prune weighs is not what it was")
    whole = mine >= {c["kind"] for c in saved.recorded} | {k for k, v in saved.specs.items() if v}
    for what, recorded, current in (
        ("notes", saved.plan.notes, derived.notes),
        ("warnings", saved.plan.warnings, derived.warnings),
    ):
        if (list(recorded) != list(current)) if whole else not set(current) <= set(recorded):
            out.append(f"the plan's {what} are not what they were")
    return out


def _reviewed(change: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded change without what only review adds to it (a pull request's origin)."""
    return {k: v for k, v in change.items() if k != "origin"}


def _named(change: Mapping[str, Any]) -> str:
    """A recorded change by what it does to which object: `portal.x (delete)`."""
    return f"{change.get('address')} ({change.get('action')})"


def _moves(
    client: CincopaClient,
    saved: SavedPlan,
    recorded: Plan,
    values: Mapping[str, str],
    parallelism: int,
) -> list[str]:
    """What moved, object by object, for the recorded changes that observed them."""
    secret_keys: dict[str, str] = dict(values)
    observed = [o for c in recorded.changes for o in c.observed]
    current: dict[str, dict[str, Any]] = {}
    with reader_for(client, parallelism) as reader:
        for kind in kinds():
            keys = [o.key for o in observed if o.kind == kind.name]
            if not keys:
                continue
            live = kind.reread(reader, [k for k in keys if not isinstance(k, Ref)])
            if any(isinstance(k, Ref) for k in keys):  # a secret key: found by its digest
                for key in live:
                    for ref, source in saved.secrets.items():
                        if source["digest"] == digest(saved.salt, key):
                            secret_keys[ref] = key
            current[kind.name] = live
    moved = []
    for change in recorded.changes:
        for seen in change.observed:
            key = secret_keys.get(seen.key, seen.key) if isinstance(seen.key, Ref) else seen.key
            real = replace(seen, key=key)
            now = get(seen.kind).observe_again(real, current.get(seen.kind, {}).get(key))
            if now != real:
                moved.append(_describe(change, real, now, isinstance(seen.key, Ref)))
    return moved


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
