"""Every Cincopa endpoint, parameter and response field the tool uses, in one place.

When the real API turns out to differ from the contract the tool was written against,
this module (and the response shapes under schemas/api/) changes and nothing else. It is
pure: it builds calls and reads response fields, it never sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from sys import intern

from cincopa_sync.shown import AFTER_UPLOAD, SENSITIVE

# -- the endpoint table -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    write: bool
    params: tuple[str, ...]
    # The parameter naming the object a write acts on, and what the write does to it when
    # that is more than an update: "create", "delete" or "rename" (to `renamed_to`).
    target: str | None = None
    effect: str | None = None
    renamed_to: str | None = None
    any_params: bool = False  # takes further key=value parameters (portal settings)


ASSET_META_PARAMS = (
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

PING = "ping"
ASSET_LIST = "asset.list"
ASSET_GET_TAGS = "asset.get_tags"
ASSET_SET_META = "asset.set_meta"
ASSET_DELETE = "asset.delete"
ASSET_UPLOAD = "asset.upload_from_url"
ASSET_UPLOAD_STATUS = "asset.upload_from_url_get_status"
ASSET_UPLOAD_ABORT = "asset.upload_from_url_abort"
PORTAL_LIST = "portal.list"
PORTAL_CHECK = "portal.check"
PORTAL_SET = "portal.set"
PORTAL_RENAME = "portal.rename"
PORTAL_REMOVE = "portal.remove"
PORTAL_CEASE = "portal.cease"
WEBHOOK_LIST = "webhook.list"
WEBHOOK_SET = "webhook.set"
WEBHOOK_SET_SLACK = "webhook.set_slack"
WEBHOOK_DELETE = "webhook.delete"

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint(PING, False, ()),
        Endpoint("token.get_temp", False, ("ttl", "sourceip", "permissions")),
        Endpoint(
            ASSET_LIST,
            False,
            ("search", "type", "rid", "reference_id", "tag", "details", "page", "items_per_page"),
        ),
        Endpoint(ASSET_GET_TAGS, False, ()),
        Endpoint(ASSET_SET_META, True, ("rid", *ASSET_META_PARAMS), target="rid"),
        Endpoint(ASSET_DELETE, True, ("rid",), "rid", "delete"),
        # Makes an asset whose rid is known only once the upload completes: no target.
        Endpoint(ASSET_UPLOAD, True, ("input", "fid", "rid", "type"), effect="create"),
        Endpoint(ASSET_UPLOAD_STATUS, False, ("status_id",)),
        Endpoint(ASSET_UPLOAD_ABORT, True, ("status_id",)),
        Endpoint(PORTAL_LIST, False, ("page",)),  # page: ASSUMED, only if it pages
        Endpoint(PORTAL_CHECK, False, ("subdomain",)),
        Endpoint(
            PORTAL_SET, True, ("subdomain", "name", "visibility"), "subdomain", any_params=True
        ),
        Endpoint(
            PORTAL_RENAME,
            True,
            ("subdomain", "new_subdomain"),
            "subdomain",
            "rename",
            renamed_to="new_subdomain",
        ),
        Endpoint(PORTAL_REMOVE, True, ("subdomain",), "subdomain", "delete"),
        Endpoint(PORTAL_CEASE, True, ("subdomain",), "subdomain"),
        Endpoint(WEBHOOK_LIST, False, ("page",)),  # page: ASSUMED, only if it pages
        Endpoint(WEBHOOK_SET, True, ("hook_url", "events", "security_key"), "hook_url"),
        Endpoint(WEBHOOK_SET_SLACK, True, ("hook_url", "events"), "hook_url"),
        Endpoint(WEBHOOK_DELETE, True, ("hook_url",), "hook_url", "delete"),
    )
}

TOKEN_PARAM = "api_token"
URL_SUFFIX = ".json"
DEFAULT_API_BASE = "https://api.cincopa.com/v2/"

# Parameter names a portal setting may not take: they would change what the call means.
RESERVED_PORTAL_PARAMS = frozenset(
    {TOKEN_PARAM, "subdomain", "new_subdomain", "name", "visibility"}
)


# -- response fields ----------------------------------------------------------------

F_SUCCESS = "success"
F_MESSAGE = "message"
F_ITEMS_DATA = "items_data"
F_PAGE = "page"
F_ITEMS_PER_PAGE = "items_per_page"
F_ITEMS_COUNT = "items_count"
F_PAGES_COUNT = "pages_count"
F_PERMISSIONS = "permissions"
F_ACCID = "accid"
PING_FIELDS = (F_ACCID, "accemail", "userid", "useremail")


@dataclass(frozen=True, slots=True)
class ListShape:
    """Where a list endpoint's answer holds its items, and which item field names one."""

    items: str
    identity: str
    secret_identity: bool = False  # a Slack hook's URL is a secret: never named in a message


