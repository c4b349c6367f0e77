"""End-to-end fixtures: the CLI through CliRunner or a subprocess, against the emulator.

Two ways to reach an emulator:
- `--emulator [--emulator-state FILE]`: the CLI starts a loopback server for the run;
- `served`: an in-process Emulator behind a real loopback server (`serve()`), passed to
  the CLI as `--api-url`, so the test can read the emulator's call log and inject faults.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cincopa_sync.cli import cli
from cincopa_sync.emulator import Emulator, serve
from cincopa_sync.logs import setup_logging

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"
DEMO_SEED = REPO / "examples" / "emulator" / "demo-account.json"
TOKEN = "emulator-token"
READONLY = "emulator-readonly"
# Nothing from the developer's shell may leak into a run: every test sets what it needs.
CLEAN_ENV: dict[str, str | None] = {
    "CINCOPA_API_TOKEN": None,
    "CINCOPA_API_URL": None,
    "NO_COLOR": None,
    "CINCOPA_HOOK_KEY": None,
    "SLACK_WEBHOOK_URL": None,
}
SENSITIVE = "(sensitive)"


@pytest.fixture(scope="session")
def demo_seed() -> dict[str, Any]:
    return json.loads(DEMO_SEED.read_text(encoding="utf-8"))


@pytest.fixture
def run() -> Iterator[Callable[..., Result]]:
    """Runs `cincopa-sync ARGS` in-process with a clean environment plus `env`."""

    def invoke(
        *args: object, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        return CliRunner().invoke(
            cli,
            [str(a) for a in args],
            env={**CLEAN_ENV, **(env or {})},
            input=input,
            catch_exceptions=False,
        )

    root = logging.getLogger()
    level = root.level
    yield invoke
    # --verbose/--debug bind a handler to CliRunner's (now closed) stderr: drop it.
    setup_logging(verbose=False, debug=False)
    root.setLevel(level)


@pytest.fixture
def run_process(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `python -m cincopa_sync ARGS` in a real process (no terminal: stdin is empty)."""

    def execute(*args: object, env: dict[str, str] | None = None, cwd: Path = REPO):
        full_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "cincopa_sync", *map(str, args)],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return execute


@dataclass
class Served:
    """An in-process emulator on a loopback port; `args` and `env` point the CLI at it."""

    emulator: Emulator
    url: str
    token: str = TOKEN

    @property
    def args(self) -> list[str]:
        return ["--api-url", self.url]

    @property
    def env(self) -> dict[str, str]:
        return {"CINCOPA_API_TOKEN": self.token}

    def writes(self) -> list[tuple[str, dict[str, str]]]:
        return [(c.endpoint, dict(c.params)) for c in self.emulator.writes()]

    def counts(self, kind: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for call in self.emulator.calls:
            if call.kind == kind:
                out[call.endpoint] = out.get(call.endpoint, 0) + 1
        return dict(sorted(out.items()))


@pytest.fixture
def served(demo_seed: dict[str, Any]) -> Iterator[Served]:
    emulator = Emulator(demo_seed)
    with serve(emulator) as server:
        yield Served(emulator, server.base_url)


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
    """The emulator's successful writes are exactly the plan's calls: the same multiset,
    any order between changes, plan order within a change."""
    shown = [(endpoint, masked(endpoint, params, secrets)) for endpoint, params in writes]
    expected = [(c["endpoint"], c["params"]) for ch in plan["changes"] for c in ch["calls"]]
    key = json.dumps
    assert sorted(map(key, shown)) == sorted(map(key, expected))
    used: set[int] = set()
    for change in plan["changes"]:
        positions = []
        for call in change["calls"]:
            index = next(
                i
                for i, w in enumerate(shown)
                if i not in used and w == (call["endpoint"], call["params"])
            )
            used.add(index)
            positions.append(index)
        assert positions == sorted(positions), f"{change['address']}: calls out of order"


@pytest.fixture
def writes_equal_plan() -> Callable[..., None]:
    return assert_writes_equal_plan_calls
