"""The response shapes (schemas/api/): one per endpoint the client reads, in step with the
endpoint table, shipped in the wheel, checked on every answer, and explained path by path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api import shapes
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.errors import UnexpectedShape
from cincopa_sync.schemacheck import compile_check, resolve

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas" / "api"
# The reads the client makes (token.get_temp is in the table, but nothing calls it).
READS = [
    ep.PING,
    ep.ASSET_LIST,
    ep.ASSET_GET_TAGS,
    ep.ASSET_UPLOAD_STATUS,
    ep.PORTAL_LIST,
    ep.PORTAL_CHECK,
    ep.WEBHOOK_LIST,
]
PAGING = {"page": 1, "items_per_page": 50, "items_count": 1, "pages_count": 1}


def _schema(endpoint: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{endpoint}.json").read_text(encoding="utf-8"))


def test_one_valid_schema_per_endpoint_the_client_reads_and_none_for_writes() -> None:
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(READS)
    for endpoint in READS:
        schema = _schema(endpoint)
        Draft202012Validator.check_schema(schema)
        assert "success" in schema["required"]
        assert schema[shapes.BREAKS], endpoint  # what a deviation breaks, for doctor
    writes = [name for name, e in ep.ENDPOINTS.items() if e.write]
    assert all(shapes.shape_for(name) is None for name in writes)


@pytest.mark.parametrize("endpoint", sorted(ep.LISTS))
def test_the_table_and_the_schema_name_the_same_list_and_identity(endpoint: str) -> None:
    """A list is read where the table says; its schema must require it there."""
    schema, list_shape = _schema(endpoint), ep.LISTS[endpoint]
    assert list_shape.items in schema["required"]
    item = resolve(schema, schema["properties"][list_shape.items]["items"])
    assert list_shape.identity in item["required"]


def test_the_schemas_ship_in_the_wheel_with_every_package() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert "api/*.json" in config["setuptools"]["package-data"]["cincopa_sync.schemas"]
    packages = {
        p.parent.relative_to(REPO).as_posix().replace("/", ".")
        for p in (REPO / "cincopa_sync").rglob("__init__.py")
    }
    assert packages <= set(config["setuptools"]["packages"])
    assert shapes.SCHEMA_DIR.is_dir() and (shapes.SCHEMA_DIR / "asset.list.json").is_file()


# -- checked on every answer ------------------------------------------------------------------


def _client(answer: dict[str, Any]) -> tuple[CincopaClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=answer)

    client = CincopaClient(
        "https://api.example.test/v2/",
        "tok-shapes-1234",
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(),
        sleep=lambda _s: None,
    )
    return client, sent


def test_a_mismatch_is_not_retried_and_names_endpoint_path_expectation_and_doctor() -> None:
    client, sent = _client({"success": True, "items": []})
    with pytest.raises(UnexpectedShape) as caught:
        client.call(ep.list_page(ep.PORTAL_LIST, None))
    assert len(sent) == 1
    error = caught.value
    assert error.exit_code == 1 and error.endpoint == "portal.list"
    assert [str(d) for d in error.deviations] == ["$.portals: missing, expected a list of portals"]
    assert str(error).startswith("portal.list: the answer does not have the shape")
    assert "portals cannot be planned, applied or exported" in str(error)
    assert "run `cincopa-sync doctor`" in str(error)


def test_items_are_explained_by_path_the_first_failing_one_in_full() -> None:
    items = [{"rid": "R0", "tags": ",a,"}] + [{"rid": f"R{i}", "tags": ["a"]} for i in range(1, 4)]
    body = {"success": True, "items": items, "items_data": {**PAGING, "pages_count": "x"}}
    shape = shapes.shape_for(ep.ASSET_LIST)
    assert shape is not None
    deviations = [str(d) for d in shape.deviations(body)]
    assert deviations == [
        "$.items_data.pages_count: expected a whole number or a string of digits, "
        'got the string "x"',
        '$.items[1].tags: expected one string of comma-separated tags such as ",launch,cars," '
        '("" for none), got a list (and 2 more of the 4 items deviate)',
    ]


def test_strings_that_could_be_secrets_are_never_quoted() -> None:
    slack = "https://hooks.slack.com/services/T/B/secretpart"
    hooks = [{"hook_url": slack, "type": slack, "events": "asset.*", "has_security_key": False}]
    shape = shapes.shape_for(ep.WEBHOOK_LIST)
    assert shape is not None
    text = " ".join(map(str, shape.deviations({"success": True, "webhooks": hooks})))
    assert "$.webhooks[0].type: expected" in text and "got a string" in text
    assert "secretpart" not in text
    odd = [{**hooks[0], "type": "slack_hook"}]
    text = " ".join(map(str, shape.deviations({"success": True, "webhooks": odd})))
    assert 'got the string "slack_hook"' in text


def test_numbers_as_strings_are_accepted_and_normalised() -> None:
    item = {"rid": "R1", "tags": "", "video_thumb_sec": "15"}
    paging = {k: str(v) for k, v in PAGING.items()}
    client, _ = _client({"success": True, "runtime": "3", "items": [item], "items_data": paging})
    body = client.call(ep.asset_list(page=1))
    info = ep.parse_page_info(body, 1, 1)
    assert (info.items_per_page, info.items_count, info.pages_count) == (50, 1, 1)
    client, _ = _client({"success": True, "accid": 100001, "permissions": "|asset.*|"})
    assert client.ping()["accid"] == "100001"


# -- the fast predicate agrees with jsonschema ----------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 30) | st.sampled_from(["", "15", "x", "public"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)
    ),
    max_leaves=4,
)


_TYPED = {
    "string": st.sampled_from(["", "x", "15", "public", "private", "http", "slack", ",a,b,"]),
    "integer": st.integers(-2, 20),
    "number": st.floats(-1, 5, allow_nan=False),
    "boolean": st.booleans(),
    "null": st.none(),
    "object": st.dictionaries(
        st.sampled_from(["theme", "fid"]), st.sampled_from(["dark", 1, True])
    ),
    "array": st.sampled_from([[], ["a"]]),
}


def _value(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[object]:
    """Mostly a value of one of the property's types (valid or not by its other keywords),
    sometimes any JSON."""
    schema = resolve(root, schema)
    types = schema.get("type", [])
    names = [types] if isinstance(types, str) else list(types)
    typed = [_TYPED[t] for t in names]
    return st.one_of(*typed, *typed, *typed, _JSON) if names else _JSON


def _item_strategy(endpoint: str) -> st.SearchStrategy[object]:
    """Items near the shape: the required fields there most of the time, typed values."""
    schema = _schema(endpoint)
    key = ep.LISTS[endpoint].items
    item = resolve(schema, schema["properties"][key]["items"])
    props = item["properties"]
    values = {name: _value(sub, schema) for name, sub in props.items()}
    required = {name: values[name] for name in item["required"]}
    optional = {name: v for name, v in values.items() if name not in required}
    optional["extra"] = _JSON
    near = st.fixed_dictionaries(required, optional=optional)
    return st.one_of(
        near, near, near, st.dictionaries(st.sampled_from(sorted(values)), _JSON), _JSON
    )


@pytest.mark.parametrize("endpoint", sorted(ep.LISTS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_item_predicate_accepts_exactly_what_jsonschema_accepts(
    endpoint: str, data: st.DataObject
) -> None:
    schema = _schema(endpoint)
    key = ep.LISTS[endpoint].items
    item_schema = resolve(schema, schema["properties"][key]["items"])
    check = compile_check(item_schema, schema)
    validator = Draft202012Validator(schema).evolve(schema=item_schema)
    instance = data.draw(_item_strategy(endpoint))
    assert check(instance) == validator.is_valid(instance), instance
