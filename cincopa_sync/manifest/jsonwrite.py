"""Manifests as JSON text (`export --format json`): one entry a line.

An entry a line keeps a change to one object a one-line diff in review, and lets the fast
JSON parse find every entry's position as it goes. Strings are written as `json` writes
them, non-ASCII characters as they are; the loader reads them back exactly (no retyping,
no interpolation beyond the `$${` the YAML export writes too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def _one_line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def manifest_json(root: Mapping[str, object]) -> str:
    """A manifest's top-level mapping as JSON text: one top-level key a line, and one
    line for each entry of a list."""
    parts = []
    for key, value in root.items():
        head = f"  {_one_line(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_one_line(item)}" for item in value)
            parts.append(f"{head}[\n{items}\n  ]")
        else:
            parts.append(head + _one_line(value))
    if not parts:
        return "{}\n"
    return "{\n" + ",\n".join(parts) + "\n}\n"
