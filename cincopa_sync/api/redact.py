"""Keep the API token (which travels in the query string) out of every text we emit."""

from __future__ import annotations

import re

_TOKEN_IN_QUERY = re.compile(r"(api_token=)[^&\s'\"#]*", re.IGNORECASE)
MASK = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Mask each secret (exact occurrences) and any `api_token=` query value."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{MASK}", text)


class Secret:
    """A value that shows as *** in every repr and str: only reveal() gives it out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__
