"""One function per API endpoint, written from the API's documentation.

A handler takes the request context and the parameters (api_token already removed) and
returns the success payload, or raises ApiFailure for an HTTP 200 `success: false`.
Auth, faults, the envelope and persistence are the caller's business (core.py).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import tokens
from .account import (
    TEXT_FIELDS,
    Account,
    Asset,
    Portal,
    TempToken,
    Webhook,
    iso_time,
    sha256_hex,
    split_list,
    valid_subdomain,
)
from .uploads import COMPLETED, FAILED, INPROGRESS, Upload, Uploads

Params = dict[str, str]
DEFAULT_ITEMS_PER_PAGE = 50
DEFAULT_TEMP_TTL = 3600
_EVENT_RE = re.compile(r"^[a-z][a-z_]*\.(?:[a-z][a-z_]*|\*)$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+\S*$")


class AssetItems(list):
    """The assets of an asset.list answer, encoded as items when the answer is (each asset's
    item is encoded once: `Asset.wire_item`); `as_dicts()` for an answer to reshape."""

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asset.to_item() for asset in self]

    def encoded(self) -> bytes:
        return b"[" + b",".join([asset.wire_item() for asset in self]) + b"]"


class ApiFailure(Exception):
    """A call the API refuses with HTTP 200 and `{"success": false, "message": ...}`."""


@dataclass
class Context:
    account: Account
    token: str
    permissions: str
    page_cap: int
    uploads: Uploads


Handler = Callable[[Context, Params], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    name: str
    kind: str  # "read" or "write"
    handler: Handler
    token_only: bool = False  # needs a valid token but no permission entry


def _require(params: Params, name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise ApiFailure(f"missing parameter: {name}")
    return value


def _positive_int(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiFailure(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


# -- general --------------------------------------------------------------------------


def ping(ctx: Context, params: Params) -> dict[str, Any]:
    info = ctx.account.info
    return {
        "ping": "pong",
        "accid": info["accid"],
        "accemail": info["accemail"],
        "userid": info["userid"],
        "useremail": info["useremail"],
        "permissions": ctx.permissions,
    }


def token_get_temp(ctx: Context, params: Params) -> dict[str, Any]:
    ttl = _positive_int(params, "ttl", DEFAULT_TEMP_TTL)
    wanted = params.get("permissions", "")
    if wanted:
        bad = tokens.invalid_entries(wanted, KINDS)
        if bad:
            raise ApiFailure(f"unknown permission entries: {', '.join(bad)}")
        if not tokens.narrows(wanted, ctx.permissions, KINDS):
            raise ApiFailure("a temporary token cannot have more permissions than its parent")
        permissions = tokens.normalize(tokens.entries(wanted))
    else:
        permissions = ctx.permissions
    # `sourceip` is accepted and not enforced: the emulator cannot tell callers apart.
    token = "tmp-" + secrets.token_hex(12)
    account = ctx.account
    account.temp_tokens[token] = TempToken(permissions, account.clock() + ttl)
    return {"token": token}


# -- assets ---------------------------------------------------------------------------


def _asset_filter(params: Params) -> Callable[[Asset], bool] | None:
    """The predicate of the search/type/tag filters, or None when none is given.

    An empty filter value counts as absent (as if the parameter were not sent).
    """
    checks: list[Callable[[Asset], bool]] = []
    search = params.get("search", "").lower()
    if search:
        checks.append(lambda a: search in a.search_text())
    types = set(split_list(params.get("type", "")))
    if types:
        checks.append(lambda a: a.type in types)
    wanted = split_list(params.get("tag", ""))
    if wanted:
        named = set(wanted) - {"no-tag", "any-tag"}
        no_tag, any_tag = "no-tag" in wanted, "any-tag" in wanted

        def tag_check(a: Asset) -> bool:
            if not a.tags:
                return no_tag
            return any_tag or any(t in named for t in a.tags)

        checks.append(tag_check)
    rid, ref = params.get("rid", ""), params.get("reference_id", "")
    if rid and ref:  # both given: the rid picks the candidate, the reference_id must agree
        checks.append(lambda a: a.reference_id == ref)
    if not checks:
        return None
    return lambda a: all(check(a) for check in checks)


def asset_list(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    page = _positive_int(params, "page", 1)
    asked = _positive_int(params, "items_per_page", DEFAULT_ITEMS_PER_PAGE)
    per_page = min(asked, ctx.page_cap)  # the server-side cap; items_data says what was used
    start, stop = (page - 1) * per_page, page * per_page
    # `details` asks for extra fields; the emulator always returns every field it has.
    rid, ref = params.get("rid", ""), params.get("reference_id", "")
    if rid:
        found = account.assets_by_rid.get(rid)
        candidates: Any = [found] if found else []
    elif ref:
        candidates = account.assets_with_reference(ref)
    else:
        candidates = None
    check = _asset_filter(params)
    if candidates is None and check is None:
        total = len(account)  # the plain listing: a slice, O(page size)
        chosen = account.asset_slice(start, stop)
    else:
        pool = account.iter_assets() if candidates is None else candidates
        matching = [a for a in pool if check is None or check(a)]
        total, chosen = len(matching), matching[start:stop]
    return {
        "items": AssetItems(chosen),
        "items_data": {
            "page": page,
            "items_per_page": per_page,
            "items_count": total,
            "pages_count": math.ceil(total / per_page),
        },
    }


def asset_get_tags(ctx: Context, params: Params) -> dict[str, Any]:
    counts: dict[str, int] = {}
    untagged = 0
    for asset in ctx.account.iter_assets():
        if not asset.tags:
            untagged += 1
        for tag in asset.tags:
            counts[tag] = counts.get(tag, 0) + 1
    cloud = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    cloud["no-tag"] = untagged
    cloud["any-tag"] = len(ctx.account) - untagged
    return {"tag_cloud": cloud}


def asset_set_meta(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    rid = _require(params, "rid")
    asset = account.assets_by_rid.get(rid)
    if asset is None:
        raise ApiFailure(f"asset not found: {rid}")
    # Validate everything first, so a refused call changes nothing.
    thumb_sec: int | None = asset.video_thumb_sec
    if "video_thumb_sec" in params:
        raw = params["video_thumb_sec"]
        if raw and not raw.isdigit():
            raise ApiFailure(f"video_thumb_sec must be a whole number of seconds, got {raw!r}")
        thumb_sec = int(raw) if raw else None
    for name in TEXT_FIELDS:
        if name in params:  # absent keeps; present (even empty) replaces
            setattr(asset, name, params[name])
    if "tags" in params:
        asset.tags = split_list(params["tags"])
    asset.video_thumb_sec = thumb_sec
    if "thumb_attached_rid" in params:
        asset.thumb_attached_rid = params["thumb_attached_rid"] or None
    asset.modified = iso_time(account.clock())
    return {}


def asset_delete(ctx: Context, params: Params) -> dict[str, Any]:
    rid = _require(params, "rid")
    if rid not in ctx.account.assets_by_rid:
        raise ApiFailure(f"asset not found: {rid}")
    ctx.account.remove_asset(rid)  # permanent; it leaves every gallery too
    return {}


def asset_upload_from_url(ctx: Context, params: Params) -> dict[str, Any]:
    source = _require(params, "input")
    if not _URL_RE.match(source):
        raise ApiFailure("input must be an http:// or https:// URL")
    if params.get("rid") or params.get("type"):
        raise ApiFailure("attaching an upload to an asset (rid, type) is not emulated")
    # `fid` (a gallery to add the asset to) is accepted and ignored: no galleries here.
    return {"status_id": ctx.uploads.start(source).status_id}


def _upload(ctx: Context, params: Params) -> Upload:
    status_id = _require(params, "status_id")
    upload = ctx.uploads.by_id.get(status_id)
    if upload is None:
        raise ApiFailure(f"unknown status_id: {status_id}")
    return upload


def asset_upload_from_url_get_status(ctx: Context, params: Params) -> dict[str, Any]:
    upload = _upload(ctx, params)
    if upload.status == INPROGRESS:
        ctx.uploads.read(upload, ctx.account)
    return {
        "status": upload.status,
        "resid": upload.resid,  # empty until completed
        "progress": ctx.uploads.progress(upload),
        "progress_bytes": 0,
        "file_size_bytes": "0 byte",
        "more": upload.more,
        "debug": "",
    }


def asset_upload_from_url_abort(ctx: Context, params: Params) -> dict[str, Any]:
    upload = _upload(ctx, params)
    if upload.status == COMPLETED:
        raise ApiFailure("the upload has completed: it cannot be aborted")
    if upload.status == INPROGRESS:
        upload.status, upload.more = FAILED, "aborted"
    return {"status_id": upload.status_id}


# -- portals --------------------------------------------------------------------------

_PORTAL_FIELDS = {"subdomain", "name", "visibility"}


def _own_portal(account: Account, params: Params) -> Portal:
    subdomain = _require(params, "subdomain")
    portal = account.portals.get(subdomain)
    if portal is None:
        raise ApiFailure(f"no portal with subdomain {subdomain!r} in this account")
    return portal


def _check_subdomain(name: str) -> None:
    if not valid_subdomain(name):
        raise ApiFailure(
            f"invalid subdomain {name!r}: 1 to 63 of a-z, 0-9 and '-', not starting or "
            "ending with '-'"
        )


def portal_list(ctx: Context, params: Params) -> dict[str, Any]:
    return {"portals": [p.to_json() for _, p in sorted(ctx.account.portals.items())]}


def portal_check(ctx: Context, params: Params) -> dict[str, Any]:
    subdomain = _require(params, "subdomain")
    _check_subdomain(subdomain)
    account = ctx.account
    portal = account.portals.get(subdomain)
    return {
        "subdomain": subdomain,
        "exists": portal is not None,  # in this account
        "available": not account.subdomain_taken(subdomain),
        "status": portal.status if portal else None,
    }


def portal_set(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    subdomain = _require(params, "subdomain")
    _check_subdomain(subdomain)
    if subdomain in account.foreign_subdomains:
        raise ApiFailure(f"subdomain {subdomain!r} belongs to another account")
    visibility = params.get("visibility")
    if visibility is not None and visibility not in ("public", "private"):
        raise ApiFailure(f"visibility must be public or private, got {visibility!r}")
    portal = account.portals.get(subdomain)
    if portal is None:
        portal = Portal(subdomain=subdomain, name=subdomain)
        account.portals[subdomain] = portal
    if "name" in params:
        portal.name = params["name"]
    if visibility is not None:
        portal.visibility = visibility
    # Every other parameter is a setting; settings merge and are never removed.
    portal.settings.update({k: v for k, v in params.items() if k not in _PORTAL_FIELDS})
    portal.status = "active"
    return {}


def portal_rename(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    portal = _own_portal(account, params)
    new = _require(params, "new_subdomain")
    _check_subdomain(new)
    if account.subdomain_taken(new):
        raise ApiFailure(f"subdomain {new!r} is taken")
    del account.portals[portal.subdomain]
    portal.subdomain = new  # name, visibility, status and settings move with it
    account.portals[new] = portal
    return {}


def portal_remove(ctx: Context, params: Params) -> dict[str, Any]:
    portal = _own_portal(ctx.account, params)
    del ctx.account.portals[portal.subdomain]
    return {}


def portal_cease(ctx: Context, params: Params) -> dict[str, Any]:
    _own_portal(ctx.account, params).status = "ceased"
    return {}


# -- webhooks -------------------------------------------------------------------------


def _hook_params(params: Params) -> tuple[str, list[str]]:
    hook_url = _require(params, "hook_url")
    if not _URL_RE.match(hook_url):
        raise ApiFailure("hook_url must be an http:// or https:// URL")
    events = split_list(params.get("events", ""))
    if not events:
        raise ApiFailure("missing parameter: events")
    bad = [e for e in events if not _EVENT_RE.match(e)]
    if bad:
        raise ApiFailure(f"invalid event names: {', '.join(bad)}")
    return hook_url, events


def webhook_list(ctx: Context, params: Params) -> dict[str, Any]:
    return {"webhooks": [h.to_item() for h in ctx.account.webhooks.values()]}


def webhook_set(ctx: Context, params: Params) -> dict[str, Any]:
    hook_url, events = _hook_params(params)
    hooks = ctx.account.webhooks
    old = hooks.get(hook_url)
    digest = old.security_key_sha256 if old and old.type == "http" else None
    if "security_key" in params:  # given replaces, empty removes, absent keeps
        key = params["security_key"]
        digest = sha256_hex(key) if key else None
    hooks[hook_url] = Webhook(hook_url, "http", events, digest)
    return {}


def webhook_set_slack(ctx: Context, params: Params) -> dict[str, Any]:
    hook_url, events = _hook_params(params)
    # A Slack hook carries its credential in the URL; it has no security key.
    ctx.account.webhooks[hook_url] = Webhook(hook_url, "slack", events, None)
    return {}


def webhook_delete(ctx: Context, params: Params) -> dict[str, Any]:
    hook_url = _require(params, "hook_url")
    if ctx.account.webhooks.pop(hook_url, None) is None:
        raise ApiFailure("no webhook with that hook_url")
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("ping", "read", ping, token_only=True),
        Endpoint("token.get_temp", "read", token_get_temp, token_only=True),
        Endpoint("asset.list", "read", asset_list),
        Endpoint("asset.get_tags", "read", asset_get_tags),
        Endpoint("asset.set_meta", "write", asset_set_meta),
        Endpoint("asset.delete", "write", asset_delete),
        Endpoint("asset.upload_from_url", "write", asset_upload_from_url),
        Endpoint("asset.upload_from_url_get_status", "read", asset_upload_from_url_get_status),
        Endpoint("asset.upload_from_url_abort", "write", asset_upload_from_url_abort),
        Endpoint("portal.list", "read", portal_list),
        Endpoint("portal.check", "read", portal_check),
        Endpoint("portal.set", "write", portal_set),
        Endpoint("portal.rename", "write", portal_rename),
        Endpoint("portal.remove", "write", portal_remove),
        Endpoint("portal.cease", "write", portal_cease),
        Endpoint("webhook.list", "read", webhook_list),
        Endpoint("webhook.set", "write", webhook_set),
        Endpoint("webhook.set_slack", "write", webhook_set_slack),
        Endpoint("webhook.delete", "write", webhook_delete),
    )
}
KINDS: dict[str, str] = {name: e.kind for name, e in ENDPOINTS.items()}
WRITES = frozenset(name for name, kind in KINDS.items() if kind == "write")

__all__ = ["ENDPOINTS", "KINDS", "WRITES", "ApiFailure", "Context", "Endpoint"]
