"""The emulated account: assets, portals, webhooks, tokens, and the indexes over them.

The same JSON shape is used for a seed and for a state file (see docs/emulator.md), so a
saved state can seed a later run. Nothing here knows about HTTP.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .variants import check_variant

TEXT_FIELDS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
    "reference_id",
)
ASSET_TYPES = ("video", "image", "audio", "other")
SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DEFAULT_TOKENS = {
    "emulator-token": "|asset.*|portal.*|webhook.*|",
    "emulator-readonly": "|asset.read|portal.read|webhook.read|",
}
DEFAULT_ACCOUNT = {
    "accid": "100001",
    "accemail": "owner@example.com",
    "userid": "200001",
    "useremail": "owner@example.com",
}
_INDEXED = frozenset({"id", "rid", "reference_id"})
_ASSET_KEYS = frozenset(
    {"id", "rid", "type", "filename", "modified", "uploaded", "tags", "video_thumb_sec"}
    | {"thumb_attached_rid", *TEXT_FIELDS}
)
_TOP_LEVEL = {
    "account",
    "tokens",
    "assets",
    "portals",
    "webhooks",
    "foreign_subdomains",
    "variant",
}


def iso_time(epoch: float) -> str:
    """The API's timestamp format: `2026-02-24T09:16:14Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_list(value: str) -> list[str]:
    """A comma list from the wire: pieces trimmed, empty ones dropped, duplicates removed."""
    seen: dict[str, None] = {}
    for piece in value.split(","):
        piece = piece.strip()
        if piece:
            seen.setdefault(piece, None)
    return list(seen)


def tags_to_wire(tags: Iterable[str]) -> str:
    """`",a,b,"`, and `""` for no tags (the contract's format)."""
    joined = ",".join(tags)
    return f",{joined}," if joined else ""


def valid_subdomain(name: str) -> bool:
    return bool(SUBDOMAIN_RE.match(name))


@dataclass
class Asset:
    id: str
    rid: str
    type: str = "video"
    filename: str = ""
    modified: str = ""
    uploaded: str = ""
    caption: str = ""
    description: str = ""
    long_description: str = ""
    related_link_text: str = ""
    related_link_url: str = ""
    reference_id: str = ""
    tags: list[str] = field(default_factory=list)
    video_thumb_sec: int | None = None
    thumb_attached_rid: str | None = None
    # Item fields the emulator does not model (e.g. `versions`) are passed through as given.
    extra: dict[str, Any] = field(default_factory=dict)
    _owner: Account | None = field(default=None, repr=False, compare=False)
    # The item as asset.list sends it, encoded once: a listing of a million assets then
    # costs the emulator a join, not a million encodings. Fields change by assignment
    # (never in place), and every assignment drops it.
    _wire: bytes | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # Keeps the reference_id index right even when tests assign the field directly.
        if name in _INDEXED:
            owner = self.__dict__.get("_owner")
            if owner is not None:
                if name != "reference_id":
                    raise AttributeError(f"{name} of an asset in an account cannot change")
                owner._reindex_reference(self, self.reference_id, value)
        object.__setattr__(self, name, value)
        if name != "_wire":
            object.__setattr__(self, "_wire", None)

    def wire_item(self) -> bytes:
        """`to_item()` as compact JSON, as the answer carries it."""
        if self._wire is None:
            encoded = json.dumps(self.to_item(), separators=(",", ":")).encode()
            object.__setattr__(self, "_wire", encoded)
            return encoded
        return self._wire

    def to_item(self) -> dict[str, Any]:
        """The asset as asset.list returns it."""
        item: dict[str, Any] = dict(self.extra)
        item.update(
            id=self.id,
            rid=self.rid,
            type=self.type,
            modified=self.modified,
            uploaded=self.uploaded,
            filename=self.filename,
            caption=self.caption,
            description=self.description,
            long_description=self.long_description,
            related_link_text=self.related_link_text,
            related_link_url=self.related_link_url,
            reference_id=self.reference_id,
            tags=tags_to_wire(self.tags),
        )
        if self.video_thumb_sec is not None:
            item["video_thumb_sec"] = self.video_thumb_sec
        if self.thumb_attached_rid:
            item["thumb_attached_rid"] = self.thumb_attached_rid
        return item

    def to_json(self) -> dict[str, Any]:
        """The asset as a state file holds it (tags as a list)."""
        data = self.to_item()
        data["tags"] = list(self.tags)
        return data

    def search_text(self) -> str:
        parts = [getattr(self, name) for name in TEXT_FIELDS]
        parts += [self.filename, self.rid, *self.tags]
        return "\n".join(parts).lower()


