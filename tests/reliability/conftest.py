"""Reliability fixtures: the account of reliability_helpers served on a loopback port, and
the CLI run in-process with every wait and timeout of the client scaled down."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from reliability_helpers import MANIFEST, SEED, Served

from cincopa_sync.emulator import Emulator, serve
from cincopa_sync.emulator.server import EmulatorServer


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifests" / "account.yaml"
    path.parent.mkdir()
    path.write_text(MANIFEST, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    """One loopback server for the session; each test puts its own Emulator behind it."""
    with serve(Emulator()) as running:
        yield running


@pytest.fixture
def served(server: EmulatorServer) -> Iterator[Served]:
    """A fresh account (SEED) behind the shared server; `started` notes each call's start."""
    emulator = Emulator(json.loads(json.dumps(SEED)))
    box = Served(emulator, server.base_url)
    box.watch()
    server.httpd.emulator = emulator  # what the request handler serves from
    yield box
    server.httpd.emulator = Emulator()


@pytest.fixture
def plan_of(run: Callable[..., Result]) -> Callable[[Served, Path], dict[str, Any]]:
    """The JSON plan of the manifest against the served account (faults turned off)."""

    def make(served: Served, manifest: Path) -> dict[str, Any]:
        served.emulator.set_faults(None)
        result = run("plan", manifest, "--format", "json", *served.args, env=served.env)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return make
