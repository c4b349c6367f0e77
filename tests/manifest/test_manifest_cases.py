"""The bad-input catalog: one folder per rule under cases/, run with both parsers.

Each folder holds the manifest(s), an optional env.txt (NAME=value lines) and
expected.txt: the exact `file:line:col: message` lines a load reports (the warnings,
for a case that loads). Regenerate with `pytest --update-golden` and review the diff.

cases-json/ holds the same catalog in JSON where a case makes sense there (not for
anchors, aliases, tags, non-string keys or YAML 1.1 booleans), plus the rules of JSON
itself; each runs as the loader runs it (the fast parse first) and with the exact parse
alone, which must report the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cincopa_sync.manifest import jsonload
from cincopa_sync.manifest.yamlload import parse_yaml

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
JSON_CASES = Path(__file__).parent / "cases-json"
JSON_CASE_NAMES = sorted(p.name for p in JSON_CASES.iterdir() if p.is_dir())


def _env(case: Path) -> dict[str, str]:
    env_file = case / "env.txt"
    if not env_file.exists():
        return {}
    pairs = (line.partition("=") for line in env_file.read_text().splitlines() if line)
    return {name: value for name, _, value in pairs}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name: str, parser: str, in_dir, problems_of, update_golden: bool) -> None:
    case = CASES / name
    in_dir(case)
    # The case's own files are not manifests (and are said so): leave those lines out.
    own = ("expected.txt:", "env.txt:")
    actual = [line for line in problems_of(["."], _env(case)) if not line.startswith(own)]
    expected_file = case / "expected.txt"
    if update_golden:
        expected_file.write_text("".join(line + "\n" for line in actual), encoding="utf-8")
        return
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert actual == expected
    assert actual, "a case must report something"


@pytest.mark.parametrize("name", JSON_CASE_NAMES)
@pytest.mark.parametrize("way", ["fast-first", "exact-only"])
def test_json_case(
    name: str, way: str, in_dir, problems_of, update_golden: bool, monkeypatch
) -> None:
    case = JSON_CASES / name
    in_dir(case)
    if way == "exact-only":
        monkeypatch.setattr(jsonload, "parse_json_fast", lambda text, file: None)
    own = ("expected.txt:", "env.txt:")  # the case's own files are not manifests
    actual = [line for line in problems_of(["."], _env(case)) if not line.startswith(own)]
    expected_file = case / "expected.txt"
    if update_golden and way == "fast-first":
        expected_file.write_text("".join(line + "\n" for line in actual), encoding="utf-8")
        return
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert actual == expected
    assert actual, "a case must report something"


# JSON cases of a rule that only the parser can see: their JSON is written by hand.
_PARSE_LEVEL = {
    "control-character",
    "depth",
    "duplicate-key",
    "nan-inf",
    "non-utf8",
    "syntax-error",
    "top-level-not-mapping",
}


@pytest.mark.parametrize("name", sorted(set(JSON_CASE_NAMES) & set(CASE_NAMES) - _PARSE_LEVEL))
def test_a_json_case_holds_the_data_of_its_yaml_case(name: str) -> None:
    """The JSON form of a case is the same case: the same data, file by file."""
    for json_file in sorted((JSON_CASES / name).glob("*.json")):
        yaml_file = CASES / name / (json_file.stem + ".yaml")
        doc = parse_yaml(yaml_file.read_text(encoding="utf-8"), yaml_file.name)
        assert not doc.problems
        assert json.loads(json_file.read_text(encoding="utf-8")) == doc.root, json_file


def test_every_case_has_its_expectation() -> None:
    assert len(CASE_NAMES) >= 30
    for name in CASE_NAMES:
        assert (CASES / name / "expected.txt").is_file(), name
    assert len(JSON_CASE_NAMES) >= 30
    for name in JSON_CASE_NAMES:
        assert (JSON_CASES / name / "expected.txt").is_file(), name
