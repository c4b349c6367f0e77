"""Strict YAML: one pass over PyYAML's event stream, building plain data with positions.

`yaml.load` is not used: it would expand aliases (billion laughs), resolve YAML 1.1 types
(`no` -> False) and recurse per nesting level. Here the tree is built from events with an
explicit stack, so anchors, aliases, tags, duplicate keys, depth and extra documents are
all caught in the same single pass, before anything could expand.

Positions: a mapping is a `PosDict`, a sequence a `PosList`. Each keeps its own position
(`pos`) and a flat list `spots` of packed positions: for a mapping `[key0, value0, key1,
value1, ...]` in key order, for a sequence one per item. Scalars stay plain Python values;
their position is looked up through their parent. A packed position is
`line << 32 | column`, both 0-based as the parser reports them. (The fast JSON parse leaves
`spots` None below the entries: every position there is the entry's own; see jsonload.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from sys import intern

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.reader import ReaderError

from cincopa_sync.errors import Location, Problem

# A manifest larger than this is refused before it is read (checked with stat).
MAX_FILE_BYTES = 64 * 1024 * 1024
# Deeper nesting than this is refused as soon as the parser reaches it. The format needs 4.
MAX_DEPTH = 32

# Which parser builds the events: "c" (libyaml, when PyYAML has it) or "pure".
PARSER = "c" if yaml.__with_libyaml__ else "pure"

_COL_BITS = 32
_COL_MASK = (1 << _COL_BITS) - 1


def unpack(packed: int) -> tuple[int, int]:
    """A packed position as 1-based (line, column)."""
    return (packed >> _COL_BITS) + 1, (packed & _COL_MASK) + 1


class PosDict(dict):
    """A mapping that knows where it, each key and each value stand in the file."""

    # `key_index` (key -> its place in `spots`) is built on the first lookup only: positions
    # are looked up on error paths and for a few values, so most mappings never need one.
    __slots__ = ("key_index", "pos", "spots")

    def key_spot(self, key: str) -> int:
        if self.spots is None:
            return self.pos
        return self.spots[2 * _index_of(self, key)]

    def value_spot(self, key: str) -> int:
        if self.spots is None:
            return self.pos
        return self.spots[2 * _index_of(self, key) + 1]


class PosList(list):
    """A sequence that knows where it and each item stand in the file."""

    __slots__ = ("pos", "spots")


def _index_of(mapping: PosDict, key: str) -> int:
    """The place of `key` in insertion order, in O(1): a lookup per unknown key or per
    setting must not scan the mapping (40,000 unknown keys took a minute that way)."""
    try:
        index = mapping.key_index
    except AttributeError:
        if next(iter(mapping), None) == key:
            return 0  # an entry's identity, first in most entries: no index for it
        index = mapping.key_index = {}
    missing = len(mapping) - len(index)
    if missing:  # keys added since the index was built (the parser reports duplicates
        # while it still fills the mapping); keys are never removed, so they are the last
        start = len(index)
        added = list(islice(reversed(mapping), missing))
        for offset, name in enumerate(reversed(added)):
            index[name] = start + offset
    return index[key]


@dataclass(slots=True)
class Document:
    """One parsed manifest file."""

    file: str  # the path as the user gave it (joined with the part below a directory)
    root: object = None
    rootpos: int = 0
    # Source text of typed scalars whose text is not their canonical spelling (1.10, +5, ~).
    texts: dict[int, str] = field(default_factory=dict)
    # (container, key or index, packed position) of each string value holding a '$'.
    dollars: list[tuple[object, object, int]] = field(default_factory=list)
    # The text as written of each interpolated value, by its packed position: a saved
    # plan re-resolves secrets from the environment at apply time (never stores them).
    templates: dict[int, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Packed positions of the values interpolation could not expand (already reported:
    # the schema says nothing more about them).
    broken: set[int] = field(default_factory=set)
    # False for the fast JSON parse: positions below an entry are the entry's own, so the
    # tree may be used only when nothing at all is reported about it.
    exact: bool = True

    def location(self, packed: int) -> Location:
        line, col = unpack(packed)
        return Location(self.file, line, col)

    def source_text(self, packed: int, value: object) -> str:
        """How a typed scalar was written, e.g. `1.10` for the float 1.1."""
        text = self.texts.get(packed)
        if text is not None:
            return text
        if value is None:
            return ""
        if value is True or value is False:
            return "true" if value else "false"
        return str(value)


def spot_of(doc: Document, path: Iterable[object], *, key: bool = False) -> int:
    """The packed position for a path into the document; see `position_of`."""
    node: object = doc.root
    spot = doc.rootpos
    steps = tuple(path)
    for n, step in enumerate(steps):
        if getattr(node, "spots", None) is None:
            break  # below an entry of the fast JSON parse: the entry's position
        if isinstance(node, PosDict) and isinstance(step, str) and step in node:
            i = _index_of(node, step)
            on_key = key and n == len(steps) - 1
            spot = node.spots[2 * i] if on_key else node.spots[2 * i + 1]
            node = node[step]
        elif isinstance(node, PosList) and isinstance(step, int) and 0 <= step < len(node):
            spot = node.spots[step]
            node = node[step]
        else:
            break
    return spot


def item_spot(items: list, index: int, fallback: int) -> int:
    """The packed position of a list's item; `fallback` where the list has none (a list
    below an entry of the fast JSON parse)."""
    spots = getattr(items, "spots", None)
    return fallback if spots is None else spots[index]


def position_of(doc: Document, path: Iterable[object], *, key: bool = False) -> Location:
    """The best location for a path into the document (e.g. a jsonschema `absolute_path`).

    The value's position; with `key=True` the position of the last key instead (for
    unknown keys). Where the path leaves the tree, the deepest node reached.
    """
    return doc.location(spot_of(doc, path, key=key))


# --- plain scalar typing (YAML 1.2 core schema, stricter about leading zeros) ---------

_MISSING = object()
# Plain scalars that are not strings, looked up in one dict access.
_KEYWORDS: dict[str, object] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_CANONICAL_KEYWORDS = frozenset(("", "true", "false"))
_NUMBER_START = frozenset("-+.0123456789")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(
    r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)\Z"
)
_NOT_FINITE = re.compile(r"[-+]?\.(?:inf|nan)\Z", re.IGNORECASE)


def _number(text: str, spot: int, doc: Document) -> object:
    """Type a plain scalar that starts like a number; anything else stays a string."""
    if _INT.match(text):
        try:
            value: object = int(text)
        except ValueError:  # more digits than Python converts
            doc.problems.append(Problem(doc.location(spot), "number has too many digits"))
            return text
        if str(value) != text:
            doc.texts[spot] = text
        return value
    if _FLOAT.match(text) and any(c in text for c in ".eE"):
        value = float(text)
        if value in (float("inf"), float("-inf")):
            doc.problems.append(
                Problem(doc.location(spot), f"number {text} is too large (quote it if it is text)")
            )
        doc.texts[spot] = text
        return value
    if _NOT_FINITE.match(text):
        doc.problems.append(
            Problem(
                doc.location(spot),
                f'{text} is not a number a manifest can use (quote it if it is text: "{text}")',
            )
        )
    return text


def _tag_text(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _node_properties(ev: object, spot: int, doc: Document) -> None:
    anchor = ev.anchor  # type: ignore[attr-defined]
    tag = ev.tag  # type: ignore[attr-defined]
    if anchor is not None:
        doc.problems.append(
            Problem(doc.location(spot), f"anchors are not allowed (&{anchor}): write the value out")
        )
    if tag is not None:
        doc.problems.append(
            Problem(doc.location(spot), f"explicit tags are not allowed ({_tag_text(tag)})")
        )


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    return "a list"


_NOKEY = object()  # the mapping waits for a key
_BADKEY = object()  # the pending key was rejected: drop its value


def _loader_class() -> type:
    if PARSER == "c":
        return yaml.CSafeLoader
    return yaml.SafeLoader


def parse_yaml(text: str, file: str) -> Document:
    """Parse one manifest text; problems (with positions) land in `Document.problems`.

    The root is None for a file with no content. When `problems` is not empty the tree
    may be partial and must not be used.
    """
    if text.startswith("\ufeff"):
        text = text[1:]  # both parsers then count columns the same way
    loader_class = _loader_class()
    doc = _parse_with(loader_class, text, file)
    if doc is None:
        # libyaml's scanner gives up on flow nesting past 1000 levels before it emits the
        # events our depth check counts; the pure parser stops at our cap, quickly.
        doc = _parse_with(yaml.SafeLoader, text, file)
    assert doc is not None
    return doc


def _parse_with(loader_class: type, text: str, file: str) -> Document | None:
    doc = Document(file)
    loader = None
    try:
        loader = loader_class(text)  # the pure reader already checks characters here
        _build(loader.get_event, doc)
    except yaml.MarkedYAMLError as exc:
        if loader_class is not yaml.SafeLoader and "maximum nesting depth" in str(exc.problem):
            return None
        doc.problems.append(_syntax_problem(exc, text, doc))
    except ReaderError:
        doc.problems.append(_reader_problem(text, doc))
    except yaml.YAMLError as exc:  # nothing else is raised today; keep a located message
        doc.problems.append(Problem(Location(file, 1, 1), f"invalid YAML: {exc}"))
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def _build(get_event: Callable[[], object], doc: Document) -> None:
    # One flat loop with the current container in locals: this is the hot path.
    problems = doc.problems
    texts = doc.texts
    dollars = doc.dollars
    keywords = _KEYWORDS
    number_start = _NUMBER_START
    stack: list[tuple[object, bool, object]] = []
    cont = None  # the container being filled (None: at document level)
    is_map = False
    key: object = _NOKEY
    key_spot = 0
    documents = 0
    while True:
        ev = get_event()
        cls = ev.__class__
        if cls is ScalarEvent:
            mark = ev.start_mark
            spot = mark.line << _COL_BITS | mark.column
            if ev.anchor is not None or ev.tag is not None:
                _node_properties(ev, spot, doc)
            value = ev.value
            if not ev.style:  # plain: the only scalars that get a type
                typed = keywords.get(value, _MISSING)
                if typed is not _MISSING:
                    if value not in _CANONICAL_KEYWORDS:
                        texts[spot] = value
                    value = typed
                elif value[0] in number_start:
                    value = _number(value, spot, doc)
            if is_map:
                if key is _NOKEY:
                    if value.__class__ is str:
                        # Keys repeat in every entry: one shared string each, not 100,000.
                        key = intern(value)
                        key_spot = spot
                    else:
                        problems.append(_bad_key(doc, spot, value))
                        key = _BADKEY
                    continue
                if key is not _BADKEY:
                    if key in cont:
                        problems.append(_duplicate(doc, cont, key, key_spot))
                    else:
                        cont[key] = value
                        spots = cont.spots
                        spots.append(key_spot)
                        spots.append(spot)
                        if value.__class__ is str and "$" in value:
                            dollars.append((cont, key, spot))
                key = _NOKEY
            elif cont is not None:
                if value.__class__ is str and "$" in value:
                    dollars.append((cont, len(cont), spot))
                cont.append(value)
                cont.spots.append(spot)
            else:
                doc.root = value
                doc.rootpos = spot
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            mark = ev.start_mark
            spot = mark.line << _COL_BITS | mark.column
            if ev.anchor is not None or ev.tag is not None:
                _node_properties(ev, spot, doc)
            if len(stack) >= MAX_DEPTH:
                # Stop here: nothing deeper is read, however large the file.
                problems.append(
                    Problem(doc.location(spot), f"nesting is deeper than {MAX_DEPTH} levels")
                )
                return
            new = PosDict() if cls is MappingStartEvent else PosList()
            new.pos = spot
            new.spots = []
            after = _NOKEY
            if is_map:
                if key is _NOKEY:
                    problems.append(_bad_key(doc, spot, new))
                    after = _BADKEY  # the value that follows this key is dropped
                elif key is not _BADKEY:
                    if key in cont:
                        problems.append(_duplicate(doc, cont, key, key_spot))
                    else:
                        cont[key] = new
                        cont.spots.append(key_spot)
                        cont.spots.append(spot)
            elif cont is not None:
                cont.append(new)
                cont.spots.append(spot)
            else:
                doc.root = new
                doc.rootpos = spot
            stack.append((cont, is_map, after))
            cont = new
            is_map = cls is MappingStartEvent
            key = _NOKEY
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            cont, is_map, key = stack.pop()
        elif cls is AliasEvent:
            mark = ev.start_mark
            spot = mark.line << _COL_BITS | mark.column
            problems.append(
                Problem(
                    doc.location(spot),
                    f"aliases are not allowed (*{ev.anchor}): write the value out",
                )
            )
            if is_map:
                key = _BADKEY if key is _NOKEY else _NOKEY
            # in a sequence or at the root the alias is simply not taken
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                mark = ev.start_mark
                problems.append(
                    Problem(
                        Location(doc.file, mark.line + 1, mark.column + 1),
                        "a manifest file holds one YAML document; this is a second one",
                    )
                )
                return
        elif cls is StreamEndEvent:
            return


def _bad_key(doc: Document, spot: int, value: object) -> Problem:
    if value is None or isinstance(value, (PosDict, PosList)):
        shown = _type_name(value)
    else:
        shown = f"{_type_name(value)} ({doc.source_text(spot, value)})"
    return Problem(doc.location(spot), f"mapping keys must be strings, got {shown}")


def _duplicate(doc: Document, mapping: PosDict, key: str, spot: int) -> Problem:
    line, col = unpack(mapping.key_spot(key))
    return Problem(
        doc.location(spot),
        f"duplicate key '{key}' (first at line {line}, column {col})",
    )


# --- syntax errors: one wording for both parsers ---------------------------------------

_EXPECTED_KEY = "expected a key here: check the indentation"
_EXPECTED_ITEM = "expected a '- ' list item here: check the indentation"
# (pattern over the parser's problem text, our message); the C and pure parsers word the
# same problem differently, and the message must not depend on which one ran.
_SYNTAX_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), m)
    for p, m in (
        (r"expected ',' or '\]'", "expected ',' or ']' in a flow list"),
        (r"expected ',' or '\}'", "expected ',' or '}' in a flow mapping"),
        (r"mapping values are not allowed", "a ': ' is not allowed here (quote the value)"),
        (r"did not find expected key|expected <block end>", _EXPECTED_KEY),
        (r"did not find expected '-' indicator", _EXPECTED_ITEM),
        (r"did not find expected node content|expected the node content", "expected a value"),
        (r"could not find expected ':'", "expected ':' after a key"),
        (r"found unexpected end of stream", "unexpected end of file"),
        (r"found unknown escape character", "unknown escape sequence in a quoted string"),
        (r"found a tab character", "tab characters are not allowed here (indent with spaces)"),
        (r"cannot start any token", "this character cannot start a value (quote the value)"),
        (
            r"did not find expected <document start>|expected '<document start>'",
            "unexpected content after the document",
        ),
        (r"found undefined tag handle", "explicit tags are not allowed"),
        (r"duplicate %?YAML directive", "the %YAML directive is given twice"),
    )
)
_CONTEXTS = {
    "while parsing a flow sequence": "the flow list",
    "while parsing a flow mapping": "the flow mapping",
    "while parsing a block mapping": "the mapping",
    "while parsing a block collection": "the list",
    "while scanning a quoted scalar": "the quoted string",
    "while scanning a simple key": "the key",
    "while scanning a block scalar": "the block scalar",
    "while scanning a plain scalar": "the value",
}


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, doc: Document) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    message = next((m for p, m in _SYNTAX_MESSAGES if p.search(problem)), None)
    if message is None:
        message = problem.split(", but ", 1)[0].removeprefix("did not find ")
    if message == _EXPECTED_KEY and exc.context == "while parsing a block collection":
        message = _EXPECTED_ITEM
    if "mapping values are not allowed" in problem and mark is not None:
        message = _deeper_key(text, mark.line, mark.column) or message
    if (
        message.startswith("unknown escape")
        and mark is not None
        and mark.column > 0
        and _char_at(text, mark.line, mark.column) != "\\"
        and _char_at(text, mark.line, mark.column - 1) == "\\"
    ):
        # libyaml points at the backslash, the pure scanner at the letter after it.
        mark = yaml.Mark(mark.name, mark.index - 1, mark.line, mark.column - 1, None, None)
    if "cannot start any token" in problem and mark is not None:
        char = _char_at(text, mark.line, mark.column)
        if char == "\t":
            message = "tab characters are not allowed here (indent with spaces)"
        elif char:
            message = f"'{char}' cannot start a value (quote the value)"
    where = _CONTEXTS.get(exc.context or "")
    ctx = exc.context_mark
    if where and ctx is not None and not _same_place(ctx, mark):
        message += f" ({where} starts at line {ctx.line + 1}, column {ctx.column + 1})"
    if mark is None:
        return Problem(Location(doc.file, 1, 1), f"invalid YAML: {message}")
    return Problem(Location(doc.file, mark.line + 1, mark.column + 1), f"invalid YAML: {message}")


def _deeper_key(text: str, line: int, column: int) -> str | None:
    """When the ': ' YAML refuses ends a key written deeper than the line above (the
    usual cause: `tags:` indented under `caption: x`), say that instead."""
    lines = text.split("\n")
    if line >= len(lines) or line == 0:
        return None
    here = lines[line]
    key = here[:column].strip()
    indent = len(here) - len(here.lstrip(" "))
    above = next((t for t in reversed(lines[:line]) if t.strip()), "")
    above_indent = len(above) - len(above.lstrip(" -"))
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", key) or indent <= above_indent:
        return None
    return (
        f"'{key}:' is indented deeper than the line above it, so YAML reads it as the rest "
        "of that line's value: indent it like its sibling keys (or quote the value, if the "
        "': ' belongs to it)"
    )


def _same_place(a: yaml.Mark, b: yaml.Mark | None) -> bool:
    return b is not None and (a.line, a.column) == (b.line, b.column)


def _char_at(text: str, line: int, column: int) -> str:
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


# What YAML allows in a stream (the same class PyYAML's pure reader checks).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _reader_problem(text: str, doc: Document) -> Problem:
    # The two parsers report this with different offsets (bytes vs characters): find it.
    found = _NON_PRINTABLE.search(text)
    if found is None:
        return Problem(Location(doc.file, 1, 1), "invalid YAML: unreadable character")
    offset = found.start()
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Problem(
        Location(doc.file, line, column),
        f"control character U+{ord(found.group()):04X} is not allowed in YAML",
    )


def decode(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    """Bytes to text: UTF-8 only (a BOM is fine), else a problem at the first bad byte."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        offset = exc.start
        line_start = data.rfind(b"\n", 0, offset) + 1
        line = data.count(b"\n", 0, offset) + 1
        prefix = data[line_start:offset].decode("utf-8", "replace")
        if line == 1 and prefix.startswith("\ufeff"):
            prefix = prefix[1:]
        return None, Problem(
            Location(file, line, len(prefix) + 1),
            f"invalid UTF-8 byte 0x{data[offset]:02x}: manifests must be UTF-8 text",
        )
