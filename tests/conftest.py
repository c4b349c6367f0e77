"""Shared by every suite: the `--update-golden` flag, the golden-file comparison, the CLI
runner, the served demo emulator and planning from data (see support.py)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from jsonschema import Draft202012Validator
from support import DEMO_SEED, Served, invoke, live_from_json, run_process, serving

from cincopa_sync.engine.diff import PlanOptions, make_plan_for
from cincopa_sync.engine.read import LiveState
from cincopa_sync.plan import Plan
from cincopa_sync.resources import schema_path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite expected plans and golden renderings instead of comparing with them.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(update_golden: bool) -> Callable[[Path, str], None]:
    """Compares text with a golden file byte for byte, or rewrites it with --update-golden."""

    def check(path: Path, actual: str) -> None:
        if update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual.encode("utf-8"))
            return
        assert path.exists(), f"{path} is missing: run pytest with --update-golden"
        expected = path.read_bytes().decode("utf-8")
        assert actual == expected, f"{path} differs (regenerate with --update-golden)"

    return check


# -- the CLI and the emulator ----------------------------------------------------------------


@pytest.fixture
def run() -> Callable[..., Result]:
    """Runs `cincopa-sync ARGS` in-process with a clean environment plus `env`."""
    return invoke


@pytest.fixture(name="run_process")
def run_process_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `python -m cincopa_sync ARGS` in a real process (no terminal: stdin is empty)."""
    return run_process


@pytest.fixture(scope="session")
def demo_seed() -> dict[str, Any]:
    return json.loads(DEMO_SEED.read_text(encoding="utf-8"))


@pytest.fixture
def served(demo_seed: dict[str, Any]) -> Iterator[Served]:
    """The demo account in an in-process emulator behind a loopback server."""
    with serving(demo_seed) as box:
        yield box


# -- planning from data: the live account in API shape, the manifests as files ------------


def plan_from(
    paths: list[str | Path],
    live_data: dict,
    *,
    env: dict[str, str] | None = None,
    resend_secrets: bool = False,
    targets: list[str] | tuple[str, ...] = (),
) -> Plan:
    """Manifests (through load_manifests) x a live account -> the plan, as the CLI makes it."""
    from cincopa_sync.manifest import load_manifests

    desired = load_manifests([str(p) for p in paths], dict(env or {}))
    plan = make_plan_for(desired, live_from_json(live_data), PlanOptions(resend_secrets))
    return plan.targeted(targets)


@pytest.fixture(scope="session")
def plan_schema() -> Draft202012Validator:
    schema = json.loads(schema_path("plan.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="session")
def make_live() -> Callable[[dict], LiveState]:
    return live_from_json


@pytest.fixture(scope="session")
def make_plan() -> Callable[..., Plan]:
    return plan_from
