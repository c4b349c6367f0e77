"""`doctor`: the first contact with an account, as data. Read-only.

It calls every endpoint a plan reads from (ping, page 1 of asset.list with `details`,
asset.get_tags, portal.list, webhook.list) and says, for each, whether its answer has the
shape the client relies on (schemas/api/) or how it differs and what that breaks; which
account the token opens and what its permissions allow; and the page size the server
really honours (a listing that honours 1,000 is asked again for larger pages, as plans
do). Nothing is written, whatever the token may do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.endpoints import Call
from cincopa_sync.api.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, next_size
from cincopa_sync.errors import ApiError, Deviation, PermissionDenied, UnexpectedShape
from cincopa_sync.kinds import kinds

OK, DIFFERS, FAILED, SKIPPED = "ok", "differs", "failed", "skipped"


@dataclass(frozen=True)
class EndpointCheck:
    """What one endpoint answered, against its shape."""

    endpoint: str
    outcome: str  # OK | DIFFERS | FAILED | SKIPPED
    deviations: tuple[Deviation, ...] = ()
    breaks: str = ""  # what a deviation breaks, from its schema
    notes: tuple[str, ...] = ()  # what was seen (the page size), why it failed or was skipped


@dataclass(frozen=True)
class KindAccess:
    """What the token's permissions allow for one kind: reading it (plan, export), and
    which of its writes (apply)."""

    plural: str
    reads: tuple[str, ...]  # the read endpoints it needs
    unreadable: tuple[str, ...]  # of those, the ones the token may not call
    writes: tuple[str, ...]
    unwritable: tuple[str, ...]


@dataclass(frozen=True)
class DoctorReport:
    api: str
    account: Mapping[str, Any] | None  # ping's fields, None when ping did not answer in shape
    permissions: frozenset[str] | None
    checks: tuple[EndpointCheck, ...]
    access: tuple[KindAccess, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every endpoint that was checked answers in the shape the client relies on."""
        return all(c.outcome in (OK, SKIPPED) for c in self.checks)


def calls(page_size: int = DEFAULT_PAGE_SIZE) -> tuple[Call, ...]:
    """What doctor reads: page 1 of the asset listing as a plan asks for it, with every
    managed field named in `details`."""
    return (
        Call(ep.PING, ()),
        ep.asset_list(page=1, items_per_page=page_size, details=ep.ASSET_META_PARAMS),
        ep.make_call(ep.ASSET_GET_TAGS, ()),
        ep.list_page(ep.PORTAL_LIST, None),
        ep.list_page(ep.WEBHOOK_LIST, None),
    )


def examine(client: CincopaClient, page_size: int = DEFAULT_PAGE_SIZE) -> DoctorReport:
    """Call each endpoint once and report. A token the API refuses, or an API that cannot
    be reached, is raised: nothing else could be learnt."""
    ping, *reads = calls(page_size)
    account: dict[str, Any] | None = None
    permissions: frozenset[str] | None = None
    try:
        answer = client.call(ping)
    except UnexpectedShape as exc:
        checks = [_differs(exc)]
    else:
        account = {k: answer.get(k) for k in ep.PING_FIELDS}
        permissions = ep.parse_permissions(answer.get(ep.F_PERMISSIONS))
        checks = [EndpointCheck(ep.PING, OK)]
    checks += [_check(client, call, permissions) for call in reads]
    access = _access(permissions) if permissions is not None else ()
    return DoctorReport(client.base_url, account, permissions, tuple(checks), access)


def _check(client: CincopaClient, call: Call, permissions: frozenset[str] | None) -> EndpointCheck:
    endpoint = call.endpoint
    if permissions is not None and not ep.permits(permissions, endpoint):
        needed = " or ".join(ep.allowing(endpoint))
        return EndpointCheck(
            endpoint, SKIPPED, notes=(f"not checked: the token may not call it (needs {needed})",)
        )
    try:
        answer = client.call(call)
    except UnexpectedShape as exc:
        return _differs(exc)
    except PermissionDenied as exc:
        allowed = permissions is not None  # the permissions said yes, the API said no
        why = (
            "refused although the token's permissions allow it: permissions may mean "
            "something else than the contract says"
            if allowed
            else exc.api_message
        )
        return EndpointCheck(endpoint, FAILED, notes=(why,))
    except ApiError as exc:
        return EndpointCheck(endpoint, FAILED, notes=(exc.api_message,))
    return EndpointCheck(endpoint, OK, notes=(*_seen(call, answer), *_probe(client, call, answer)))


