"""Layers (overlays): manifest sets checked one by one, then merged in order.

Within one layer an object declared twice is an error, as in any set of manifests. An entry
of a later layer for an object an earlier layer declared merges into it (how is the kind's
business, `Kind.merge`: what the entry writes replaces the earlier values, portal settings
key by key, lists as a whole); an entry that matches nothing earlier adds an object; the
`prune` keys of a later layer override the earlier ones, kind by kind. Each object that
several layers wrote keeps the entries behind it (`Origins`), so a change can name the entry
of the latest layer that wrote one of its differing fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds import kinds, prunable
from cincopa_sync.manifest.interpolate import template_parts
from cincopa_sync.manifest.model import Origins
from cincopa_sync.manifest.semantic import Builder, Collected


def merge_layers(builders: Sequence[Builder]) -> tuple[Collected, dict[str, Origins]]:
    """The layers' specs as one desired state (built with `record_keys`), and the origins of
    every object more than one layer wrote, by address."""
    out = Collected({kind.name: [] for kind in kinds()})
    for builder in builders:
        out.problems += builder.out.problems
        out.warnings += builder.out.warnings
    origins: dict[str, Origins] = {}
    for kind in kinds():
        merged: dict[str, Any] = {}
        first: dict[str, frozenset[str]] = {}  # what the first entry of each object wrote
        entries: dict[str, list[tuple[Location, frozenset[str]]]] = {}  # objects merged only
        for builder in builders:
            assert builder.wrote is not None, "a layer is built with record_keys=True"
            for spec, wrote in zip(
                builder.out.specs[kind.name], builder.wrote[kind.name], strict=True
            ):
                key = kind.identity(spec)
                earlier = merged.get(key)
                if earlier is None:
                    merged[key], first[key] = spec, wrote
                    continue
                merged[key] = kind.merge(earlier, spec, wrote)
                entries.setdefault(key, [(earlier.location, first[key])])
                entries[key].append((spec.location, wrote))
        out.specs[kind.name] = list(merged.values())
        out.problems += kind.check_merged(out.specs[kind.name])
        for key, written in entries.items():
            origins[merged[key].address] = Origins(tuple(written))
    prune: dict[str, bool] = {}
    for builder in builders:
        prune.update({key: value for key, (value, _where) in builder.prune.items()})
    out.prune = {kind.name: prune.get(kind.plural, False) for kind in prunable()}
    return out, origins


def secrets_from_variables(
    builders: Sequence[Builder], variables: Mapping[str, str]
) -> list[Problem]:
    """A secret field that reads a name the config's `vars` set is refused, at the entry of
    the layer that wrote it: vars are plain values, printed in plans and kept in the
    repository; secrets come from the process environment only."""
    problems = []
    for specs in (specs for b in builders for specs in b.out.specs.values()):
        for spec in specs:
            for _value, template in spec.secrets():
                names = sorted(
                    {name for part, name in template_parts(template) if part == "env"}
                    & variables.keys()
                )
                if names:
                    problems.append(
                        Problem(
                            spec.location,
                            f"a secret of this entry reads {', '.join(names)}, which the "
                            "environment's vars set: secrets come only from the process "
                            "environment (vars are plain values, shown in plans)",
                        )
                    )
    return problems
