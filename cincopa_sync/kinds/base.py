"""What every resource kind provides, and the field machinery they share.

A kind is one class (see asset.py, portal.py, webhook.py) registered once in
kinds/__init__.py. The engine, the renderers and the CLI only ever ask the registry, so
everything a kind knows is written here or in its own module, once:

- its manifest entry: key, identity, how a checked entry becomes a spec (`build`), and
  how an entry of a later layer merges into an earlier layer's spec (`merge`);
- its fields and their canonical forms (`Field`), used alike by the diff (`change`), the
  staleness check of saved plans (`owned`), the post-apply verification (`holds`) and
  export;
- how it is read live (`read`, `reread`) and how an item becomes a live object;
- how a difference becomes calls, in what order (`diff`);
- how a write whose answer was lost is checked (`took_effect`);
- how a change that must wait for the API is run, as steps (`steps`);
- its export entries.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import Call
from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds import specjson
from cincopa_sync.plan import Change, FieldChange, Observed, plain

if TYPE_CHECKING:
    from cincopa_sync.api.client import CincopaClient
    from cincopa_sync.api.paging import Reader
    from cincopa_sync.manifest.semantic import EntryContext

LiveObject = dict[str, object]  # canonical values by field name, the identity included

# The pseudo-field of a drift about an object's presence rather than one of its fields.
EXISTS = "(exists)"


# -- canonical forms -------------------------------------------------------------------


def text(value: object) -> str:
    """Text as the API stores it; an unset field reads as "" (what clears it)."""
    return "" if value is None else str(value)


def count_or_none(value: object) -> int | None:
    """A whole number, or None when unset or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def flag(value: object) -> bool:
    return bool(value)


@dataclass(frozen=True, slots=True)
class Field:
    """One managed field and its canonical form, written once.

    `parse` turns what the API sends into the canonical value (both sides of a diff are
    canonical); `shape` says how two values compare:
    - "scalar": equal or not;
    - "set": equal or not, shown as the items added and removed;
    - "map": only the keys the manifest writes are owned (portal settings: the API
      cannot remove a setting, so the others are left alone).
    """

    name: str
    parse: Callable[[object], object] = text
    shape: str = "scalar"
    wire: str | None = None  # the response field, when its name differs

    def read(self, item: Mapping[str, object]) -> object:
        return self.parse(item.get(self.wire or self.name))

    def owned(self, have: object, want: object) -> object:
        """The live value as far as the manifest owns it, as plans hold values."""
        if self.shape == "map":
            current = have or {}
            return {k: current.get(k) for k in sorted(want or {})}  # type: ignore[union-attr,attr-defined]
        return plain(have)

    def change(self, have: object, want: object) -> FieldChange | None:
        """The difference between a live and a wanted value, or None."""
        if self.shape == "map":
            current = have or {}
            changed = {k: v for k, v in sorted(want.items()) if current.get(k) != v}  # type: ignore[union-attr,attr-defined]
            if not changed:
                return None
            return FieldChange(self.name, {k: current.get(k) for k in changed}, changed)  # type: ignore[union-attr]
        if have == want:
            return None
        return FieldChange(self.name, plain(have), plain(want))

    def holds(self, have: object, sent: object) -> tuple[bool, object]:
        """Whether the live value holds what was sent, and the live value (for a map, the
        keys that do not hold)."""
        if self.shape == "map":
            current = have or {}
            wrong = {k: current.get(k) for k, v in dict(sent).items() if current.get(k) != v}  # type: ignore[call-overload,union-attr]
            return not wrong, wrong
        actual = plain(have)
        return actual == sent, actual


# -- what a kind hands back ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanOptions:
    resend_secrets: bool = False  # write every hook that has a key (key rotation)


@dataclass
class KindDiff:
    """A kind's share of a plan."""

    changes: list[Change] = field(default_factory=list)
    unmanaged: int = 0  # live objects no manifest names, left alone
    live_count: int | None = None  # live objects, when prune may delete some
    # A note is its text, or (text, the addresses it is about) when it concerns only some
    # changes (a --target that leaves them all out drops it).
    notes: list[str | tuple[str, list[str]]] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Drift:
    """A field that did not take the value sent: the API ignored or changed it."""

    address: str
    field: str
    expected: object
    actual: object


