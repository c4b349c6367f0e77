"""Reading assets: the cheaper of the whole listing and one lookup per named asset, and
only the assets the manifests name kept, so that memory follows the managed set."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import compress
from operator import methodcaller, or_
from typing import TYPE_CHECKING

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import ListShape
from cincopa_sync.kinds.base import LiveObject

if TYPE_CHECKING:
    from cincopa_sync.api.paging import Item, PageTally, Reader
    from cincopa_sync.kinds.asset import AssetSpec

RID = ep.ASSET_RID
REFERENCE_ID = "reference_id"
FILENAME = ep.ASSET_FILENAME
_SHAPE: ListShape = ep.LISTS[ep.ASSET_LIST]
_GET_RID = methodcaller("get", RID, "")
_GET_REF = methodcaller("get", REFERENCE_ID)
_GET_FILENAME = methodcaller("get", FILENAME)

# The entries by rid and by reference_id, whose values a live asset shares where equal.
Named = tuple[Mapping[str, "AssetSpec"], Mapping[str, "AssetSpec"]]
# An API item as a live asset; with the entry that names it, only what its plan needs.
Parse = Callable[[Mapping[str, object], "AssetSpec | None"], LiveObject]


@dataclass
class AssetLive:
    """The assets the manifests name, canonical, and how the listing was read."""

    # by rid: of a listing for a plan, what its entry needs (see AssetKind.parse), and for
    # an asset that is as its entry says, the entry's own values (without the rid)
    objects: dict[str, LiveObject] = field(default_factory=dict)
    by_reference: dict[str, list[str]] = field(default_factory=dict)  # asked refs only
    read: str = "none"  # none | lookup | listing
    total: int = 0  # the account's assets, as page 1's items_data counts them
    # filename -> rids of assets without a reference_id, for the filenames of sources only:
    # an upload an earlier run started and could not finish naming.
    orphans: dict[str, list[str]] = field(default_factory=dict)
    tag_cloud: frozenset[str] | None = None  # every tag some asset carries; None: not read

    def forget_read(self) -> None:
        """Drop what a read kept: nothing of a read that moved, or was superseded, stays."""
        self.objects, self.by_reference, self.orphans = {}, {}, {}


def read_assets(
    reader: Reader,
    rids: Set[str],
    refs: Set[str],
    sources: Mapping[str, str],
    parse: Parse,
    named: Named = ({}, {}),
) -> AssetLive:
    """The assets with these rids and reference_ids (and the orphans of the sources'
    file names), read again while the listing moved under the read. `parse` makes an
    item a live asset; `named`: the entries by rid and by reference_id, whose values a
    live asset shares where they are equal."""
    live = AssetLive()

    def read_once() -> PageTally | None:
        live.forget_read()
        return _read_once(reader, rids, refs, sources, live, parse, named)

    if rids or refs:
        reader.until_still(read_once)
    return live


def _read_once(
    reader: Reader,
    rids: Set[str],
    refs: Set[str],
    sources: Mapping[str, str],
    live: AssetLive,
    parse: Parse,
    named: Named,
) -> PageTally | None:
    """The cheaper of a full listing and one lookup per named asset, by number of calls.

    Page 1 of the listing is read first: it tells the account's size and the page size
    the server honours, and often already holds some of the named assets. Returns the
    tally of the listing's pages when it read more than one (lookups check their own).
    `sources` (reference_id -> the filename its source makes) are the entries that may
    be created: the listing also keeps the assets without reference_id of those names
    (orphans); lookups search for them, one search per entry that is to be created.
    """

    def page_call(number: int) -> ep.Call:
        return listing_page(number, reader.size(ep.ASSET_LIST))

    names = frozenset(sources.values())
    first = reader.page(page_call(1), _SHAPE, 1)
    live.total = first[1].items_count
    _keep(first[0], rids, refs, live, parse, names, named)
    # a reference may sit on a later page; a create may need a search
    lookups = len(rids - live.objects.keys()) + len(refs) + len(sources)
    widest = reader.widest(listing_page, _SHAPE, first, instead=lookups)
    if widest is not first:  # page 1 again, in larger pages: only this read is kept
        first = widest
        live.forget_read()
        live.total = first[1].items_count
        _keep(first[0], rids, refs, live, parse, names, named)
    missing_rids = sorted(rids - live.objects.keys())
    lookups = len(missing_rids) + len(refs) + len(sources)
    if first[1].pages_count - 1 <= lookups:
        live.read = "listing"
        return reader.pages(
            page_call,
            _SHAPE,
            lambda items: _keep(items, rids, refs, live, parse, names, named),
            first=first,
            concurrent=True,
        )
    live.read = "lookup"
    for ref in refs:  # found on page 1 or not, all matches are needed to spot duplicates
        live.by_reference.pop(ref, None)
    for items in reader.map(
        lambda rid: reader.every(lambda n: ep.asset_list(rid=rid, page=n), _SHAPE),
        missing_rids,
    ):
        _keep(items, rids, set(), live, parse, named=named)
    ordered = sorted(refs)
    found = reader.map(
        lambda ref: reader.every(lambda n: ep.asset_list(reference_id=ref, page=n), _SHAPE),
        ordered,
    )
    for ref, items in zip(ordered, found, strict=True):
        live.by_reference[ref] = []
        _keep(items, set(), {ref}, live, parse, named=named)
    # Only the entries to be created need their orphans: search for those names.
    pending = sorted({n for r, n in sources.items() if not live.by_reference.get(r)})
    live.orphans = {}
    searched = reader.map(
        lambda name: reader.every(lambda n: ep.asset_list(search=name, page=n), _SHAPE),
        pending,
    )
    for items in searched:
        _keep(items, set(), set(), live, parse, frozenset(pending))
    return None


def _keep(
    items: Sequence[Item],
    rids: Set[str],
    refs: Set[str],
    live: AssetLive,
    parse: Parse,
    names: frozenset[str] = frozenset(),
    named: Named = ({}, {}),
) -> None:
    """Keep only the assets the manifests name (and the orphans of the sources' file
    names), so memory follows the managed set. The page is sifted in C (map, compress,
    set lookups): an asset no manifest names costs finding its rid and dropping it."""
    by_rid, by_ref = named
    rid_of = list(map(str, map(_GET_RID, items)))
    want = list(map(rids.__contains__, rid_of))
    if refs or names:
        ref_of = list(map(_GET_REF, items))
        if refs:
            hit = list(map(refs.__contains__, ref_of))
            for rid, ref in compress(zip(rid_of, ref_of, strict=True), hit):
                matches = live.by_reference.setdefault(ref, [])
                if rid not in matches:
                    matches.append(rid)
            want = list(map(or_, want, hit))
        if names:
            named_file = map(names.__contains__, map(_GET_FILENAME, items))
            for item, rid, ref in compress(zip(items, rid_of, ref_of, strict=True), named_file):
                if not ref:  # an asset with a reference_id is no orphan
                    orphans = live.orphans.setdefault(str(item[FILENAME]), [])
                    if rid not in orphans:
                        orphans.append(rid)
    for item, rid in compress(zip(items, rid_of, strict=True), want):
        ref = str(item.get(REFERENCE_ID) or "")
        spec, other = by_rid.get(rid), by_ref.get(ref) if ref else None
        if spec is not None and other is None:
            live.objects[spec.ident] = parse(item, spec)
        elif other is not None and spec is None:
            live.objects[rid] = parse(item, other)
        else:  # named twice (the diff says so): all of it, as it is
            live.objects[rid] = parse(item)


def listing_page(number: int, size: int) -> ep.Call:
    """A page of the whole asset listing, in pages of `size`."""
    return ep.asset_list(page=number, items_per_page=size)
