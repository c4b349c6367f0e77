"""The schema: valid, documented, the docs in step with it, and the fast path exact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cincopa_sync.kinds.webhook import DEFAULT_WEBHOOK_TYPE
from cincopa_sync.manifest import SCHEMA_PATH, load_manifests, load_schema
from cincopa_sync.manifest import schema as schema_module
from cincopa_sync.manifest.schema import compiled
from cincopa_sync.schemacheck import compile_check

DOC = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"


def _resolve(root: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: object = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]  # type: ignore[index]
    return {**_resolve(root, target), **{k: v for k, v in node.items() if k != "$ref"}}  # type: ignore[arg-type]


def _properties(root: dict) -> Iterator[tuple[str, dict]]:
    """(documented path, resolved subschema) of every property: `assets[].caption`."""
    pending: list[tuple[str, dict]] = [("", root)]
    while pending:
        prefix, node = pending.pop()
        for name, sub in node.get("properties", {}).items():
            path = f"{prefix}{name}"
            resolved = _resolve(root, sub)
            yield path, sub
            items = resolved.get("items")
            if isinstance(items, dict) and "properties" in _resolve(root, items):
                pending.append((f"{path}[].", _resolve(root, items)))
            elif "properties" in resolved:
                pending.append((f"{path}.", resolved))


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert SCHEMA_PATH.name == "manifest.schema.json"


def test_every_property_has_a_description() -> None:
    schema = load_schema()
    paths = dict(_properties(schema))
    assert len(paths) == 29
    missing = [path for path, sub in paths.items() if not sub.get("description")]
    assert missing == []


def test_every_object_closes_its_keys() -> None:
    schema = load_schema()
    objects = [schema, *schema["$defs"].values()]
    objects += [_resolve(schema, sub) for _, sub in _properties(schema)]
    for node in objects:
        if node.get("type") != "object":
            continue
        if "properties" in node:
            assert node.get("additionalProperties") is False, node.get("description")
        else:  # portal settings: any key, scalar values
            assert isinstance(node.get("additionalProperties"), dict)


def test_webhook_type_default_matches_the_model() -> None:
    webhook = load_schema()["$defs"]["webhook"]
    assert webhook["properties"]["type"]["default"] == DEFAULT_WEBHOOK_TYPE


# --- docs/manifest.md documents every property, and nothing else ---------------------

_ROW = re.compile(r"^\| `([a-z_\[\]\.]+)` \| ([^|]+(?:\\\|[^|]+)*) \| (.+) \|$")


def _documented() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match and match.group(1) not in rows:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def test_docs_document_every_schema_property() -> None:
    schema = load_schema()
    documented = _documented()
    in_schema = {path for path, _ in _properties(schema)}
    assert sorted(in_schema - set(documented)) == [], "in the schema, not in docs/manifest.md"
    assert sorted(set(documented) - in_schema) == [], "in docs/manifest.md, not in the schema"


def test_docs_show_enums_defaults_and_required_keys() -> None:
    schema = load_schema()
    documented = _documented()
    required = {
        f"{kind}s[].{key}"
        for kind in ("asset", "portal", "webhook")
        for key in schema["$defs"][kind].get("required", [])
    }
    for path, sub in _properties(schema):
        kind, meaning = documented[path]
        resolved = _resolve(schema, sub)
        for value in resolved.get("enum", []):
            assert f"`{value}`" in kind, (path, value)
        if "default" in resolved:
            default = str(resolved["default"]).lower()
            assert default in kind + meaning, (path, default)
        if path in required:
            assert "Required." in meaning, path


# --- the fast predicate never accepts what jsonschema rejects -------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=70),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "x", "acme", "Acme", "-bad", "public", "private", "http", "slack"]),
    st.text(max_size=5),
)
_KEYS = st.sampled_from(
    [
        "rid",
        "reference_id",
        "caption",
        "tags",
        "video_thumb_sec",
        "captoin",
        "subdomain",
        "previously",
        "name",
        "visibility",
        "settings",
        "url",
        "type",
        "events",
        "security_key",
        "theme",
        "source",
        "absent",
        "active",
    ]
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=8,
)
_ENTRIES = st.one_of(_VALUES, st.dictionaries(_KEYS, _VALUES, max_size=6))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["assets", "portals", "webhooks"]), entry=_ENTRIES)
def test_fast_check_agrees_with_jsonschema(kind: str, entry: object) -> None:
    check, validator = compiled().entries[kind]
    if check(entry):
        assert list(validator.iter_errors(entry)) == []


VALID_ENTRIES = {
    "assets": [
        {"rid": "A1"},
        {"reference_id": "S", "caption": "", "tags": [], "video_thumb_sec": 0},
        {
            "rid": "A",
            "reference_id": "r",
            "caption": "c",
            "description": "d",
            "long_description": "l",
            "related_link_text": "t",
            "related_link_url": "u",
            "tags": ["a", "b"],
            "video_thumb_sec": 15,
            "thumb_attached_rid": "B",
        },
        {"reference_id": "S", "source": "https://m.example.com/a.mp4", "tags": ["a"]},
        {"rid": "A", "absent": True},
    ],
    "portals": [
        {"subdomain": "acme"},
        {
            "subdomain": "a-1",
            "previously": ["old", "z"],
            "name": "n",
            "visibility": "private",
            "active": False,
            "settings": {"a": "x", "b": 1, "c": 1.5, "d": True},
        },
    ],
    "webhooks": [
        {"url": "https://x", "events": ["asset.*"]},
        {"url": "https://x", "type": "slack", "events": ["a", "b"], "security_key": "k"},
    ],
}


@pytest.mark.parametrize("kind", sorted(VALID_ENTRIES))
def test_fast_check_accepts_valid_entries(kind: str) -> None:
    check, validator = compiled().entries[kind]
    for entry in VALID_ENTRIES[kind]:
        assert list(validator.iter_errors(entry)) == []
        assert check(entry), entry


def test_fast_check_refuses_everything_for_keywords_it_does_not_know() -> None:
    check = compile_check({"type": "object", "anyOf": [{"required": ["a"]}]}, {})
    assert not check({"a": 1})


def test_valid_entries_never_reach_jsonschema(
    parser: str, write, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refuse:
        def iter_errors(self, _instance: object) -> Iterator[object]:
            raise AssertionError("the fast path should have accepted this entry")

    comp = compiled()
    patched = {key: (check, Refuse()) for key, (check, _) in comp.entries.items()}
    monkeypatch.setattr(comp, "entries", patched)
    lines = ["assets:"]
    lines += [
        f"  - {{rid: R{i}, caption: c{i}, tags: [a], video_thumb_sec: {i}}}" for i in range(200)
    ]
    lines += ["portals:", "  - {subdomain: acme, settings: {a: 1, b: x, c: true}}"]
    lines += ["webhooks:", "  - {url: 'https://h.example.com', events: [asset.*]}"]
    state = load_manifests([write("m.yaml", "\n".join(lines) + "\n")], {})
    assert len(state.of("asset")) == 200


def test_schema_is_compiled_once() -> None:
    first = schema_module.compiled()
    assert schema_module.compiled() is first


# -- $ref inlined for the entry validators ------------------------------------------------


def test_inline_replaces_local_refs_and_keeps_the_targets_annotations() -> None:
    from cincopa_sync.schemacheck import inline

    root = {
        "$defs": {"text": {"type": "string", "maxLength": 3, "description": "short"}},
        "properties": {"a": {"$ref": "#/$defs/text", "description": "mine"}},
    }
    assert inline(root, root["properties"]) == {
        "a": {"type": "string", "maxLength": 3, "description": "short"}
    }


def test_inline_leaves_a_cycle_and_overlapping_keywords_to_jsonschema() -> None:
    from cincopa_sync.schemacheck import inline

    root = {
        "$defs": {
            "tree": {"type": "object", "properties": {"kids": {"$ref": "#/$defs/tree"}}},
            "text": {"type": "string"},
        },
    }
    looped = inline(root, {"$ref": "#/$defs/tree"})
    assert looped["properties"]["kids"] == {"$ref": "#/$defs/tree"}
    both = {"$ref": "#/$defs/text", "type": "integer"}
    assert inline(root, both) == both


def test_the_inlined_entry_validators_say_what_the_schema_says() -> None:
    """Every entry schema, inlined, reports the same errors (path, keyword, message) as
    the schema with its $refs, on entries wrong in many ways."""
    from jsonschema import Draft202012Validator

    from cincopa_sync.manifest.schema import compiled, load_schema
    from cincopa_sync.schemacheck import resolve

    schema = load_schema()
    plain = Draft202012Validator(schema, format_checker=None)
    wrong = [
        {"rid": 12, "caption": 3, "tags": "x", "video_thumb_sec": -1, "nope": 1},
        {"reference_id": "", "source": "ftp://x", "absent": "yes"},
        {"subdomain": "Bad Name", "settings": {"a": []}, "active": "no", "name": 5},
        {"url": "http://x", "events": ["bad event", 3], "type": "carrier-pigeon"},
        {},
    ]

    def errors(validator, entry):
        return sorted(
            (tuple(e.absolute_path), e.validator, e.message) for e in validator.iter_errors(entry)
        )

    for key, (_check, validator) in compiled().entries.items():
        items = resolve(schema, schema["properties"][key]["items"])
        reference = plain.evolve(schema=items)
        for entry in wrong:
            assert errors(validator, entry) == errors(reference, entry), (key, entry)
