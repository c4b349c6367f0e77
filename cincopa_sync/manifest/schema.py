"""Validation against `schemas/manifest.schema.json`, the one definition of the structure.

Speed: jsonschema is built once. The top level is validated with the entry lists' `items`
left out; each entry is then checked by a predicate compiled from its subschema (a few
type and membership tests), and only an entry the predicate rejects goes through
jsonschema's `iter_errors`, so messages and locations come from one place. The predicate
is conservative: it may reject a valid entry (jsonschema then finds nothing), never the
reverse; a schema keyword it does not know makes it reject everything.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cincopa_sync.errors import Problem
from cincopa_sync.kinds import kinds
from cincopa_sync.manifest.yamlload import Document, position_of, spot_of
from cincopa_sync.resources import schema_path
from cincopa_sync.schemacheck import Check, compile_check, inline, resolve
from cincopa_sync.shown import SENSITIVE, escape_controls

# The repository's schemas/ in a checkout, the packaged copy when installed.
SCHEMA_PATH: Path = schema_path("manifest.schema.json")


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> dict:
    """The manifest JSON Schema as a fresh dict."""
    return json.loads(_schema_text())


class _Compiled:
    """Validators and fast predicates, built once per process."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.root = Draft202012Validator(schema, format_checker=None)
        top = copy.deepcopy(schema)
        # Entry lists are checked entry by entry below; the top level needs only their type.
        self.entries: dict[str, tuple[Check, Draft202012Validator]] = {}
        for key, prop in top["properties"].items():
            items = prop.pop("items", None)
            if items is not None:
                resolved = resolve(schema, items)
                self.entries[key] = (
                    compile_check(resolved, schema),
                    self.root.evolve(schema=inline(schema, resolved)),
                )
        self.top = Draft202012Validator(top, format_checker=None)


@lru_cache(maxsize=1)
def compiled() -> _Compiled:
    return _Compiled(load_schema())


def validate(doc: Document) -> set[tuple[str, int]]:
    """Validate a parsed, interpolated document; problems go to `doc.problems`.

    Returns the (top-level key, index) of the entries with errors; index -1 when the
    value of the top-level key itself is wrong, and ("", -1) when the whole document is.
    """
    comp = compiled()
    root = {} if doc.root is None else doc.root
    bad: set[tuple[str, int]] = set()
    top_errors = list(comp.top.iter_errors(root))
    for error in top_errors:
        doc.problems.extend(describe(error, doc, ()))
    if not isinstance(root, dict):
        bad.add(("", -1))
        return bad
    failed_keys = {e.absolute_path[0] for e in top_errors if e.absolute_path}
    bad.update((key, -1) for key in failed_keys)
    for key, (check, validator) in comp.entries.items():
        entries = root.get(key)
        if key in failed_keys or not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if check(entry):
                continue
            errors = list(validator.iter_errors(entry))
            if errors:
                bad.add((key, index))
                for error in errors:
                    doc.problems.extend(describe(error, doc, (key, index)))
    return bad


# --- messages ---------------------------------------------------------------------------

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
# Booleans in YAML 1.1 that stay strings here.
_YAML11 = frozenset(("yes", "no", "on", "off", "y", "n"))


def describe(error: ValidationError, doc: Document, prefix: tuple) -> list[Problem]:
    """Readable, located problems for one jsonschema error."""
    path = (*prefix, *error.absolute_path)
    if (
        doc.broken
        and error.validator != "additionalProperties"
        and spot_of(doc, path) in doc.broken
    ):
        return []  # a value interpolation could not expand: reported once, by it
    name = _name(path)
    secret = bool(error.schema.get("writeOnly")) if isinstance(error.schema, dict) else False
    kind = error.validator
    value = error.instance
    if kind == "additionalProperties" and error.validator_value is False:
        known = tuple(error.schema.get("properties", {}))
        problems = []
        for extra in _extra_keys(value, error.schema):
            if path:
                message = f"unknown key '{escape_controls(extra)}' in {name}"
            else:
                message = f"unknown top-level key '{escape_controls(extra)}'"
            close = _closest(extra, known)
            if close:
                message += f" (did you mean '{close}'?)"
            problems.append(Problem(position_of(doc, (*path, extra), key=True), message))
        return problems
    location = position_of(doc, path)
    if kind == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        wanted = _wanted(expected)
        message = f"{name} must be {wanted}, got {_shown(value, doc, path, secret)}"
        template = doc.templates.get(spot_of(doc, path)) if isinstance(value, str) else None
        if template and "string" not in expected:
            message += (
                f" (from {template}: interpolation always gives text, so a variable cannot "
                f"give {wanted}; write the value itself)"
            )
        elif "string" in expected and (value is None or isinstance(value, (bool, int, float))):
            message += _quote_hint(value, doc, path, secret)
        elif (
            expected == ["boolean"]
            and isinstance(value, str)
            and value.lower() in _YAML11
            and not doc.file.endswith(".json")  # a YAML habit; in JSON it was quoted
        ):
            message += " (YAML 1.2 booleans are only true and false)"
        return [Problem(location, message)]
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return [Problem(location, f"{name} must be one of: {allowed}; got {_plain(value)}")]
    if kind == "const":
        return [Problem(location, f"{name} must be {error.validator_value}, got {_plain(value)}")]
    if kind == "pattern":
        rule = error.schema.get("description") or f"the pattern {error.validator_value}"
        template = doc.templates.get(spot_of(doc, path))
        if secret:
            shown = SENSITIVE
        elif template:  # from the environment, which may hold a secret: name it, not its value
            shown = f"from {template}"
        else:
            shown = repr(_no_path(value))
        return [Problem(location, f"{name} {shown} is not valid: it must be {rule}")]
    if kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        key = missing.group(1) if missing else error.message
        return [Problem(location, f"{name} is missing the required key '{key}'")]
    if kind == "minItems":
        count = error.validator_value
        needs = "must not be empty" if count == 1 else f"must have at least {count} items"
        return [Problem(location, f"{name} {needs}")]
    if kind == "minLength":
        count = error.validator_value
        needs = "must not be empty" if count == 1 else f"must be at least {count} characters"
        return [Problem(location, f"{name} {needs}")]
    if kind == "minimum":
        return [Problem(location, f"{name} must be at least {error.validator_value}, got {value}")]
    return [Problem(location, f"{name}: {error.message}")]


