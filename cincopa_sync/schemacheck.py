"""A fast predicate compiled from a JSON Schema: True only for instances it accepts.

Used where jsonschema would cost too much per item (the entries of a manifest, the items
of a listing): the predicate decides, and only an instance it rejects goes through
jsonschema's `iter_errors`, so messages come from one place. It is conservative: it may
reject a valid instance (jsonschema then finds nothing), never the reverse; a keyword it
does not know makes it reject everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


def _annotation(keyword: str) -> bool:
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
    if {k for k in set(merged) & set(target) if not _annotation(k)}:
        raise _Unsupported("$ref with overlapping keywords")
    return {**target, **merged}


def compile_check(schema: dict | bool, root: dict) -> Check:
    """A predicate that is True only for instances the schema accepts."""
    try:
        return _compile(schema, root)
    except (_Unsupported, KeyError):
        return _never


def _never(_value: object) -> bool:
    return False


def _always(_value: object) -> bool:
    return True


def _is_str(v: object) -> bool:
    return v.__class__ is str


def _is_int(v: object) -> bool:
    return v.__class__ is int


def _is_number(v: object) -> bool:
    return v.__class__ is int or v.__class__ is float


def _is_bool(v: object) -> bool:
    return v is True or v is False


def _is_null(v: object) -> bool:
    return v is None


def _is_object(v: object) -> bool:
    return isinstance(v, dict)


def _is_array(v: object) -> bool:
    return isinstance(v, list)


_TYPE_CHECKS: dict[str, Check] = {
    "string": _is_str,
    "integer": _is_int,
    "number": _is_number,
    "boolean": _is_bool,
    "null": _is_null,
    "object": _is_object,
    "array": _is_array,
}
_KNOWN = frozenset(
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


def _compile(schema: dict | bool, root: dict) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    schema = resolve(root, schema)
    checks: list[Check] = []
    unknown = {k for k in set(schema) - _KNOWN if not _annotation(k)}
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        preds = tuple(_TYPE_CHECKS[t] for t in names)
        checks.append(preds[0] if len(preds) == 1 else (lambda v: any(p(v) for p in preds)))
    if "enum" in schema:
        allowed = schema["enum"]
        if not all(isinstance(a, str) for a in allowed):
            raise _Unsupported("enum of non-strings")
        members = frozenset(allowed)
        checks.append(lambda v: v.__class__ is str and v in members)
    if "const" in schema:
        const = schema["const"]
        if const.__class__ not in (str, int, bool):
            raise _Unsupported("const")
        checks.append(lambda v: v.__class__ is const.__class__ and v == const)
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        checks.append(lambda v: v.__class__ is not str or search(v) is not None)
    if "minLength" in schema:
        low = schema["minLength"]
        checks.append(lambda v: v.__class__ is not str or len(v) >= low)
    if "maxLength" in schema:
        high = schema["maxLength"]
        checks.append(lambda v: v.__class__ is not str or len(v) <= high)
    if "minimum" in schema:
        least = schema["minimum"]
        checks.append(lambda v: not _is_number(v) or v >= least)
    if "maximum" in schema:
        most = schema["maximum"]
        checks.append(lambda v: not _is_number(v) or v <= most)
    if "minItems" in schema or "maxItems" in schema:
        lo = schema.get("minItems", 0)
        hi = schema.get("maxItems")
        checks.append(
            lambda v: not isinstance(v, list) or (len(v) >= lo and (hi is None or len(v) <= hi))
        )
    if "items" in schema:
        item = _compile(schema["items"], root)
        checks.append(lambda v: not isinstance(v, list) or all(map(item, v)))
    if {"properties", "additionalProperties", "required"} & set(schema):
        checks.append(_object_check(schema, root))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    first, *rest = checks
    rest_t = tuple(rest)

    def check_all(v: object) -> bool:
        if not first(v):
            return False
        return all(c(v) for c in rest_t)

    return check_all


_MISSING = object()


def _object_check(schema: dict, root: dict) -> Check:
    props = {k: _compile(s, root) for k, s in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is False else _compile(extra, root)
    required = tuple(schema.get("required", ()))
    if extra_check is _always:
        # Extra keys are allowed: only the declared ones need a look, however many an
        # instance has (an API item carries many fields nobody reads).
        declared = tuple((k, c, k in required) for k, c in props.items())
        declared += tuple((r, _always, True) for r in required if r not in props)

        def check_declared(v: object) -> bool:
            if not isinstance(v, dict):
                return True  # not an object: the type keyword decides
            get = v.get
            for k, c, needed in declared:
                x = get(k, _MISSING)
                if x is _MISSING:
                    if needed:
                        return False
                elif not c(x):
                    return False
            return True

        return check_declared

    get = props.get

    def check_object(v: object) -> bool:
        if not isinstance(v, dict):
            return True  # not an object: the type keyword decides
        for k, x in v.items():
            c = get(k)
            if c is None:
                if extra_check is None or not extra_check(x):
                    return False
            elif not c(x):
                return False
        return all(r in v for r in required)

    return check_object