@dataclass
class Portal:
    subdomain: str
    name: str
    visibility: str = "public"
    status: str = "active"
    settings: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "subdomain": self.subdomain,
            "name": self.name,
            "visibility": self.visibility,
            "status": self.status,
            "settings": dict(self.settings),
        }


@dataclass
class Webhook:
    hook_url: str
    type: str = "http"
    events: list[str] = field(default_factory=list)
    security_key_sha256: str | None = None

    def to_item(self) -> dict[str, Any]:
        """HOOK as webhook.list returns it: the key itself is never shown."""
        return {
            "hook_url": self.hook_url,
            "type": self.type,
            "events": ",".join(self.events),
            "has_security_key": self.security_key_sha256 is not None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "hook_url": self.hook_url,
            "type": self.type,
            "events": list(self.events),
            "security_key_sha256": self.security_key_sha256,
        }


@dataclass
class TempToken:
    permissions: str
    expires_at: float


class Account:
    """One Cincopa account with O(1) lookups by rid and reference_id.

    Assets are kept in numeric-id order (the stable listing order), so a page of the
    full listing is a slice of `_order`.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.info: dict[str, str] = dict(DEFAULT_ACCOUNT)
        self.tokens: dict[str, str] = dict(DEFAULT_TOKENS)
        self.temp_tokens: dict[str, TempToken] = {}  # memory only, never persisted
        self.assets_by_rid: dict[str, Asset] = {}
        self.assets_by_id: dict[int, Asset] = {}
        self.rids_by_reference: dict[str, set[str]] = {}
        self._order: list[int] = []
        self.portals: dict[str, Portal] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.foreign_subdomains: set[str] = set()
        self.variant: str | None = None  # a contract variant the answers follow (variants.py)

    # -- assets ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._order)

    def iter_assets(self) -> Iterator[Asset]:
        """Every asset in listing order (numeric id)."""
        by_id = self.assets_by_id
        return (by_id[i] for i in self._order)

    def asset_slice(self, start: int, stop: int) -> list[Asset]:
        by_id = self.assets_by_id
        return [by_id[i] for i in self._order[start:stop]]

    def assets_with_reference(self, reference_id: str) -> list[Asset]:
        rids = self.rids_by_reference.get(reference_id, ())
        found = [self.assets_by_rid[r] for r in rids]
        return sorted(found, key=lambda a: int(a.id))

    def add_asset(self, item: Mapping[str, Any] | None = None, **fields: Any) -> Asset:
        """Adds one asset from an API-shaped item (tags as a list or a wire string).

        `id` defaults to the highest id + 1, `modified`/`uploaded` to now.
        """
        data = dict(item or {})
        data.update(fields)
        asset = _asset_from_json(data, self._next_id(), lambda: iso_time(self.clock()))
        numeric = int(asset.id)
        if asset.rid in self.assets_by_rid:
            raise ValueError(f"duplicate asset rid {asset.rid!r}")
        if numeric in self.assets_by_id:
            raise ValueError(f"duplicate asset id {asset.id!r}")
        self.assets_by_rid[asset.rid] = asset
        self.assets_by_id[numeric] = asset
        if not self._order or numeric > self._order[-1]:
            self._order.append(numeric)  # the common case when loading sorted data
        else:
            bisect.insort(self._order, numeric)
        asset._owner = self
        self._reindex_reference(asset, "", asset.reference_id)
        return asset

    def remove_asset(self, rid: str) -> Asset:
        asset = self.assets_by_rid.pop(rid)  # KeyError for an unknown rid
        numeric = int(asset.id)
        del self.assets_by_id[numeric]
        del self._order[bisect.bisect_left(self._order, numeric)]
        self._reindex_reference(asset, asset.reference_id, "")
        object.__setattr__(asset, "_owner", None)
        return asset

    def _next_id(self) -> int:
        return self._order[-1] + 1 if self._order else 1001

    def _reindex_reference(self, asset: Asset, old: str, new: str) -> None:
        if old == new:
            return
        if old:
            rids = self.rids_by_reference.get(old)
            if rids is not None:
                rids.discard(asset.rid)
                if not rids:
                    del self.rids_by_reference[old]
        if new:
            self.rids_by_reference.setdefault(new, set()).add(asset.rid)

    # -- portals and tokens -----------------------------------------------------------

    def subdomain_taken(self, name: str) -> bool:
        return name in self.portals or name in self.foreign_subdomains

    def permissions_of(self, token: str) -> str | None:
        """The token's permission string, or None when it is unknown or expired."""
        if token in self.tokens:
            return self.tokens[token]
        temp = self.temp_tokens.get(token)
        if temp is None:
            return None
        if temp.expires_at <= self.clock():
            del self.temp_tokens[token]
            return None
        return temp.permissions

    # -- (de)serialization ----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = {
            "account": dict(self.info),
            "tokens": dict(self.tokens),
            "assets": [a.to_json() for a in self.iter_assets()],
            "portals": [p.to_json() for _, p in sorted(self.portals.items())],
            "webhooks": [h.to_json() for h in self.webhooks.values()],
            "foreign_subdomains": sorted(self.foreign_subdomains),
        }
        if self.variant is not None:
            data["variant"] = self.variant
        return data

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any] | None, clock: Callable[[], float] = time.time
    ) -> Account:
        """Builds an account from a seed or state document; ValueError names what is wrong."""
        account = cls(clock)
        data = data or {}
        if not isinstance(data, Mapping):
            raise ValueError("seed: the top level must be a JSON object")
        unknown = set(data) - _TOP_LEVEL
        if unknown:
            raise ValueError(f"seed: unknown top-level keys: {', '.join(sorted(unknown))}")
        info = _mapping(data.get("account"), "account")
        for key, value in info.items():
            account.info[key] = str(value)
        tokens = _mapping(data.get("tokens"), "tokens")
        if tokens:
            account.tokens = {str(k): str(v) for k, v in tokens.items()}
        for n, item in enumerate(_list(data.get("assets"), "assets")):
            try:
                account.add_asset(_mapping(item, f"assets[{n}]"))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"seed: assets[{n}]: {exc}") from None
        for n, item in enumerate(_list(data.get("portals"), "portals")):
            portal = _portal_from_json(_mapping(item, f"portals[{n}]"), n)
            if portal.subdomain in account.portals:
                raise ValueError(f"seed: portals[{n}]: duplicate subdomain {portal.subdomain!r}")
            account.portals[portal.subdomain] = portal
        for n, item in enumerate(_list(data.get("webhooks"), "webhooks")):
            hook = _webhook_from_json(_mapping(item, f"webhooks[{n}]"), n)
            if hook.hook_url in account.webhooks:
                raise ValueError(f"seed: webhooks[{n}]: duplicate hook_url")
            account.webhooks[hook.hook_url] = hook
        for n, name in enumerate(_list(data.get("foreign_subdomains"), "foreign_subdomains")):
            if not isinstance(name, str) or not valid_subdomain(name):
                raise ValueError(f"seed: foreign_subdomains[{n}]: not a valid subdomain")
            if name in account.portals:
                raise ValueError(f"seed: foreign_subdomains[{n}]: {name!r} is also a portal")
            account.foreign_subdomains.add(name)
        try:
            account.variant = check_variant(data.get("variant"))
        except ValueError as exc:
            raise ValueError(f"seed: variant: {exc}") from None
        return account


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"seed: {where} must be a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"seed: {where} must be a JSON list")
    return value


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _asset_from_json(data: dict[str, Any], next_id: int, now: Callable[[], str]) -> Asset:
    rid = _text(data, "rid")
    if not rid:
        raise ValueError("rid is required")
    raw_id = data.get("id", next_id)
    asset_id = str(raw_id)
    if isinstance(raw_id, bool) or not asset_id.isdigit():
        raise ValueError(f"id must be a number, got {raw_id!r}")
    asset_id = str(int(asset_id))  # "007" and "7" are the same asset id
    asset_type = _text(data, "type", "video")
    if asset_type not in ASSET_TYPES:
        raise ValueError(f"type must be one of {', '.join(ASSET_TYPES)}")
    raw_tags = data.get("tags", [])
    if isinstance(raw_tags, str):
        tags = split_list(raw_tags)
    elif isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags):
        tags = split_list(",".join(raw_tags))
    else:
        raise ValueError("tags must be a list of strings")
    thumb_sec = data.get("video_thumb_sec")
    if thumb_sec is not None and (isinstance(thumb_sec, bool) or not isinstance(thumb_sec, int)):
        raise ValueError("video_thumb_sec must be an integer")
    attached = data.get("thumb_attached_rid") or None
    if attached is not None and not isinstance(attached, str):
        raise ValueError("thumb_attached_rid must be a string")
    return Asset(
        id=asset_id,
        rid=rid,
        type=asset_type,
        filename=_text(data, "filename"),
        modified=_text(data, "modified") or now(),
        uploaded=_text(data, "uploaded") or now(),
        tags=tags,
        video_thumb_sec=thumb_sec,
        thumb_attached_rid=attached,
        extra={k: v for k, v in data.items() if k not in _ASSET_KEYS},
        **{name: _text(data, name) for name in TEXT_FIELDS},
    )


