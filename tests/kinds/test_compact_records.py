"""The compact records of a large plan: Values as a mapping, and live assets that keep only
what a plan of their entry needs, sharing the entry's objects."""

from __future__ import annotations

import copy
import pickle

from cincopa_sync.errors import Location
from cincopa_sync.kinds import get
from cincopa_sync.kinds.asset import AssetSpec
from cincopa_sync.kinds.values import Values, layout

ITEM = {
    "rid": "R1",
    "filename": "video-1.mp4",
    "caption": "Same caption",
    "description": "changed live",
    "related_link_text": "Shop now",
    "tags": "a,b",
    "video_thumb_sec": "7",
}
HERE = Location("assets.json", 3, 5)


def test_values_is_a_read_only_mapping() -> None:
    values = Values.of({"caption": "x", "tags": frozenset({"a"}), "n": 3})
    assert values == {"caption": "x", "tags": frozenset({"a"}), "n": 3}
    assert {"caption": "x", "tags": frozenset({"a"}), "n": 3} == values
    assert values != {"caption": "y", "tags": frozenset({"a"}), "n": 3}
    assert values["caption"] == "x" and values.get("missing") is None and "n" in values
    assert "x" not in values  # membership is by name, never by value
    assert list(values) == ["caption", "tags", "n"] and len(values) == 3
    assert dict(values) == {**values} == dict(values.items())
    assert repr(values) == repr({"caption": "x", "tags": frozenset({"a"}), "n": 3})
    assert copy.deepcopy(values) == values == pickle.loads(pickle.dumps(values))
    assert Values.of({}) == {} and not Values.of({})


def test_records_with_the_same_names_share_one_layout() -> None:
    assert layout(["a", "b"]) is layout(("a", "b"))
    first, second = Values.of({"a": 1}), Values.of({"a": 2})
    assert tuple.__getitem__(first, 0) is tuple.__getitem__(second, 0)


def test_a_live_asset_keeps_what_its_entry_writes_and_shares_equal_values() -> None:
    kind = get("asset")
    spec = AssetSpec.at(
        HERE,
        "rid",
        "R1",
        Values.of({"caption": "Same caption", "description": "old", "tags": frozenset({"a", "b"})}),
    )
    live = kind.parse(ITEM, spec)
    assert dict(live) == {
        "rid": "R1",
        "caption": "Same caption",
        "description": "changed live",
        "tags": frozenset({"a", "b"}),
    }
    assert live["rid"] is spec.ident
    assert live["caption"] is spec.fields["caption"]
    assert live["tags"] is spec.fields["tags"]
    assert live["description"] is not spec.fields["description"]
    assert kind.changes_of(spec.fields, live)[0].field == "description"


def test_a_deleted_asset_keeps_what_its_delete_shows() -> None:
    spec = AssetSpec.at(HERE, "rid", "R1", Values.of({}), absent=True)
    live = get("asset").parse(ITEM, spec)
    assert dict(live) == {"rid": "R1", "caption": "Same caption"}


def test_without_an_entry_every_field_is_read() -> None:
    live = get("asset").parse(ITEM)
    assert set(live) == {f.name for f in get("asset").fields} | {"rid"}
    assert live["video_thumb_sec"] == 7 and live["thumb_attached_rid"] == ""


def test_a_spec_keeps_its_place_as_a_location() -> None:
    spec = AssetSpec.at(HERE, "rid", "R1", Values.of({}))
    assert spec.location == HERE and str(spec.location) == "assets.json:3:5"


def test_an_asset_as_its_entry_says_is_the_entry_s_own_values() -> None:
    fields = Values.of({"caption": "Same caption", "tags": frozenset({"a", "b"})})
    spec = AssetSpec.at(HERE, "rid", "R1", fields)
    live = get("asset").parse(ITEM, spec)
    assert live is spec.fields  # nothing new is held for it
    assert get("asset").changes_of(spec.fields, live) == []
