"""`${NAME}` / `${NAME:-default}` in string values, from the environment; `$${` is a literal.

Runs after parsing and before schema validation. The parser already listed every string
value that holds a `$` (`Document.dollars`), so nothing else is visited. Keys are never
interpolated. A result is always a string.

A secret that is only ever sent (a webhook's security key: it cannot be read back, so it
is never compared) may come from variables that are not set: that is a warning, and the
value becomes an `Unresolved` placeholder that plans show but no call may send.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from cincopa_sync.errors import Problem
from cincopa_sync.manifest.yamlload import Document
from cincopa_sync.shown import Unresolved

# `$${` (a literal), `${...}` (a reference) or a `${` that is never closed.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
# A manifest may not read these: whatever it reads may end up in a plan, a pull-request
# comment or a public field.
FORBIDDEN = frozenset({"CINCOPA_API_TOKEN", "CINCOPA_SYNC_PLAN_KEY"})  # the token, the plan key
_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?\Z", re.DOTALL)
# `$NAME` without braces is not a reference (it stays as written): warn when it looks like
# an environment variable's name.
_BARE = re.compile(r"(?<!\$)\$([A-Z_][A-Z0-9_]+)")
_MISSING = "missing environment variable "


def expand(value: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The value with references replaced, and a message for each thing wrong in it.

    `${NAME:-default}` takes the default when NAME is unset or empty (as in POSIX shells).
    """
    errors: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token == "$${":
            return "${"
        body = match.group(1)
        if body is None:
            errors.append("unterminated '${' (write '$${' for a literal '${')")
            return token
        ref = _BODY.match(body)
        if ref is None:
            errors.append(
                f"invalid variable reference '{token}' (write ${{NAME}} or ${{NAME:-default}})"
            )
            return token
        name, default = ref.groups()
        if name in FORBIDDEN:
            errors.append(
                f"{name} cannot be read by a manifest: it would print the API token in plans"
            )
            return token
        found = env.get(name)
        if default is not None and not found:
            return default
        if found is None:
            message = _MISSING + name
            if message not in errors:
                errors.append(message)
            return token
        return found

    return _TOKEN.sub(replace, value), errors


def interpolate(
    doc: Document, env: Mapping[str, str], send_only: Collection[tuple[int, str]] = ()
) -> list[tuple[object, object]]:
    """Expand every reference in the document in place; problems go to `doc.problems`,
    warnings to `doc.warnings`.

    `send_only` holds (id of a mapping, key) of the secrets that are only ever sent: a
    variable missing there is a warning and the value an `Unresolved`.

    Returns (container, key or index) of each value that could not be expanded (its text
    is left as written), so later checks can skip the entries they belong to.
    """
    broken: list[tuple[object, object]] = []
    for container, key, spot in doc.dollars:
        value = container[key]  # type: ignore[index]
        bare = _BARE.search(value)
        # A secret that is nothing but `$NAME` is an error of its own, which says so.
        said = (id(container), key) in send_only and _BARE.fullmatch(value)
        if bare and not said:
            name = bare.group(1)
            doc.warnings.append(
                Problem(
                    doc.location(spot),
                    f"'${name}' is not a variable reference and is kept as written "
                    f"(did you mean '${{{name}}}'?)",
                    "warning",
                )
            )
        if "${" not in value:
            continue
        expanded, errors = expand(value, env)
        missing = [e.removeprefix(_MISSING) for e in errors if e.startswith(_MISSING)]
        if errors and len(missing) == len(errors) and (id(container), key) in send_only:
            for name in missing:
                doc.warnings.append(
                    Problem(
                        doc.location(spot),
                        f"{_MISSING}{name} (for {key}: a plan does without it, as it "
                        "cannot be compared; apply needs it to write this entry)",
                        "warning",
                    )
                )
            container[key] = Unresolved(value, missing)  # type: ignore[index]
            doc.templates[spot] = value
        elif errors:
            location = doc.location(spot)
            doc.problems.extend(Problem(location, message) for message in errors)
            broken.append((container, key))
            doc.broken.add(spot)
        else:
            container[key] = expanded  # type: ignore[index]
            doc.templates[spot] = value
    return broken


def references(template: str) -> list[str]:
    """The variable names a value as written refers to (none: the value is written out)."""
    try:
        return [name for kind, name in template_parts(template) if kind == "env"]
    except ValueError:
        return []


def template_parts(raw: str) -> list[tuple[str, str]]:
    """A value as written, as ("text", literal) and ("env", NAME) parts, defaults dropped:
    enough to resolve it again from the environment, never holding a default (which, in
    a secret field, is itself a secret)."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _TOKEN.finditer(raw):
        if match.start() > position:
            parts.append(("text", raw[position : match.start()]))
        position = match.end()
        if match.group() == "$${":
            parts.append(("text", "${"))
            continue
        ref = _BODY.match(match.group(1) or "")
        if ref is None:
            raise ValueError("not a valid template")
        parts.append(("env", ref.group(1)))
    if position < len(raw):
        parts.append(("text", raw[position:]))
    return parts


def defaulted_names(raw: str, env: Mapping[str, str]) -> list[str]:
    """The variables of `raw`'s `${NAME:-default}` references that are unset or empty in
    `env`, so that their defaults were taken."""
    names = []
    for match in _TOKEN.finditer(raw):
        ref = _BODY.match(match.group(1) or "") if match.group() != "$${" else None
        if ref is not None and ref.group(2) is not None and not env.get(ref.group(1)):
            names.append(ref.group(1))
    return names


def template_names(raw: str) -> list[str]:
    """The variables a value as written refers to (none for one that is not a template)."""
    try:
        return [name for kind, name in template_parts(raw) if kind == "env"]
    except ValueError:
        return []


def resolve_parts(parts: list[tuple[str, str]], env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The value of template parts in `env`, and the names that are unset or empty."""
    missing = [name for kind, name in parts if kind == "env" and not env.get(name)]
    value = "".join(env.get(text, "") if kind == "env" else text for kind, text in parts)
    return value, missing
