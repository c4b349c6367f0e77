"""Assets: metadata and tags of existing assets, identified by rid or by reference_id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import ListShape
from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds.base import (
    ExportSink,
    Field,
    Kind,
    KindDiff,
    LiveObject,
    PlanOptions,
    count_or_none,
    text,
)
from cincopa_sync.manifest.yamlwrite import flow_list, literal, writable
from cincopa_sync.plan import Change, Observed

if TYPE_CHECKING:
    from cincopa_sync.api.paging import Item, PageTally, Reader
    from cincopa_sync.manifest.semantic import EntryContext

RID = ep.ASSET_RID
REFERENCE_ID = "reference_id"
TAGS = "tags"
VIDEO_THUMB_SEC = "video_thumb_sec"
THUMB_ATTACHED_RID = "thumb_attached_rid"

# The managed fields, in the order plans show them; each is also a set_meta parameter.
FIELDS = (
    Field("caption"),
    Field("description"),
    Field("long_description"),
    Field("related_link_text"),
    Field("related_link_url"),
    Field(REFERENCE_ID),
    Field(THUMB_ATTACHED_RID),  # unset reads as "", which is also how it is cleared
    Field(TAGS, ep.parse_list, "set"),
    Field(VIDEO_THUMB_SEC, count_or_none),
)
_SHAPE: ListShape = ep.LISTS[ep.ASSET_LIST]


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One asset entry: identity by `rid` or by an exact `reference_id`."""

    by: str  # RID | REFERENCE_ID
    ident: str
    fields: Mapping[str, object]
    location: Location

    @property
    def address(self) -> str:
        return f"asset.{self.ident}" if self.by == RID else f"asset.ref:{self.ident}"

    def secrets(self) -> tuple[tuple[str, str], ...]:
        return ()


@dataclass
class AssetLive:
    """The assets the manifests name, canonical, and how the listing was read."""

    objects: dict[str, LiveObject] = field(default_factory=dict)  # by rid
    by_reference: dict[str, list[str]] = field(default_factory=dict)  # asked refs only
    read: str = "none"  # none | lookup | listing


