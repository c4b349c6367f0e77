"""Saved plans: `plan --out FILE` writes one, `apply --plan FILE` applies exactly it or refuses.

The file holds no secret and no token. Secret call parameters (webhook keys, Slack URLs)
are stored as references: a template of environment variables to resolve again at apply
time (a Slack hook being deleted: found again among the live hooks), each checked against
a salted digest taken at plan time. For every object the plan touches it records the live
values it planned against ("absent" included), so a plan that went stale is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets as random_secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cincopa_sync import __version__
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import InvalidInput, Location, Problem, Refused
from cincopa_sync.files import write_atomic
from cincopa_sync.live import read_assets
from cincopa_sync.manifest.interpolate import resolve_parts, template_parts
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, FieldChange, Observed, Plan
from cincopa_sync.planner import observe_again
from cincopa_sync.render.json_format import plan_to_dict
from cincopa_sync.render.rows import show_value

FORMAT = "cincopa-sync saved plan"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    api_identity: str
    manifest_digest: str
    allow_deletes: bool
    plan: Plan  # secret params still references: see `resolve_secrets`
    secrets: Mapping[str, Mapping[str, Any]]
    salt: str


# -- writing ------------------------------------------------------------------------


def write_saved_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    desired: DesiredState,
    *,
    api_identity: str,
    allow_deletes: bool = False,
) -> None:
    """Write `plan` atomically with mode 0600; InvalidInput if a secret it needs is written
    out in a manifest (it could only be saved by saving the secret)."""
    salt = random_secrets.token_hex(16)
    templates = _secret_templates(desired)
    refs: dict[str, str] = {}  # secret value -> reference
    sources: dict[str, dict[str, Any]] = {}
    problems = []
    for change in plan.changes:
        for call in change.calls:
            for name, value in call.params:
                if name not in call.secret or value in refs:
                    continue
                ref = f"s{len(refs) + 1}"
                refs[value] = ref
                source: dict[str, Any] = {"digest": _digest(salt, value)}
                template = templates.get(value)
                if template is None:  # not from a manifest: a live Slack hook being deleted
                    source["from"] = "live-webhook"
                elif "${" not in template.replace("$${", ""):
                    where = change.location or change.address
                    problems.append(f"{where}: the webhook's {name} is written out in the manifest")
                    continue
                else:
                    source["from"] = "environment"
                    source["template"] = template_parts(template)
                sources[ref] = source
    if problems:
        raise InvalidInput(
            [
                Problem(None, f"{p}: a saved plan can only carry secrets given as ${{NAME}}")
                for p in problems
            ]
        )
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "api": api_identity,
        "manifest_digest": desired.digest,
        "allow_deletes": allow_deletes,
        "salt": salt,
        "secrets": sources,
        "review": plan_to_dict(plan),  # what people read: secrets masked
        "changes": [_change_out(c, refs) for c in plan.changes],
        "notes": list(plan.notes),
        "unmanaged": dict(plan.unmanaged),
        "live_counts": dict(plan.live_counts),
    }
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False)
    document = {"checksum": hashlib.sha256(text.encode()).hexdigest(), **body}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(path), text, mode=0o600)  # the owner only: it is an approval


def _secret_templates(desired: DesiredState) -> dict[str, str]:
    """Each secret value of the manifests -> its text as written ("" if written out)."""
    found: dict[str, str] = {}
    for hook in desired.webhooks:
        values = {"security_key": hook.security_key, "url": hook.url}
        for name, template in hook.secret_templates:
            value = values[name]
            if value:
                found[value] = template
    return found


def _digest(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


def _scrub(value: Any, refs: Mapping[str, str]) -> Any:
    """JSON-able, with every secret value replaced by its reference."""
    if isinstance(value, str):
        return {"secret": refs[value]} if value in refs else value
    if isinstance(value, tuple | list):
        return {"tuple": [_scrub(v, refs) for v in value]}
    if isinstance(value, dict):
        return {"dict": {k: _scrub(v, refs) for k, v in value.items()}}
    return value


def _change_out(change: Change, refs: Mapping[str, str]) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "location": str(change.location) if change.location else None,
        "creates": change.creates,
        "notes": list(change.notes),
        "fields": [
            [f.field, _scrub(f.before, refs), _scrub(f.after, refs), f.sensitive]
            for f in change.fields
        ],
        "calls": [
            {
                "endpoint": c.endpoint,
                "params": [[k, _scrub(v, refs)] for k, v in c.params],
                "secret": sorted(c.secret),
            }
            for c in change.calls
        ],
        "observed": [
            {"kind": o.kind, "key": _scrub(o.key, refs), "fields": _scrub(o.fields, refs)}
            for o in change.observed
        ],
    }


# -- reading ------------------------------------------------------------------------


def read_saved_plan(path: str | os.PathLike[str]) -> SavedPlan:
    """The saved plan, or InvalidInput (exit 3) for a damaged or unknown file."""
    where = os.fspath(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{where}: cannot read the saved plan: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{where}: not a saved plan (damaged: not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(f"{where}: not a cincopa-sync saved plan")
    if document.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(
            f"{where}: saved plan format version {document.get('format_version')!r} is not "
            f"one this version ({__version__}) reads ({FORMAT_VERSION})"
        )
    checksum = document.pop("checksum", None)
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    if checksum != hashlib.sha256(text.encode()).hexdigest():
        raise InvalidInput(f"{where}: the saved plan is damaged (its checksum does not match)")
    try:
        changes = tuple(_change_in(c) for c in document["changes"])
        plan = Plan(
            changes=changes,
            unmanaged=tuple(sorted(document["unmanaged"].items())),
            notes=tuple(document["notes"]),
            live_counts=tuple(sorted(document["live_counts"].items())),
        )
        return SavedPlan(
            api_identity=document["api"],
            manifest_digest=document["manifest_digest"],
            allow_deletes=bool(document["allow_deletes"]),
            plan=plan,
            secrets=document["secrets"],
            salt=document["salt"],
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidInput(f"{where}: the saved plan is damaged (missing or bad fields)") from None


def _unscrub(value: Any) -> Any:
    """The inverse of _scrub, secrets staying references (`{"secret": ref}` -> Ref)."""
    if isinstance(value, dict):
        if "secret" in value:
            return Ref(value["secret"])
        if "tuple" in value:
            return tuple(_unscrub(v) for v in value["tuple"])
        if "dict" in value:
            return {k: _unscrub(v) for k, v in value["dict"].items()}
        raise ValueError("unknown value")
    return value


class Ref(str):
    """A secret not resolved yet: the reference's name, never the value."""


