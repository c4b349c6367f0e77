"""The desired state: what the manifests ask for, one tuple of specs per resource kind.

Each kind defines its own spec (kinds/<kind>.py); values are canonical (text as
written, sets as frozensets, numbers as int, portal settings as str -> str). Only the
fields a manifest writes appear in a spec: the rest are unmanaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cincopa_sync.errors import Location, Problem
from cincopa_sync.shown import Unresolved


@dataclass(frozen=True, slots=True)
class Origins:
    """The entries that wrote one object merged from several layers, in layer order, each
    with the keys it wrote (`settings.theme` for one key of a map field)."""

    entries: tuple[tuple[Location, frozenset[str]], ...]

    def latest(self, keys: Iterable[str]) -> Location:
        """The entry of the latest layer that wrote one of `keys`; else the latest entry."""
        wanted = set(keys)
        for where, wrote in reversed(self.entries):
            if wrote & wanted:
                return where
        return self.entries[-1][0]


@dataclass(frozen=True, slots=True)
class DesiredState:
    specs: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # kind -> specs
    prune: Mapping[str, bool] = field(default_factory=dict)  # kind -> prune is on
    files: tuple[str, ...] = ()
    digest: str = ""  # sha256 over the manifest files (path and bytes), for saved plans
    warnings: tuple[Problem, ...] = ()
    layers: int = 1
    # By address, the entries behind each object that more than one layer wrote.
    origins: Mapping[str, Origins] = field(default_factory=dict)

    def of(self, kind: str) -> tuple[Any, ...]:
        """The specs of one kind, in manifest order."""
        return self.specs.get(kind, ())

    def prunes(self, kind: str) -> bool:
        return bool(self.prune.get(kind, False))

    def all_specs(self) -> Iterator[Any]:
        for specs in self.specs.values():
            yield from specs

    def secret_values(self) -> list[str]:
        """Every secret the manifests hold (to be masked in whatever is printed)."""
        return [
            value
            for spec in self.all_specs()
            for value, _ in spec.secrets()
            if not isinstance(value, Unresolved)  # not a secret: the text as written
        ]
