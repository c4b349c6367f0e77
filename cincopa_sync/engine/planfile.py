"""The saved-plan format: `plan --out FILE` writes one, `apply --plan FILE` reads it.

The file holds no secret and no token. Secret call parameters (webhook keys, Slack URLs)
are stored as references: a template of environment variables to resolve again at apply
time (or, for an object being deleted whose key is a secret, found again among the live
objects of its kind), each checked against a salted digest taken at plan time. For every
object the plan touches it records the live values it planned against ("absent"
included), so a plan that went stale is refused (see engine/staleness.py). It names the
environment, the account and the API host it was made for, and `apply --plan` refuses
another account.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets as random_secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cincopa_sync import __version__
from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import InvalidInput, Location, Problem
from cincopa_sync.files import read_bounded, write_atomic
from cincopa_sync.manifest.interpolate import template_parts
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, FieldChange, Observed, Plan, PlanContext
from cincopa_sync.shown import Unresolved

FORMAT = "cincopa-sync saved plan"
FORMAT_VERSION = 2
FROM_ENVIRONMENT = "environment"
FROM_LIVE = "live"  # the key of a live object being deleted, found again by its digest
# A saved plan larger than this is refused from its size (see docs/reliability.md).
MAX_PLAN_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SavedPlan:
    api_identity: str
    manifest_digest: str
    allow_deletes: bool
    plan: Plan  # secret params still references: see staleness.resolve_secrets
    secrets: Mapping[str, Mapping[str, Any]]
    salt: str


class Ref(str):
    """A secret not resolved yet: the reference's name, never the value."""


def digest(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


# -- writing ------------------------------------------------------------------------


def write_saved_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    desired: DesiredState,
    *,
    api_identity: str,
    review: Mapping[str, Any],
    allow_deletes: bool = False,
) -> None:
    """Write `plan` atomically with mode 0600, with `review` (what people read) beside it;
    InvalidInput if a secret it needs is written out in a manifest (it could only be
    saved by saving the secret)."""
    salt = random_secrets.token_hex(16)
    templates = {
        value: template for spec in desired.all_specs() for value, template in spec.secrets()
    }
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
                # A secret unset at plan time was not planned with a value: any will do.
                known = not isinstance(value, Unresolved)
                source: dict[str, Any] = {"digest": digest(salt, value) if known else None}
                template = templates.get(value)
                if template is None:  # not from a manifest: a live object being deleted
                    source["from"] = FROM_LIVE
                    source["kind"] = change.kind
                elif "${" not in template.replace("$${", ""):
                    where = change.location or change.address
                    problems.append(
                        f"{where}: the {change.kind}'s {name} is written out in the manifest"
                    )
                    continue
                else:
                    source["from"] = FROM_ENVIRONMENT
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
        # Where the plan is for: `apply --plan` refuses another account, or environment.
        **_context_out(plan),
        "manifest_digest": desired.digest,
        "allow_deletes": allow_deletes,
        "salt": salt,
        "secrets": sources,
        "review": dict(review),
        "changes": [_change_out(c, refs) for c in plan.changes],
        "notes": list(plan.notes),
        "unmanaged": dict(plan.unmanaged),
        "live_counts": dict(plan.live_counts),
        # for `show` (the plan as it was reviewed): what plan warned of, what --target cut
        "warnings": [
            {"location": str(w.location) if w.location else None, "message": w.message}
            for w in plan.warnings
        ],
        "targets": list(plan.targets),
        "left_out": plan.left_out,
        "drift_adopted": list(plan.drift_adopted) if plan.drift_adopted is not None else None,
    }
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False)
    document = {"checksum": hashlib.sha256(text.encode()).hexdigest(), **body}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(path), text, mode=0o600)  # the owner only: it is an approval


def _context_out(plan: Plan) -> dict[str, Any]:
    ctx = plan.context
    if ctx is None:
        return {}
    return {"environment": ctx.environment, "account": ctx.account, "api_host": ctx.api_host}


def _context_in(document: Mapping[str, Any]) -> PlanContext | None:
    if "account" not in document:
        return None
    environment = document["environment"]
    return PlanContext(
        str(document["account"]),
        str(document["api_host"]),
        None if environment is None else str(environment),
    )


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
                "deferred": sorted(c.deferred),
            }
            for c in change.calls
        ],
        "observed": [
            {"kind": o.kind, "key": _scrub(o.key, refs), "fields": _scrub(o.fields, refs)}
            for o in change.observed
        ],
        "origin": change.origin,
    }


# -- reading ------------------------------------------------------------------------


def read_saved_plan(path: str | os.PathLike[str]) -> SavedPlan:
    """The saved plan, or InvalidInput (exit 3) for a damaged or unknown file."""
    where = os.fspath(path)
    data = read_bounded(where, MAX_PLAN_BYTES, "a saved plan")
    try:
        document = json.loads(data.decode("utf-8"))
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
            warnings=tuple(
                Problem(_location(w["location"]), w["message"], "warning")
                for w in document.get("warnings", [])
            ),
            targets=tuple(document.get("targets", ())),
            left_out=int(document.get("left_out", 0)),
            drift_adopted=_optional_tuple(document.get("drift_adopted")),
            context=_context_in(document),
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


def _optional_tuple(items: list[str] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(items)


def _location(text: str | None) -> Location | None:
    if not text:
        return None
    file, line, column = text.rsplit(":", 2)
    return Location(file, int(line), int(column))


def _change_in(data: Mapping[str, Any]) -> Change:
    calls = tuple(
        Call(
            c["endpoint"],
            tuple((k, _unscrub(v)) for k, v in c["params"]),
            frozenset(c["secret"]),
            frozenset(c["deferred"]),
        )
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
        origin=data.get("origin"),
    )
