"""A fast predicate compiled from a JSON Schema: True only for instances it accepts.

Used where jsonschema would cost too much per item (the entries of a manifest, the items
of a listing): the predicate decides, and only an instance it rejects goes through
jsonschema's `iter_errors`, so messages come from one place. It is conservative: it may
reject a valid instance (jsonschema then finds nothing), never the reverse; a keyword it
does not know makes it reject everything.

Speed: the schema becomes the source of one Python function (a few class, length and
membership tests per key, nested loops for lists and maps), compiled once, so checking an
item costs one call, not one per keyword.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[object], bool]

# Keywords that only annotate or hold definitions: they never make an instance invalid.
# An `x-` keyword is ours (what a deviation breaks, in the API's response shapes).
_ANNOTATIONS = frozenset(
    (
        "description",
        "title",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
        "$defs",
    )
)


def annotation(keyword: str) -> bool:
    return keyword in _ANNOTATIONS or keyword.startswith("x-")


class _Unsupported(Exception):
    pass


def resolve(root: dict, schema: dict) -> dict:
    """A schema with its local `$ref` (`#/...`) followed, merged with its own keywords."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    if not ref.startswith("#/"):
        raise _Unsupported(ref)
    node: object = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
    merged = {k: v for k, v in schema.items() if k != "$ref"}
    target = resolve(root, node)  # type: ignore[arg-type]
    # A $ref next to other keywords means both apply; overlapping keywords cannot be
    # merged safely, so leave that to jsonschema.
    if {k for k in set(merged) & set(target) if not annotation(k)}:
        raise _Unsupported("$ref with overlapping keywords")
    return {**target, **merged}


def inline(root: dict, schema: object, _through: tuple[str, ...] = ()) -> object:
    """The schema with every local `$ref` replaced by what it names, where that is exact
    (no overlapping keywords, no cycle): jsonschema then resolves nothing per instance,
    which cost more than the check itself for an entry with errors. The target's
    annotations win, as they do in jsonschema's errors from inside a `$ref`."""
    if isinstance(schema, list):
        return [inline(root, item, _through) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in _through:
        node: object = root
        try:
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
        except (KeyError, TypeError, IndexError):
            node = None
        if isinstance(node, dict):
            target = inline(root, node, (*_through, ref))
            rest = {k: inline(root, v, _through) for k, v in schema.items() if k != "$ref"}
            if isinstance(target, dict) and not {
                k for k in set(rest) & set(target) if not annotation(k)
            }:
                return {**rest, **target}
    return {k: inline(root, v, _through) for k, v in schema.items()}


def compile_check(schema: dict | bool, root: dict) -> Check:
    """A predicate that is True only for instances the schema accepts."""
    try:
        writer = _Writer(root)
        lines = writer.block(schema, "v0", 1)
    except (_Unsupported, KeyError, TypeError):
        return _never
    # The constants are bound as keyword defaults: locals, the fastest names to read.
    names = ["_MISSING", *writer.constants]
    signature = ", ".join(["v0", "*", *(f"{n}={n}" for n in names)])
    source = f"def check({signature}):\n" + "".join(f"{line}\n" for line in lines)
    source += "    return True\n"
    namespace: dict[str, Any] = {"_MISSING": _MISSING, **writer.constants}
    exec(compile(source, "<schemacheck>", "exec"), namespace)  # our own source, from the schema
    return namespace["check"]


def _never(_value: object) -> bool:
    return False


class _Missing:
    """The class of the value a key that is not there reads as."""


_MISSING = _Missing()
_CLASSES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),  # the class test keeps True and False out, as JSON Schema does
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_CONTAINERS = {"object": "dict", "array": "list"}
KNOWN_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "additionalProperties",
        "required",
    }
)