def _no_path(value: object) -> object:
    """A URL-like value without its path and query, which may carry a credential (a Slack
    webhook's URL does): the message points at the line anyway."""
    if not isinstance(value, str):
        return value
    scheme, sep, rest = value.rpartition("://")
    head = f"{scheme}{sep}{rest.split('/', 1)[0]}"
    return head + "/…" if len(head) < len(value) else value


_CUTOFF = 0.6  # difflib's default: how alike a suggestion must be


@lru_cache(maxsize=4096)
def _closest(key: str, known: tuple[str, ...]) -> str | None:
    """The known key an unknown one most likely meant, as difflib.get_close_matches finds
    it; cached (one typo repeated in 100,000 entries is one question), and the known keys
    that cannot reach the cutoff are dropped first, in C, so that 100,000 different
    unknown keys cost 100,000 cheap checks rather than 100,000 difflib comparisons."""
    alphabet = dict.fromkeys(map(ord, key))
    candidates = [k for k, theirs in _alphabets(known) if _may_match(key, alphabet, k, theirs)]
    if not candidates:
        return None
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=_CUTOFF)
    return close[0] if close else None


@lru_cache(maxsize=64)
def _alphabets(known: tuple[str, ...]) -> tuple[tuple[str, dict[int, None]], ...]:
    return tuple((k, dict.fromkeys(map(ord, k))) for k in known)


def _may_match(a: str, a_chars: dict[int, None], b: str, b_chars: dict[int, None]) -> bool:
    """False when difflib's ratio of a and b is surely under the cutoff: the characters
    two strings can match are at most those of each that occur in the other."""
    in_b = len(a) - len(a.translate(b_chars))
    in_a = len(b) - len(b.translate(a_chars))
    return 2 * min(in_a, in_b) >= _CUTOFF * (len(a) + len(b))


def _wanted(types: list[str]) -> str:
    if len(types) == 1:
        return _TYPE_WORDS.get(types[0], types[0])
    if "number" in types:
        types = [t for t in types if t != "integer"]  # every integer is a number
    words = ["true/false" if t == "boolean" else _TYPE_WORDS.get(t, t) for t in types]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _name(path: tuple) -> str:
    """How a message names the place: `caption`, `tags[2]`, `settings.theme`, `asset`."""
    if not path:
        return "the manifest"
    entry_names = {kind.plural: kind.name for kind in kinds()}
    if path[0] not in entry_names:  # prune.portals, environments.staging.manifests[0]
        return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)[1:]
    if len(path) == 2 and isinstance(path[1], int):
        return entry_names[path[0]]
    last = max(i for i, step in enumerate(path) if isinstance(step, str))
    name = escape_controls(str(path[last]))
    if last > 0 and path[last - 1] == "settings":
        name = f"settings.{name}"
    for step in path[last + 1 :]:
        name += f"[{step}]"
    return name


def _extra_keys(instance: object, schema: dict) -> list[str]:
    if not isinstance(instance, dict):
        return []
    known = schema.get("properties", {})
    return [k for k in instance if k not in known]


def _plain(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value) if isinstance(value, (bool, type(None))) else str(value)


def _shown(value: object, doc: Document, path: tuple, secret: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if secret:
        return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
            type(value), "a value"
        )
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {_source(value, doc, path)}"
    text = value if len(value) <= 60 else value[:57] + "..."
    return f"string {text!r}"


def _source(value: object, doc: Document, path: tuple) -> str:
    return doc.source_text(spot_of(doc, path), value)


def _quote_hint(value: object, doc: Document, path: tuple, secret: bool) -> str:
    text = _source(value, doc, path)
    if text == "":
        return ' (write "" for an empty string)'
    if secret:
        return " (quote it)"
    return f" (quote it: {json.dumps(text, ensure_ascii=False)})"