class AssetKind(Kind):
    name = "asset"
    plural = "assets"
    key = RID
    fields = FIELDS
    read_also = (Field(RID),)
    list_endpoint = ep.ASSET_LIST
    export_per_file = 5_000

    # -- manifest ---------------------------------------------------------------------

    def build(self, entry: EntryContext) -> AssetSpec | None:
        values = entry.entry
        if RID in values:
            by = RID
        elif REFERENCE_ID in values:
            by = REFERENCE_ID
        else:
            entry.error(entry.location, "asset has no identity: give rid or reference_id")
            return None
        ident = values[by]
        ok = True
        here = entry.at(by)
        if ident == "":
            entry.error(here, f"{by} must not be empty")
            ok = False
        else:
            first = entry.claim(f"asset {by}", ident, here)
            if first is not None:
                entry.error(here, f"asset {by} {ident} is declared twice: here and at {first[0]}")
                ok = False
        fields: dict[str, object] = {}
        for key, value in values.items():
            if key == by:
                continue
            if key == TAGS:
                tags = entry.tag_set(key)
                ok = ok and tags is not None
                fields[key] = tags
            elif key == VIDEO_THUMB_SEC:
                fields[key] = int(value)  # the schema lets 15.0 through
            else:
                fields[key] = value
        if not ok:
            return None
        return AssetSpec(by, ident, MappingProxyType(fields), entry.location)

    # -- live -------------------------------------------------------------------------

    def read(self, reader: Reader, specs: Sequence[AssetSpec], prune: bool) -> AssetLive:
        rids = {s.ident for s in specs if s.by == RID}
        refs = {s.ident for s in specs if s.by == REFERENCE_ID}
        return self._read(reader, rids, refs)

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        return self._read(reader, set(keys), set()).objects

    def _read(self, reader: Reader, rids: set[str], refs: set[str]) -> AssetLive:
        live = AssetLive()

        def read_once() -> PageTally | None:
            live.objects, live.by_reference = {}, {}  # nothing of a moving read is kept
            return self._read_once(reader, rids, refs, live)

        if rids or refs:
            reader.until_still(read_once)
        return live

    def _read_once(
        self, reader: Reader, rids: set[str], refs: set[str], live: AssetLive
    ) -> PageTally | None:
        """The cheaper of a full listing and one lookup per named asset, by number of calls.

        Page 1 of the listing is read first: it tells the account's size and the page size
        the server honours, and often already holds some of the named assets. Returns the
        tally of the listing's pages when it read more than one (lookups check their own).
        """

        def page_call(number: int) -> ep.Call:
            return ep.asset_list(page=number, items_per_page=reader.page_size)

        first = reader.page(page_call(1), _SHAPE, 1)
        self._keep(first[0], rids, refs, live)
        missing_rids = sorted(rids - live.objects.keys())
        lookups = len(missing_rids) + len(refs)  # a reference may sit on a later page
        if first[1].pages_count - 1 <= lookups:
            live.read = "listing"
            return reader.pages(
                page_call,
                _SHAPE,
                lambda items: self._keep(items, rids, refs, live),
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
            self._keep(items, rids, set(), live)
        ordered = sorted(refs)
        found = reader.map(
            lambda ref: reader.every(lambda n: ep.asset_list(reference_id=ref, page=n), _SHAPE),
            ordered,
        )
        for ref, items in zip(ordered, found, strict=True):
            live.by_reference[ref] = []
            self._keep(items, set(), {ref}, live)
        return None

    def _keep(self, items: Iterable[Item], rids: set[str], refs: set[str], live: AssetLive) -> None:
        """Keep only the assets the manifests name, so memory follows the managed set."""
        for item in items:
            rid = str(item.get(RID, ""))
            ref = str(item.get(REFERENCE_ID) or "")
            wanted = rid in rids
            if ref and ref in refs:
                wanted = True
                matches = live.by_reference.setdefault(ref, [])
                if rid not in matches:
                    matches.append(rid)
            if wanted:
                live.objects[rid] = self.parse(item)

    def live_from_json(self, data: Mapping[str, Any]) -> AssetLive:
        live = AssetLive()
        for item in data.get(self.plural, []):
            asset = self.parse(item)
            live.objects[str(asset[RID])] = asset
            ref = str(asset[REFERENCE_ID])
            if ref:
                live.by_reference.setdefault(ref, []).append(str(asset[RID]))
        return live

    # -- diff -------------------------------------------------------------------------

    def diff(
        self, specs: Sequence[AssetSpec], live: AssetLive, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        out, problems = KindDiff(), []
        claimed: dict[str, Location] = {}  # rid -> the entry that manages it
        for spec in specs:
            rid = self._resolve(spec, live, problems)
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
            current = live.objects[rid]
            diffs = self.changes_of(spec.fields, current)
            if diffs:
                call = ep.asset_set_meta(rid, {d.field: spec.fields[d.field] for d in diffs})
                seen = Observed(self.name, rid, self.seen(spec.fields, current))
                out.changes.append(
                    Change(
                        spec.address,
                        self.name,
                        "update",
                        tuple(diffs),
                        (call,),
                        spec.location,
                        observed=(seen,),
                    )
                )
        return out, problems

    def _resolve(self, spec: AssetSpec, live: AssetLive, problems: list[Problem]) -> str | None:
        if spec.by == RID:
            if spec.ident in live.objects:
                return spec.ident
            problems.append(Problem(spec.location, f"no asset has rid {spec.ident!r}"))
            return None
        rids = live.by_reference.get(spec.ident, [])
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

    # -- export -----------------------------------------------------------------------

    def export_read(self, reader: Reader) -> list[LiveObject]:
        assets: list[LiveObject] = []

        def take(items: list[Item]) -> None:
            assets.extend(self.parse(item) for item in items)

        def read_once() -> PageTally | None:
            assets.clear()
            return reader.pages(
                lambda n: ep.asset_list(page=n, items_per_page=reader.page_size),
                _SHAPE,
                take,
                concurrent=True,
            )

        reader.until_still(read_once)
        return assets

    def export_note(self, span: str, total: int) -> str:
        return (
            f"# Assets {span} of {total:,}. Every managed field is written;\n"
            "# remove a field's line to stop managing it (assets are never created or deleted).\n"
        )

    def export_entries(
        self, objects: list[LiveObject], sink: ExportSink, *, portable: bool = True
    ) -> list[str]:
        """Portable: an asset whose reference_id no other asset has is identified by it (it
        names the same asset in an account made from these manifests, where rids differ);
        the others by rid."""
        if not portable:
            return self.entries_of(objects, sink, self.export_entry)
        uses = Counter(str(o.get(REFERENCE_ID) or "") for o in objects)
        return self.entries_of(
            objects,
            sink,
            lambda obj, _sink: _entry(
                obj, by_reference=uses[str(obj.get(REFERENCE_ID) or "")] == 1
            ),
        )

    def export_entry(self, obj: LiveObject, sink: ExportSink) -> tuple[str | None, str]:
        return _entry(obj)


# Written in this order; thumb_attached_rid only when set (see _entry).
_TEXT = tuple(f.name for f in FIELDS if f.parse is text and f.name != THUMB_ATTACHED_RID)


def _entry(asset: LiveObject, *, by_reference: bool = False) -> tuple[str | None, str]:
    """Every managed field as it is live (thumb_attached_rid only when set), identified by
    rid, or by reference_id (a non-empty one) when `by_reference`."""
    rid = str(asset[RID])
    tags = sorted(asset.get(TAGS) or ())  # type: ignore[call-overload]
    if not rid:
        return None, "an asset without a rid"
    texts = [asset.get(name) for name in (*_TEXT, THUMB_ATTACHED_RID)]
    if not all(writable(v) for v in [rid, *tags, *texts] if isinstance(v, str)):
        return None, f"asset {rid!a}: holds text that is not valid Unicode"
    identity, value = RID, rid
    if by_reference and asset.get(REFERENCE_ID):
        identity, value = REFERENCE_ID, str(asset[REFERENCE_ID])
    lines = [f"  - {identity}: {literal(value)}"]
    lines += [
        f"    {name}: {literal(str(asset.get(name) or ''))}" for name in _TEXT if name != identity
    ]
    lines.append(f"    tags: {flow_list(tags)}")
    thumb_sec = asset.get(VIDEO_THUMB_SEC)
    if isinstance(thumb_sec, int) and thumb_sec >= 0:
        lines.append(f"    video_thumb_sec: {thumb_sec}")
    thumb_rid = asset.get(THUMB_ATTACHED_RID)
    if thumb_rid:
        lines.append(f"    thumb_attached_rid: {literal(str(thumb_rid))}")
    return "\n".join(lines) + "\n", ""
