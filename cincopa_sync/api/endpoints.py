"""Every Cincopa endpoint, parameter and response field the tool uses, in one place.

When the real API turns out to differ from ../shared/cincopa-api.md, this module changes
and nothing else. It is pure: it builds calls and parses responses, it never sends.
Canonical values (what the planner compares): text as str, tags as frozenset[str],
`video_thumb_sec` as int, portal settings as dict[str, str], webhook events as frozenset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from sys import intern

# -- the endpoint table -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    write: bool
    params: tuple[str, ...]


ASSET_PARAMS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
    "reference_id",
    "tags",
    "video_thumb_sec",
    "thumb_attached_rid",
)

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("ping", False, ()),
        Endpoint("token.get_temp", False, ("ttl", "sourceip", "permissions")),
        Endpoint(
            "asset.list",
            False,
            ("search", "type", "rid", "reference_id", "tag", "details", "page", "items_per_page"),
        ),
        Endpoint("asset.get_tags", False, ()),
        Endpoint("asset.set_meta", True, ("rid", *ASSET_PARAMS)),
        Endpoint("portal.list", False, ("page",)),  # page: ASSUMED, only if it pages
        Endpoint("portal.check", False, ("subdomain",)),
        # portal.set also takes any further setting as key=value (checked in portal_set).
        Endpoint("portal.set", True, ("subdomain", "name", "visibility")),
        Endpoint("portal.rename", True, ("subdomain", "new_subdomain")),
        Endpoint("portal.remove", True, ("subdomain",)),
        Endpoint("portal.cease", True, ("subdomain",)),
        Endpoint("webhook.list", False, ("page",)),  # page: ASSUMED, only if it pages
        Endpoint("webhook.set", True, ("hook_url", "events", "security_key")),
        Endpoint("webhook.set_slack", True, ("hook_url", "events")),
        Endpoint("webhook.delete", True, ("hook_url",)),
    )
}

# What each kind of object is read through, and which writes delete or rename one.
LIST_OF_KIND = {"asset": "asset.list", "portal": "portal.list", "webhook": "webhook.list"}
DELETES = frozenset({"portal.remove", "webhook.delete"})
RENAMES = frozenset({"portal.rename"})
# The parameter naming the object a write acts on.
_TARGET = {
    "asset.set_meta": "rid",
    "portal.set": "subdomain",
    "portal.remove": "subdomain",
    "portal.cease": "subdomain",
    "webhook.set": "hook_url",
    "webhook.set_slack": "hook_url",
    "webhook.delete": "hook_url",
}

TOKEN_PARAM = "api_token"
# How a secret value is shown, everywhere: plans, calls, logs, messages.
SENSITIVE = "(sensitive)"
URL_SUFFIX = ".json"
DEFAULT_API_BASE = "https://api.cincopa.com/v2/"

# Parameter names a portal setting may not take: they would change what the call means.
RESERVED_PORTAL_PARAMS = frozenset(
    {TOKEN_PARAM, "subdomain", "new_subdomain", "name", "visibility"}
)


# -- response fields ----------------------------------------------------------------

F_SUCCESS = "success"
F_MESSAGE = "message"
F_ITEMS = "items"
F_ITEMS_DATA = "items_data"
F_PAGE = "page"
F_ITEMS_PER_PAGE = "items_per_page"
F_ITEMS_COUNT = "items_count"
F_PAGES_COUNT = "pages_count"
F_PORTALS = "portals"
F_WEBHOOKS = "webhooks"
F_PERMISSIONS = "permissions"

ASSET_TEXT_FIELDS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
    "reference_id",
    "thumb_attached_rid",
)


# -- calls --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as data: what a plan promises and what apply sends.

    `params` keep their order; `secret` names the params whose values are masked when
    shown (a Slack hook URL, a security key). The token is never part of a Call.
    """

    endpoint: str
    params: tuple[tuple[str, str], ...]
    secret: frozenset[str] = frozenset()

    @property
    def write(self) -> bool:
        return ENDPOINTS[self.endpoint].write

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    def target(self) -> str | None:
        """The key (rid, subdomain, hook URL) of the object this write leaves behind: for a
        rename, the new name."""
        if self.endpoint in RENAMES:
            return self.param("new_subdomain")
        return self.param(_TARGET[self.endpoint]) if self.endpoint in _TARGET else None

    def renamed_from(self) -> str | None:
        return self.param("subdomain") if self.endpoint in RENAMES else None

    def shown(self) -> dict[str, str]:
        """The params as they may be printed or saved: secrets masked."""
        return {k: (SENSITIVE if k in self.secret else v) for k, v in self.params}


def _call(endpoint: str, params: Iterable[tuple[str, str]], secret: Iterable[str] = ()) -> Call:
    params = tuple(params)
    known = ENDPOINTS[endpoint].params
    for key, _ in params:
        if endpoint != "portal.set" and key not in known:
            raise ValueError(f"{endpoint} takes no parameter {key!r}")
    return Call(endpoint, params, frozenset(secret) & {k for k, _ in params})


def format_tags(tags: Iterable[str]) -> str:
    """A tag set as the API's comma list, sorted so the same set gives the same call."""
    return ",".join(sorted(tags))


