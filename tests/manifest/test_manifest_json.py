"""JSON manifests: the same model as YAML, the fast parse equal to the exact one.

The catalog of bad input runs in JSON too (test_manifest_cases.py, cases-json/); here:
what a valid JSON manifest builds, and that the fast parse (positions down to each entry)
never changes the outcome, only the cost.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from test_manifest_loader import DESIGN_EXAMPLE, ENV

from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest import jsonload, load_manifests
from cincopa_sync.manifest.jsonwrite import manifest_json
from cincopa_sync.manifest.yamlload import parse_yaml


def _exact_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonload, "parse_json_fast", lambda text, file: None)


def _content(spec: object) -> dict:
    """A spec's values, its location aside (JSON and YAML place entries differently)."""
    placed = ("location", "file", "place")
    return {f.name: _plain(getattr(spec, f.name)) for f in fields(spec) if f.name not in placed}


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _json_of_yaml(text: str) -> str:
    doc = parse_yaml(text, "x.yaml")
    assert not doc.problems
    return manifest_json(doc.root)


def test_the_design_example_in_json_builds_the_yaml_model(write) -> None:
    example = DESIGN_EXAMPLE.replace("1.10", "1.25")  # JSON writes the float 1.10 as 1.1
    from_yaml = load_manifests([write("all.yaml", example)], ENV)
    from_json = load_manifests([write("all.json", _json_of_yaml(example))], ENV)
    for kind in ("asset", "portal", "webhook"):
        assert [_content(s) for s in from_json.of(kind)] == [
            _content(s) for s in from_yaml.of(kind)
        ]
    assert from_json.prune == from_yaml.prune
    assert from_json.of("webhook")[0].secrets() == from_yaml.of("webhook")[0].secrets()


def test_numbers_keep_their_text_from_the_exact_parse(write) -> None:
    path = write(
        "p.json",
        '{"portals": [{"subdomain": "acme", "settings": {"ratio": 1.10, "minus": -0, "n": 3}}]}',
    )
    settings = load_manifests([path], {}).of("portal")[0].fields["settings"]
    assert settings == {"ratio": "1.10", "minus": "-0", "n": "3"}


def test_a_bom_is_allowed(write) -> None:
    path = write("a.json", b'\xef\xbb\xbf{"assets": [{"rid": "A1", "caption": "x"}]}')
    spec = load_manifests([path], {}).of("asset")[0]
    assert (spec.ident, spec.location.line, spec.location.column) == ("A1", 1, 13)


