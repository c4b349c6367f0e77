"""Assets: metadata and tags, identified by rid or by reference_id; created from a
`source` URL when missing, deleted on request (`absent: true`)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import ListShape
from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds.asset_read import (
    FILENAME,
    REFERENCE_ID,
    RID,
    AssetLive,
    listing_page,
    read_assets,
)
from cincopa_sync.kinds.asset_upload import filename_of, run_create
from cincopa_sync.kinds.base import (
    ExportSink,
    Field,
    Kind,
    KindDiff,
    LiveObject,
    PlanOptions,
    StepContext,
    Steps,
    count_or_none,
    text,
)
from cincopa_sync.kinds.values import Values, layout
from cincopa_sync.manifest.yamlwrite import UNWRITABLE, flow_list, literal, writable
from cincopa_sync.plan import Change, FieldChange, Observed, plain
from cincopa_sync.shown import show_value

if TYPE_CHECKING:
    from cincopa_sync.api.paging import Item, PageTally, Reader
    from cincopa_sync.manifest.semantic import EntryContext

TAGS = "tags"
VIDEO_THUMB_SEC = "video_thumb_sec"
THUMB_ATTACHED_RID = "thumb_attached_rid"
SOURCE = "source"  # create from this URL when missing: not a field of the asset
ABSENT = "absent"  # true: delete the asset
# Staleness of an identity: the key `ref:<reference_id>` observes which rids have that
# reference_id (the pseudo-field RESOLVES_TO), so a saved plan that resolved it to one
# asset refuses when a second asset got it, or it moved; a create observes it absent.
REF_KEY = "ref:"
RESOLVES_TO = "resolves_to"

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
_NOTHING = object()
_CLAIMS = {by: f"asset {by}" for by in (RID, REFERENCE_ID)}  # identity namespaces


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One asset entry: identity by `rid` or by an exact `reference_id`.

    Its place is kept as the file and one packed number (a Location is made when asked
    for): a million entries hold a million places."""

    by: str  # RID | REFERENCE_ID
    ident: str
    fields: Mapping[str, object]
    file: str
    place: int  # line << 32 | column, 1-based (EntryContext.place)
    source: str | None = None  # by reference_id only: create from this URL when missing
    absent: bool = False  # delete it (then `fields` is empty)

    @classmethod
    def at(
        cls,
        location: Location,
        by: str,
        ident: str,
        fields: Mapping[str, object],
        source: str | None = None,
        absent: bool = False,
    ) -> AssetSpec:
        place = location.line << 32 | location.column
        return cls(by, ident, fields, location.file, place, source, absent)

    @property
    def location(self) -> Location:
        return Location(self.file, self.place >> 32, self.place & 0xFFFFFFFF)

    @property
    def address(self) -> str:
        return f"asset.{self.ident}" if self.by == RID else f"asset.ref:{self.ident}"

    def secrets(self) -> tuple[tuple[str, str], ...]:
        return ()