class Spec(Protocol):
    """One manifest entry as the model holds it."""

    @property
    def address(self) -> str: ...

    @property
    def location(self) -> Location: ...

    def secrets(self) -> tuple[tuple[str, str], ...]:
        """(value, text as written) of each secret the entry holds; "" when written out."""
        ...


@dataclass
class ExportSink:
    """What an export collects beside the entries."""

    skipped: list[str] = field(default_factory=list)  # objects left out, and why
    variables: list[tuple[str, str]] = field(default_factory=list)  # (name, purpose)


class Live(Protocol):
    objects: dict[str, LiveObject]  # by key


# -- changes run as steps ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wait:
    """A change's steps ask to go on after `seconds`, holding no worker meanwhile."""

    seconds: float


class Interrupted(Exception):
    """Thrown into a change's steps at a Wait when apply is interrupted: the kind undoes
    what it can (an upload in progress is aborted) and ends."""


@dataclass(frozen=True, slots=True)
class Ended:
    """How a change run as steps ended."""

    status: str  # applied | failed | unknown (it may have taken effect: a lost answer)
    message: str = ""
    made: str | None = None  # the key of the object it made, when the plan could not know it


@dataclass(frozen=True)
class StepContext:
    """What a change's steps get from apply."""

    client: CincopaClient
    clock: Callable[[], float]  # seconds, monotonic
    wait_timeout: float  # how long a change may wait for work the API does (an upload)


Steps = Generator[Wait, None, Ended]


# -- the kind ------------------------------------------------------------------------------