def _location(text: str | None) -> Location | None:
    if not text:
        return None
    file, line, column = text.rsplit(":", 2)
    return Location(file, int(line), int(column))


def _change_in(data: Mapping[str, Any]) -> Change:
    calls = tuple(
        Call(c["endpoint"], tuple((k, _unscrub(v)) for k, v in c["params"]), frozenset(c["secret"]))
        for c in data["calls"]
    )
    return Change(
        address=data["address"],
        kind=data["kind"],
        action=data["action"],
        fields=tuple(
            FieldChange(f, _unscrub(b), _unscrub(a), bool(s)) for f, b, a, s in data["fields"]
        ),
        calls=calls,
        location=_location(data["location"]),
        notes=tuple(data["notes"]),
        creates=bool(data["creates"]),
        observed=tuple(
            Observed(o["kind"], _unscrub(o["key"]), _unscrub(o["fields"])) for o in data["observed"]
        ),
    )


# -- applying -------------------------------------------------------------------------


def resolve_secrets(
    saved: SavedPlan, env: Mapping[str, str], live_hook_urls: list[str]
) -> dict[str, str]:
    """Each reference's value, from the environment or the live hooks, checked against its
    digest. Missing variables: InvalidInput (exit 3); a different value: Refused (exit 4)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    changed: list[str] = []
    for ref, source in saved.secrets.items():
        if source.get("from") == "live-webhook":
            matches = [u for u in live_hook_urls if _digest(saved.salt, u) == source["digest"]]
            if matches:
                values[ref] = matches[0]
            else:
                changed.append("a Slack webhook the plan deletes is no longer live")
            continue
        parts = [(kind, text) for kind, text in source["template"]]
        value, unset = resolve_parts(parts, env)
        if unset:
            missing += unset
        elif _digest(saved.salt, value) != source["digest"]:
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
    observed = [(c, o) for c in saved.plan.changes for o in c.observed]
    kinds = {o.kind for _, o in observed}
    rids = [o.key for _, o in observed if o.kind == "asset"]
    live: dict[str, dict[str, dict[str, object]]] = {
        "asset": read_assets(client, rids, parallelism=parallelism) if rids else {},
        "portal": {str(p["subdomain"]): p for p in client.list_portals()}
        if "portal" in kinds
        else {},
        "webhook": {str(h["url"]): h for h in client.list_webhooks()}
        if "webhook" in kinds or saved.secrets
        else {},
    }
    # Only the secrets of the changes kept (after --target) are needed.
    used = {
        str(v)
        for c in saved.plan.changes
        for v in [*(v for call in c.calls for _, v in call.params), *(o.key for o in c.observed)]
        if isinstance(v, Ref)
    }
    needed = replace(saved, secrets={r: s for r, s in saved.secrets.items() if r in used})
    values = resolve_secrets(needed, os.environ, list(live["webhook"]))
    plan = with_secrets(saved.plan, values)
    moved = []
    for change in plan.changes:
        for seen in change.observed:
            now = observe_again(seen, live[seen.kind].get(seen.key))
            if now != seen:
                moved.append(_describe(change, seen, now))
    if moved:
        raise Refused(
            "the saved plan is stale, the account changed since it was made; nothing was "
            "written. Plan again.\n  " + "\n  ".join(moved)
        )
    return plan


def _describe(change: Change, seen: Observed, now: Observed) -> str:
    secret = seen.kind == "webhook" and change.address != f"webhook.{seen.key}"
    name = change.address if secret else f"{seen.kind}.{seen.key}"
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