LISTS: dict[str, ListShape] = {
    ASSET_LIST: ListShape("items", "rid"),
    PORTAL_LIST: ListShape("portals", "subdomain"),
    WEBHOOK_LIST: ListShape("webhooks", "hook_url", secret_identity=True),
}

# Item fields beyond the managed ones (which are named as set_meta's parameters).
ASSET_RID = "rid"
PORTAL_SUBDOMAIN = "subdomain"
PORTAL_STATUS = "status"
PORTAL_SETTINGS = "settings"
PORTAL_ACTIVE = "active"  # the status value of a portal that is not ceased
PORTAL_CEASED = "ceased"  # the status portal.cease gives
HOOK_URL = "hook_url"
HOOK_TYPE = "type"
HOOK_EVENTS = "events"
HOOK_HAS_KEY = "has_security_key"
HOOK_SECURITY_KEY = "security_key"  # webhook.set's write-only parameter
PORTAL_CHECK_AVAILABLE = "available"
F_TAG_CLOUD = "tag_cloud"  # asset.get_tags: tag -> count
TAG_CLOUD_COUNTS = frozenset({"no-tag", "any-tag"})  # counts in the cloud, not tags
ASSET_FILENAME = "filename"
F_STATUS_ID = "status_id"  # asset.upload_from_url's answer, the status read's parameter
F_UPLOAD_STATUS = "status"
F_UPLOAD_RESID = "resid"  # the new asset's rid, once completed
F_UPLOAD_MORE = "more"  # free text; why an upload failed, when it says
UPLOAD_COMPLETED = "completed"
UPLOAD_FAILED = "failed"

# Response fields whose values may be secrets, masked in every log of an answer: a hook's
# URL (a Slack one carries its own credential), a key, a temporary token.
SECRET_RESPONSE_FIELDS = frozenset({HOOK_URL, "security_key", "token"})


