"""Contract variants: the emulator answering in a deliberately different shape.

The real API may differ from the contract the tool was written against; a variant serves
one such difference, so that `cincopa-sync doctor` and the client's shape errors can be
tried and tested. Only the answers change: the account, the parameters the emulator
accepts and its writes are the contract's.
"""

from __future__ import annotations

from typing import Any

PORTALS_KEY = "portals-key"
TAGS_ARRAY = "tags-array"
NO_ITEMS_DATA = "no-items-data"
NUMBERS_AS_STRINGS = "numbers-as-strings"

VARIANTS: dict[str, str] = {
    PORTALS_KEY: "portal.list answers under `items` instead of `portals`",
    TAGS_ARRAY: 'asset.list items carry `tags` as a JSON array, not as ",a,b,"',
    NO_ITEMS_DATA: "asset.list answers without `items_data` (no paging information)",
    NUMBERS_AS_STRINGS: "every number in every answer comes as a string of digits",
}


def check_variant(name: str | None) -> str | None:
    """The variant's name, or ValueError naming the known ones."""
    if name is None or name in VARIANTS:
        return name
    known = ", ".join(sorted(VARIANTS))
    raise ValueError(f"unknown variant {name!r}: one of {known}")


def reshape(variant: str | None, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The answer `payload` (the whole JSON object) as the variant sends it."""
    if variant == PORTALS_KEY and endpoint == "portal.list" and "portals" in payload:
        payload["items"] = payload.pop("portals")
    elif variant == TAGS_ARRAY and endpoint == "asset.list":
        for item in payload.get("items", ()):
            item["tags"] = [t for t in str(item.get("tags") or "").split(",") if t]
    elif variant == NO_ITEMS_DATA and endpoint == "asset.list":
        payload.pop("items_data", None)
    elif variant == NUMBERS_AS_STRINGS:
        payload = _numbers_as_strings(payload)
    return payload


def _numbers_as_strings(value: Any) -> Any:
    if value.__class__ is int:  # not bool: true and false stay what they are
        return str(value)
    if isinstance(value, dict):
        return {k: _numbers_as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_strings(v) for v in value]
    return value