def _differs(exc: UnexpectedShape) -> EndpointCheck:
    return EndpointCheck(exc.endpoint, DIFFERS, exc.deviations, exc.breaks)


def _seen(call: Call, answer: Mapping[str, Any]) -> list[str]:
    """What a listing's page 1 tells: the page size the server honours (it may give fewer
    than asked), and the fields asked for in `details` that no item carries."""
    notes = []
    shape = ep.LISTS.get(call.endpoint)
    items = answer.get(shape.items) if shape else None
    if isinstance(items, list) and isinstance(answer.get(ep.F_ITEMS_DATA), Mapping):
        info = ep.parse_page_info(answer, 1, len(items))
        asked = call.param(ep.F_ITEMS_PER_PAGE)
        said = f"{info.items_per_page} items per page" + (f" ({asked} asked)" if asked else "")
        notes.append(
            f"page 1 of {info.pages_count} holds {len(items)} of {info.items_count} items; "
            f"the server honours {said}"
        )
        if info.pages_count > 1 and len(items) != info.items_per_page:
            notes.append(
                f"items_data says {info.items_per_page} per page but page 1 holds "
                f"{len(items)}: the listing is read by pages_count, which stays right"
            )
    details = call.param("details")
    if details and isinstance(items, list) and items:
        absent = [f for f in details.split(",") if not any(f in item for item in items)]
        if absent:
            notes.append(
                f"no item of page 1 has {' or '.join(absent)}: fine if none of them has it "
                "set; if one does, the API does not return it and plans would miss it"
            )
    return notes


def _probe(client: CincopaClient, call: Call, answer: Mapping[str, Any]) -> list[str]:
    """A listing that honoured the page size asked is asked again for larger pages, as a
    plan would (see Reader.widest), and the largest honoured is told."""
    shape, asked = ep.LISTS.get(call.endpoint), call.param(ep.F_ITEMS_PER_PAGE)
    items = answer.get(shape.items) if shape else None
    if not asked or not isinstance(items, list):
        return []
    size, info, tried = int(asked), ep.parse_page_info(answer, 1, len(items)), []
    while (larger := next_size(size, info)) is not None:
        params = tuple((k, str(larger) if k == ep.F_ITEMS_PER_PAGE else v) for k, v in call.params)
        try:
            bigger = client.call(replace(call, params=params))
        except ApiError as exc:
            return [f"pages of {larger} refused ({exc.api_message}): plans read pages of {size}"]
        found = bigger.get(shape.items)  # type: ignore[union-attr]
        info = ep.parse_page_info(bigger, 1, len(found) if isinstance(found, list) else 0)
        tried.append(f"{larger:,}")
        size = larger
    if not tried:
        return []
    return [
        f"asked again for pages of {', '.join(tried)}: the server honours "
        f"{info.items_per_page:,} items per page (plans ask for at most {MAX_PAGE_SIZE:,})"
    ]


def _access(permissions: frozenset[str]) -> tuple[KindAccess, ...]:
    """For each kind, the calls a plan and an apply of it make, and which of them the
    permissions allow (the meaning the contract assumes)."""
    out = []
    for kind in kinds():
        space = ep.namespace(kind.list_endpoint)
        mine = [name for name in ep.ENDPOINTS if ep.namespace(name) == space]
        reads = tuple(n for n in mine if not ep.ENDPOINTS[n].write)
        writes = tuple(n for n in mine if ep.ENDPOINTS[n].write)
        out.append(
            KindAccess(
                kind.plural,
                reads,
                tuple(n for n in reads if not ep.permits(permissions, n)),
                writes,
                tuple(n for n in writes if not ep.permits(permissions, n)),
            )
        )
    return tuple(out)
