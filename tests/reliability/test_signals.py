"""Ctrl-C and SIGTERM during apply, in a real `python -m cincopa_sync` process.

The account behind the loopback server answers every asset.set_meta 0.5 s after it acted
(`slow:500`), and the apply runs 2 calls at a time, so there is a clear "in flight". The
emulator notes when each call arrives. After the first write arrives the test signals:
- once: no call starts after the signal but the ones already in flight, they finish and
  are reported applied, the report is printed, exit 130; a re-plan shows exactly the rest,
  and an apply of it writes every object exactly once over both runs;
- twice, more than a second apart: the process stops at once (well before the calls in
  flight could answer), exit 130, no report; still nothing is written twice and a re-plan
  shows the rest;
- twice within a second (GNU `timeout` signals the process and its group): as once;
- before the writes start (while the account is read): exit 130, saying nothing was
  written, and nothing is.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import TOKEN, Served
from support import start_process

from cincopa_sync.cli.signals import REPEAT_WINDOW
from cincopa_sync.emulator import Emulator
from cincopa_sync.emulator.server import EmulatorServer

RIDS = [f"SIG{n:09d}" for n in range(1, 13)]
MANIFEST = "assets:\n" + "".join(f"  - rid: {rid}\n    caption: after\n" for rid in RIDS)
SLOW = 0.5  # seconds between a set_meta acting and its answer
IN_FLIGHT = 0.15  # a call that starts this soon after the signal was already on its way


@pytest.fixture
def slow_account(server: EmulatorServer, tmp_path: Path) -> Served:
    emulator = Emulator({"assets": [{"rid": rid, "caption": "before"} for rid in RIDS]})
    emulator.set_faults(f"asset.set_meta=slow:{int(SLOW * 1000)}")
    server.httpd.emulator = emulator
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    return Served(emulator, server.base_url)


def start_apply(
    served: Served, manifest_dir: Path, wait_for: str = "asset.set_meta"
) -> subprocess.Popen[str]:
    """`apply` in its own process, returned once the first `wait_for` call arrived."""
    first_call = threading.Event()

    def note(endpoint: str, _params: dict[str, str]) -> None:
        served.started.append((time.monotonic(), endpoint))
        if endpoint == wait_for:
            first_call.set()

    served.emulator.on_request = note
    process = start_process(
        "apply",
        manifest_dir,
        "--auto-approve",
        "--parallelism",
        "2",
        *served.args,
        env={"CINCOPA_API_TOKEN": TOKEN},
    )
    assert first_call.wait(20), f"the apply never called {wait_for}"
    return process


def written(served: Served) -> Counter[str]:
    return Counter(c.params["rid"] for c in served.emulator.writes())


def remaining(run: Callable[..., Result], served: Served, manifest_dir: Path) -> list[str]:
    served.emulator.set_faults(None)
    result = run("plan", manifest_dir, "--format", "json", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    return sorted(c["address"] for c in json.loads(result.stdout)["changes"])


def finish(run: Callable[..., Result], served: Served, manifest_dir: Path) -> None:
    """Apply the rest; over both runs every asset was written exactly once."""
    result = run("apply", manifest_dir, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert written(served) == dict.fromkeys(RIDS, 1)
    assert remaining(run, served, manifest_dir) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_one_signal_finishes_the_calls_in_flight_and_starts_no_new_one(
    signum: int, slow_account: Served, tmp_path: Path, run: Callable[..., Result]
) -> None:
    process = start_apply(slow_account, tmp_path)
    process.send_signal(signum)
    signalled = time.monotonic()
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 130, stderr
    assert "interrupted: finishing the calls in flight, starting no new ones" in stderr
    assert "Traceback" not in stderr
    late = [
        (round(t - signalled, 3), e) for t, e in slow_account.started if t > signalled + IN_FLIGHT
    ]
    assert late == [], "calls started after the signal"
    # the calls in flight finished and were reported; nothing else was started
    applied = written(slow_account)
    assert 1 <= len(applied) <= 2 and set(applied.values()) == {1}
    for rid in applied:
        assert f"  applied  ~ asset.{rid}\n" in stdout
    verdict = f"Apply interrupted: {len(applied)} applied, 0 failed, {12 - len(applied)} skipped."
    assert verdict in stdout
    assert stdout.count("skipped  asset.") == 12 - len(applied)
    # a re-plan shows exactly the rest, and finishing it writes nothing twice
    assert remaining(run, slow_account, tmp_path) == sorted(
        f"asset.{rid}" for rid in RIDS if rid not in applied
    )
    finish(run, slow_account, tmp_path)


SLOWER = 3.0  # the answers in flight when a second signal comes, a second after the first


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_stops_at_once(
    signum: int, slow_account: Served, tmp_path: Path, run: Callable[..., Result]
) -> None:
    slow_account.emulator.set_faults(f"asset.set_meta=slow:{int(SLOWER * 1000)}")
    process = start_apply(slow_account, tmp_path)
    first_write_at = max(t for t, e in slow_account.started if e == "asset.set_meta")
    process.send_signal(signum)
    time.sleep(REPEAT_WINDOW + 0.2)  # a second interruption, not the first one again
    process.send_signal(signum)
    second = time.monotonic()
    stdout, stderr = process.communicate(timeout=20)
    stopped = time.monotonic()

    assert process.returncode == 130, stderr
    assert "stopped at once: calls in flight may or may not have acted" in stderr
    # it did not wait for the answers in flight (they come SLOWER after the first write)
    assert stopped - second < 1.0 and stopped < first_write_at + SLOWER
    assert "Apply interrupted" not in stdout  # no report: it stopped at once
    late = [e for t, e in slow_account.started if t > second]
    assert late == []
    applied = written(slow_account)  # the server acted on what was in flight
    assert 1 <= len(applied) <= 2 and set(applied.values()) == {1}
    assert remaining(run, slow_account, tmp_path) == sorted(
        f"asset.{rid}" for rid in RIDS if rid not in applied
    )
    finish(run, slow_account, tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_two_signals_at_nearly_the_same_moment_are_one_interruption(
    signum: int, slow_account: Served, tmp_path: Path, run: Callable[..., Result]
) -> None:
    """`timeout -s INT 10 cincopa-sync apply ...` signals the process and its group: the
    two SIGINTs came 50 ms apart and were sometimes taken as a second Ctrl-C, "stopped at
    once" with no report."""
    process = start_apply(slow_account, tmp_path)
    process.send_signal(signum)
    time.sleep(0.05)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 130, stderr
    assert "stopped at once" not in stderr
    assert stderr.count("interrupted: finishing the calls in flight") == 1
    applied = written(slow_account)
    assert 1 <= len(applied) <= 2
    assert f"Apply interrupted: {len(applied)} applied, 0 failed," in stdout  # the report
    assert remaining(run, slow_account, tmp_path) == sorted(
        f"asset.{rid}" for rid in RIDS if rid not in applied
    )
    finish(run, slow_account, tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_before_the_writes_stops_with_nothing_written(
    signum: int, slow_account: Served, tmp_path: Path
) -> None:
    """SIGTERM while apply read the account (or planned, exported, checked permissions)
    killed the process: exit 143 (-15 from Popen), no message."""
    slow_account.emulator.set_faults("asset.list=slow:3000")
    process = start_apply(slow_account, tmp_path, wait_for="asset.list")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=20)

    name = signal.Signals(signum).name
    assert process.returncode == 130, (process.returncode, stderr)
    assert f"interrupted by {name}: nothing was written to the account" in stderr
    assert "Traceback" not in stderr
    assert slow_account.emulator.writes() == []