class _Writer:
    """Writes the statements that `return False` when an instance breaks a schema."""

    def __init__(self, root: dict) -> None:
        self.root = root
        self.constants: dict[str, object] = {}
        self._names = 0

    def _new(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def _constant(self, value: object) -> str:
        name = self._new("c")
        self.constants[name] = value
        return name

    def block(self, schema: dict | bool, var: str, depth: int) -> list[str]:
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        schema = resolve(self.root, schema)
        unknown = {k for k in set(schema) - KNOWN_KEYWORDS if not annotation(k)}
        if unknown:
            raise _Unsupported(", ".join(sorted(unknown)))
        out: list[str] = []
        fail = "return False"
        if "type" in schema:
            out.append(f"{pad}if not ({self._type_test(schema['type'], var)}): {fail}")
        if "enum" in schema:
            allowed = schema["enum"]
            if not all(isinstance(a, str) for a in allowed):
                raise _Unsupported("enum of non-strings")
            members = self._constant(frozenset(allowed))
            out.append(f"{pad}if {var}.__class__ is not str or {var} not in {members}: {fail}")
        if "const" in schema:
            const = schema["const"]
            if const.__class__ not in (str, int, bool):
                raise _Unsupported("const")
            value, cls = self._constant(const), self._constant(const.__class__)
            out.append(f"{pad}if {var}.__class__ is not {cls} or {var} != {value}: {fail}")
        text = f"{var}.__class__ is str"
        number = f"({var}.__class__ is int or {var}.__class__ is float)"
        if "pattern" in schema:
            search = self._constant(re.compile(schema["pattern"]).search)
            out.append(f"{pad}if {text} and {search}({var}) is None: {fail}")
        if "minLength" in schema:
            out.append(f"{pad}if {text} and len({var}) < {int(schema['minLength'])}: {fail}")
        if "maxLength" in schema:
            out.append(f"{pad}if {text} and len({var}) > {int(schema['maxLength'])}: {fail}")
        if "minimum" in schema:
            least = self._constant(schema["minimum"])
            out.append(f"{pad}if {number} and {var} < {least}: {fail}")
        if "maximum" in schema:
            most = self._constant(schema["maximum"])
            out.append(f"{pad}if {number} and {var} > {most}: {fail}")
        if "minItems" in schema:
            low = int(schema["minItems"])
            out.append(f"{pad}if isinstance({var}, list) and len({var}) < {low}: {fail}")
        if "maxItems" in schema:
            high = int(schema["maxItems"])
            out.append(f"{pad}if isinstance({var}, list) and len({var}) > {high}: {fail}")
        if "items" in schema:
            item = self._new("v")
            inner = self.block(schema["items"], item, depth + 2)
            if inner:
                out += [
                    f"{pad}if isinstance({var}, list):",
                    f"{pad}    for {item} in {var}:",
                    *inner,
                ]
        if {"properties", "additionalProperties", "required"} & set(schema):
            inner = self._object(schema, var, depth + 1)
            if inner:
                out += [f"{pad}if isinstance({var}, dict):", *inner]
        return out

    def _classes_only(self, schema: dict | bool) -> tuple[type, ...] | None:
        """The classes a schema that says nothing but `type` (of scalars) allows, or None."""
        if not isinstance(schema, dict):
            return None
        schema = resolve(self.root, schema)
        if {k for k in schema if not annotation(k)} != {"type"}:
            return None
        types = schema["type"]
        names = [types] if isinstance(types, str) else list(types)
        if not all(n in _CLASSES for n in names):
            return None
        return tuple(c for n in names for c in _CLASSES[n])

    def _type_test(self, types: str | list[str], var: str) -> str:
        names = [types] if isinstance(types, str) else list(types)
        tests = []
        classes = tuple(c for name in names if name in _CLASSES for c in _CLASSES[name])
        if classes:
            tests.append(f"{var}.__class__ in {self._constant(frozenset(classes))}")
        tests += [f"isinstance({var}, {_CONTAINERS[n]})" for n in names if n in _CONTAINERS]
        unknown = [n for n in names if n not in _CLASSES and n not in _CONTAINERS]
        if unknown or not tests:
            raise _Unsupported(f"type {unknown}")
        return " or ".join(tests)

    def _object(self, schema: dict, var: str, depth: int) -> list[str]:
        pad = "    " * depth
        props: dict[str, Any] = schema.get("properties", {})
        required = list(schema.get("required", ()))
        get = self._new("g")
        out = [f"{pad}{get} = {var}.get"]
        out += [
            f"{pad}if {key!r} not in {var}: return False" for key in required if key not in props
        ]
        for key, sub in props.items():
            needed = key in required
            classes = self._classes_only(sub)
            if classes is not None:  # the common case, one test: of the class, or absent
                allowed = self._constant(frozenset(classes if needed else (*classes, _Missing)))
                out.append(
                    f"{pad}if {get}({key!r}, _MISSING).__class__ not in {allowed}: return False"
                )
                continue
            value = self._new("v")
            inner = self.block(sub, value, depth + (0 if needed else 1))
            if needed:
                out.append(f"{pad}{value} = {get}({key!r}, _MISSING)")
                out.append(f"{pad}if {value} is _MISSING: return False")
                out += inner
            elif inner:
                out.append(f"{pad}{value} = {get}({key!r}, _MISSING)")
                out.append(f"{pad}if {value} is not _MISSING:")
                out += inner
        extra = schema.get("additionalProperties", True)
        if extra is True:
            return out
        key_var = self._new("k")
        declared = self._constant(frozenset(props))
        if extra is False:
            out += [
                f"{pad}for {key_var} in {var}:",
                f"{pad}    if {key_var} not in {declared}: return False",
            ]
            return out
        value = self._new("v")
        inner = self.block(extra, value, depth + 2)
        if inner:
            out += [f"{pad}for {key_var}, {value} in {var}.items():"]
            if props:
                out.append(f"{pad}    if {key_var} in {declared}: continue")
            out += inner
        return out
