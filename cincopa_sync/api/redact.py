"""Keep the API token (which travels in the query string) and the manifests' secrets out
of every text we emit."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus

_TOKEN_IN_QUERY = re.compile(r"(api_token=)[^&\s'\"#]*", re.IGNORECASE)
MASK = "***"

# Secrets known to this process (the token, webhook keys, Slack URLs), masked by every
# redact() call: the last line of defence for messages that quote a value we did not
# expect them to (an internal error, an API message about another call).
_registered: list[str] = []
_lock = threading.Lock()


def forget_secrets() -> None:
    """Start afresh: each command registers its own (tests run many in one process)."""
    with _lock:
        _registered.clear()


def register_secrets(*values: str | None) -> None:
    """Mask these values, as written and as URLs spell them, in every later redact()."""
    forms = {f for v in values if v for f in (v, quote(v, safe=""), quote_plus(v))}
    with _lock:
        _registered[:] = sorted(set(_registered) | forms, key=len, reverse=True)


def redact(text: str, *secrets: str | None) -> str:
    """Mask each secret given or registered (longest first) and any `api_token=` value."""
    with _lock:
        known = list(_registered)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True) + known:
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
