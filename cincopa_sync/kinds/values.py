"""A compact, read-only mapping for the many small records of a large account.

A plan of a million assets holds a million desired entries and a million live ones. As
dicts (behind a MappingProxyType for the entries) each costs 300 to 460 bytes before its
values; a `Values` is one tuple: the layout (name -> index, shared by every record with
the same names in the same order) first, then the values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# names (in order) -> name -> index in the tuple; a handful of layouts in a run
_LAYOUTS: dict[tuple[str, ...], dict[str, int]] = {}
_item = tuple.__getitem__
_size = tuple.__len__


def layout(names: Iterable[str]) -> dict[str, int]:
    """The shared layout for these names, in this order."""
    key = tuple(names)
    found = _LAYOUTS.get(key)
    if found is None:
        found = _LAYOUTS[key] = {name: index for index, name in enumerate(key, start=1)}
    return found


class Values(tuple):
    """An immutable mapping from names to values, in one tuple (see the module).

    It is a Mapping for every reader (registered as one); that it is a tuple is only how
    it is stored: it compares, iterates and prints as a mapping."""

    __slots__ = ()

    def __new__(cls, names: dict[str, int], values: Iterable[Any]) -> Values:
        return tuple.__new__(cls, (names, *values))

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Values:
        return cls(layout(mapping), mapping.values())

    def __getitem__(self, name: str) -> Any:  # type: ignore[override]
        return _item(self, _item(self, 0)[name])

    def get(self, name: str, default: Any = None) -> Any:
        index = _item(self, 0).get(name)
        return default if index is None else _item(self, index)

    def __contains__(self, name: object) -> bool:
        return name in _item(self, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(_item(self, 0))

    def __len__(self) -> int:
        return _size(self) - 1

    def keys(self):  # type: ignore[no-untyped-def]
        return _item(self, 0).keys()

    def values(self):  # type: ignore[no-untyped-def]
        return tuple.__getitem__(self, slice(1, None))

    def items(self):  # type: ignore[no-untyped-def]
        return list(zip(_item(self, 0), self.values(), strict=True))

    def _dict(self) -> dict[str, Any]:
        return dict(zip(_item(self, 0), self.values(), strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Values):
            return self._dict() == other._dict()
        if isinstance(other, Mapping):
            return self._dict() == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._dict())

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return Values.of, (self._dict(),)


Mapping.register(Values)
