"""The registry of resource kinds: everything outside kinds/ asks it, never a kind by name.

Kinds are listed in registration order, which is the order plans, renderings and
exports use. A new kind is one module here and one `register` line below (plus its
schema entry, its endpoints in api/endpoints.py and the emulator's side).
"""

from __future__ import annotations

from cincopa_sync import plan as _plan
from cincopa_sync.kinds.base import Kind

_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (after those already registered)."""
    if kind.name in _REGISTRY:
        raise ValueError(f"kind {kind.name!r} is registered already")
    _REGISTRY[kind.name] = kind
    _plan.KIND_NAMES[kind.name] = kind.plural
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests that register one of their own)."""
    _REGISTRY.pop(name, None)
    _plan.KIND_NAMES.pop(name, None)


def kinds() -> tuple[Kind, ...]:
    return tuple(_REGISTRY.values())


def get(name: str) -> Kind:
    return _REGISTRY[name]


def prunable() -> tuple[Kind, ...]:
    return tuple(k for k in _REGISTRY.values() if k.prunable)


def _register_builtin() -> None:
    from cincopa_sync.kinds.asset import AssetKind
    from cincopa_sync.kinds.portal import PortalKind
    from cincopa_sync.kinds.webhook import WebhookKind

    for kind in (AssetKind(), PortalKind(), WebhookKind()):
        register(kind)


_register_builtin()
