"""The shape of each answer the client relies on, and the check every answer goes through.

One JSON Schema per endpoint the client reads, in schemas/api/<endpoint>.json: only what
the client reads is constrained, other fields may come. An answer that does not match is
UnexpectedShape (exit 1), naming the endpoint, each JSON path and what was expected, so a
real API that differs from the contract ends in a report, never in a plan made from a
misread answer. When the real API differs, the fix is that file and the endpoint table.

Speed: the validators are built once per endpoint. An answer holding a list of items (a
listing: thousands of assets a page) is decoded and checked at once by a typed decoder
compiled from its shape (`typed`), which keeps only the fields the shape names; when that
decoder refuses the answer (or the client is told not to use it), the answer is decoded
with json and checked: jsonschema checks the envelope (the answer with its lists' item
schemas left out); the items are checked by a predicate compiled from their schema
(`schemacheck`), and only an item it rejects goes through jsonschema, to say what is wrong.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.redact import redact
from cincopa_sync.api.typed import DecodeError, compile_decoder
from cincopa_sync.errors import Deviation, UnexpectedShape
from cincopa_sync.resources import api_schema_dir
from cincopa_sync.schemacheck import Check, compile_check, resolve

SCHEMA_DIR: Path = api_schema_dir()
BREAKS = "x-breaks"  # the schema's own word on what a deviation breaks


class Shape:
    """One endpoint's answer shape, compiled."""

    def __init__(self, endpoint: str, schema: dict[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.endpoint = endpoint
        self.breaks = str(schema.get(BREAKS) or f"{endpoint} cannot be read")
        envelope = copy.deepcopy(schema)
        # key -> (the predicate of the whole list, of one item, and the item validator):
        # the envelope is checked without its lists' items, the items by the predicates
        self.lists: dict[str, tuple[Check, Check, Draft202012Validator]] = {}
        whole = Draft202012Validator(schema)
        properties = envelope.get("properties", {})
        for key, prop in list(properties.items()):
            prop = dict(resolve(schema, prop)) if isinstance(prop, dict) else {}
            if "items" in prop:
                item = resolve(schema, prop.pop("items"))
                properties[key] = prop
                self.lists[key] = (
                    compile_check({"type": "array", "items": item}, schema),
                    compile_check(item, schema),
                    whole.evolve(schema=item),
                )
        self.envelope = Draft202012Validator(envelope)
        self.root = schema
        # Only listings are worth it; their kinds read only what the shape names.
        self.decoder = compile_decoder(schema) if self.lists else None

    def decode(self, content: bytes) -> dict[str, Any] | None:
        """The answer decoded and found to have the shape, `success` true, with only the
        fields the shape names; None when the typed decoder is not sure (then decode with
        json and `check`, which also say why)."""
        if self.decoder is None:
            return None
        try:
            body = self.decoder.decode(content)
        except DecodeError:
            return None
        return body if body.get(ep.F_SUCCESS) is True else None

    def check(self, body: Mapping[str, Any]) -> None:
        """Raise UnexpectedShape unless the answer has the shape."""
        if self.envelope.is_valid(body):
            for key, (list_ok, _, _) in self.lists.items():
                items = body.get(key)
                if isinstance(items, list) and not list_ok(items):
                    break
            else:
                return
        deviations = tuple(dict.fromkeys(self.deviations(body)))  # `required`: one per key
        if deviations:  # the predicate may refuse what jsonschema accepts: then it is fine
            raise UnexpectedShape(self.endpoint, deviations, self.breaks)

    def deviations(self, body: object) -> Iterator[Deviation]:
        """Every way the answer differs, envelope first; of a list's items that deviate
        the first is described path by path and the others counted."""
        errors = sorted(self.envelope.iter_errors(body), key=_order)
        for error in errors:
            yield from _explain(error, (), self.root)
        if not isinstance(body, Mapping):
            return
        for key, (_, item_ok, validator) in self.lists.items():
            items = body.get(key)
            if not isinstance(items, list):
                continue
            first: list[Deviation] = []
            deviating = 0
            for index, item in enumerate(items):
                if item_ok(item):
                    continue
                found = list(validator.iter_errors(item))
                if found and not first:
                    found.sort(key=_order)
                    first = [d for e in found for d in _explain(e, (key, index), self.root)]
                deviating += bool(found)
            if deviating > 1:  # the others are counted on the first one's last line
                last = first[-1]
                more = f" (and {deviating - 1} more of the {len(items)} items deviate)"
                first[-1] = Deviation(last.path, last.problem + more)
            yield from first


def _order(error: ValidationError) -> tuple[tuple[int, int, str], ...]:
    """Errors in the order of their paths (indexes and keys never compared together)."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path)


@lru_cache(maxsize=64)
def _compiled(folder: Path, endpoint: str) -> Shape | None:
    path = folder / f"{endpoint}.json"
    if not path.is_file():
        return None  # an endpoint the client only writes to: only the envelope counts
    return Shape(endpoint, json.loads(path.read_text(encoding="utf-8")))


def shape_for(endpoint: str) -> Shape | None:
    """The endpoint's shape from SCHEMA_DIR, compiled once; None when it has no schema."""
    return _compiled(SCHEMA_DIR, endpoint)


def decode_answer(endpoint: str, content: bytes) -> dict[str, Any] | None:
    """A successful answer in the endpoint's shape, by the typed decoder; None: not sure."""
    shape = shape_for(endpoint)
    return None if shape is None else shape.decode(content)


def check_answer(endpoint: str, body: Mapping[str, Any]) -> None:
    shape = shape_for(endpoint)
    if shape is not None:
        shape.check(body)


# -- what a deviation says -------------------------------------------------------------------

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
# A string from an answer is shown only when it cannot be a secret (a URL, a token).
_SHOWABLE = re.compile(r"[A-Za-z0-9_.,|* -]{0,24}")


def _explain(
    error: ValidationError, prefix: tuple[str | int, ...], root: dict[str, Any]
) -> Iterator[Deviation]:
    where = (*prefix, *error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(error.instance, Mapping):
        properties = schema.get("properties", {})
        for key in error.validator_value:
            if key not in error.instance:
                wanted = _expected(properties.get(key, {}), root)
                yield Deviation(_path((*where, key)), f"missing, expected {wanted}")
        return
    yield Deviation(
        _path(where), f"expected {_expected(schema, root)}, got {_found(error.instance)}"
    )


def _expected(schema: object, root: dict[str, Any]) -> str:
    if not isinstance(schema, dict):
        return "a value"
    schema = resolve(root, schema)
    if schema.get("description"):
        return str(schema["description"])
    types = schema.get("type")
    if types:
        names = [types] if isinstance(types, str) else list(types)
        return " or ".join(_TYPE_WORDS.get(t, t) for t in names)
    return "a value"


def _found(value: object) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = redact(value)
        return f"the string {json.dumps(shown)}" if _SHOWABLE.fullmatch(shown) else "a string"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _path(parts: tuple[str | int, ...]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
