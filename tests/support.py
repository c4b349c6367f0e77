"""What every suite shares: one clean environment, one CLI runner, one served emulator,
and the account-as-data helpers (a live state from API-shaped JSON, reads by kind).

Importable from any test module (`from support import ...`): pyproject.toml puts tests/
on the path.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import TIME_SCALE_ENV
from cincopa_sync.cli import cli
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.emulator import Emulator, serve
from cincopa_sync.engine.read import LiveState, reader_for
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.base import LiveObject

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "manifests"
DEMO_SEED = REPO / "examples" / "emulator" / "demo-account.json"
TOKEN = "emulator-token"
READONLY = "emulator-readonly"
SENSITIVE = "(sensitive)"
# Nothing from the developer's shell may leak into a run: every test sets what it needs.
CLEAN_ENV: dict[str, str | None] = {
    "CINCOPA_API_TOKEN": None,
    "CINCOPA_API_URL": None,
    "NO_COLOR": None,
    "CINCOPA_HOOK_KEY": None,
    "SLACK_WEBHOOK_URL": None,
    "CINCOPA_HOOK_KEY_1": None,
    "SLACK_WEBHOOK_URL_1": None,
    "GITHUB_STEP_SUMMARY": None,
    TIME_SCALE_ENV: None,
}


def invoke(
    *args: object,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
    catch_exceptions: bool = False,
) -> Result:
    """`cincopa-sync ARGS` in-process, with a clean environment plus `env`; the result
    has `.elapsed` (seconds)."""
    root = logging.getLogger()
    level = root.level
    started = time.monotonic()
    try:
        result = CliRunner().invoke(
            cli,
            [str(a) for a in args],
            env={**CLEAN_ENV, **(env or {})},
            input=input,
            catch_exceptions=catch_exceptions,
        )
    finally:
        # --verbose/--debug bind a handler to CliRunner's (now closed) stderr: drop it.
        setup_logging(verbose=False, debug=False)
        root.setLevel(level)
    result.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return result


def run_process(
    *args: object, env: Mapping[str, str] | None = None, cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m cincopa_sync ARGS` as a real process (no terminal: stdin is empty)."""
    with start_process(*args, env=env, cwd=cwd) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def start_process(
    *args: object, env: Mapping[str, str] | None = None, cwd: Path = REPO
) -> subprocess.Popen[str]:
    """`python -m cincopa_sync ARGS` started as a real process, stdin empty, stdout and
    stderr as pipes (no terminal); the environment is the clean one plus `env`."""
    full_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "cincopa_sync", *map(str, args)],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Served:
    """An in-process emulator on a loopback port; `args` and `env` point the CLI at it."""

    emulator: Emulator
    url: str
    token: str = TOKEN
    extra_env: dict[str, str] = field(default_factory=dict)
    started: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, endpoint)

    @property
    def args(self) -> list[str]:
        return ["--api-url", self.url]

    @property
    def env(self) -> dict[str, str]:
        return {"CINCOPA_API_TOKEN": self.token, **self.extra_env}

    def writes(self) -> list[tuple[str, dict[str, str]]]:
        return [(c.endpoint, dict(c.params)) for c in self.emulator.writes()]

    def counts(self, kind: str | None = None) -> Counter[str]:
        """Calls served (answered or not) by endpoint; only reads or writes with `kind`."""
        found = Counter(c.endpoint for c in self.emulator.calls if kind is None or c.kind == kind)
        return Counter(dict(sorted(found.items())))

    def watch(self) -> None:
        """Note when each call starts, in `started`."""
        self.emulator.on_request = lambda endpoint, _params: self.started.append(
            (time.monotonic(), endpoint)
        )


@contextmanager
def serving(seed: Mapping[str, Any] | None = None, **options: Any) -> Iterator[Served]:
    """A fresh emulator with `seed` behind a real loopback server, for one test."""
    emulator = Emulator(json.loads(json.dumps(seed or {})), **options)
    with serve(emulator) as server:
        yield Served(emulator, server.base_url)


class FakeTime:
    """A clock that moves only when the code under test sleeps: `clock` and `sleep` for
    apply (an upload's pauses) and the client (backoff), so no test waits for real."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- the account as data ------------------------------------------------------------------


def live_from_json(data: Mapping[str, Any]) -> LiveState:
    """A LiveState from the account as the API answers: asset.list items (tags as
    ",a,b,"), PORTAL and HOOK objects, and optional portal.check answers by subdomain."""
    return LiveState({kind.name: kind.live_from_json(data) for kind in kinds()})


def read_kind(client: CincopaClient, kind: str) -> list[LiveObject]:
    """Every live object of one kind, read as export reads it."""
    with reader_for(client) as reader:
        return get(kind).export_read(reader)


def reread(client: CincopaClient, kind: str, keys: list[str]) -> dict[str, LiveObject]:
    with reader_for(client) as reader:
        return get(kind).reread(reader, keys)


def lookup(client: CincopaClient, **params: str) -> list[LiveObject]:
    """Assets found by an exact asset.list lookup (rid= or reference_id=), every page."""
    from cincopa_sync.api import endpoints as ep

    kind = get("asset")
    with reader_for(client) as reader:
        items = reader.every(lambda n: ep.asset_list(page=n, **params), ep.LISTS[ep.ASSET_LIST])
    return [kind.parse(item) for item in items]


# -- property tests -----------------------------------------------------------------------


def reproducible(max_examples: int, *also: HealthCheck) -> Callable[[Any], Any]:
    """Settings of the slow property tests: the same examples on every run (CI passes or
    fails alike), no deadline, no example database, large and slow examples allowed."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, *also],
    )
