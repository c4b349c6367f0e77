"""Ctrl-C during apply: no new call starts, the report says what happened,
exit 130, and a later apply finishes the job. Driven through apply_plan's stop event, so
no signal and no timing are involved."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import Emulator
from cincopa_sync.engine.apply import Outcome, apply_plan
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.manifest import load_manifests
from cincopa_sync.render.report import render_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"


@pytest.fixture
def account(demo_seed: dict[str, Any]) -> Iterator[tuple[Emulator, CincopaClient]]:
    emulator = Emulator(demo_seed)
    with CincopaClient(
        "http://emulator.test/v2/", "emulator-token", transport=emulator.transport()
    ) as client:
        yield emulator, client


def test_interrupted_before_the_first_call(account: tuple[Emulator, CincopaClient]) -> None:
    emulator, client = account
    desired = load_manifests([str(EXAMPLES)], {})
    plan = make_plan_for(desired, read_live(client, desired))
    stop = threading.Event()
    stop.set()
    report = apply_plan(client, plan, stop=stop)
    assert report.exit_code == 130
    assert [o.status for o in report.outcomes] == ["skipped"] * len(plan.changes)
    assert emulator.writes() == []
    assert render_report(report).splitlines()[-2] == (
        f"Apply interrupted: 0 applied, 0 failed, {len(plan.changes)} skipped."
    )


def test_interrupted_midway_then_finished(account: tuple[Emulator, CincopaClient]) -> None:
    emulator, client = account
    desired = load_manifests([str(EXAMPLES)], {})
    plan = make_plan_for(desired, read_live(client, desired))
    stop = threading.Event()
    seen: list[Outcome] = []

    def after_each(outcome: Outcome) -> None:
        seen.append(outcome)
        if len(seen) == 3:
            stop.set()  # as the SIGINT handler does

    report = apply_plan(client, plan, parallelism=1, stop=stop, on_outcome=after_each)
    assert report.exit_code == 130
    statuses = [o.status for o in report.outcomes]
    assert statuses == ["applied"] * 3 + ["skipped"] * (len(plan.changes) - 3)
    assert len(emulator.writes()) == sum(len(o.change.calls) for o in report.outcomes[:3])
    assert report.drift == []  # not verified after an interruption

    rest = make_plan_for(desired, read_live(client, desired))
    assert [c.address for c in rest.changes] == [o.change.address for o in report.outcomes[3:]]
    assert apply_plan(client, rest).exit_code == 0
    assert make_plan_for(desired, read_live(client, desired)).empty
