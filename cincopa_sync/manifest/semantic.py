"""Checks the schema cannot express, across all files, and the desired model they build.

Runs on entries the schema accepted (their types are known), in manifest order: files in
load order, entries in file order. What an entry means is its kind's business
(`Kind.build`); this module walks the documents, gives each kind an `EntryContext` to
report problems and claim identities across files, and merges `prune`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds import kinds, prunable
from cincopa_sync.kinds.base import Kind
from cincopa_sync.manifest.interpolate import references
from cincopa_sync.manifest.yamlload import Document, PosDict, PosList, item_spot, unpack

Skip = set[tuple[str, int]]  # (top-level key, index); index -1: the whole key
PRUNE = "prune"
# A packed claim: the file's number above, the packed position below.
_FILE_SHIFT = 64
_SPOT_MASK = (1 << _FILE_SHIFT) - 1
_SHARED_PER_KEY = 4096
_FIRST_PLACE = 1 << 32 | 1  # a packed position (0-based) + this: 1-based line and column


@dataclass
class Collected:
    specs: dict[str, list[Any]] = field(default_factory=dict)
    prune: dict[str, bool] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class EntryContext:
    """One schema-checked manifest entry, as a kind's `build` sees it."""

    __slots__ = ("_builder", "_doc", "_spot", "entry")

    def __init__(self, builder: Builder, doc: Document, entry: PosDict, spot: int) -> None:
        self._builder = builder
        self._doc = doc
        self._spot = spot
        self.entry = entry  # the entry's keys and values (types checked, interpolated)

    @property
    def location(self) -> Location:
        """Where the entry starts."""
        return self._doc.location(self._spot)

    @property
    def file(self) -> str:
        return self._doc.file

    @property
    def place(self) -> int:
        """Where the entry starts as one number, line << 32 | column (both 1-based), for a
        kind that keeps a million of them (a Location is 56 bytes more)."""
        return self._spot + _FIRST_PLACE

    def at(self, key: str) -> Location:
        """Where the value of one of the entry's keys is."""
        return self.value_at(self.entry, key)

    def key_at(self, key: str) -> Location:
        return self.key_of(self.entry, key)

    def value_at(self, mapping: Mapping[str, Any], key: str) -> Location:
        return self._doc.location(mapping.value_spot(key))  # type: ignore[attr-defined]

    def key_of(self, mapping: Mapping[str, Any], key: str) -> Location:
        return self._doc.location(mapping.key_spot(key))  # type: ignore[attr-defined]

    def item_at(self, items: list[Any], index: int) -> Location:
        return self._doc.location(item_spot(items, index, self._spot))

    def written(self, mapping: Mapping[str, Any], key: str) -> str:
        """How a scalar value was written (the number 1.10 stays "1.10")."""
        return self._doc.source_text(mapping.value_spot(key), mapping[key])  # type: ignore[attr-defined]

    def template(self, key: str) -> str:
        """The entry's value as written before interpolation, e.g. "${KEY}"; "" when it
        held no variable."""
        return self._doc.templates.get(self.entry.value_spot(key), "")

    def unexpanded(self, key: str) -> bool:
        """Whether interpolation could not expand the value (it reported why)."""
        broken = self._doc.broken
        return bool(broken) and self.entry.value_spot(key) in broken  # type: ignore[attr-defined]

    def from_environment(self, key: str) -> bool:
        """Whether the value as written takes at least one environment variable (a secret
        must: one written out in the file would be committed with it)."""
        return bool(references(self.template(key)))

    def error(self, where: Location, message: str) -> None:
        self._builder.out.problems.append(Problem(where, message))

    def warn(self, where: Location, message: str) -> None:
        self._builder.out.warnings.append(Problem(where, message, "warning"))

    def claim_key(self, namespace: str, key: str) -> Location | None:
        """Claim the entry's value of `key` across every file, at that value's place: None
        the first time, else where it was claimed first. Cheaper than `claim` for the
        kinds with a million entries: one packed number is kept per value, and a Location
        is made only for a message."""
        builder = self._builder
        claimed = builder.packed_claims.setdefault(namespace, {})
        value = self.entry[key]
        first = claimed.get(value)
        if first is None:
            spot = self.entry.value_spot(key)
            claimed[value] = builder.file_number << _FILE_SHIFT | spot
            return None
        line, column = unpack(first & _SPOT_MASK)
        return Location(builder.files[first >> _FILE_SHIFT], line, column)

    def share(self, key: str, value: str) -> str:
        """One object for a value that repeats across entries (a link text, a thumbnail):
        a repetition then costs a pointer, not a string. A bounded number is kept per key,
        so values that never repeat (captions) cost nothing more."""
        table = self._builder.shared.get(key)
        if table is None:
            table = self._builder.shared[key] = {}
        if len(table) < _SHARED_PER_KEY:
            return table.setdefault(value, value)
        return table.get(value, value)

    def claim(
        self, namespace: str, value: str, where: Location, tag: object = None
    ) -> tuple[Location, object] | None:
        """Claim an identity across every file: None the first time, else where it was
        claimed first and the tag given then."""
        claimed = self._builder.claims.setdefault(namespace, {})
        first = claimed.get(value)
        if first is None:
            claimed[value] = (where, tag)
        return first

    def tag_set(self, key: str) -> frozenset[str] | None:
        """A list of tags as a set (trimmed, shared across entries), or None after
        reporting an empty tag or one with a comma (the API's separator)."""
        tags: PosList = self.entry[key]
        trimmed = [t.strip() for t in tags]
        if "" not in trimmed and not any("," in t for t in trimmed):
            # Tag sets repeat across entries: share one frozenset per distinct set.
            tag_set = frozenset(trimmed)
            return self._builder.tag_sets.setdefault(tag_set, tag_set)
        for index, tag in enumerate(trimmed):
            where = self.item_at(tags, index)
            if tag == "":
                self.error(where, f"{key}[{index}] is empty")
            elif "," in tag:
                self.error(
                    where,
                    f"{key}[{index}] {tag!r} contains a comma (the API's tag separator): "
                    "write each tag as its own item",
                )
        return None


