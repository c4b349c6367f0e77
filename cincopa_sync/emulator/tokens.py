"""Token permission strings such as `|asset.*|portal.read|webhook.set|`.

Meaning of an entry (assumed: the API documentation does not say): `ns.*` every call of
namespace `ns`, `ns.read` / `ns.write` its reads or its writes, an exact method name that
one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def entries(permissions: str) -> list[str]:
    return [p.strip() for p in permissions.split("|") if p.strip()]


def required_entries(method: str, kind: str) -> tuple[str, ...]:
    """The entries any one of which allows `method` (of kind "read" or "write")."""
    namespace = method.split(".", 1)[0]
    return (f"{namespace}.*", f"{namespace}.{kind}", method)


def allows(permissions: str, method: str, kind: str) -> bool:
    granted = set(entries(permissions))
    return any(entry in granted for entry in required_entries(method, kind))


def allowed_methods(permissions: str, kinds: Mapping[str, str]) -> set[str]:
    """The methods of `kinds` (method -> "read"/"write") that `permissions` allows."""
    return {m for m, kind in kinds.items() if allows(permissions, m, kind)}


def invalid_entries(permissions: str, kinds: Mapping[str, str]) -> list[str]:
    """Entries that name no namespace, kind or method the emulator knows."""
    namespaces = {m.split(".", 1)[0] for m in kinds if "." in m}
    valid: set[str] = set(kinds)
    for ns in namespaces:
        valid.update((f"{ns}.*", f"{ns}.read", f"{ns}.write"))
    return [e for e in entries(permissions) if e not in valid]


def narrows(child: str, parent: str, kinds: Mapping[str, str]) -> bool:
    """True when every call `child` allows is also allowed by `parent`."""
    return allowed_methods(child, kinds) <= allowed_methods(parent, kinds)


def normalize(items: Iterable[str]) -> str:
    """Entries joined into the wire form `|a|b|`."""
    joined = "|".join(items)
    return f"|{joined}|" if joined else "||"
