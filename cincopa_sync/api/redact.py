"""Keep the API token (which travels in the query string) and every other secret of a run
out of every text we emit: the one redactor that every message, log line and output goes
through.

A secret is masked as `***` in any of its spellings: as written, percent-encoded (upper-
or lowercase escapes, `+` or `%20` for a space), JSON-escaped (`\\u00e9`, `\\/`), and as a
Python bytes literal shows it (`\\xc3\\xa9`, what a header dump prints):
- wherever PART_MIN or more of its characters appear in a row: a whole secret, and an API
  message that quotes part of a key or a Slack path without its host. For a URL only what
  follows its host counts (`https://hooks.slack.com/` is no secret: it shows, the rest is
  masked); for a Slack incoming-webhook URL, only what follows `/services/`;
- a spelling shorter than PART_MIN wherever it stands alone (not inside a longer word: a
  one-letter test token must not mask every `t`).

The text is probed every _GRAM characters against an index of the secrets' parts, so a
redact() costs about the same for one secret or a hundred (about 0.1 s per MB of text).
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import quote, quote_plus, urlsplit

_TOKEN_IN_QUERY = re.compile(r"(api_token=)[^&\s'\"#]*", re.IGNORECASE)
MASK = "***"
PART_MIN = 9  # a run of this many characters of a secret is masked
_GRAM = 5  # the text is probed every _GRAM characters; a run of PART_MIN always spans a probe
assert PART_MIN >= 2 * _GRAM - 1


class _Secrets:
    """Every spelling of every secret, and the index that finds their parts."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._short: list[str] = []
        self.short: re.Pattern[str] | None = None  # short spellings, as whole words
        self.grams: dict[str, list[tuple[str, int]]] = {}  # 5 characters -> (part, offset)

    def add(self, value: str) -> None:
        if value in self.values:
            return
        self.values.add(value)
        spellings = _spellings(value)
        short = sorted({*self._short, *(w for w in spellings if len(w) < PART_MIN)}, key=len)
        if short != self._short:
            self._short = short
            alternatives = "|".join(re.escape(w) for w in reversed(short))
            self.short = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        # Longer spellings are found by their parts: a whole one is a run of its part.
        for part in _spellings(_secret_part(value)):
            if len(part) < PART_MIN:
                continue
            for offset in range(len(part) - _GRAM + 1):
                self.grams.setdefault(part[offset : offset + _GRAM], []).append((part, offset))

    def parts_in(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each run of PART_MIN or more characters of a secret in text."""
        if not self.grams:
            return []
        get = self.grams.get
        found = []
        for probe in range(0, len(text) - _GRAM + 1, _GRAM):
            hits = get(text[probe : probe + _GRAM])
            if hits is not None:
                for part, offset in hits:
                    start, end = _extend(text, probe, part, offset)
                    if end - start >= PART_MIN:
                        found.append((start, end))
        return found


_lock = threading.Lock()
_known = _Secrets()


def forget_secrets() -> None:
    """Start afresh: each command registers its own (tests run many in one process)."""
    global _known
    with _lock:
        _known = _Secrets()


def register_secrets(*values: str | None) -> None:
    """Mask these values, in every spelling and in part, in every later redact()."""
    with _lock:
        for value in values:
            if value:
                _known.add(value)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every registered secret, and each of `secrets`, masked, and any
    `api_token=` value."""
    with _lock:
        known = _known
    new = [value for value in secrets if value and value not in known.values]
    if new:
        extra = _Secrets()
        for value in new:
            extra.add(value)
        text = _mask(text, extra)
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{MASK}", _mask(text, known))


def _mask(text: str, secrets: _Secrets) -> str:
    if secrets.short is not None:
        text = secrets.short.sub(MASK, text)
    runs = secrets.parts_in(text)
    if not runs:
        return text
    out, position = [], 0
    for start, end in sorted(runs):
        if end <= position:
            continue
        out.append(text[position : max(start, position)])
        if start >= position:
            out.append(MASK)
        position = end
    out.append(text[position:])
    return "".join(out)


def _extend(text: str, at: int, part: str, offset: int) -> tuple[int, int]:
    """The longest run of `part` around text[at] that lines up with part[offset]."""
    start, low = at, offset
    while start > 0 and low > 0 and text[start - 1] == part[low - 1]:
        start, low = start - 1, low - 1
    end, high = at, offset
    while end < len(text) and high < len(part) and text[end] == part[high]:
        end, high = end + 1, high + 1
    return start, end


def _spellings(value: str) -> set[str]:
    """A value as written and as URLs, JSON and bytes literals spell it."""
    forms = {value}
    for encoded in (quote(value, safe=""), quote(value, safe="/:"), quote_plus(value)):
        forms |= {encoded, _lower_escapes(encoded)}
    for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms.add(repr(value.encode("utf-8", "surrogatepass"))[2:-1])
    return forms


def _lower_escapes(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)


def _secret_part(value: str) -> str:
    """What of a value is secret in part: a URL's host is not, nor a Slack URL's
    `/services/` (every Slack incoming webhook has both)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if not (parts.scheme and parts.netloc):
        return value
    rest = value[len(parts.scheme) + 3 :]  # after "scheme://"
    host_end = min((i for i in (rest.find(c) for c in "/?#\\") if i >= 0), default=len(rest))
    userinfo, at, _ = rest[:host_end].rpartition("@")
    secret = (userinfo + at if at else "") + rest[host_end:]
    return secret.removeprefix("/services/")


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