class Builder:
    """Builds the model one document at a time (each tree can be freed after), then
    `finish()` gives the model with every problem and warning."""

    def __init__(self, *, record_keys: bool = False) -> None:
        self.out = Collected({kind.name: [] for kind in kinds()})
        # Per kind, the keys each spec's entry wrote (in the order of out.specs): what a
        # later layer's entry replaces when it merges. Kept only when layers are merged.
        self.wrote: dict[str, list[frozenset[str]]] | None = (
            {kind.name: [] for kind in kinds()} if record_keys else None
        )
        # namespace -> identity -> (where first declared, tag). Only a Location is kept,
        # never the document: each file's tree can be freed as soon as it is built.
        self.claims: dict[str, dict[str, tuple[Location, object]]] = {}
        self.prune: dict[str, tuple[bool, Location]] = {}
        self.tag_sets: dict[frozenset[str], frozenset[str]] = {}
        self.key_sets: dict[frozenset[str], frozenset[str]] = {}
        # namespace -> identity -> file number << 64 | packed position (claim_key)
        self.packed_claims: dict[str, dict[str, int]] = {}
        self.files: list[str] = []  # by file number
        self.shared: dict[str, dict[str, str]] = {}  # key -> value -> its one object

    @property
    def file_number(self) -> int:
        return len(self.files) - 1

    def document(self, doc: Document, skip: Skip) -> None:
        self.files.append(doc.file)
        root = doc.root
        if not isinstance(root, PosDict) or ("", -1) in skip:
            return
        for kind in kinds():
            entries = root.get(kind.plural)
            if not isinstance(entries, PosList) or (kind.plural, -1) in skip:
                continue
            specs = self.out.specs[kind.name]
            wrote = None if self.wrote is None else self.wrote[kind.name]
            spots = entries.spots
            for index, entry in enumerate(entries):
                if skip and (kind.plural, index) in skip:
                    if isinstance(entry, PosDict):  # what can still be said, said now
                        kind.check_parts(EntryContext(self, doc, entry, spots[index]))
                    continue
                spec = kind.build(EntryContext(self, doc, entry, spots[index]))
                if spec is not None:
                    specs.append(spec)
                    if wrote is not None:
                        keys = keys_written(kind, entry)  # entries mostly share a key set
                        wrote.append(self.key_sets.setdefault(keys, keys))
        prune = root.get(PRUNE)
        if isinstance(prune, PosDict) and (PRUNE, -1) not in skip:
            self._prune(doc, prune)

    def _prune(self, doc: Document, prune: PosDict) -> None:
        for key, value in prune.items():
            where = doc.location(prune.value_spot(key))
            first = self.prune.get(key)
            if first is None:
                self.prune[key] = (value, where)
            elif first[0] != value:
                self.out.problems.append(
                    Problem(
                        where,
                        f"prune.{key} is {_bool(value)} here but {_bool(first[0])} at {first[1]}",
                    )
                )

    def finish(self) -> Collected:
        out = self.out
        out.prune = {k.name: self.prune.get(k.plural, (False,))[0] for k in prunable()}
        return out


def keys_written(kind: Kind, entry: Mapping[str, Any]) -> frozenset[str]:
    """The keys an entry wrote; for a map field (portal settings) also each of its keys, as
    `settings.theme`."""
    keys = set(entry)
    for f in kind.fields:
        value = entry.get(f.name)
        if f.shape == "map" and isinstance(value, Mapping):
            keys.update(f"{f.name}.{key}" for key in value)
    return frozenset(keys)


def _bool(value: bool) -> str:
    return "true" if value else "false"
