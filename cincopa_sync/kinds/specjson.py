"""A spec as JSON and back, for the desired state a saved plan records: the generic form
every kind gets (`Kind.spec_to_json` / `Kind.spec_from_json`).

A spec is a dataclass; each field is written as its type hint says: text as is, numbers,
booleans and None as JSON has them, a tuple as a list, a frozenset as a sorted list, a
Location as `file:line:column`, and the mapping of managed fields name by name, each
value in its Field's shape (a set as a sorted list, a map as an object). A field whose
metadata says `saved: False` (how a secret was written, say) is left out. Every secret of
the spec (`spec.secrets()`) is written as what `secret` gives for it, a reference: never
its value.

Reading is strict: a value of another type, a key the spec does not have, an unknown
managed field, a reference where the spec holds no secret (or a plain value where it
does), or anything not written exactly as this module would write it, is a ValueError
saying where. A file that reads back is one this version wrote, or could have.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cincopa_sync.errors import Location
from cincopa_sync.kinds.values import Values

if TYPE_CHECKING:
    from cincopa_sync.kinds.base import Kind

SECRET = "secret"  # {"secret": ref}: a secret value by reference


def to_json(kind: Kind, spec: Any, secret: Callable[[str], object]) -> dict[str, Any]:
    """`spec` as JSON; each of its secrets as `secret(value)`."""
    hidden = {value for value, _ in spec.secrets()}
    hints = _hints(type(spec))

    def text(value: str) -> object:
        return secret(value) if value in hidden else value

    return {
        f.name: _encode(hints[f.name], getattr(spec, f.name), kind, text)
        for f in _saved_fields(type(spec))
    }


def from_json(kind: Kind, spec_class: type, data: object, reveal: Callable[[str], str]) -> Any:
    """The spec `data` describes, each reference's value from `reveal` (KeyError for an
    unknown one); ValueError for anything `to_json` would not have written."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    hints = _hints(spec_class)
    names = [f.name for f in _saved_fields(spec_class)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}")
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"missing key {missing[0]!r}")
    revealed: dict[str, str] = {}  # value -> its reference
    read: list[str] = []  # where a reference was read

    def text(value: object, where: str) -> str:
        if isinstance(value, dict) and set(value) == {SECRET} and isinstance(value[SECRET], str):
            try:
                real = reveal(value[SECRET])
            except KeyError:
                raise ValueError(f"{where}: unknown secret reference") from None
            revealed[real] = value[SECRET]
            read.append(where)
            return real
        if not isinstance(value, str):
            raise ValueError(f"{where}: not text")
        return value

    values = {name: _decode(hints[name], data[name], kind, text, name) for name in names}
    try:
        spec = spec_class(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a {kind.name}: {exc}") from None
    # A reference only in a field that holds a secret: as many as the spec has secrets
    # (a public field given the reference of a key whose value it then equals would
    # write back the same, and send the key as public text).
    if len(read) != len(spec.secrets()):
        raise ValueError(f"{read[-1] if read else '?'}: a secret reference where no secret goes")
    # Written back, it must be what was read: a reference only where the spec holds a
    # secret, sets sorted, nothing spelled otherwise.
    again = to_json(kind, spec, lambda value: {SECRET: revealed.get(value, "")})
    if again != data:
        differs = next((n for n in names if again.get(n) != data.get(n)), "?")
        raise ValueError(f"{differs}: not as this version writes it")
    return spec


@cache
def _hints(spec_class: type) -> dict[str, Any]:
    return typing.get_type_hints(spec_class)


def _saved_fields(spec_class: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(spec_class) if f.metadata.get("saved", True)]


def _parts(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    origin = typing.get_origin(hint)
    if origin is types.UnionType:
        origin = typing.Union
    return origin, typing.get_args(hint)


def _encode(hint: Any, value: Any, kind: Kind, text: Callable[[str], object]) -> Any:
    origin, args = _parts(hint)
    if hint is str:
        return text(value)
    if hint in (int, bool):
        return value
    if hint is Location:
        return str(value)
    if origin is typing.Union and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return None if value is None else _encode(inner, value, kind, text)
    if origin is tuple:
        return [_encode(args[0], item, kind, text) for item in value]
    if origin is frozenset:
        return [_encode(args[0], item, kind, text) for item in sorted(value)]
    if origin is Mapping:  # the managed fields, name by name
        return {name: _field_out(kind, name, v, text) for name, v in value.items()}
    raise TypeError(f"a spec field of type {hint!r} has no JSON form")


def _field_out(kind: Kind, name: str, value: Any, text: Callable[[str], object]) -> Any:
    shape = kind.field(name).shape
    if shape == "set":
        return [text(v) for v in sorted(value)]
    if shape == "map":
        return {k: text(v) for k, v in value.items()}
    return text(value) if isinstance(value, str) else value


def _decode(hint: Any, value: Any, kind: Kind, text: Callable[[object, str], str], at: str) -> Any:
    origin, args = _parts(hint)
    if hint is str:
        return text(value, at)
    if hint is bool:
        if value is not True and value is not False:
            raise ValueError(f"{at}: not true or false")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{at}: not a whole number")
        return value
    if hint is Location:
        return _location(value, at)
    if origin is typing.Union and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return None if value is None else _decode(inner, value, kind, text, at)
    if origin in (tuple, frozenset):
        if not isinstance(value, list):
            raise ValueError(f"{at}: not a list")
        items = [_decode(args[0], item, kind, text, f"{at}[{n}]") for n, item in enumerate(value)]
        return tuple(items) if origin is tuple else frozenset(items)
    if origin is Mapping:
        if not isinstance(value, dict):
            raise ValueError(f"{at}: not an object")
        return _managed(kind, value, text, at)
    raise TypeError(f"a spec field of type {hint!r} has no JSON form")


def _managed(
    kind: Kind, value: dict[str, Any], text: Callable[[object, str], str], at: str
) -> Mapping[str, object]:
    fields: dict[str, object] = {}
    for name, item in value.items():
        where = f"{at}.{name}"
        try:
            shape = kind.field(name).shape
        except KeyError:
            raise ValueError(f"{where}: not a field of a {kind.name}") from None
        if shape == "set":
            if not isinstance(item, list):
                raise ValueError(f"{where}: not a list")
            fields[name] = frozenset(text(v, f"{where}[{n}]") for n, v in enumerate(item))
        elif shape == "map":
            if not isinstance(item, dict):
                raise ValueError(f"{where}: not an object")
            fields[name] = MappingProxyType({k: text(v, f"{where}.{k}") for k, v in item.items()})
        elif isinstance(item, dict | str):  # text, or a secret's reference
            fields[name] = text(item, where)
        elif item is None or isinstance(item, bool | int):
            fields[name] = item
        else:
            raise ValueError(f"{where}: not a value a {kind.name} field takes")
    return Values.of(fields)


def _location(value: object, at: str) -> Location:
    if not isinstance(value, str):
        raise ValueError(f"{at}: not a place")
    file, _, rest = value.rpartition(":")
    file, _, line = file.rpartition(":")
    if not (file and line.isdigit() and rest.isdigit()):
        raise ValueError(f"{at}: not a place (file:line:column)")
    return Location(file, int(line), int(rest))
