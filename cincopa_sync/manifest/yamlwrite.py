"""Scalars for manifests we write (export): text the strict loader reads back exactly.

Every string is a double-quoted scalar in JSON spelling, which YAML reads as written: no
retyping (`no`, `0123`, `22:22` stay strings), no comments (`#`), newlines as `\\n`. What
JSON leaves raw but YAML may not carry (DEL, C1 controls, NEL and the Unicode line
separators, which YAML would fold, a BOM, non-characters) goes in as a `\\u` escape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_NEEDS_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def quoted(value: str) -> str:
    """A double-quoted scalar that reads back as `value`, with no interpolation applied:
    for keys (never interpolated) and for `${NAME}` references meant as such."""
    return _NEEDS_ESCAPE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False)
    )


def literal(value: str) -> str:
    """A string value that must reach the model exactly: `${` becomes `$${`, our
    interpolation's literal, so `${X}` in a caption is never taken as a variable."""
    return quoted(value.replace("${", "$${"))


def reference(name: str) -> str:
    """A `${NAME}` reference to an environment variable."""
    return quoted("${" + name + "}")


def flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


_NOT_IN_COMMENT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def comment(text: str) -> str:
    """A one-line comment: a line break or control character in `text` is shown escaped,
    so it can neither end the comment nor make the file unreadable."""
    return "# " + _NOT_IN_COMMENT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What the manifest schema refuses ($defs line and text): control characters, in free
# text all but tabs and line breaks.
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


UNWRITABLE = "holds text a manifest cannot hold (invalid Unicode or a control character)"


def writable(value: str, *, one_line: bool = False) -> bool:
    """Whether a manifest can hold the text: it goes into a UTF-8 file (a lone surrogate
    cannot), and holds no control character (none at all for `one_line`, which is what
    identities, tags, events and URLs are; free text may hold tabs and line breaks)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return (_NOT_IN_LINE if one_line else _NOT_IN_TEXT).search(value) is None
