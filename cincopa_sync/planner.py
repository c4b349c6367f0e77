"""desired x live -> Plan. Pure: no I/O, no clock, no randomness.

Only the fields a manifest writes are compared, value by value in canonical form; an
object whose fields all match costs one comparison per field and yields nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cincopa_sync.api import endpoints as ep
from cincopa_sync.errors import InvalidInput, Location, Problem
from cincopa_sync.live import LiveState
from cincopa_sync.manifest.model import (
    ASSET_FIELDS,
    AssetSpec,
    DesiredState,
    PortalSpec,
    WebhookSpec,
    mask_url,
    webhook_address,
)
from cincopa_sync.plan import SENSITIVE, Change, FieldChange, Observed, Plan, make_plan

NO_KEY = "(none)"
HAS_KEY = "(set)"


@dataclass(frozen=True, slots=True)
class PlanOptions:
    resend_secrets: bool = False  # write every hook that has a key (key rotation)


def make_plan_for(
    desired: DesiredState, live: LiveState, options: PlanOptions | None = None
) -> Plan:
    """The plan that takes `live` to `desired`; raises InvalidInput listing every conflict."""
    options = options or PlanOptions()
    problems: list[Problem] = []
    changes: list[Change] = []
    changes += _plan_assets(desired.assets, live, problems)
    portal_changes, unmanaged_portals = _plan_portals(desired, live, problems)
    hook_changes, unmanaged_hooks, notes = _plan_webhooks(desired, live, options)
    if problems:
        raise InvalidInput(problems)
    unmanaged = {}
    if unmanaged_portals:
        unmanaged["portal"] = unmanaged_portals
    if unmanaged_hooks:
        unmanaged["webhook"] = unmanaged_hooks
    live_counts = {}
    if desired.prune.portals:
        live_counts["portal"] = len(live.portals)
    if desired.prune.webhooks:
        live_counts["webhook"] = len(live.webhooks)
    return make_plan(
        changes + portal_changes + hook_changes, unmanaged, notes=notes, live_counts=live_counts
    )


# -- assets -------------------------------------------------------------------------


def _plan_assets(
    specs: tuple[AssetSpec, ...], live: LiveState, problems: list[Problem]
) -> list[Change]:
    changes = []
    claimed: dict[str, Location] = {}  # rid -> the entry that manages it
    for spec in specs:
        rid = _resolve_asset(spec, live, problems)
        if rid is None:
            continue
        if rid in claimed:
            problems.append(
                Problem(
                    spec.location,
                    f"{spec.address} is asset {rid}, which the entry at {claimed[rid]} "
                    "already manages",
                )
            )
            continue
        claimed[rid] = spec.location
        current = live.assets[rid]
        diffs = [
            FieldChange(f, _shown(current.get(f)), _shown(spec.fields[f]))
            for f in ASSET_FIELDS
            if f in spec.fields and _asset_value(current.get(f), f) != spec.fields[f]
        ]
        if diffs:
            call = ep.asset_set_meta(rid, {d.field: spec.fields[d.field] for d in diffs})
            seen = _seen("asset", current, [f for f in ASSET_FIELDS if f in spec.fields])
            changes.append(
                Change(
                    spec.address,
                    "asset",
                    "update",
                    tuple(diffs),
                    (call,),
                    spec.location,
                    observed=(Observed("asset", rid, seen),),
                )
            )
    return changes


def _resolve_asset(spec: AssetSpec, live: LiveState, problems: list[Problem]) -> str | None:
    if spec.by == "rid":
        if spec.ident in live.assets:
            return spec.ident
        problems.append(Problem(spec.location, f"no asset has rid {spec.ident!r}"))
        return None
    rids = live.rids_by_reference.get(spec.ident, [])
    if len(rids) == 1:
        return rids[0]
    if not rids:
        problems.append(Problem(spec.location, f"no asset has reference_id {spec.ident!r}"))
    else:
        problems.append(
            Problem(
                spec.location,
                f"reference_id {spec.ident!r} matches {len(rids)} assets "
                f"({', '.join(sorted(rids))}): identify this asset by rid instead",
            )
        )
    return None


def _asset_value(value: object, field: str) -> object:
    # An unset thumbnail field reads as None; the manifest can only ask for a value or "".
    if value is None and field == "thumb_attached_rid":
        return ""
    return value


# -- portals ------------------------------------------------------------------------


def _plan_portals(
    desired: DesiredState, live: LiveState, problems: list[Problem]
) -> tuple[list[Change], int]:
    changes: list[Change] = []
    accounted: set[str] = set()  # live subdomains some manifest entry speaks for
    for spec in desired.portals:
        old_names = [name for name in spec.previously if name in live.portals]
        if spec.subdomain in live.portals:
            if old_names:
                problems.append(
                    Problem(
                        spec.location,
                        f"portal {spec.subdomain!r} and its earlier name "
                        f"{old_names[0]!r} both exist: remove one by hand or drop it from "
                        "`previously`",
                    )
                )
                continue
            accounted.add(spec.subdomain)
            change = _portal_update(spec, live.portals[spec.subdomain])
        elif len(old_names) > 1:
            problems.append(
                Problem(
                    spec.location,
                    f"several earlier names of portal {spec.subdomain!r} exist "
                    f"({', '.join(old_names)}): cannot tell which to rename",
                )
            )
            continue
        elif not _subdomain_free(spec, live, problems):
            continue
        elif old_names:
            accounted.add(old_names[0])
            change = _portal_rename(spec, old_names[0], live.portals[old_names[0]])
        else:
            change = _portal_create(spec)
        if change is not None:
            changes.append(change)
    unmanaged = sorted(set(live.portals) - accounted)
    if not desired.prune.portals:
        return changes, len(unmanaged)
    for name in unmanaged:
        changes.append(
            Change(
                f"portal.{name}",
                "portal",
                "delete",
                (FieldChange("subdomain", name, None),),
                (ep.portal_remove(name),),
                notes=("no manifest names it and prune.portals is on",),
                observed=(Observed("portal", name, ()),),
            )
        )
    return changes, 0


def _subdomain_free(spec: PortalSpec, live: LiveState, problems: list[Problem]) -> bool:
    answer = live.subdomain_checks.get(spec.subdomain, {})
    if answer.get("available", True) is False:
        problems.append(
            Problem(
                spec.location,
                f"portal subdomain {spec.subdomain!r} is taken by another account",
            )
        )
        return False
    return True


def _portal_diffs(spec: PortalSpec, current: dict[str, object]) -> list[FieldChange]:
    diffs = []
    for key in ("name", "visibility"):
        if key in spec.fields and current.get(key) != spec.fields[key]:
            diffs.append(FieldChange(key, current.get(key), spec.fields[key]))
    wanted = spec.fields.get("settings") or {}
    have = current.get("settings") or {}
    changed = {k: v for k, v in wanted.items() if have.get(k) != v}  # type: ignore[union-attr]
    if changed:
        before = {k: have.get(k) for k in sorted(changed)}  # type: ignore[union-attr]
        diffs.append(FieldChange("settings", before, dict(sorted(changed.items()))))
    return diffs


def _set_fields(diffs: list[FieldChange]) -> dict[str, object]:
    """The portal.set params for the differing fields (settings: only the changed keys)."""
    return {d.field: d.after for d in diffs}


def _portal_update(spec: PortalSpec, current: dict[str, object]) -> Change | None:
    diffs = _portal_diffs(spec, current)
    if not diffs:
        return None
    call = ep.portal_set(spec.subdomain, _set_fields(diffs))
    seen = (Observed("portal", spec.subdomain, _portal_seen(spec, current)),)
    return Change(
        spec.address,
        "portal",
        "update",
        tuple(diffs),
        (call,),
        spec.location,
        _reactivation(current),
        observed=seen,
    )


def _reactivation(current: dict[str, object]) -> tuple[str, ...]:
    """portal.set makes a ceased portal active again: a plan that writes one says so."""
    status = current.get("status")
    if status and status != "active":
        return (f"the portal is {status}: writing it makes it active again",)
    return ()


def _portal_seen(spec: PortalSpec, current: dict[str, object]) -> tuple[tuple[str, object], ...]:
    """The live values of the fields the manifest manages, as the plan saw them."""
    wanted = spec.fields.get("settings") or {}
    names = [k for k in ("name", "visibility", "settings") if k in spec.fields]
    return _seen("portal", current, names, sorted(wanted))  # type: ignore[arg-type]


def _seen(
    kind: str, current: dict[str, object], names: list[str], setting_keys: list[str] = ()
) -> tuple[tuple[str, object], ...]:
    """Canonical live values of the named fields (portal settings: only those keys)."""
    seen: list[tuple[str, object]] = []
    for name in names:
        if kind == "asset":
            seen.append((name, _shown(_asset_value(current.get(name), name))))
        elif name == "settings":
            have = current.get("settings") or {}
            seen.append((name, {k: have.get(k) for k in setting_keys}))  # type: ignore
        elif name == "has_security_key":
            seen.append((name, bool(current.get(name))))
        elif name == "events":
            seen.append((name, _shown(current.get("events") or frozenset())))
        else:
            seen.append((name, current.get(name)))
    return tuple(seen)


def observe_again(like: Observed, current: dict[str, object] | None) -> Observed:
    """How `like`'s object looks now, by the same fields: equal to `like` when it has not
    moved since the plan (what `apply --plan` checks before any write)."""
    if current is None:
        return Observed(like.kind, like.key, None)
    if like.fields is None:
        return Observed(like.kind, like.key, ())  # absent then, present now
    names = [name for name, _ in like.fields]
    settings = dict(like.fields).get("settings") or {}
    return Observed(like.kind, like.key, _seen(like.kind, current, names, list(settings)))


def _portal_rename(spec: PortalSpec, old: str, current: dict[str, object]) -> Change:
    diffs = _portal_diffs(spec, current)
    calls = [ep.portal_rename(old, spec.subdomain)]
    if diffs:
        calls.append(ep.portal_set(spec.subdomain, _set_fields(diffs)))
    fields = (FieldChange("subdomain", old, spec.subdomain), *diffs)
    seen = (
        Observed("portal", old, _portal_seen(spec, current)),
        Observed("portal", spec.subdomain, None),
    )
    notes = _reactivation(current) if diffs else ()
    return Change(
        spec.address, "portal", "rename", fields, tuple(calls), spec.location, notes, observed=seen
    )


def _portal_create(spec: PortalSpec) -> Change:
    fields = [FieldChange("subdomain", None, spec.subdomain)]
    fields += [
        FieldChange(k, None, _plain(spec.fields[k]))
        for k in ("name", "visibility", "settings")
        if k in spec.fields and spec.fields[k] not in (None, {})
    ]
    call = ep.portal_set(spec.subdomain, dict(spec.fields))
    return Change(
        spec.address,
        "portal",
        "create",
        tuple(fields),
        (call,),
        spec.location,
        creates=True,
        observed=(Observed("portal", spec.subdomain, None),),
    )


# -- webhooks -----------------------------------------------------------------------


def _plan_webhooks(
    desired: DesiredState, live: LiveState, options: PlanOptions
) -> tuple[list[Change], int, list[str]]:
    changes: list[Change] = []
    notes: list[str] = []
    for spec in desired.webhooks:
        current = live.webhooks.get(spec.url)
        change = (
            _webhook_create(spec) if current is None else _webhook_update(spec, current, options)
        )
        if change is not None:
            changes.append(change)
    if changes and any(s.security_key for s in desired.webhooks):  # said when it matters
        notes.append(
            "security keys cannot be read back: a key is written when a hook has none, "
            "whenever its hook is written anyway, and for every hook with --resend-secrets"
        )
    named = {s.url for s in desired.webhooks}
    unmanaged = sorted(set(live.webhooks) - named)
    if not desired.prune.webhooks:
        return changes, len(unmanaged), notes
    for url in unmanaged:
        slack = live.webhooks[url].get("type") == "slack"
        changes.append(
            Change(
                webhook_address(url, secret=slack),
                "webhook",
                "delete",
                (FieldChange("url", mask_url(url) if slack else url, None, sensitive=slack),),
                (ep.webhook_delete(url, slack=slack),),
                notes=("no manifest names it and prune.webhooks is on",),
                observed=(Observed("webhook", url, ()),),
            )
        )
    return changes, 0, notes


def _hook_call(spec: WebhookSpec) -> ep.Call:
    return ep.webhook_set(spec.url, spec.events, spec.security_key, slack=spec.type == "slack")


def _webhook_create(spec: WebhookSpec) -> Change:
    fields = [
        FieldChange(
            "url", None, spec.address.removeprefix("webhook."), sensitive=spec.url_is_secret
        ),
        FieldChange("type", None, spec.type),
        FieldChange("events", None, tuple(sorted(spec.events))),
    ]
    if spec.security_key:
        fields.append(FieldChange("security_key", None, SENSITIVE, sensitive=True))
    return Change(
        spec.address,
        "webhook",
        "create",
        tuple(fields),
        (_hook_call(spec),),
        spec.location,
        creates=True,
        observed=(Observed("webhook", spec.url, None),),
    )


def _webhook_update(
    spec: WebhookSpec, current: dict[str, object], options: PlanOptions
) -> Change | None:
    diffs = []
    notes = []
    if current.get("type") != spec.type:
        diffs.append(FieldChange("type", current.get("type"), spec.type))
    if current.get("events") != spec.events:
        before = tuple(sorted(current.get("events") or ()))  # type: ignore[call-overload]
        diffs.append(FieldChange("events", before, tuple(sorted(spec.events))))
    if spec.security_key and spec.type == "http":
        has_key = bool(current.get("has_security_key"))
        if not has_key:
            diffs.append(FieldChange("security_key", NO_KEY, SENSITIVE, sensitive=True))
        elif options.resend_secrets:
            diffs.append(FieldChange("security_key", HAS_KEY, SENSITIVE, sensitive=True))
            notes.append("the key is sent again (--resend-secrets)")
        elif diffs:
            notes.append("the key cannot be compared; it is sent with the hook")
    if not diffs:
        return None
    seen = _seen("webhook", current, ["type", "events", "has_security_key"])
    return Change(
        spec.address,
        "webhook",
        "update",
        tuple(diffs),
        (_hook_call(spec),),
        spec.location,
        tuple(notes),
        observed=(Observed("webhook", spec.url, seen),),
    )


def _plain(value: object) -> object:
    """Settings arrive as a read-only mapping, which no rendering can print: plans hold
    plain dicts, sorted like the update path's."""
    if isinstance(value, Mapping):
        return dict(sorted(value.items()))
    return value


def _shown(value: object) -> object:
    """Canonical value as plans show it: sets become sorted tuples."""
    if isinstance(value, frozenset | set):
        return tuple(sorted(value))
    return value
