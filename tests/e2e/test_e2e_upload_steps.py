"""Creates run as steps: a processing upload holds no worker, polling backs off on an
injected clock (no test sleeps), Ctrl-C aborts every upload in progress.

apply_plan runs in-process against an Emulator (no sockets); its clock and sleep are
fakes, so a wait of a minute costs nothing and the order of the calls is exact.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import TOKEN, FakeTime, serving, start_process

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import Emulator, UploadRules
from cincopa_sync.engine.apply import ApplyReport, apply_plan
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.manifest import load_manifests
from cincopa_sync.plan import Plan
from cincopa_sync.render.report import render_report

UPDATED = [f"upd{n:09d}" for n in range(4)]  # after asset.ref:... in plan order
SEED: dict[str, Any] = {"assets": [{"rid": rid, "caption": "before"} for rid in UPDATED]}


def manifest(creates: int, updates: bool = True) -> str:
    lines = ["assets:"]
    for n in range(creates):
        lines += [f"  - reference_id: NEW-{n}", f"    source: https://m.example.com/new-{n}.mp4"]
    if updates:
        for rid in UPDATED:
            lines += [f"  - rid: {rid}", "    caption: after"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Any]:
    def make(text: str, **options: Any) -> tuple[Emulator, CincopaClient, Plan]:
        path = tmp_path / "m.yaml"
        path.write_text(text, encoding="utf-8")
        desired = load_manifests([str(path)], {})
        emulator = Emulator(SEED, **options)
        client = CincopaClient(
            "http://emulator.test/v2/", TOKEN, transport=emulator.transport(), sleep=lambda _: None
        )
        clients.append(client)
        plan = make_plan_for(desired, read_live(client, desired))
        emulator.clear_log()
        return emulator, client, plan

    clients: list[CincopaClient] = []
    yield make
    for client in clients:
        client.close()


def run(client: CincopaClient, plan: Plan, fake: FakeTime, **kw: Any) -> ApplyReport:
    return apply_plan(client, plan, clock=fake.clock, sleep=fake.sleep, **kw)


def test_a_processing_upload_holds_no_worker(account) -> None:
    """One worker: the upload starts, then the four updates run while it processes, then
    its status reads come, each after a longer pause, then its set_meta."""
    emulator, client, plan = account(manifest(1), uploads=UploadRules(after_reads=3))
    fake = FakeTime()
    report = run(client, plan, fake, parallelism=1)
    assert report.exit_code == 0, render_report(report)
    order = [c.endpoint for c in emulator.calls if c.endpoint != "asset.list"]
    assert order[:7] == [
        "asset.upload_from_url",
        *["asset.set_meta"] * 4,  # the updates: the create gave its worker back
        "asset.upload_from_url_get_status",
        "asset.upload_from_url_get_status",
    ]
    assert order[7:] == ["asset.upload_from_url_get_status", "asset.set_meta"]
    assert fake.sleeps == [1.0, 2.0, 4.0]  # 1 s, then doubling: nothing else waited
    (made,) = [o.made for o in report.outcomes if o.made]
    assert emulator.account.assets_by_rid[made].reference_id == "NEW-0"


def test_many_creates_wait_at_once_and_share_the_workers(account) -> None:
    """Twenty uploads on two workers: all start before the first status read (none holds
    a worker while it waits), and the waits overlap (a few seconds in all, not 20 x)."""
    emulator, client, plan = account(manifest(20, updates=False), uploads=UploadRules(2))
    fake = FakeTime()
    report = run(client, plan, fake, parallelism=2)
    assert report.exit_code == 0, render_report(report)
    order = [c.endpoint for c in emulator.calls if c.endpoint != "asset.list"]
    first_read = order.index("asset.upload_from_url_get_status")
    assert order[:first_read] == ["asset.upload_from_url"] * 20
    assert order.count("asset.upload_from_url_get_status") == 40  # two reads each
    assert order.count("asset.set_meta") == 20
    assert fake.now <= 3.0  # 1 s + 2 s of waiting, shared by all twenty


def test_the_wait_never_passes_the_upload_timeout(account) -> None:
    emulator, client, plan = account(manifest(1, updates=False), uploads=UploadRules(10_000))
    fake = FakeTime()
    report = run(client, plan, fake, upload_timeout=100.0)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert "did not complete within --upload-timeout (100 s): aborted it" in outcome.message
    assert fake.now == 100.0  # 1 + 2 + ... + 32 = 63, then the 37 s left: not 64
    assert sum(fake.sleeps) == 100.0 and max(fake.sleeps) <= 60.0
    assert len(emulator.calls_to("asset.upload_from_url_abort")) == 1
    assert report.exit_code == 5


def test_pauses_grow_to_one_a_minute(account) -> None:
    _, client, plan = account(manifest(1, updates=False), uploads=UploadRules(12))
    fake = FakeTime()
    assert run(client, plan, fake).exit_code == 0
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0]


def test_ctrl_c_while_uploads_process_aborts_each_of_them(account) -> None:
    emulator, client, plan = account(manifest(3), uploads=UploadRules(after_reads=5))
    stop = threading.Event()

    def on_request(endpoint: str, _params: dict[str, str]) -> None:
        if endpoint == "asset.upload_from_url_get_status":
            stop.set()  # as the SIGINT handler does, once the uploads are processing

    emulator.on_request = on_request
    fake = FakeTime()
    report = run(client, plan, fake, stop=stop, parallelism=1)
    assert report.exit_code == 130
    creates = [o for o in report.outcomes if o.change.action == "create"]
    assert [o.status for o in creates] == ["failed"] * 3
    for outcome in creates:
        assert outcome.message.endswith(
            "interrupted while the upload was processing: aborted it "
            "(asset.upload_from_url_abort), no asset was made"
        )
    aborted = {c.params["status_id"] for c in emulator.calls_to("asset.upload_from_url_abort")}
    started = {
        str(c.params["status_id"]) for c in emulator.calls_to("asset.upload_from_url_get_status")
    }
    assert len(aborted) == 3 and started <= aborted
    assert len(emulator.account) == len(UPDATED)  # no asset made
    # the read in flight finished; the two queued behind it never started
    assert len(emulator.calls_to("asset.upload_from_url_get_status")) == 1
    text = render_report(report)
    assert "Apply interrupted: 4 applied, 3 failed, 0 skipped." in text
    assert text.count("  FAILED   asset.ref:NEW-") == 3


def test_ctrl_c_before_a_create_starts_skips_it(account) -> None:
    emulator, client, plan = account(manifest(2))
    stop = threading.Event()
    stop.set()
    report = run(client, plan, FakeTime(), stop=stop)
    assert {o.status for o in report.outcomes} == {"skipped"}
    assert emulator.writes() == []


def test_an_abort_that_fails_is_unknown(account) -> None:
    emulator, client, plan = account(
        manifest(1, updates=False),
        uploads=UploadRules(after_reads=5),
        faults="asset.upload_from_url_abort=fail:too late",
    )
    stop = threading.Event()
    emulator.on_request = lambda endpoint, _p: (
        stop.set() if endpoint == "asset.upload_from_url_get_status" else None
    )
    report = run(client, plan, FakeTime(), stop=stop)
    (outcome,) = report.outcomes
    assert outcome.status == "unknown"
    assert "aborting it (status_id " in outcome.message and "too late" in outcome.message
    assert "says how to adopt it" in outcome.message
    assert "  UNKNOWN  asset.ref:NEW-0: " in render_report(report)


@pytest.mark.parametrize(
    ("faults", "status", "says"),
    [
        ("asset.upload_from_url=fail:quota exceeded", "failed", "quota exceeded; nothing was"),
        ("asset.upload_from_url#1=503", "unknown", "The upload was not sent again"),
        ("asset.upload_from_url#1=truncate", "unknown", "The upload was not sent again"),
        ("asset.upload_from_url_get_status=fail:no such status", "unknown", "could not be read"),
        ("asset.set_meta=fail:locked", "failed", "was uploaded, but its set_meta failed"),
    ],
)
def test_each_way_a_create_can_end(account, faults: str, status: str, says: str) -> None:
    emulator, client, plan = account(manifest(1, updates=False), faults=faults)
    report = run(client, plan, FakeTime())
    (outcome,) = report.outcomes
    assert (outcome.status, report.exit_code) == (status, 5)
    assert says in outcome.message
    assert len(emulator.calls_to("asset.upload_from_url")) == 1  # never sent twice


def test_429_and_a_refused_connection_are_retried_as_they_never_reached_the_server(
    account,
) -> None:
    emulator, client, plan = account(
        manifest(1, updates=False),
        faults="asset.upload_from_url#1=429; asset.upload_from_url#2=refuse",
    )
    report = run(client, plan, FakeTime())
    assert report.exit_code == 0, render_report(report)
    assert len(emulator.calls_to("asset.upload_from_url")) == 3
    assert [e for e in (c.endpoint for c in emulator.writes())] == [
        "asset.upload_from_url",
        "asset.set_meta",
    ]


def test_sigint_to_a_real_process_aborts_the_uploads_and_exits_130(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(manifest(2, updates=False), encoding="utf-8")
    reading = threading.Event()
    with serving({}, uploads=UploadRules(after_reads=1_000)) as served:
        served.emulator.on_request = lambda endpoint, _p: (
            reading.set() if endpoint == "asset.upload_from_url_get_status" else None
        )
        env = {"CINCOPA_API_TOKEN": TOKEN, "CINCOPA_SYNC_TIME_SCALE": "0.05"}
        process = start_process("apply", tmp_path, "--auto-approve", *served.args, env=env)
        assert reading.wait(20), "the uploads never started processing"
        time.sleep(0.05)  # both uploads are in (parallelism 8), waiting for their next read
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
        aborts = served.emulator.calls_to("asset.upload_from_url_abort")
    assert process.returncode == 130, stderr
    assert len(aborts) == 2 and all(c.success for c in aborts)
    assert stdout.count("aborted it (asset.upload_from_url_abort), no asset was made") == 2
    assert "Apply interrupted: 0 applied, 2 failed, 0 skipped." in stdout
    assert "Traceback" not in stderr
