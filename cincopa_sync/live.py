"""The live account, read through the list endpoints into the planner's canonical shape.

`LiveState` is plain data; the read_* functions fetch it through the client.

A listing of several pages is not a snapshot: assets uploaded or deleted while its pages
are read shift the items between pages. Every paged read is checked (`PageTally`: the
same items_count on every page, no asset on two pages, pages that add up to the count)
and read again when it did not hold still, READ_ATTEMPTS times at most; then UnstableRead
(exit 1), and no plan is made from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import (
    DEFAULT_PAGE_SIZE,
    READ_ATTEMPTS,
    CincopaClient,
    PageTally,
    UnstableRead,
)
from cincopa_sync.manifest.model import DesiredState

__all__ = [
    "LiveState",
    "UnstableRead",
    "read_all_assets",
    "read_assets",
    "read_live",
    "subdomains_to_check",
]

log = logging.getLogger("cincopa_sync.live")


@dataclass
class LiveState:
    """What the account holds, canonical: tags and events as frozensets, settings as str."""

    assets: dict[str, dict[str, object]] = field(default_factory=dict)  # by rid
    rids_by_reference: dict[str, list[str]] = field(default_factory=dict)  # asked refs only
    portals: dict[str, dict[str, object]] = field(default_factory=dict)  # by subdomain
    webhooks: dict[str, dict[str, object]] = field(default_factory=dict)  # by url
    subdomain_checks: dict[str, dict[str, object]] = field(default_factory=dict)
    asset_read: str = "none"  # how assets were read: none | lookup | listing


def subdomains_to_check(desired: DesiredState, portals: dict[str, dict[str, object]]) -> list[str]:
    """Names a plan would create or rename to: each must be free, which only portal.check
    can tell (another account may own it)."""
    return sorted(p.subdomain for p in desired.portals if p.subdomain not in portals)


def read_live(
    client: CincopaClient,
    desired: DesiredState,
    *,
    parallelism: int = 8,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
) -> LiveState:
    """Read what the desired state needs, with as few round trips as the data allows."""
    live = LiveState()
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        portals = (
            pool.submit(client.list_portals) if desired.portals or desired.prune.portals else None
        )
        hooks = (
            pool.submit(client.list_webhooks)
            if desired.webhooks or desired.prune.webhooks
            else None
        )
        if desired.assets:
            rids = {a.ident for a in desired.assets if a.by == "rid"}
            refs = {a.ident for a in desired.assets if a.by == "reference_id"}
            _read_assets(client, rids, refs, live, pool, page_size)
        if portals is not None:
            live.portals = {p["subdomain"]: p for p in portals.result()}  # type: ignore[misc]
        if hooks is not None:
            live.webhooks = {h["url"]: h for h in hooks.result()}  # type: ignore[misc]
        names = subdomains_to_check(desired, live.portals)
        for name, answer in zip(names, pool.map(client.check_portal, names), strict=True):
            live.subdomain_checks[name] = answer
    return live


def read_assets(
    client: CincopaClient,
    rids: Iterable[str],
    *,
    parallelism: int = 8,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict[str, dict[str, object]]:
    """The assets with these rids (absent ones left out), read the cheaper way."""
    live = LiveState()
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        _read_assets(client, set(rids), set(), live, pool, page_size)
    return live.assets


def read_all_assets(
    client: CincopaClient,
    pool: ThreadPoolExecutor,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> list[dict[str, object]]:
    """Every asset of the account (for export), from a listing that held still."""
    assets: list[dict[str, object]] = []

    def read_once() -> PageTally:
        assets.clear()
        first, info = client.list_assets_page(1, page_size)
        tally = PageTally(ep.LIST_OF_KIND["asset"], info, "rid")
        tally.add(first, info)
        assets.extend(first)
        for items, page_info in pool.map(
            lambda page: client.list_assets_page(page, page_size),
            range(2, info.pages_count + 1),
        ):
            tally.add(items, page_info)
            assets.extend(items)
        return tally

    _until_still(client, read_once)
    return assets


def _read_assets(
    client: CincopaClient,
    rids: set[str],
    refs: set[str],
    live: LiveState,
    pool: ThreadPoolExecutor,
    page_size: int,
) -> None:
    """The named assets, from a listing that held still."""

    def read_once() -> PageTally | None:
        live.assets, live.rids_by_reference = {}, {}  # nothing of a moving read is kept
        return _read_assets_once(client, rids, refs, live, pool, page_size)

    _until_still(client, read_once)


def _until_still(client: CincopaClient, read_once: Callable[[], PageTally | None]) -> None:
    """Read again while the listing moved under the read, READ_ATTEMPTS times at most,
    then UnstableRead: no plan, and no prune, is ever built from a read that moved."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        tally = read_once()
        if tally is None or tally.problem() is None:
            return
        if attempt == READ_ATTEMPTS:
            raise tally.failure(attempt)
        log.info("%s: %s; reading again", tally.endpoint, tally.problem())
        client.pause_before_reread(attempt)


def _read_assets_once(
    client: CincopaClient,
    rids: set[str],
    refs: set[str],
    live: LiveState,
    pool: ThreadPoolExecutor,
    page_size: int,
) -> PageTally | None:
    """The cheaper of a full listing and one lookup per named asset, by number of calls.

    Page 1 of the listing is read first: it tells the account's size and the page size the
    server honours, and often already holds some of the named assets. Returns the tally of
    the listing's pages when it read more than one (lookups are single answers, and
    find_assets checks its own pages).
    """
    first, info = client.list_assets_page(1, page_size)
    _keep(first, rids, refs, live)
    missing_rids = sorted(rids - live.assets.keys())
    lookups = len(missing_rids) + len(refs)  # a reference may sit on a later page: look it up
    remaining_pages = max(0, info.pages_count - 1)
    if remaining_pages <= lookups:
        live.asset_read = "listing"
        tally = PageTally(ep.LIST_OF_KIND["asset"], info, "rid")
        tally.add(first, info)
        for items, page_info in pool.map(
            lambda page: client.list_assets_page(page, page_size),
            range(2, remaining_pages + 2),
        ):
            tally.add(items, page_info)
            _keep(items, rids, refs, live)
        return tally if remaining_pages else None
    live.asset_read = "lookup"
    for ref in refs:  # found on page 1 or not, all matches are needed to spot duplicates
        live.rids_by_reference.pop(ref, None)
    for items in pool.map(lambda rid: client.find_assets(rid=rid), missing_rids):
        _keep(items, rids, set(), live)
    for ref, items in zip(
        sorted(refs),
        pool.map(lambda r: client.find_assets(reference_id=r), sorted(refs)),
        strict=True,
    ):
        live.rids_by_reference[ref] = []
        _keep(items, set(), {ref}, live)
    return None


def _keep(
    items: Iterable[dict[str, object]], rids: set[str], refs: set[str], live: LiveState
) -> None:
    """Keep only the assets the manifests name, so memory follows the managed set."""
    for asset in items:
        rid = str(asset["rid"])
        ref = str(asset.get("reference_id") or "")
        wanted = rid in rids
        if ref and ref in refs:
            wanted = True
            matches = live.rids_by_reference.setdefault(ref, [])
            if rid not in matches:
                matches.append(rid)
        if wanted:
            live.assets[rid] = asset