# -- calls --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as data: what a plan promises and what apply sends.

    `params` keep their order; `secret` names the params whose values are masked when
    shown (a Slack hook URL, a security key); `deferred` those whose value an earlier
    call of the same change gives (an upload's new rid): the plan holds a placeholder
    there, and apply fills it in. The token is never part of a Call.
    """

    endpoint: str
    params: tuple[tuple[str, str], ...]
    secret: frozenset[str] = frozenset()
    deferred: frozenset[str] = frozenset()

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def effect(self) -> str | None:
        """ "create", "delete", "rename" or None (an update or a read), from the table."""
        return ENDPOINTS[self.endpoint].effect

    def target(self) -> str | None:
        """The key (rid, subdomain, hook URL) of the object this write leaves behind: for a
        rename, the new name."""
        spec = ENDPOINTS[self.endpoint]
        if spec.renamed_to:
            return self.param(spec.renamed_to)
        return self.param(spec.target) if spec.target else None

    def renamed_from(self) -> str | None:
        spec = ENDPOINTS[self.endpoint]
        return self.param(spec.target) if spec.renamed_to and spec.target else None

    def shown(self) -> dict[str, str]:
        """The params as they may be printed or saved: secrets masked."""
        return {k: (SENSITIVE if k in self.secret else v) for k, v in self.params}

    def filled(self, **values: str) -> Call:
        """This call with its deferred params given their values."""
        params = tuple((k, values[k] if k in self.deferred else v) for k, v in self.params)
        return Call(self.endpoint, params, self.secret)


def make_call(
    endpoint: str,
    params: Iterable[tuple[str, str]],
    secret: Iterable[str] = (),
    deferred: Iterable[str] = (),
) -> Call:
    """A Call, its parameter names checked against the table; a deferred param holds the
    placeholder AFTER_UPLOAD."""
    params = tuple(params)
    spec = ENDPOINTS[endpoint]
    if not spec.any_params:
        for key, _ in params:
            if key not in spec.params:
                raise ValueError(f"{endpoint} takes no parameter {key!r}")
    names = {k for k, _ in params}
    return Call(endpoint, params, frozenset(secret) & names, frozenset(deferred) & names)


def format_list(values: Iterable[str]) -> str:
    """A set of tags or events as the API's comma list, sorted: the same set gives the
    same call."""
    return ",".join(sorted(values))


def parse_list(raw: object) -> frozenset[str]:
    """`",launch,cars,"` -> {"launch", "cars"}; "" or None -> the empty set."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list):  # tolerate a JSON list, should the API ever send one
        return _list_set(",".join(str(t) for t in raw))
    return _list_set(str(raw))


@lru_cache(maxsize=1 << 16)
def _list_set(raw: str) -> frozenset[str]:
    # Tag sets repeat across an account: assets with the same tags share one frozenset,
    # which keeps a listing of 100,000 assets about a third smaller in memory.
    return frozenset(intern(t.strip()) for t in raw.split(",") if t.strip())


def _wire_value(value: object) -> str:
    if isinstance(value, frozenset | set | tuple | list):
        return format_list(value)  # type: ignore[arg-type]
    if value is None:
        return ""
    return str(value)


def asset_set_meta(rid: str | None, fields: Mapping[str, object]) -> Call:
    """One set_meta carrying exactly the given (changed) fields, in the table's order;
    rid None: the asset an upload of the same change makes."""
    params = [(ASSET_RID, AFTER_UPLOAD if rid is None else rid)]
    params += [(f, _wire_value(fields[f])) for f in ASSET_META_PARAMS if f in fields]
    return make_call(ASSET_SET_META, params, deferred=() if rid is not None else (ASSET_RID,))


def asset_delete(rid: str) -> Call:
    return make_call(ASSET_DELETE, [(ASSET_RID, rid)])


def asset_get_tags() -> Call:
    return make_call(ASSET_GET_TAGS, [])


def asset_upload(source: str) -> Call:
    return make_call(ASSET_UPLOAD, [("input", source)])


def asset_upload_status(status_id: str | None) -> Call:
    """The status read of an upload; status_id None: the one the upload answers."""
    value = AFTER_UPLOAD if status_id is None else status_id
    deferred = () if status_id is not None else (F_STATUS_ID,)
    return make_call(ASSET_UPLOAD_STATUS, [(F_STATUS_ID, value)], deferred=deferred)


def asset_upload_abort(status_id: str) -> Call:
    return make_call(ASSET_UPLOAD_ABORT, [(F_STATUS_ID, status_id)])


def asset_list(
    *,
    rid: str | None = None,
    reference_id: str | None = None,
    search: str | None = None,
    page: int | None = None,
    items_per_page: int | None = None,
    details: Iterable[str] = (),
) -> Call:
    params: list[tuple[str, str]] = []
    if details:
        params.append(("details", ",".join(details)))
    if rid is not None:
        params.append(("rid", rid))
    if reference_id is not None:
        params.append(("reference_id", reference_id))
    if search is not None:
        params.append(("search", search))
    if page is not None:
        params.append(("page", str(page)))
    if items_per_page is not None:
        params.append(("items_per_page", str(items_per_page)))
    return make_call(ASSET_LIST, params)


def list_page(endpoint: str, page: int | None) -> Call:
    """A list call (portal.list, webhook.list): page 1 without a page parameter."""
    return make_call(endpoint, [] if page is None else [("page", str(page))])


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
    return make_call(PORTAL_SET, params)


def portal_check(subdomain: str) -> Call:
    return make_call(PORTAL_CHECK, [("subdomain", subdomain)])


def portal_rename(subdomain: str, new_subdomain: str) -> Call:
    return make_call(PORTAL_RENAME, [("subdomain", subdomain), ("new_subdomain", new_subdomain)])


def portal_remove(subdomain: str) -> Call:
    return make_call(PORTAL_REMOVE, [("subdomain", subdomain)])


def portal_cease(subdomain: str) -> Call:
    return make_call(PORTAL_CEASE, [("subdomain", subdomain)])


def webhook_set(
    url: str,
    events: Iterable[str],
    security_key: str | None,
    *,
    slack: bool = False,
) -> Call:
    secret = {HOOK_SECURITY_KEY} | ({HOOK_URL} if slack else set())
    params = [(HOOK_URL, url), (HOOK_EVENTS, format_list(events))]
    if slack:
        return make_call(WEBHOOK_SET_SLACK, params, secret)
    if security_key is not None:
        params.append((HOOK_SECURITY_KEY, security_key))
    return make_call(WEBHOOK_SET, params, secret)


def webhook_delete(url: str, *, slack: bool = False) -> Call:
    return make_call(WEBHOOK_DELETE, [(HOOK_URL, url)], {HOOK_URL} if slack else ())


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


def parse_permissions(raw: object) -> frozenset[str]:
    """`"|asset.*|webhook.*|"` -> {"asset.*", "webhook.*"}."""
    return frozenset(p for p in str(raw or "").split("|") if p)


def namespace(endpoint: str) -> str:
    """`asset.set_meta` -> `asset`: what a permission entry such as `asset.*` names."""
    return endpoint.split(".", 1)[0]


def allowing(endpoint: str) -> tuple[str, str, str]:
    """The permission entries that allow a call (the ASSUMED meaning in the contract):
    its namespace's `*`, its namespace's `read` or `write`, and its exact name."""
    space = namespace(endpoint)
    return f"{space}.*", f"{space}.{'write' if ENDPOINTS[endpoint].write else 'read'}", endpoint


def permits(permissions: frozenset[str], endpoint: str) -> bool:
    """Whether a token's permissions allow a call."""
    return not permissions.isdisjoint(allowing(endpoint))
