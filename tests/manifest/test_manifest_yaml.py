"""Strict YAML: typing, positions, and the inputs that must be refused quickly."""

from __future__ import annotations

import time

import pytest
import yaml

from cincopa_sync.manifest import yamlload
from cincopa_sync.manifest.yamlload import (
    MAX_DEPTH,
    Document,
    PosDict,
    PosList,
    parse_yaml,
    position_of,
    unpack,
)


def _value(text: str) -> object:
    doc = parse_yaml(f"v: {text}\n", "t.yaml")
    assert doc.problems == []
    return doc.root["v"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("-5", -5),
        ("+5", 5),
        ("15", 15),
        ("1.5", 1.5),
        ("-0.5", -0.5),
        ("1e3", 1000.0),
        ("1.", 1.0),
        (".5", 0.5),
        # YAML 1.1 would type all of these; YAML 1.2 core and we keep them as text.
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("22:22", "22:22"),
        ("2026-01-01", "2026-01-01"),
        ("0x1F", "0x1F"),
        ("0o17", "0o17"),
        ("0123", "0123"),
        ("01.5", "01.5"),
        ("1_000", "1_000"),
        ("tRUE", "tRUE"),
        ("nil", "nil"),
        ("-x", "-x"),
        ("+", "+"),
        ("1.2.3", "1.2.3"),
        # quoted scalars are always strings
        ('"true"', "true"),
        ("'15'", "15"),
        ('"null"', "null"),
        ("''", ""),
        # strings stay exactly as written
        ('"  padded  "', "  padded  "),
        ("a  b", "a  b"),
    ],
)
def test_plain_scalar_typing(parser: str, text: str, expected: object) -> None:
    value = _value(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN", ".inf", "-.inf", "+.Inf", ".INF", ".iNf"])
def test_nan_and_inf_are_errors(parser: str, text: str) -> None:
    doc = parse_yaml(f"v: {text}\n", "t.yaml")
    assert [str(p) for p in doc.problems] == [
        f't.yaml:1:4: {text} is not a number a manifest can use (quote it if it is text: "{text}")'
    ]


def test_a_float_too_large_is_an_error(parser: str) -> None:
    doc = parse_yaml("v: 1e400\n", "t.yaml")
    assert [str(p) for p in doc.problems] == [
        "t.yaml:1:4: number 1e400 is too large (quote it if it is text)"
    ]


def test_source_text_of_typed_scalars_is_kept(parser: str) -> None:
    doc = parse_yaml("a: 1.10\nb: +5\nc: ~\nd: 15\ne: True\n", "t.yaml")
    root = doc.root
    assert isinstance(root, PosDict)
    texts = {k: doc.source_text(root.value_spot(k), v) for k, v in root.items()}
    assert texts == {"a": "1.10", "b": "+5", "c": "~", "d": "15", "e": "True"}


# Exercises every way a position can be produced: block and flow, quoted and block
# scalars, comments, multi-byte characters, empty values, nested lists.
POSITIONS_DOC = """\
# a comment
version: 1
assets:
  - rid: "A1"      # quoted
    caption: Ünïcödé 日本 ✓
    tags: [a, 'b', "c"]
    description: |
      block
      text
    long_description: >-
      folded
  - {rid: A2, caption: x, tags: []}
  -   rid:   A3
      caption:
portals:
- subdomain: acme
  settings: {theme: dark, ratio: 1.10}
\u2028"after a line separator": 1
"""


def _all_positions(doc: Document) -> list[tuple]:
    out: list[tuple] = []
    stack: list[tuple[tuple, object]] = [((), doc.root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, PosDict):
            out.append((path, "node", unpack(node.pos)))
            for key, value in node.items():
                out.append(((*path, key), "key", unpack(node.key_spot(key))))
                out.append(((*path, key), "value", unpack(node.value_spot(key))))
                stack.append(((*path, key), value))
        elif isinstance(node, PosList):
            out.append((path, "node", unpack(node.pos)))
            for index, value in enumerate(node):
                out.append(((*path, index), "value", unpack(node.spots[index])))
                stack.append(((*path, index), value))
    return out


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_both_parsers_give_identical_trees_and_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for name in ("c", "pure"):
        monkeypatch.setattr(yamlload, "PARSER", name)
        doc = parse_yaml(POSITIONS_DOC, "t.yaml")
        assert doc.problems == []
        results.append((doc.root, _all_positions(doc), doc.texts))
    assert results[0] == results[1]
    assert len(results[0][1]) > 40


def test_positions_are_one_based_lines_and_columns(parser: str) -> None:
    doc = parse_yaml(POSITIONS_DOC, "t.yaml")
    assert str(position_of(doc, ["assets", 0, "caption"])) == "t.yaml:5:14"
    assert str(position_of(doc, ["assets", 0, "caption"], key=True)) == "t.yaml:5:5"
    assert str(position_of(doc, ["assets", 0])) == "t.yaml:4:5"
    assert str(position_of(doc, ["assets", 0, "tags", 2])) == "t.yaml:6:20"
    assert str(position_of(doc, ["assets", 1, "caption"])) == "t.yaml:12:24"
    assert str(position_of(doc, ["assets", 2, "rid"])) == "t.yaml:13:14"
    assert str(position_of(doc, ["portals", 0, "settings", "ratio"])) == "t.yaml:17:34"
    # a path that leaves the tree stops at the deepest node reached
    assert str(position_of(doc, ["assets", 0, "nope", 3])) == "t.yaml:4:5"
    assert str(position_of(doc, [])) == "t.yaml:2:1"


def test_columns_count_characters_not_bytes(parser: str) -> None:
    doc = parse_yaml("a: 日本語\nb: [日本, x]\n", "t.yaml")
    assert str(position_of(doc, ["b", 1])) == "t.yaml:2:9"


def test_crlf_line_ends(parser: str) -> None:
    doc = parse_yaml("a: 1\r\nb:\r\n  - x\r\n", "t.yaml")
    assert doc.root == {"a": 1, "b": ["x"]}
    assert str(position_of(doc, ["b", 0])) == "t.yaml:3:5"


def test_bom_is_accepted_and_not_counted(parser: str) -> None:
    doc = parse_yaml("\ufeffa: 1\n", "t.yaml")
    assert doc.problems == []
    assert str(position_of(doc, ["a"])) == "t.yaml:1:4"


def test_empty_file_has_no_root(parser: str) -> None:
    for text in ("", "# only a comment\n", "---\n"):
        doc = parse_yaml(text, "t.yaml")
        assert doc.problems == []
        assert doc.root is None


def test_nesting_up_to_the_cap_is_fine_one_more_is_not(parser: str) -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_yaml(ok, "t.yaml").problems == []
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert [str(p) for p in parse_yaml(deep, "t.yaml").problems] == [
        f"t.yaml:1:{MAX_DEPTH + 1}: nesting is deeper than {MAX_DEPTH} levels"
    ]


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_rejected_without_expanding(parser: str, write, problems_of) -> None:
    path = write("laughs.yaml", BILLION_LAUGHS)
    start = time.perf_counter()
    lines = problems_of([path])
    assert time.perf_counter() - start < 1.0
    assert lines[0].endswith("laughs.yaml:1:4: anchors are not allowed (&a): write the value out")
    assert len(lines) == 9 + 8 * 9  # every anchor and every alias, each once


@pytest.mark.parametrize(
    "shape",
    ["flow-lists", "flow-mappings", "block-lists", "block-mappings"],
)
def test_ten_megabytes_of_nesting_is_rejected_fast(
    parser: str, shape: str, write, problems_of
) -> None:
    size = 10 * 1024 * 1024
    if shape == "flow-lists":
        text = "[" * size
    elif shape == "flow-mappings":
        text = "{a: " * (size // 4)
    elif shape == "block-lists":
        text = "- " * (size // 2) + "x\n"
    else:
        lines, width = [], 0
        while width < size:
            line = " " * (len(lines) % 3000) + "k:\n"
            lines.append(line)
            width += len(line)
        text = "".join(lines)
    path = write("deep.yaml", text)
    start = time.process_time()
    lines = problems_of([path])  # no RecursionError, no MemoryError
    assert time.process_time() - start < 2.0
    assert len(lines) == 1
    assert lines[0].endswith(f"nesting is deeper than {MAX_DEPTH} levels")


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_libyaml_own_flow_limit_gives_our_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # libyaml refuses flow nesting past 1000 levels before emitting events: same answer.
    monkeypatch.setattr(yamlload, "PARSER", "c")
    doc = parse_yaml("[" * 2000, "t.yaml")
    assert [str(p) for p in doc.problems] == ["t.yaml:1:33: nesting is deeper than 32 levels"]


# Common mistakes: both parsers must report them at the same place with the same words.
BROKEN = [
    "a: [1, 2\nb: 3\n",
    "a: {x: 1\nb: 3\n",
    "a:\n  b: 1\n c: 2\n",
    "a: b: c\n",
    'a: "abc\n',
    "a: 'abc\n",
    "a:\n\tb: 1\n",
    "a: 1\n- b\n",
    "- a\nb: 1\n",
    "a: @x\n",
    "a: `x\n",
    "a\nb: 1\n",
    'a: "\\q"\n',
    "a: [1, 2]]\n",
    "? a\n? b\n- c\n",
    "a: !x!y z\n",
    "%YAML 1.2\n%YAML 1.2\n---\na: 1\n",
    "a: 1\n...\nb: 2\n",
    "key: value\n  bad: indent\n",
    "a:\n  - b\n  c: d\n",
    "a: *\n",
    "a: &\n",
    "{a: 1, b: [}\n",
    "caption: Spring: launch\n",
    "a: [\n",
    "a: 'x' y\n",
    "- [a, b\n- c\n",
]


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", BROKEN)
def test_syntax_errors_read_the_same_from_both_parsers(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for name in ("c", "pure"):
        monkeypatch.setattr(yamlload, "PARSER", name)
        answers.append([str(p) for p in parse_yaml(text, "t.yaml").problems])
    assert answers[0] == answers[1]
    assert len(answers[0]) == 1
    assert answers[0][0].startswith("t.yaml:")


def test_syntax_error_names_the_place_and_the_construct(parser: str) -> None:
    doc = parse_yaml("a:\n  b: 1\n c: 2\n", "t.yaml")
    assert [str(p) for p in doc.problems] == [
        "t.yaml:3:2: invalid YAML: expected a key here: check the indentation "
        "(the mapping starts at line 1, column 1)"
    ]


def test_tab_indentation_says_so(parser: str) -> None:
    doc = parse_yaml("a:\n\tb: 1\n", "t.yaml")
    assert [str(p) for p in doc.problems] == [
        "t.yaml:2:1: invalid YAML: tab characters are not allowed here (indent with spaces)"
    ]


def test_non_utf8_names_the_first_bad_byte() -> None:
    text, problem = yamlload.decode(b"a: 1\nb: x\xc3\xa9\xfe\n", "t.yaml")
    assert text is None
    assert str(problem) == "t.yaml:2:6: invalid UTF-8 byte 0xfe: manifests must be UTF-8 text"


def test_utf8_with_bom_decodes() -> None:
    text, problem = yamlload.decode("\ufeffa: é\n".encode(), "t.yaml")
    assert problem is None
    assert text == "\ufeffa: é\n"
