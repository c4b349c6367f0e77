"""Strict JSON manifests (`*.json`), for manifests a program writes: the same tree as the
YAML loader's (`PosDict`, `PosList`, packed positions), so interpolation, the schema and
the semantic checks run unchanged.

Two ways in:
- `parse_json(text, file)`: positions for every key and value, every strict rule with its
  `file:line:col` (duplicate keys, NaN and Infinity, nesting depth, numbers Python cannot
  hold, control characters, content after the document). A recursive descent in Python
  over the C string scanner of `json`.
- `parse_json_fast(text, file)`: the C scanner of `json` for each entry, positions only
  for the top-level keys and the start of each entry. It gives up (returns None) on
  anything the exact parse would need to report or remember by position: a duplicate
  key, NaN or Infinity, a float or a number not written canonically (its text is kept by
  position), a `${` or a `$NAME` anywhere (interpolation and its warnings record values by
  position; a price such as "$5" is fine), nesting the C
  scanner refuses, any syntax error. Its tree is exact except for positions below an
  entry, which stand at the entry's start (`Document.exact` is False): the loader takes it
  only when nothing at all is reported, and loads again exactly otherwise.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import JSONDecodeError, scanstring
from sys import intern

from cincopa_sync.errors import Location, Problem
from cincopa_sync.manifest.yamlload import (
    MAX_DEPTH,
    Document,
    PosDict,
    PosList,
    unpack,
)

_COL_BITS = 32
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_NOT_JSON_NUMBERS = ("-Infinity", "Infinity", "NaN")
# What interpolation would read or warn about: `${...}`, `$${` and `$NAME`.
_INTERPOLATED = re.compile(r"\$[{A-Z_]")


class _Stop(Exception):
    """Nothing more is read: a syntax error or the depth cap."""


class _Lines:
    """Offsets to packed positions (0-based line and column, counted in characters)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        self.starts += [m.end() for m in re.finditer("\n", text)]

    def spot(self, offset: int) -> int:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line << _COL_BITS | (offset - self.starts[line])


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def parse_json(text: str, file: str) -> Document:
    """Parse one JSON manifest with every position; problems land in `Document.problems`
    (then the tree may be partial and must not be used)."""
    text = _strip_bom(text)
    doc = Document(file)
    parser = _Parser(text, doc)
    try:
        start = parser.skip(0)
        if start == len(text):
            parser.fail(0, "the file is empty (write {} for a manifest that declares nothing)")
        doc.root, end = parser.value(start, 0, None, None)
        doc.rootpos = parser.lines.spot(start)
        end = parser.skip(end)
        if end != len(text):
            parser.fail(end, "unexpected content after the document")
    except _Stop:
        pass
    return doc


