"""The typed decoder of listings (api/typed.py): what it may decode, and what it leaves to
json. That it reads what json reads on any account is the property in
tests/property/test_property_typed_decoding.py."""

from __future__ import annotations

import json

import pytest

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.shapes import decode_answer, shape_for
from cincopa_sync.api.typed import DecodeError, compile_decoder
from cincopa_sync.kinds import kinds
from cincopa_sync.schemacheck import resolve

PAGING = {"page": 1, "items_per_page": 2, "items_count": 2, "pages_count": 1}


def _item_schema(endpoint: str) -> dict:
    shape = shape_for(endpoint)
    assert shape is not None
    listed = resolve(shape.root, shape.root["properties"][ep.LISTS[endpoint].items])
    return resolve(shape.root, listed["items"])


def test_every_field_a_kind_reads_from_its_listing_is_named_in_the_listing_shape() -> None:
    """The typed decoder keeps only the fields a shape names: a field a kind read but its
    shape did not name would silently read as absent."""
    for kind in kinds():
        named = set(_item_schema(kind.list_endpoint)["properties"])
        read = {f.wire or f.name for f in (*kind.read_also, *kind.fields)}
        read.add(ep.LISTS[kind.list_endpoint].identity)
        if kind.list_endpoint == ep.ASSET_LIST:  # orphans are told by filename; doctor's details
            read |= {ep.ASSET_FILENAME, *ep.ASSET_META_PARAMS}
        assert read - named == set(), kind.name
        assert shape_for(kind.list_endpoint).decoder is not None, kind.name  # type: ignore[union-attr]


def test_an_answer_in_shape_comes_back_with_only_the_fields_the_shape_names() -> None:
    body = {
        "success": True,
        "runtime": 5,
        "message": "ignored",
        "items": [
            {"rid": "A", "caption": None, "versions": {"jpg": {}}, "tags": ",a,"},
            {"rid": "B", "video_thumb_sec": "15", "id": "2"},
        ],
        "items_data": PAGING,
    }
    assert decode_answer(ep.ASSET_LIST, json.dumps(body).encode()) == {
        "success": True,
        "runtime": 5,
        "items": [
            {"rid": "A", "caption": None, "tags": ",a,"},
            {"rid": "B", "video_thumb_sec": "15"},
        ],
        "items_data": PAGING,
    }


@pytest.mark.parametrize(
    "item",
    [
        {"caption": "no rid"},
        {"rid": ""},
        {"rid": "A", "caption": 12},
        {"rid": "A", "video_thumb_sec": -1},
        {"rid": "A", "video_thumb_sec": "1.5"},
        {"rid": "A", "video_thumb_sec": 15.0},  # in shape, but left to json
        {"rid": "A", "filename": 3},
    ],
)
def test_an_item_out_of_shape_or_in_doubt_is_left_to_json(item: dict) -> None:
    body = {"success": True, "items": [item], "items_data": PAGING}
    assert decode_answer(ep.ASSET_LIST, json.dumps(body).encode()) is None


@pytest.mark.parametrize(
    "content",
    [
        b'{"success":false,"message":"no","items":[],"items_data":{"page":1,'
        b'"items_per_page":1,"items_count":0,"pages_count":0}}',
        b'{"success":true,"items":[{"rid":"A","x":NaN}],"items_data":{"page":1,'
        b'"items_per_page":1,"items_count":1,"pages_count":1}}',
        '{"success":true,"items":[{"rid":"A"}],"items_data":{}}'.encode("utf-16"),
        b"<html>502</html>",
    ],
)
def test_a_refusal_or_an_answer_json_reads_otherwise_is_left_to_json(content: bytes) -> None:
    assert decode_answer(ep.ASSET_LIST, content) is None


def test_endpoints_that_list_nothing_have_no_typed_decoder() -> None:
    assert shape_for(ep.PING).decoder is None  # type: ignore[union-attr]
    assert decode_answer(ep.ASSET_SET_META, b'{"success":true}') is None  # no shape at all


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        {"type": "string", "format": "uri"},
        {"pattern": "^a"},
        {"type": ["string", "integer"], "enum": ["a"]},
        {"type": "integer", "minimum": 0.5},
        {"type": "array", "items": False},
    ],
)
def test_a_shape_it_cannot_express_exactly_gets_no_decoder(schema: dict) -> None:
    assert compile_decoder(schema) is None


def test_keywords_apply_to_their_own_type_only() -> None:
    decoder = compile_decoder(
        {
            "type": "array",
            "items": {"type": ["integer", "string", "null"], "minimum": 0, "pattern": "^[0-9]*$"},
        }
    )
    assert decoder is not None
    assert decoder.decode(b'[0, 7, "12", "", null]') == [0, 7, "12", "", None]
    for wrong in (b"[-1]", b'["x"]', b"[true]", b"[1.0]"):
        with pytest.raises(DecodeError):
            decoder.decode(wrong)