def test_yaml_and_json_files_in_one_directory(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("assets:\n  - rid: A1\n", encoding="utf-8")
    (tmp_path / "b.json").write_text('{"assets": [{"rid": "A2"}]}\n', encoding="utf-8")
    state = load_manifests([str(tmp_path)], {})
    assert [s.ident for s in state.of("asset")] == ["A1", "A2"]


def test_a_json_file_with_variables_is_interpolated(write) -> None:
    path = write(
        "h.json",
        '{"webhooks": [{"url": "https://hooks.example.com/a", "events": ["asset.*"], '
        '"security_key": "${KEY}"}], "assets": [{"rid": "A1", "caption": "$${literal}"}]}',
    )
    state = load_manifests([path], {"KEY": "s3cret"})
    assert state.of("webhook")[0].secrets() == (("s3cret", "${KEY}"),)
    assert state.of("asset")[0].fields["caption"] == "${literal}"


def test_a_problem_found_after_the_fast_parse_is_located_exactly(write) -> None:
    """The fast parse knows only where entries start; the error still names the value."""
    path = write(
        "a.json",
        '{"assets": [\n  {"rid": "A1", "caption": "x"},\n  {"rid": "A2", "caption": 12}\n]}',
    )
    with pytest.raises(InvalidInput) as caught:
        load_manifests([path], {})
    assert [str(p) for p in caught.value.problems] == [
        f'{path}:3:28: caption must be a string, got integer 12 (quote it: "12")'
    ]


def _random_manifest(rng: random.Random, n: int, prefix: str = "") -> dict:
    def text() -> str:
        return rng.choice(["", "plain", "Ünïcode ✓", 'quote " and \\ back', "tab\there", "a" * 300])

    assets = []
    for i in range(n):
        entry: dict = {"rid": f"R{prefix}{i}x{rng.randrange(10**6)}"}
        for key in ("caption", "description", "long_description", "related_link_text"):
            if rng.random() < 0.7:
                entry[key] = text()
        if rng.random() < 0.5:
            entry["tags"] = rng.sample(["a", "b", "c", " d ", "e"], rng.randrange(4))
        if rng.random() < 0.5:
            entry["video_thumb_sec"] = rng.randrange(100)
        assets.append(entry)
    portals = [
        {"subdomain": f"p{prefix}{i}", "settings": {"k": rng.choice(["v", 3, True])}}
        for i in range(rng.randrange(3))
    ]
    return {"version": 1, "assets": assets, "portals": portals}


def _layout(root: dict, rng: random.Random) -> str:
    """The same data in one of several layouts: positions differ, the model must not."""
    style = rng.randrange(3)
    if style == 0:
        return manifest_json(root)
    if style == 1:
        return json.dumps(root, indent=rng.choice([1, 2, 4]), ensure_ascii=rng.random() < 0.5)
    return "\n\n  " + json.dumps(root, separators=(",", ":")) + "\r\n"


def _model(state) -> list:
    return [
        (kind, _content(spec), str(spec.location))
        for kind in ("asset", "portal", "webhook")
        for spec in state.of(kind)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_the_fast_parse_builds_exactly_what_the_exact_parse_builds(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    paths = []
    for number in range(2):
        path = tmp_path / f"m{number}.json"
        root = _random_manifest(rng, rng.randrange(1, 40), str(number))
        path.write_text(_layout(root, rng), "utf-8")
        paths.append(str(path))
    real, exact_calls = jsonload.parse_json, []
    monkeypatch.setattr(jsonload, "parse_json", lambda *a: exact_calls.append(a) or real(*a))
    fast = load_manifests(paths, {})
    assert exact_calls == []  # the fast parse was taken for every file
    _exact_only(monkeypatch)
    exact = load_manifests(paths, {})
    assert _model(fast) == _model(exact)
    assert fast.digest == exact.digest


def test_the_fast_parse_is_taken_for_a_clean_file(write, monkeypatch) -> None:
    path = write("a.json", '{"assets": [{"rid": "A1", "tags": ["x"], "caption": "$5 off"}]}')
    exact_calls = []
    real = jsonload.parse_json
    monkeypatch.setattr(jsonload, "parse_json", lambda *a: exact_calls.append(a) or real(*a))
    load_manifests([path], {})
    assert exact_calls == []


@pytest.mark.parametrize(
    "text",
    [
        '{"assets": [{"rid": "A1", "rid": "A2"}]}',  # duplicate key
        '{"portals": [{"subdomain": "a", "settings": {"r": NaN}}]}',
        '{"portals": [{"subdomain": "a", "settings": {"r": 1.5}}]}',  # a float's text
        '{"assets": [{"rid": "A1", "caption": "${X}"}]}',  # interpolation
        '{"assets": [{"rid": "A1", "caption": "$${X}"}]}',  # a literal ${
        '{"assets": [{"rid": "A1", "caption": "$HOME"}]}',  # a reference without braces
        '{"assets": [{"rid": "A1"}]} {}',
        '{"assets": [{"rid": "A1",}]}',
    ],
)
def test_the_fast_parse_gives_up_where_positions_or_text_matter(text: str) -> None:
    assert jsonload.parse_json_fast(text, "a.json") is None


def test_the_exact_parse_agrees_with_json_on_valid_text() -> None:
    rng = random.Random(7)
    for _ in range(30):
        root = _random_manifest(rng, rng.randrange(0, 10))
        text = _layout(root, rng)
        doc = jsonload.parse_json(text, "a.json")
        assert not doc.problems
        assert doc.root == json.loads(text)


def test_yaml_export_scalars_read_the_same_in_json() -> None:
    """What YAML reads from a double-quoted scalar, JSON reads from the same text."""
    for value in ["no", "0123", "22:22", "a # b", "line\nbreak", "\u2028", "${X}"]:
        quoted = json.dumps(value)
        assert yaml.safe_load(quoted) == json.loads(quoted) == value


def test_a_json_overlay_merges_into_a_yaml_base(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("assets:\n  - rid: A1\n    caption: old\n    tags: [a]\n", encoding="utf-8")
    overlay = tmp_path / "overlay.json"
    overlay.write_text('{"assets": [\n  {"rid": "A1", "caption": "new"}\n]}\n', "utf-8")
    state = load_manifests([str(base)], {}, overlays=[[str(overlay)]])
    (spec,) = state.of("asset")
    assert dict(spec.fields) == {"caption": "new", "tags": frozenset({"a"})}
    assert str(spec.location) == f"{overlay}:2:3"


def test_a_file_that_is_not_a_manifest_does_not_cost_the_fast_parse(tmp_path, monkeypatch) -> None:
    (tmp_path / "assets.json").write_text('{"assets": [{"rid": "A1"}]}', encoding="utf-8")
    (tmp_path / "README.md").write_text("not a manifest", encoding="utf-8")
    real, exact_calls = jsonload.parse_json, []
    monkeypatch.setattr(jsonload, "parse_json", lambda *a: exact_calls.append(a) or real(*a))
    state = load_manifests([str(tmp_path)], {})
    assert [s.ident for s in state.of("asset")] == ["A1"]
    assert any("README.md" in str(w) for w in state.warnings)  # still named
    assert exact_calls == []
