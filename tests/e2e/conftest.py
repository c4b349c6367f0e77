"""End-to-end fixtures: the CLI (see tests/support.py) against the emulator.

Two ways to reach an emulator:
- `--emulator [--emulator-state FILE]`: the CLI starts a loopback server for the run;
- `served`: an in-process Emulator behind a real loopback server (`serve()`), passed to
  the CLI as `--api-url`, so the test can read the emulator's call log and inject faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from support import SENSITIVE, Served

from cincopa_sync.emulator import WRITES
from cincopa_sync.shown import AFTER_UPLOAD


@pytest.fixture
def plan_json(run: Callable[..., Result]) -> Callable[..., dict[str, Any]]:
    """`plan --format json` against a served emulator; the plan document."""

    def make(served: Served, *paths: object, env: dict[str, str] | None = None) -> dict:
        result = run(
            "plan", *paths, "--format", "json", *served.args, env={**served.env, **(env or {})}
        )
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return make


def masked(endpoint: str, params: dict[str, str], secrets: set[str]) -> dict[str, str]:
    """A served call's params as a plan shows them: keys and secret URLs as (sensitive)."""
    return {k: SENSITIVE if k == "security_key" or v in secrets else v for k, v in params.items()}


def assert_writes_equal_plan_calls(
    plan: dict[str, Any], writes: list[tuple[str, dict[str, str]]], secrets: set[str] = frozenset()
) -> None:
    """The emulator's successful writes are exactly the plan's write calls: the same
    multiset, any order between changes, plan order within a change. A rid the plan
    could not know (an upload's new asset) is compared as the plan shows it."""
    known = {v for ch in plan["changes"] for c in ch["calls"] for v in c["params"].values()}
    shown = [
        (endpoint, _as_planned(masked(endpoint, params, secrets), known))
        for endpoint, params in writes
    ]
    calls = [c for ch in plan["changes"] for c in ch["calls"] if c["endpoint"] in WRITES]
    expected = [(c["endpoint"], c["params"]) for c in calls]
    key = json.dumps
    assert sorted(map(key, shown)) == sorted(map(key, expected))
    used: set[int] = set()
    for change in plan["changes"]:
        positions = []
        for call in (c for c in change["calls"] if c["endpoint"] in WRITES):
            index = next(
                i
                for i, w in enumerate(shown)
                if i not in used and w == (call["endpoint"], call["params"])
            )
            used.add(index)
            positions.append(index)
        assert positions == sorted(positions), f"{change['address']}: calls out of order"


def _as_planned(params: dict[str, str], known: set[str]) -> dict[str, str]:
    rid = params.get("rid")
    if rid is not None and rid not in known:  # made by an upload during the apply
        return {**params, "rid": AFTER_UPLOAD}
    return params


@pytest.fixture
def writes_equal_plan() -> Callable[..., None]:
    return assert_writes_equal_plan_calls