class _Parser:
    def __init__(self, text: str, doc: Document) -> None:
        self.text = text
        self.doc = doc
        self.lines = _Lines(text)

    def skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def fail(self, i: int, message: str) -> None:
        self.doc.problems.append(Problem(self._at(i), f"invalid JSON: {message}"))
        raise _Stop

    def _at(self, i: int) -> Location:
        line, col = unpack(self.lines.spot(i))
        return Location(self.doc.file, line, col)

    def value(self, i: int, depth: int, parent: object, key: object) -> tuple[object, int]:
        """The value starting at offset i, and the offset after it. `parent` and `key`
        say where it goes (for the '$' list of interpolation)."""
        text = self.text
        char = text[i : i + 1]
        if char == "{":
            return self._object(i, depth)
        if char == "[":
            return self._array(i, depth)
        if char == '"':
            value, end = self._string(i)
            if "$" in value:
                self.doc.dollars.append((parent, key, self.lines.spot(i)))
            return value, end
        number = _NUMBER.match(text, i)
        if number and number.end() > i:
            return self._number(number, i), number.end()
        for word, literal in _LITERALS.items():
            if text.startswith(word, i):
                return literal, i + len(word)
        for word in _NOT_JSON_NUMBERS:
            if text.startswith(word, i):
                self.doc.problems.append(
                    Problem(
                        self._at(i),
                        f"{word} is not a number a manifest can use "
                        f'(quote it if it is text: "{word}")',
                    )
                )
                return None, i + len(word)
        if not char:
            self.fail(i, "unexpected end of file")
        if ord(char) < 0x20 or char == "\x7f":
            self.fail(i, f"control character U+{ord(char):04X} is not allowed here")
        self.fail(i, f"expected a value, got '{char}'")
        raise AssertionError  # fail() raised

    def _string(self, i: int) -> tuple[str, int]:
        try:
            return scanstring(self.text, i + 1, True)
        except JSONDecodeError as exc:
            message = exc.msg
            if message.startswith("Invalid control character"):
                char = self.text[exc.pos]
                message = (
                    f"control character U+{ord(char):04X} in a string (write it as "
                    f"\\u{ord(char):04x})"
                )
            elif message.startswith("Unterminated string"):
                message = "a string is not closed (a '\"' is missing)"
            elif message.startswith("Invalid \\escape") or message.startswith("Invalid \\u"):
                message = "unknown escape sequence in a string"
            self.fail(exc.pos, message)
            raise AssertionError from None

    def _number(self, match: re.Match[str], i: int) -> object:
        written = match.group()
        spot = self.lines.spot(i)
        if match.group(1) is None and match.group(2) is None:
            try:
                value: object = int(written)
            except ValueError:  # more digits than Python converts
                self.doc.problems.append(Problem(self._at(i), "number has too many digits"))
                return written
            if str(value) != written:  # -0
                self.doc.texts[spot] = written
            return value
        value = float(written)
        if value in (float("inf"), float("-inf")):
            self.doc.problems.append(
                Problem(self._at(i), f"number {written} is too large (quote it if it is text)")
            )
        self.doc.texts[spot] = written
        return value

    def _open(self, i: int, depth: int, container: PosDict | PosList) -> None:
        if depth >= MAX_DEPTH:
            # Stop here: nothing deeper is read, however large the file.
            self.doc.problems.append(
                Problem(self._at(i), f"nesting is deeper than {MAX_DEPTH} levels")
            )
            raise _Stop
        container.pos = self.lines.spot(i)
        container.spots = []

    def _object(self, i: int, depth: int) -> tuple[PosDict, int]:
        text = self.text
        mapping = PosDict()
        self._open(i, depth, mapping)
        i = self.skip(i + 1)
        if text.startswith("}", i):
            return mapping, i + 1
        while True:
            if not text.startswith('"', i):
                self.fail(i, "expected a key in double quotes" + _after_comma(text, i))
            key_at = i
            key, i = self._string(i)
            key = intern(key)
            i = self.skip(i)
            if not text.startswith(":", i):
                self.fail(i, "expected ':' after a key")
            i = self.skip(i + 1)
            value_at = i
            value, i = self.value(i, depth + 1, mapping, key)
            key_spot = self.lines.spot(key_at)
            if key in mapping:
                line, col = unpack(mapping.key_spot(key))
                self.doc.problems.append(
                    Problem(
                        self.doc.location(key_spot),
                        f"duplicate key '{key}' (first at line {line}, column {col})",
                    )
                )
                self.doc.dollars[:] = [d for d in self.doc.dollars if d[2] < key_spot]
            else:
                mapping[key] = value
                mapping.spots.append(key_spot)
                mapping.spots.append(self.lines.spot(value_at))
            i = self.skip(i)
            if text.startswith(",", i):
                i = self.skip(i + 1)
            elif text.startswith("}", i):
                return mapping, i + 1
            else:
                self.fail(i, "expected ',' or '}' in an object")

    def _array(self, i: int, depth: int) -> tuple[PosList, int]:
        text = self.text
        items = PosList()
        self._open(i, depth, items)
        i = self.skip(i + 1)
        if text.startswith("]", i):
            return items, i + 1
        while True:
            if text.startswith("]", i):
                self.fail(i, "expected a value" + _after_comma(text, i))
            items.spots.append(self.lines.spot(i))
            value, i = self.value(i, depth + 1, items, len(items))
            items.append(value)
            i = self.skip(i)
            if text.startswith(",", i):
                i = self.skip(i + 1)
            elif text.startswith("]", i):
                return items, i + 1
            else:
                self.fail(i, "expected ',' or ']' in a list")


def _after_comma(text: str, i: int) -> str:
    before = text[:i].rstrip()
    return " (a trailing ',' is not allowed in JSON)" if before.endswith(",") else ""


# --- the fast way: the C scanner, entry by entry -----------------------------------------


class _GiveUp(Exception):
    """The exact parse must read this file."""


def _pairs(pairs: list[tuple[str, object]]) -> PosDict:
    mapping = PosDict(pairs)
    if len(mapping) != len(pairs):
        raise _GiveUp  # a duplicate key
    mapping.pos = 0
    mapping.spots = None
    return mapping


