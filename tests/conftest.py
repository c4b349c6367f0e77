"""Shared by every suite: the `--update-golden` flag and the golden-file comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from cincopa_sync.api import endpoints as ep
from cincopa_sync.live import LiveState
from cincopa_sync.plan import Plan
from cincopa_sync.planner import PlanOptions, make_plan_for
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


# -- planning from data: the live account in API shape, the manifests as files ------------


def live_from_json(data: dict) -> LiveState:
    """A LiveState from the account as the API answers: asset.list items (tags as ",a,b,"),
    PORTAL and HOOK objects, and optional portal.check answers by subdomain."""
    live = LiveState()
    for item in data.get("assets", []):
        asset = ep.parse_asset(item)
        live.assets[str(asset["rid"])] = asset
        ref = str(asset["reference_id"])
        if ref:
            live.rids_by_reference.setdefault(ref, []).append(str(asset["rid"]))
    for item in data.get("portals", []):
        portal = ep.parse_portal(item)
        live.portals[str(portal["subdomain"])] = portal
    for item in data.get("webhooks", []):
        hook = ep.parse_webhook(item)
        live.webhooks[str(hook["url"])] = hook
    live.subdomain_checks = {k: dict(v) for k, v in data.get("checks", {}).items()}
    return live


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
