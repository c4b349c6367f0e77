"""How values are shown to people, in every output: placeholders and quoting.

A placeholder is a plain string for a value that cannot or must not be shown. A real
value is always shown quoted ("(none)" with quotes is a caption that reads so), a
placeholder never is, so the two cannot be confused.
"""

from __future__ import annotations

import json
import re

SENSITIVE = "(sensitive)"  # a secret: a security key, a Slack URL
NONE = "(none)"  # absent: no value, no object, no key
SET = "(set)"  # present but unreadable: a write-only key the API says exists
AFTER_UPLOAD = "(after upload)"  # known once an upload answers: its status id, the new rid

PLACEHOLDERS = frozenset({SENSITIVE, NONE, SET, AFTER_UPLOAD})


def show_value(value: object, *, sensitive: bool = False) -> str:
    """A value for people: strings quoted (escapes visible), absent as (none); a sensitive
    value only as a placeholder."""
    if value is None:
        return NONE
    if sensitive:
        return value if value in PLACEHOLDERS else SENSITIVE  # type: ignore[return-value]
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


# Characters that would break a line or change a terminal's state if printed as they are:
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Text for one line of output: each control character as its JSON escape (`\\n`,
    `\\u0000`), so a value holding a line break cannot forge a line of a plan or a report."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


class Unresolved(str):
    """A secret whose environment variables were not set when the manifests were loaded:
    plans carry and show it (as (sensitive)), no call may send it. Its text is the value
    as written (`${CINCOPA_HOOK_KEY_1}`), never a secret; `missing` names the variables."""

    missing: tuple[str, ...]

    def __new__(cls, template: str, missing: tuple[str, ...] | list[str]) -> Unresolved:
        value = super().__new__(cls, template)
        value.missing = tuple(missing)
        return value

    def __reduce__(self) -> tuple:
        return (Unresolved, (str(self), self.missing))


def unresolved_names(values: object) -> list[str]:
    """The variables named by the Unresolved values among `values`, sorted, once each."""
    found = {name for v in values if isinstance(v, Unresolved) for name in v.missing}  # type: ignore[attr-defined]
    return sorted(found)