class Kind:
    """A resource kind. Subclasses set the class attributes and the abstract methods."""

    name: ClassVar[str]  # "portal": kind in plans, address prefix
    plural: ClassVar[str]  # "portals": manifest key, prune key, headings
    key: ClassVar[str]  # the live object's field that identifies it ("subdomain")
    fields: ClassVar[tuple[Field, ...]] = ()
    # Fields a live object holds that no manifest manages: its identity, its status.
    read_also: ClassVar[tuple[Field, ...]] = ()
    list_endpoint: ClassVar[str]
    prunable: ClassVar[bool] = False
    # Fields that name the object (shown in creates, renames and deletes; not verified
    # as values: the object's presence is).
    identity_fields: ClassVar[tuple[str, ...]] = ()
    # This kind's deletes are skipped when one of its creates failed: a replaced webhook
    # is never deleted before its replacement exists.
    deletes_need_creates: ClassVar[bool] = False
    export_per_file: ClassVar[int | None] = None  # entries per file; None: one file
    spec_class: ClassVar[type]  # the dataclass of its manifest entries (see spec_to_json)
    # Manifest keys holding a secret that is only ever sent, never compared (a webhook's
    # security key): its variable may be unset for validate and plan (a warning), and
    # apply stops before any write only if it must send it.
    send_only: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        # (name, response field, parse) per field, built once: parse runs for every
        # listed item a plan keeps.
        every = (*self.read_also, *self.fields)
        self._readers = tuple((f.name, f.wire or f.name, f.parse) for f in every)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    # -- manifest ---------------------------------------------------------------------

    def build(self, entry: EntryContext) -> Any:
        """The spec of a schema-checked entry, or None after reporting its problems."""
        raise NotImplementedError

    def spec_to_json(self, spec: Any, secret: Callable[[str], object]) -> dict[str, Any]:
        """A spec as the desired state a saved plan records (`apply --plan` plans again
        from it); each secret of the spec as `secret(value)` gives it, never the value.
        The default writes every field of the spec's dataclass (see kinds/specjson.py)."""
        return specjson.to_json(self, spec, secret)

    def spec_from_json(self, data: object, reveal: Callable[[str], str]) -> Any:
        """The spec that `spec_to_json` wrote, the secrets' values from `reveal`;
        ValueError for anything it would not have written."""
        return specjson.from_json(self, self.spec_class, data, reveal)

    def check_parts(self, entry: EntryContext) -> None:
        """Checks of an entry the schema rejected that still apply to the keys it got
        right (their types checked here), so every problem is reported at once."""

    def secret_keys(self, entry: Mapping[str, object]) -> tuple[str, ...]:
        """The keys of a manifest entry (as parsed, maybe not valid) whose values are
        secrets: they, and the variables they are written with, are masked in every
        message from the moment the file is read."""
        return ()

    # -- layers (overlays): one object written by several layers ----------------------

    def identity(self, spec: Any) -> str:
        """What makes entries of two layers one object: by default its address."""
        return spec.address

    def merge(self, earlier: Any, later: Any, wrote: frozenset[str]) -> Any:
        """One object from an earlier layer's spec and a later layer's entry for it, which
        wrote the keys `wrote`: what the later entry wrote replaces the earlier values, a
        map field (portal settings) key by key, a list as a whole; the rest stays.

        This default is for specs that hold every managed field in `fields` (only those an
        entry wrote) and nothing else an entry may leave out; other kinds override it.
        """
        fields = dict(earlier.fields)
        for name, value in later.fields.items():
            before = fields.get(name)
            if self._is_map(name) and isinstance(before, Mapping):
                value = MappingProxyType({**before, **value})
            fields[name] = value
        return replace(later, fields=MappingProxyType(fields))

    def check_merged(self, specs: Sequence[Any]) -> list[Problem]:
        """What no single layer could get wrong but their merge can (names two objects
        share, a combination one entry could not write)."""
        return []

    def _is_map(self, name: str) -> bool:
        return any(f.name == name and f.shape == "map" for f in self.fields)

    # -- live -------------------------------------------------------------------------

    def needs_read(self, specs: Sequence[Any], prune: bool) -> bool:
        return bool(specs) or prune

    def read(self, reader: Reader, specs: Sequence[Any], prune: bool) -> Live:
        """What a plan of these specs needs of the live account."""
        raise NotImplementedError

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        """The live objects with these keys (absent ones left out)."""
        raise NotImplementedError

    def live_from_json(self, data: Mapping[str, Any]) -> Live:
        """The live state from an account in API shape (tests, fakes)."""
        raise NotImplementedError

    def parse(self, item: Mapping[str, object]) -> LiveObject:
        """An API item as a live object: every field canonical."""
        get, plain_text = item.get, text
        obj: LiveObject = {}
        for name, wire, parse in self._readers:
            value = get(wire)
            if parse is plain_text:  # most fields: inlined, this runs for every kept item
                obj[name] = "" if value is None else value if value.__class__ is str else str(value)
            else:
                obj[name] = parse(value)
        return obj

    def by_key(self, objects: Iterable[LiveObject]) -> dict[str, LiveObject]:
        return {str(obj[self.key]): obj for obj in objects}

    def whole_listing(self, reader: Reader) -> dict[str, LiveObject]:
        """Every object, for a kind whose list endpoint answers in one call (its pages are
        followed should items_data ever say it pages)."""
        endpoint = self.list_endpoint
        items = reader.every(
            lambda n: ep.list_page(endpoint, None if n == 1 else n), ep.LISTS[endpoint]
        )
        return self.by_key(map(self.parse, items))

    # -- diff -------------------------------------------------------------------------

    def diff(
        self, specs: Sequence[Any], live: Any, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        raise NotImplementedError

    def prune(
        self, out: KindDiff, objects: Mapping[str, LiveObject], named: set[str], on: bool
    ) -> None:
        """The live objects no manifest names: counted as left alone, or (prune on)
        deleted, one `delete_change` each, in key order."""
        unmanaged = sorted(set(objects) - named)
        if not on:
            out.unmanaged = len(unmanaged)
            return
        out.live_count = len(objects)
        out.changes += [self.delete_change(key, objects[key]) for key in unmanaged]

    def delete_change(self, key: str, current: LiveObject) -> Change:
        """The change that deletes a live object (a prunable kind's)."""
        raise NotImplementedError

    def changes_of(self, wanted: Mapping[str, object], current: LiveObject) -> list[FieldChange]:
        """The differing fields, in field-table order, of those the manifest writes."""
        out = []
        for f in self.fields:
            name = f.name
            if name in wanted:
                have, want = current.get(name), wanted[name]
                if have == want and f.shape != "map":
                    continue  # the common case, without a call
                diff = f.change(have, want)
                if diff is not None:
                    out.append(diff)
        return out

    def seen(self, wanted: Iterable[str] | Mapping[str, object], current: LiveObject) -> tuple:
        """The live values of the named fields as the plan saw them (for staleness); for a
        map field, only the keys wanted (pass a mapping to say which)."""
        values = wanted if isinstance(wanted, Mapping) else dict.fromkeys(wanted)
        return tuple(
            (f.name, f.owned(current.get(f.name), values[f.name]))
            for f in self.fields
            if f.name in values
        )

    def observe_again(self, like: Observed, current: LiveObject | None) -> Observed:
        """How `like`'s object looks now, by the same fields: equal to `like` when it has
        not moved since the plan."""
        if current is None:
            return Observed(like.kind, like.key, None)
        if like.fields is None:
            return Observed(like.kind, like.key, ())  # absent then, present now
        return Observed(like.kind, like.key, self.seen(dict(like.fields), current))

    # -- apply ------------------------------------------------------------------------

    def idempotent(self, change: Change, index: int) -> bool:
        """Whether a call may be sent again blindly. A create's, a rename's or a delete's
        lost answer is checked by reading first (a delete sent again after it acted gets
        `success: false`)."""
        call = change.calls[index]
        return not ((change.creates and index == 0) or call.effect in ("rename", "delete"))

    def took_effect(self, reader: Reader, call: Call) -> bool:
        """Whether a create, rename or delete whose answer was lost happened, by reading."""
        keys = [k for k in (call.target(), call.renamed_from()) if k]
        live = self.reread(reader, keys)
        if call.effect == "rename":
            return call.target() in live and call.renamed_from() not in live
        return (call.target() in live) != (call.effect == "delete")

    def steps(self, change: Change, ctx: StepContext) -> Steps | None:
        """The change as steps that may wait (yield Wait) and end with Ended; None: the
        plan's calls, one after another."""
        return None

    def target_of(self, change: Change) -> str | None:
        """The key of the object a change leaves behind (what verification reads)."""
        return change.calls[-1].target()

    def drift(self, change: Change, current: LiveObject | None) -> list[Drift]:
        """Every field of an applied change that does not hold the value sent."""
        if change.action == "delete":
            return [] if current is None else [Drift(change.address, EXISTS, None, "present")]
        if current is None:
            return [Drift(change.address, EXISTS, "present", None)]
        out = []
        for fc in change.fields:
            if fc.field in self.identity_fields:
                continue
            ok, actual = self.holds(fc, current)
            if not ok:
                out.append(Drift(change.address, fc.field, fc.after, actual))
        return out

    def holds(self, fc: FieldChange, current: LiveObject) -> tuple[bool, object]:
        return self.field(fc.field).holds(current.get(fc.field), fc.after)

    # -- export -----------------------------------------------------------------------

    def export_read(self, reader: Reader) -> list[LiveObject]:
        """Every live object of the account, for export."""
        raise NotImplementedError

    def export_note(self, span: str, total: int) -> str:
        """Comment lines heading an export file: `span` says which entries it holds."""
        if not self.prunable:
            return ""
        return (
            "# prune is not written: an export describes objects. To delete live "
            f"{self.plural} that no\n# manifest names, add `prune: {{{self.plural}: true}}` "
            "yourself (see docs/manifest.md).\n"
        )

    def export_entries(
        self, objects: list[LiveObject], sink: ExportSink, *, portable: bool = True
    ) -> list[str]:
        """One manifest entry per object, as YAML text, in key order; an object no
        manifest could describe is left out, and why goes to `sink.skipped`. `portable`:
        identify objects by what another account can have too, where the kind can."""
        return self.entries_of(objects, sink, self.export_entry)

    def entries_of(
        self,
        objects: list[LiveObject],
        sink: ExportSink,
        entry: Callable[[LiveObject, ExportSink], tuple[str | None, str]],
    ) -> list[str]:
        """`entry` of each object in key order, those it leaves out noted in `sink`."""
        entries = []
        for obj in sorted(objects, key=lambda o: str(o[self.key])):
            text, why = entry(obj, sink)
            if text is None:
                sink.skipped.append(why)
            else:
                entries.append(text)
        return entries

    def export_entry(self, obj: LiveObject, sink: ExportSink) -> tuple[str | None, str]:
        """One object's entry, or None and why it was left out."""
        raise NotImplementedError
