"""Shared fixtures: an emulator with a known account and httpx clients bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cincopa_sync.emulator import Emulator

BASE = "http://emulator.test/v2/"
TOKEN = "emulator-token"
READONLY = "emulator-readonly"


def make_assets(count: int) -> list[dict[str, Any]]:
    """`count` assets with ids 1..count, every 3rd tagged `red`, every 5th `blue`, ..."""
    assets = []
    for i in range(1, count + 1):
        tags = [t for t, every in (("red", 3), ("blue", 5)) if i % every == 0]
        assets.append(
            {
                "id": str(i),
                "rid": f"rid{i:04d}",
                "type": "image" if i % 4 == 0 else "video",
                "filename": f"file{i}.mp4",
                "modified": "2026-01-01T00:00:00Z",
                "uploaded": "2026-01-01T00:00:00Z",
                "caption": f"Caption {i}",
                "reference_id": f"SKU-{i}",
                "tags": tags,
            }
        )
    return assets


def base_seed(count: int = 100) -> dict[str, Any]:
    return {
        "account": {
            "accid": "42",
            "accemail": "acme@example.com",
            "userid": "7",
            "useremail": "ops@example.com",
        },
        "assets": make_assets(count),
        "portals": [
            {
                "subdomain": "acme",
                "name": "Acme Videos",
                "visibility": "public",
                "status": "active",
                "settings": {"theme": "dark"},
            }
        ],
        "webhooks": [
            {
                "hook_url": "https://hooks.example.com/a",
                "type": "http",
                "events": ["asset.uploaded", "asset.updated"],
                "security_key": "s3cret",
            }
        ],
        "foreign_subdomains": ["taken"],
    }


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(base_seed())


@pytest.fixture
def client_for() -> Iterator[Callable[..., httpx.Client]]:
    """Builds clients on an emulator's in-process transport; closes them afterwards."""
    clients: list[httpx.Client] = []

    def make(em: Emulator, token: str | None = TOKEN, **kw: Any) -> httpx.Client:
        params = {"api_token": token} if token is not None else {}
        client = httpx.Client(transport=em.transport(), base_url=BASE, params=params, **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(emulator: Emulator, client_for: Callable[..., httpx.Client]) -> httpx.Client:
    return client_for(emulator)
