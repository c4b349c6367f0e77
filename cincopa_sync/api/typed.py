"""An answer decoded and checked in one pass: its shape (a JSON Schema) compiled into the
types msgspec decodes into, in C.

`compile_decoder(schema)` gives a decoder whose every success means two things: the
answer matches the shape, and what it returns equals what `json.loads` gives, less the
fields the shape does not name (the client reads only what the shape names: an object the
shape describes by its properties comes back with those alone). Returns None when the shape
uses something it cannot express exactly.

A decoder may refuse an answer the shape accepts: a whole number written `15.0`, a lone
surrogate, a NaN where nothing is read, an answer in UTF-16. Whoever decodes then falls back
to `json.loads` and the compiled predicate (`schemacheck`), which also say what is wrong:
the decoder is only ever a faster way to the same answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict, Union

import msgspec

from cincopa_sync.schemacheck import KNOWN_KEYWORDS, annotation, resolve

# Keywords a decoder honours; any other keyword (bar annotations) means no decoder.
_KNOWN = KNOWN_KEYWORDS - {"const"}  # what the predicate compiler knows, bar const
_STRING_ONLY = frozenset({"pattern", "minLength", "maxLength", "enum"})

Decoder = msgspec.json.Decoder
DecodeError = msgspec.DecodeError  # ValidationError is one


class _Unsupported(Exception):
    pass


def compile_decoder(schema: dict[str, Any]) -> Decoder | None:
    """A decoder of documents of this shape, or None."""
    try:
        return msgspec.json.Decoder(_Types(schema).of(schema))
    except (_Unsupported, TypeError, ValueError, KeyError):  # TypeError: a union msgspec refuses
        return None


class _Types:
    """Writes the msgspec type of each (sub)schema."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._named = 0

    def of(self, schema: object) -> Any:
        if schema is True:
            return Any
        if not isinstance(schema, dict):
            raise _Unsupported("a schema that accepts nothing")
        schema = resolve(self.root, schema)
        keywords = {k for k in schema if not annotation(k)}
        if keywords - _KNOWN:
            raise _Unsupported(", ".join(sorted(keywords - _KNOWN)))
        if not keywords:
            return Any
        if "type" not in schema:
            raise _Unsupported("keywords without a type")
        names = schema["type"]
        names = list(dict.fromkeys([names] if isinstance(names, str) else names))
        if "enum" in schema and names != ["string"]:
            raise _Unsupported("enum beside other types")
        variants = [v for name in names for v in self._variants(name, schema)]
        variants = list(dict.fromkeys(variants))
        return variants[0] if len(variants) == 1 else Union[tuple(variants)]  # noqa: UP007

    def _variants(self, name: str, schema: dict[str, Any]) -> list[Any]:
        """The types for one JSON type, with the keywords that apply to it (JSON Schema
        applies `pattern` to strings only, `minimum` to numbers only, and so on)."""
        if name == "string":
            return [self._string(schema)]
        if name in ("integer", "number"):
            bounds = {}
            for keyword, meta in (("minimum", "ge"), ("maximum", "le")):
                if keyword in schema:
                    value = schema[keyword]
                    if value.__class__ is not int:
                        raise _Unsupported(f"{keyword} {value!r}")
                    bounds[meta] = value
            classes = [int] if name == "integer" else [int, float]  # ints stay ints
            return [Annotated[c, msgspec.Meta(**bounds)] if bounds else c for c in classes]
        if name == "boolean":
            return [bool]
        if name == "null":
            return [None]
        if name == "array":
            item = self.of(schema["items"]) if "items" in schema else Any
            sizes = _sizes(schema, "minItems", "maxItems")
            listed = list[item]  # type: ignore[valid-type]
            return [Annotated[listed, msgspec.Meta(**sizes)] if sizes else listed]
        if name == "object":
            return [self._object(schema)]
        raise _Unsupported(f"type {name!r}")

    def _string(self, schema: dict[str, Any]) -> Any:
        if "enum" in schema:
            allowed = schema["enum"]
            if len(set(schema) & _STRING_ONLY) > 1 or not all(isinstance(a, str) for a in allowed):
                raise _Unsupported("enum")
            return Literal[tuple(allowed)]
        meta = _sizes(schema, "minLength", "maxLength")
        if "pattern" in schema:
            meta["pattern"] = schema["pattern"]
        return Annotated[str, msgspec.Meta(**meta)] if meta else str

    def _object(self, schema: dict[str, Any]) -> Any:
        properties = schema.get("properties", {})
        required = list(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            # Fields beside the named ones would be dropped, not checked: only a plain map.
            if properties or required or extra is False:
                raise _Unsupported("additionalProperties beside properties")
            return dict[str, self.of(extra)]  # type: ignore[misc]
        if not properties and not required:
            return dict[str, Any]
        fields = {key: self.of(sub) for key, sub in properties.items()}
        fields.update({key: Any for key in required if key not in fields})
        self._named += 1
        shape = TypedDict(f"Shape{self._named}", fields, total=False)  # type: ignore[misc]
        # Set here rather than spelled with Required[], which Python 3.10 lacks.
        shape.__required_keys__ = frozenset(required)
        shape.__optional_keys__ = frozenset(fields) - frozenset(required)
        return shape


def _sizes(schema: dict[str, Any], low: str, high: str) -> dict[str, int]:
    sizes = {}
    for keyword, meta in ((low, "min_length"), (high, "max_length")):
        if keyword in schema:
            sizes[meta] = int(schema[keyword])
    return sizes