class AssetKind(Kind):
    name = "asset"
    plural = "assets"
    spec_class = AssetSpec
    key = RID
    fields = FIELDS
    # Only the rid beside the fields: one more key would double every kept asset's dict
    # table (11 keys do not fit in 16 slots), 19 MB per 100,000 assets.
    read_also = (Field(RID),)
    list_endpoint = ep.ASSET_LIST
    export_per_file = 5_000

    def __init__(self) -> None:
        super().__init__()
        self._live_layout = layout(name for name, _, _ in self._readers)
        self._trimmed: dict[tuple, tuple[tuple, dict[str, int]]] = {}

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
        if ident == "":
            entry.error(entry.at(by), f"{by} must not be empty")
            ok = False
        else:
            first = entry.claim_key(_CLAIMS[by], by)
            if first is not None:
                entry.error(
                    entry.at(by), f"asset {by} {ident} is declared twice: here and at {first}"
                )
                ok = False
        absent = values.get(ABSENT) is True
        source = values.get(SOURCE)
        if absent or source is not None:
            ok = self._check_lifecycle(entry, by, absent, source) and ok
        fields: dict[str, object] = {}
        for key, value in values.items():
            if key in (by, SOURCE, ABSENT):
                continue
            if key == TAGS:
                tags = entry.tag_set(key)
                ok = ok and tags is not None
                fields[key] = tags
            elif key == VIDEO_THUMB_SEC:
                fields[key] = int(value)  # the schema lets 15.0 through
            else:
                fields[key] = entry.share(key, value)
        if not ok:
            return None
        return AssetSpec(by, ident, Values.of(fields), entry.file, entry.place, source, absent)

    def merge(self, earlier: AssetSpec, later: AssetSpec, wrote: frozenset[str]) -> AssetSpec:
        """`absent` and `source` as the latest layer that wrote them says; a later
        `absent: true` deletes the asset whatever earlier layers wrote (nothing else is
        sent for it), a later `absent: false` keeps it."""
        merged = super().merge(earlier, later, wrote)
        absent = later.absent if ABSENT in wrote else earlier.absent
        source = later.source if SOURCE in wrote else earlier.source
        if absent and ABSENT in wrote:
            return replace(merged, fields=Values.of({}), absent=True, source=None)
        return replace(merged, absent=absent, source=None if absent else source)

    def check_merged(self, specs: Sequence[AssetSpec]) -> list[Problem]:
        """An asset an earlier layer deletes (`absent: true`) that a later layer gives
        fields: which one is meant cannot be guessed."""
        return [
            Problem(
                spec.location,
                f"{spec.address} is absent: true in an earlier layer, but this layer writes "
                f"{', '.join(spec.fields)}: write absent: false here to keep the asset",
            )
            for spec in specs
            if spec.absent and spec.fields
        ]

    def _check_lifecycle(self, entry: EntryContext, by: str, absent: bool, source: object) -> bool:
        """`absent: true` stands alone beside the identity; `source` needs reference_id as
        the identity (a rid cannot be known before the upload) and an http(s) URL."""
        ok = True
        if absent:
            for key in entry.entry:
                if key not in (by, ABSENT):
                    entry.error(
                        entry.key_at(key),
                        f"{key} is not allowed beside absent: true (the asset is deleted): "
                        f"keep only its {by}",
                    )
                    ok = False
            return ok
        if source is None:
            return ok
        if by == RID:
            entry.error(
                entry.key_at(SOURCE),
                "source needs reference_id as the identity, not rid (a rid is known only "
                "after the upload): drop rid to create the asset, or drop source",
            )
            ok = False
        parts = urlsplit(str(source))
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            entry.error(
                entry.at(SOURCE), f"source must be an http:// or https:// URL, got {source!r}"
            )
            ok = False
        return ok

    # -- live -------------------------------------------------------------------------

    def read(self, reader: Reader, specs: Sequence[AssetSpec], prune: bool) -> AssetLive:
        by_rid = {s.ident: s for s in specs if s.by == RID}
        by_ref = {s.ident: s for s in specs if s.by == REFERENCE_ID}
        sources = {s.ident: filename_of(s.source) for s in specs if s.source}
        # Only a plan that may add tags needs the tag cloud: read beside the listing.
        wants_tags = any(s.fields.get(TAGS) for s in specs)
        submit = getattr(reader.pool, "submit", None)  # None: an inline pool
        tags = submit(reader.client.call, ep.asset_get_tags()) if wants_tags and submit else None
        live = read_assets(
            reader,
            by_rid.keys(),
            by_ref.keys(),
            {r: n for r, n in sources.items() if n},
            self.parse,
            (by_rid, by_ref),
        )
        if wants_tags:
            answer = tags.result() if tags else reader.client.call(ep.asset_get_tags())
            live.tag_cloud = _tags_of(answer.get(ep.F_TAG_CLOUD))
        return live

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        """The assets with these rids and, for each key `ref:<reference_id>`, which rids
        have that reference_id (when any has)."""
        keys = set(keys)
        refs = {k.removeprefix(REF_KEY) for k in keys if k.startswith(REF_KEY)}
        rids = {k for k in keys if not k.startswith(REF_KEY)}
        live = read_assets(reader, rids, refs, {}, self.parse)
        found: dict[str, LiveObject] = dict(live.objects)
        for ref in refs:
            matches = live.by_reference.get(ref)
            if matches:
                found[REF_KEY + ref] = {RESOLVES_TO: tuple(sorted(matches))}
        return found

    def parse(
        self, item: Mapping[str, object], like: AssetSpec | None = None
    ) -> Mapping[str, object]:
        """An API item as a live asset: every field, or with `like` (the entry that names
        it) only what a plan of that entry needs: the fields it writes, its identity, and
        for a delete the caption it shows. Values equal to the entry's are its very
        objects, so an unchanged asset holds no second copy of its text (a plan of a
        million assets holds a million of each); when every field the entry writes is as
        it is live, the live asset is the entry's own values (its rid is its key in
        `AssetLive.objects`)."""
        get, plain_text = item.get, text
        if like is None:
            readers, names, mine = self._readers, self._live_layout, None
        else:
            readers, names = self._readers_for(like)
            mine = like.fields
        values = []
        same = mine is not None and not like.absent  # type: ignore[union-attr]
        for name, wire, parse in readers:
            value = get(wire)
            if parse is plain_text:  # most fields: inlined, this runs for every kept item
                value = "" if value is None else value if value.__class__ is str else str(value)
            else:
                value = parse(value)
            if mine is not None:
                wanted = like.ident if name == like.by else mine.get(name, _NOTHING)  # type: ignore[union-attr]
                if wanted == value:
                    value = wanted
                elif name != RID:
                    same = False
            values.append(value)
        if same:
            return mine  # type: ignore[return-value]
        return Values(names, values)

    def _readers_for(self, like: AssetSpec) -> tuple[tuple, dict[str, int]]:
        """The readers (and the layout) of what a plan of this entry reads of its asset."""
        key = (like.by, like.absent, tuple(like.fields))
        found = self._trimmed.get(key)
        if found is None:
            kept = {RID, like.by, *like.fields}
            if like.absent:
                kept.add("caption")  # what its delete shows
            readers = tuple(r for r in self._readers if r[0] in kept)
            found = self._trimmed[key] = (readers, layout(r[0] for r in readers))
        return found

    def live_from_json(self, data: Mapping[str, Any]) -> AssetLive:
        """The whole account: every asset, every orphan, the tags of all assets."""
        live = AssetLive()
        tags: set[str] = set()
        for item in data.get(self.plural, []):
            asset = self.parse(item)
            rid = str(asset[RID])
            live.objects[rid] = asset
            tags |= asset[TAGS]  # type: ignore[arg-type]
            ref = str(asset[REFERENCE_ID])
            if ref:
                live.by_reference.setdefault(ref, []).append(rid)
            elif item.get(FILENAME):
                live.orphans.setdefault(str(item[FILENAME]), []).append(rid)
        live.total = len(live.objects)
        live.tag_cloud = frozenset(tags)
        return live

    # -- diff -------------------------------------------------------------------------

    def diff(
        self, specs: Sequence[AssetSpec], live: AssetLive, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        out, problems = KindDiff(), []
        claimed: dict[str, AssetSpec] = {}  # rid -> the entry that manages it
        # Two entries can manage one asset only when one names it by reference_id (the
        # load refuses a rid named twice): without those, a million rids need no index.
        by_reference = any(s.by == REFERENCE_ID for s in specs)
        # reference_ids that entries by rid set: a create of one would make a duplicate
        given = (
            {
                str(s.fields[REFERENCE_ID]): s
                for s in specs
                if s.by == RID and REFERENCE_ID in s.fields
            }
            if any(s.source for s in specs)
            else {}
        )
        for spec in specs:
            if self._missing(spec, live):
                if spec.source and not spec.absent:  # else: absent already, no change
                    out.changes.append(self._create(spec, live, given, out, problems))
                continue
            rid = self._resolve(spec, live, problems)
            if rid is None:
                continue
            if rid in claimed:
                problems.append(
                    Problem(
                        spec.location,
                        f"{spec.address} is asset {rid}, which the entry at "
                        f"{claimed[rid].location} already manages",
                    )
                )
                continue
            if by_reference:
                claimed[rid] = spec
            current = live.objects[rid]
            change = (
                self._delete(spec, rid, current)
                if spec.absent
                else self._update(spec, rid, current)
            )
            if change is not None:
                out.changes.append(change)
        if any(c.action == "delete" for c in out.changes):
            out.live_count = live.total  # the delete-safety share is of the whole account
        out.warnings += _new_tag_warnings(out.changes, live.tag_cloud)
        return out, problems

    def _missing(self, spec: AssetSpec, live: AssetLive) -> bool:
        """Whether an entry that may create or delete names no live asset."""
        if not (spec.source or spec.absent):
            return False
        if spec.by == RID:
            return spec.ident not in live.objects
        return not live.by_reference.get(spec.ident)

    def _observed(self, spec: AssetSpec, rid: str, fields: tuple) -> tuple[Observed, ...]:
        """The asset as the plan saw it and, identified by reference_id, what that resolved
        to: a saved plan refuses when either moved."""
        seen = Observed(self.name, rid, fields)
        if spec.by == RID:
            return (seen,)
        return (seen, Observed(self.name, REF_KEY + spec.ident, ((RESOLVES_TO, (rid,)),)))

    def _update(self, spec: AssetSpec, rid: str, current: LiveObject) -> Change | None:
        diffs = self.changes_of(spec.fields, current)
        if not diffs:
            return None
        call = ep.asset_set_meta(rid, {d.field: spec.fields[d.field] for d in diffs})
        return Change(
            spec.address,
            self.name,
            "update",
            tuple(diffs),
            (call,),
            spec.location,
            observed=self._observed(spec, rid, self.seen(spec.fields, current)),
        )

    def _delete(self, spec: AssetSpec, rid: str, current: LiveObject) -> Change:
        caption = current.get("caption")
        note = "absent: true: deleted for good, from every gallery too"
        return Change(
            spec.address,
            self.name,
            "delete",
            (FieldChange(RID, rid, None),),
            (ep.asset_delete(rid),),
            spec.location,
            (f"{note} (caption {show_value(caption)})" if caption else note,),
            observed=self._observed(spec, rid, ()),
        )

    def _create(
        self,
        spec: AssetSpec,
        live: AssetLive,
        given: Mapping[str, AssetSpec],
        out: KindDiff,
        problems: list[Problem],
    ) -> Change:
        """Upload from the source, then one set_meta naming it (reference_id) with every
        field the entry writes."""
        source = str(spec.source)
        if spec.ident in given:
            problems.append(
                Problem(
                    spec.location,
                    f"reference_id {spec.ident!r} is to be created here, but the entry at "
                    f"{given[spec.ident].location} gives it to another asset: two assets "
                    "would have it",
                )
            )
        orphans = sorted(live.orphans.get(filename_of(source), ()))
        if orphans:
            out.warnings.append(_orphan_warning(spec, orphans))
        written = {REFERENCE_ID: spec.ident, **spec.fields}
        fields = [FieldChange(REFERENCE_ID, None, spec.ident), FieldChange(SOURCE, None, source)]
        fields += [
            FieldChange(f.name, None, plain(spec.fields[f.name]))
            for f in self.fields
            if f.name in spec.fields and f.name != REFERENCE_ID
        ]
        calls = (
            ep.asset_upload(source),
            ep.asset_upload_status(None),
            ep.asset_set_meta(None, written),
        )
        note = (
            "the upload's status is read with growing pauses until it completes "
            "(--upload-timeout), then one set_meta names the new asset"
        )
        return Change(
            spec.address,
            self.name,
            "create",
            tuple(fields),
            calls,
            spec.location,
            (note,),
            creates=True,
            observed=(Observed(self.name, REF_KEY + spec.ident, None),),
        )

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
            problems.append(
                Problem(
                    spec.location,
                    f"no asset has reference_id {spec.ident!r} (give `source:` to create it)",
                )
            )
        else:
            problems.append(
                Problem(
                    spec.location,
                    f"reference_id {spec.ident!r} matches {len(rids)} assets "
                    f"({', '.join(sorted(rids))}): identify this asset by rid instead",
                )
            )
        return None

    # -- staleness and apply ------------------------------------------------------------

    def observe_again(self, like: Observed, current: LiveObject | None) -> Observed:
        if like.key.startswith(REF_KEY) and like.fields and current is not None:
            return Observed(like.kind, like.key, ((RESOLVES_TO, current[RESOLVES_TO]),))
        return super().observe_again(like, current)

    def steps(self, change: Change, ctx: StepContext) -> Steps | None:
        return run_create(change, ctx) if change.action == "create" else None

    def target_of(self, change: Change) -> str | None:
        last = change.calls[-1]
        return None if last.deferred else last.target()  # a create's: known after upload

    def holds(self, fc: FieldChange, current: LiveObject) -> tuple[bool, object]:
        if fc.field == SOURCE:  # cannot be read back
            return True, fc.after
        return super().holds(fc, current)

    # -- export -----------------------------------------------------------------------

    def export_read(self, reader: Reader) -> list[LiveObject]:
        assets: list[LiveObject] = []

        def take(items: list[Item]) -> None:
            assets.extend(self.parse(item) for item in items)

        def read_once() -> PageTally | None:
            assets.clear()
            size = reader.size(ep.ASSET_LIST)
            first = reader.widest(
                listing_page, _SHAPE, reader.page(listing_page(1, size), _SHAPE, 1)
            )
            return reader.pages(
                lambda n: listing_page(n, reader.size(ep.ASSET_LIST)),
                _SHAPE,
                take,
                first=first,
                concurrent=True,
            )

        reader.until_still(read_once)
        return assets

    def export_note(self, span: str, total: int) -> str:
        return (
            f"# Assets {span} of {total:,}. Every managed field is written;\n"
            "# remove a field's line to stop managing it (`absent: true` deletes an asset).\n"
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
# Fields that hold one line (the schema's `line`): no control character at all.
_ONE_LINE = (REFERENCE_ID, "related_link_url", THUMB_ATTACHED_RID)


def _entry(asset: LiveObject, *, by_reference: bool = False) -> tuple[str | None, str]:
    """Every managed field as it is live (thumb_attached_rid only when set), identified by
    rid, or by reference_id (a non-empty one) when `by_reference`."""
    rid = str(asset[RID])
    tags = sorted(asset.get(TAGS) or ())  # type: ignore[call-overload]
    if not rid:
        return None, "an asset without a rid"
    lines_ = [rid, *tags, *(asset.get(name) for name in _ONE_LINE)]
    texts = [asset.get(name) for name in _TEXT if name not in _ONE_LINE]
    if not (
        all(writable(v, one_line=True) for v in lines_ if isinstance(v, str))
        and all(writable(v) for v in texts if isinstance(v, str))
    ):
        return None, f"asset {rid!a}: {UNWRITABLE}"
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


def _tags_of(cloud: object) -> frozenset[str]:
    """The tags of asset.get_tags' cloud (tag -> count), without its special counts."""
    if not isinstance(cloud, Mapping):
        return frozenset()
    return frozenset(str(t) for t in cloud if t not in ep.TAG_CLOUD_COUNTS)


def _orphan_warning(spec: AssetSpec, rids: list[str]) -> Problem:
    name = filename_of(spec.source)
    which = f"asset {rids[0]} has" if len(rids) == 1 else f"assets {', '.join(rids)} have"
    return Problem(
        spec.location,
        f"{which} no reference_id and the filename {name!r} this source gives: probably an "
        f"upload an earlier run could not finish. To adopt it instead of uploading again, "
        f"replace `source:` with `rid: {rids[0]}` and keep `reference_id: {spec.ident}`",
        "warning",
    )


def _new_tag_warnings(changes: Iterable[Change], known: frozenset[str] | None) -> list[Problem]:
    """One warning per tag the plan adds that no live asset carries (a typo, often), at
    the first entry adding it, with the closest tag of the account."""
    if known is None:
        return []
    adding: dict[str, list[Location]] = {}
    for change in changes:
        for fc in change.fields:
            if fc.field == TAGS and change.location is not None:
                for tag in set(fc.after or ()) - set(fc.before or ()):  # type: ignore[call-overload]
                    if tag not in known:
                        adding.setdefault(tag, []).append(change.location)
    by_lower = {t.lower(): t for t in sorted(known)}
    warnings = []
    for tag in sorted(adding):
        places = sorted(adding[tag])
        message = f"tag {tag!r} is new: no asset carries it yet"
        close = difflib.get_close_matches(tag.lower(), by_lower, 1)
        if close:
            message += f" (did you mean {by_lower[close[0]]!r}?)"
        if len(places) > 1:
            more = len(places) - 1
            message += f"; {more} more {'entry adds' if more == 1 else 'entries add'} it"
        warnings.append(Problem(places[0], message, "warning"))
    return warnings