def _portal_from_json(data: Mapping[str, Any], n: int) -> Portal:
    where = f"seed: portals[{n}]"
    try:
        subdomain = _text(data, "subdomain")
        if not valid_subdomain(subdomain):
            raise ValueError(f"subdomain {subdomain!r} is not a valid DNS label")
        visibility = _text(data, "visibility", "public")
        if visibility not in ("public", "private"):
            raise ValueError("visibility must be public or private")
        status = _text(data, "status", "active")
        if status not in ("active", "ceased"):
            raise ValueError("status must be active or ceased")
        settings = _mapping(data.get("settings"), "settings")
        unknown = set(data) - {"subdomain", "name", "visibility", "status", "settings"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        return Portal(
            subdomain=subdomain,
            name=_text(data, "name", subdomain),
            visibility=visibility,
            status=status,
            settings={str(k): _setting_text(v) for k, v in settings.items()},
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _setting_text(value: Any) -> str:
    # Settings travel as query parameters, so they are strings; JSON booleans read as such.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _webhook_from_json(data: Mapping[str, Any], n: int) -> Webhook:
    where = f"seed: webhooks[{n}]"
    try:
        hook_url = _text(data, "hook_url")
        if not hook_url:
            raise ValueError("hook_url is required")
        hook_type = _text(data, "type", "http")
        if hook_type not in ("http", "slack"):
            raise ValueError("type must be http or slack")
        events = data.get("events", [])
        if isinstance(events, str):
            events = split_list(events)
        elif isinstance(events, list) and all(isinstance(e, str) for e in events):
            events = split_list(",".join(events))
        else:
            raise ValueError("events must be a list of strings")
        digest = data.get("security_key_sha256")
        clear = data.get("security_key")
        if clear is not None and digest is not None:
            raise ValueError("give security_key or security_key_sha256, not both")
        if clear is not None:
            if not isinstance(clear, str):
                raise ValueError("security_key must be a string")
            digest = sha256_hex(clear) if clear else None
        if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
            raise ValueError("security_key_sha256 must be 64 lowercase hex digits")
        unknown = set(data) - {"hook_url", "type", "events", "security_key", "security_key_sha256"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        return Webhook(hook_url, hook_type, events, digest)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