def _canonical_int(written: str) -> int:
    value = int(written)  # ValueError past Python's digit limit: the exact parse says so
    if written == "-0":  # its text would be kept by position
        raise _GiveUp
    return value


def _no_float(_written: str) -> float:
    raise _GiveUp  # a float's text is kept by position (1.10 stays "1.10")


def _no_constant(_word: str) -> object:
    raise _GiveUp  # NaN, Infinity


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_float=_no_float,
    parse_int=_canonical_int,
    parse_constant=_no_constant,
    strict=True,
)


def parse_json_fast(text: str, file: str) -> Document | None:
    """The tree of a JSON manifest with positions for the top-level keys and the entries
    only, or None when the exact parse must read it (see the module's docstring)."""
    text = _strip_bom(text)
    if _INTERPOLATED.search(text):
        return None
    doc = Document(file)
    doc.exact = False
    try:
        _fast_root(text, doc)
    except (_GiveUp, JSONDecodeError, StopIteration, RecursionError, ValueError, IndexError):
        return None
    return doc


def _fast_root(text: str, doc: Document) -> None:
    ws = _WS.match
    scan = _DECODER.scan_once
    offsets: list[int] = []  # every offset whose position is kept, in order
    i = ws(text, 0).end()  # type: ignore[union-attr]
    if text[i] != "{":
        raise _GiveUp
    root = PosDict()
    root.spots = []
    offsets.append(i)
    # (container, index in its spots) of each kept position, in the order of `offsets`
    places: list[tuple[object, int]] = [(root, -1)]
    i = ws(text, i + 1).end()  # type: ignore[union-attr]
    if text[i] == "}":
        i += 1
    else:
        while True:
            if text[i] != '"':
                raise _GiveUp
            key_at = i
            key, i = scanstring(text, i + 1, True)
            key = intern(key)
            if key in root:
                raise _GiveUp
            i = ws(text, i).end()  # type: ignore[union-attr]
            if text[i] != ":":
                raise _GiveUp
            i = ws(text, i + 1).end()  # type: ignore[union-attr]
            for offset in (key_at, i):  # the key's and the value's positions
                places.append((root, len(root.spots)))
                offsets.append(offset)
                root.spots.append(0)
            if text[i] == "[":
                value, i = _fast_list(text, i, scan, ws, offsets, places)
            else:
                value, i = scan(text, i)
            root[key] = value
            i = ws(text, i).end()  # type: ignore[union-attr]
            if text[i] == "}":
                i += 1
                break
            if text[i] != ",":
                raise _GiveUp
            i = ws(text, i + 1).end()  # type: ignore[union-attr]
    if ws(text, i).end() != len(text):  # type: ignore[union-attr]
        raise _GiveUp
    _fill_positions(text, offsets, places)
    doc.root = root
    doc.rootpos = root.pos


def _fast_list(text, i, scan, ws, offsets, places):  # type: ignore[no-untyped-def]
    items = PosList()
    items.spots = []
    places.append((items, -1))
    offsets.append(i)
    i = ws(text, i + 1).end()
    if text[i] == "]":
        return items, i + 1
    spots, append, note, place = items.spots, items.append, offsets.append, places.append
    while True:
        start = i
        place((items, len(spots)))
        note(start)
        spots.append(0)
        value, i = scan(text, i)
        if value.__class__ is PosDict:  # an entry: its own position is where it starts
            place((value, -1))
            note(start)
        append(value)
        i = ws(text, i).end()
        char = text[i]
        if char == "]":
            return items, i + 1
        if char != ",":
            raise _GiveUp
        i = ws(text, i + 1).end()


def _fill_positions(text: str, offsets: list[int], places: list[tuple[object, int]]) -> None:
    """Packed positions for offsets that only grow (or repeat), counting lines as it goes."""
    line = 0
    line_start = 0
    last = 0
    count, rfind = text.count, text.rfind
    for offset, (container, index) in zip(offsets, places, strict=True):
        if offset != last:
            newlines = count("\n", last, offset)
            if newlines:
                line += newlines
                line_start = rfind("\n", 0, offset) + 1
            last = offset
        spot = line << _COL_BITS | (offset - line_start)
        if index < 0:
            container.pos = spot  # type: ignore[attr-defined]
        else:
            container.spots[index] = spot  # type: ignore[attr-defined]