def parse_tags(raw: object) -> frozenset[str]:
    """`",launch,cars,"` -> {"launch", "cars"}; "" or None -> the empty set."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list):  # tolerate a JSON list, should the API ever send one
        return _tag_set(",".join(str(t) for t in raw))
    return _tag_set(str(raw))


@lru_cache(maxsize=1 << 16)
def _tag_set(raw: str) -> frozenset[str]:
    # Tag sets repeat across an account: assets with the same tags share one frozenset,
    # which keeps a listing of 100,000 assets about a third smaller in memory.
    return frozenset(intern(t.strip()) for t in raw.split(",") if t.strip())


def _wire_value(field: str, value: object) -> str:
    if field == "tags":
        return format_tags(value)  # type: ignore[arg-type]
    if value is None:
        return ""
    return str(value)


def asset_set_meta(rid: str, fields: Mapping[str, object]) -> Call:
    """One set_meta carrying exactly the given (changed) fields, in the table's order."""
    params = [("rid", rid)]
    params += [(f, _wire_value(f, fields[f])) for f in ASSET_PARAMS if f in fields]
    return _call("asset.set_meta", params)


def asset_list(
    *,
    rid: str | None = None,
    reference_id: str | None = None,
    page: int | None = None,
    items_per_page: int | None = None,
) -> Call:
    params: list[tuple[str, str]] = []
    if rid is not None:
        params.append(("rid", rid))
    if reference_id is not None:
        params.append(("reference_id", reference_id))
    if page is not None:
        params.append(("page", str(page)))
    if items_per_page is not None:
        params.append(("items_per_page", str(items_per_page)))
    return _call("asset.list", params)


def list_page(endpoint: str, page: int | None) -> Call:
    """A list call (portal.list, webhook.list): page 1 without a page parameter."""
    return _call(endpoint, [] if page is None else [("page", str(page))])


def portal_set(subdomain: str, fields: Mapping[str, object]) -> Call:
    params = [("subdomain", subdomain)]
    for key in ("name", "visibility"):
        if key in fields:
            params.append((key, str(fields[key])))
    settings = fields.get("settings") or {}
    for key in sorted(settings):  # type: ignore[union-attr]
        if key in RESERVED_PORTAL_PARAMS:
            raise ValueError(f"portal setting {key!r} is a reserved parameter name")
        params.append((key, str(settings[key])))  # type: ignore[index]
    return _call("portal.set", params)


def portal_check(subdomain: str) -> Call:
    return _call("portal.check", [("subdomain", subdomain)])


def portal_rename(subdomain: str, new_subdomain: str) -> Call:
    return _call("portal.rename", [("subdomain", subdomain), ("new_subdomain", new_subdomain)])


def portal_remove(subdomain: str) -> Call:
    return _call("portal.remove", [("subdomain", subdomain)])


def webhook_set(
    url: str,
    events: Iterable[str],
    security_key: str | None,
    *,
    slack: bool = False,
) -> Call:
    secret = {"security_key"} | ({"hook_url"} if slack else set())
    params = [("hook_url", url), ("events", ",".join(sorted(events)))]
    if slack:
        return _call("webhook.set_slack", params, secret)
    if security_key is not None:
        params.append(("security_key", security_key))
    return _call("webhook.set", params, secret)


def webhook_delete(url: str, *, slack: bool = False) -> Call:
    return _call("webhook.delete", [("hook_url", url)], {"hook_url"} if slack else ())


# -- responses ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageInfo:
    page: int
    items_per_page: int
    items_count: int
    pages_count: int


def parse_page_info(body: Mapping[str, object], asked_page: int, n_items: int) -> PageInfo:
    """`items_data` as sent; a missing one means everything came in this page."""
    data = body.get(F_ITEMS_DATA)
    if not isinstance(data, Mapping):
        return PageInfo(asked_page, n_items, n_items, 1)

    def number(key: str, default: int) -> int:
        try:
            return int(data.get(key, default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default

    per_page = max(number(F_ITEMS_PER_PAGE, n_items), 1)
    count = number(F_ITEMS_COUNT, n_items)
    pages = number(F_PAGES_COUNT, -(-count // per_page))
    return PageInfo(number(F_PAGE, asked_page), per_page, count, pages)


def parse_asset(item: Mapping[str, object]) -> dict[str, object]:
    """An asset.list item in canonical form (every managed field present)."""
    asset: dict[str, object] = {"rid": str(item.get("rid", ""))}
    for field in ASSET_TEXT_FIELDS:
        value = item.get(field)
        asset[field] = "" if value is None else str(value)
    asset["tags"] = parse_tags(item.get("tags"))
    thumb_sec = item.get("video_thumb_sec")
    try:
        asset["video_thumb_sec"] = None if thumb_sec in (None, "") else int(thumb_sec)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        asset["video_thumb_sec"] = None
    return asset


def parse_portal(item: Mapping[str, object]) -> dict[str, object]:
    settings = item.get("settings") or {}
    return {
        "subdomain": str(item.get("subdomain", "")),
        "name": str(item.get("name") or ""),
        "visibility": str(item.get("visibility") or ""),
        "status": str(item.get("status") or ""),
        "settings": {str(k): _setting_text(v) for k, v in dict(settings).items()},  # type: ignore[call-overload]
    }


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_webhook(item: Mapping[str, object]) -> dict[str, object]:
    return {
        "url": str(item.get("hook_url", "")),
        "type": str(item.get("type") or "http"),
        "events": parse_tags(item.get("events")),  # the same comma-list format as tags
        "has_security_key": bool(item.get("has_security_key")),
    }


def parse_permissions(raw: object) -> frozenset[str]:
    """`"|asset.*|webhook.*|"` -> {"asset.*", "webhook.*"}."""
    return frozenset(p for p in str(raw or "").split("|") if p)


def permits(permissions: frozenset[str], endpoint: str) -> bool:
    """Whether a token's permissions allow a call (the ASSUMED meaning in the contract)."""
    namespace = endpoint.split(".", 1)[0]
    kind = "write" if ENDPOINTS[endpoint].write else "read"
    return bool({endpoint, f"{namespace}.*", f"{namespace}.{kind}"} & permissions)
