"""Reads that do not hold still: assets uploaded or deleted while the pages of a listing are
read shift the items between pages. The read must notice (a different items_count on a
later page, an asset on two pages, pages that do not add up to the count), read again,
and after READ_ATTEMPTS give up with exit 1: no plan, and so no write and no prune, is
ever made from such a read.

The emulator changes its account from `on_request`, between two page calls, exactly as an
upload or a delete by someone else would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from reliability_helpers import SCALE, TOKEN, Served
from support import read_kind

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.paging import READ_ATTEMPTS
from cincopa_sync.api.retry import TIME_SCALE_ENV, RetryPolicy
from cincopa_sync.emulator import Emulator
from cincopa_sync.emulator.server import EmulatorServer
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.errors import InvalidInput, UnstableRead
from cincopa_sync.manifest import load_manifests

PAGE = 2  # the emulator's page cap: 9 assets are 5 pages
RIDS = [f"RID{n:09d}" for n in range(1, 10)]
NAMED = RIDS[:7]  # 7 named assets, 4 pages after page 1: the listing is the cheaper read
MANIFEST = "assets:\n" + "".join(f"  - rid: {rid}\n    caption: new {rid}\n" for rid in NAMED)


def seed() -> dict[str, Any]:
    return {
        "assets": [
            {"id": str(10 * n), "rid": rid, "caption": f"old {rid}"}
            for n, rid in enumerate(RIDS, start=1)
        ]
    }


class Churn:
    """Changes the account when the Nth call to `asset.list?page=P` arrives."""

    def __init__(self, emulator: Emulator, page: int, on: set[int], change: Callable) -> None:
        self.emulator, self.page, self.on, self.change = emulator, page, on, change
        self.seen = 0
        emulator.on_request = self

    def __call__(self, endpoint: str, params: dict[str, str]) -> None:
        if endpoint == "asset.list" and params.get("page") == str(self.page):
            self.seen += 1
            if self.seen in self.on:
                self.change(self.emulator, self.seen)


def upload_in_front(emulator: Emulator, n: int) -> None:
    """An upload with a low id: every item moves one place right (duplicates across pages)."""
    emulator.add_asset(rid=f"NEW{n:09d}", id=str(n))


def upload_at_the_end(emulator: Emulator, n: int) -> None:
    emulator.add_asset(rid=f"END{n:09d}")


def in_process_client(emulator: Emulator) -> CincopaClient:
    return CincopaClient(
        "http://emulator.test/v2/",
        TOKEN,
        transport=emulator.transport(),
        policy=RetryPolicy(base_delay=0.001),
        sleep=lambda _s: None,
    )


def desired(tmp_path: Path, text: str = MANIFEST):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_manifests([str(path)], {})


def page_calls(emulator: Emulator) -> list[str]:
    return [c.params.get("page", "") for c in emulator.calls_to("asset.list")]


@pytest.mark.parametrize(
    "change",
    [upload_in_front, upload_at_the_end],
    ids=["upload with a low id (items shift right)", "upload at the end (count grows)"],
)
def test_a_listing_that_changed_once_is_read_again_and_planned_right(
    change: Callable, tmp_path: Path
) -> None:
    emulator = Emulator(seed(), page_cap=PAGE)
    Churn(emulator, page=3, on={1}, change=change)
    with in_process_client(emulator) as client:
        live = read_live(client, desired(tmp_path), parallelism=1)
    assert live.of("asset").read == "listing"
    assert sorted(live.of("asset").objects) == NAMED
    # the first pass (5 pages) did not hold still; the second (6 pages now) did
    assert page_calls(emulator) == ["1", "2", "3", "4", "5", "1", "2", "3", "4", "5"]


def test_a_delete_between_pages_is_noticed(tmp_path: Path) -> None:
    """A delete on page 1 after it was read moves an item from page 2 to page 1: it would
    be missed, and the asset it is would look absent. The count tells."""
    emulator = Emulator(seed(), page_cap=PAGE)
    emulator.add_asset(rid="GONE00000000", id="1")  # an unnamed asset at the very front
    Churn(emulator, page=2, on={1}, change=lambda em, _n: em.remove_asset("GONE00000000"))
    with in_process_client(emulator) as client:
        live = read_live(client, desired(tmp_path), parallelism=1)
    assert sorted(live.of("asset").objects) == NAMED  # RID000000002 moved to page 1 late: not lost
    assert page_calls(emulator) == ["1", "2", "3", "4", "5", "1", "2", "3", "4", "5"]


def test_a_listing_that_never_holds_still_stops_the_plan(tmp_path: Path) -> None:
    emulator = Emulator(seed(), page_cap=PAGE)
    churn = Churn(emulator, page=2, on=set(range(1, 99)), change=upload_in_front)
    with in_process_client(emulator) as client, pytest.raises(UnstableRead) as info:
        read_live(client, desired(tmp_path), parallelism=1)
    assert churn.seen == READ_ATTEMPTS == 3
    message = str(info.value)
    assert message.startswith("asset.list: the listing changed while its pages were read (")
    assert "3 time(s) in a row; nothing was planned from it" in message
    assert info.value.exit_code == 1


def test_a_reference_lookup_that_changes_between_pages_is_read_again(tmp_path: Path) -> None:
    """Lookups page too: a reference shared by several assets. Missing one of them would
    make a duplicate reference look unique, and the plan write to one asset of several."""
    assets = [{"id": str(n), "rid": f"REF{n:09d}", "reference_id": "SKU"} for n in range(1, 6)]
    assets += [{"id": str(100 + n), "rid": f"PAD{n:09d}"} for n in range(1, 30)]  # lookups win
    emulator = Emulator({"assets": assets}, page_cap=PAGE)

    def one_more(em: Emulator, n: int) -> None:
        if n == 1:
            em.add_asset(rid="REF000000000", id="0", reference_id="SKU")

    Churn(emulator, page=2, on={1}, change=one_more)
    manifest = "assets:\n  - reference_id: SKU\n    caption: x\n"
    with in_process_client(emulator) as client:
        live = read_live(client, desired(tmp_path, manifest), parallelism=1)
    assert live.of("asset").read == "lookup"
    assert sorted(live.of("asset").by_reference["SKU"]) == [f"REF{n:09d}" for n in range(6)]
    with pytest.raises(InvalidInput, match="reference_id 'SKU' matches 6 assets"):
        make_plan_for(desired(tmp_path, manifest), live)  # an error, not a write to one


def _paged_portals(answers: list[list[tuple[list[str], int]]]) -> Callable:
    """portal.list answering in pages; answers[n] is the n-th pass: (names, items_count)."""
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        if page == 1:
            calls["n"] += 1
        names, count = answers[min(calls["n"], len(answers)) - 1][page - 1]
        portals = [{"subdomain": s, "name": s, "visibility": "public"} for s in names]
        data = {"page": page, "items_per_page": 2, "items_count": count, "pages_count": 2}
        return httpx.Response(200, json={"success": True, "portals": portals, "items_data": data})

    return handler


def test_a_paged_portal_list_that_changes_is_read_again_before_any_prune() -> None:
    # pass 1: "b" was deleted between the pages, so "c" moved onto page 1 and was missed;
    # pass 2 holds still.
    handler = _paged_portals([[(["a", "b"], 3), (["d"], 2)], [(["a", "c"], 3), (["d"], 3)]])
    client = CincopaClient(
        "http://api.test/v2/", TOKEN, transport=httpx.MockTransport(handler), sleep=lambda _s: None
    )
    assert [p["subdomain"] for p in read_kind(client, "portal")] == ["a", "c", "d"]


def test_a_paged_portal_list_that_never_holds_still_is_an_error() -> None:
    handler = _paged_portals([[(["a", "b"], 3), (["b"], 3)]])  # "b" on both pages, always
    client = CincopaClient(
        "http://api.test/v2/", TOKEN, transport=httpx.MockTransport(handler), sleep=lambda _s: None
    )
    with pytest.raises(UnstableRead, match=r"portal\.list: .*subdomain b came back on two pages"):
        read_kind(client, "portal")


@pytest.mark.parametrize("churn_on", [{1}, set(range(1, 99))], ids=["once", "always"])
def test_read_all_assets_for_export_reads_again_or_gives_up(churn_on: set[int]) -> None:
    emulator = Emulator(seed(), page_cap=PAGE)
    Churn(emulator, page=4, on=churn_on, change=upload_in_front)
    with in_process_client(emulator) as client:
        if churn_on == {1}:
            rids = [a["rid"] for a in read_kind(client, "asset")]
            assert sorted(rids) == sorted([*RIDS, "NEW000000001"]) and len(set(rids)) == 10
        else:
            with pytest.raises(UnstableRead, match="3 time"):
                read_kind(client, "asset")


# -- through the CLI ------------------------------------------------------------------


@pytest.fixture
def churning(server: EmulatorServer) -> Served:
    emulator = Emulator(seed(), page_cap=PAGE)
    server.httpd.emulator = emulator
    return Served(emulator, server.base_url)


def test_cli_apply_through_an_upload_mid_read_converges(
    run: Callable[..., Result], churning: Served, tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    Churn(churning.emulator, page=3, on={1}, change=upload_in_front)
    env = {"CINCOPA_API_TOKEN": TOKEN, TIME_SCALE_ENV: str(SCALE)}
    result = run("apply", tmp_path, "--auto-approve", *churning.args, "--verbose", env=env)
    assert result.exit_code == 0, result.stderr
    assert re.search(
        r"INFO cincopa_sync\.api: asset\.list: items_count went from 9 to 10 between page 1 "
        r"and page \d.*; reading again$",
        result.stderr,
        re.M,
    ), result.stderr
    assert len(churning.emulator.writes()) == len(NAMED)
    again = run("plan", tmp_path, "--detailed-exitcode", *churning.args, env=env)
    assert again.exit_code == 0, again.stdout


def test_cli_never_plans_from_a_listing_that_does_not_hold_still(
    run: Callable[..., Result], churning: Served, tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    Churn(churning.emulator, page=2, on=set(range(1, 99)), change=upload_in_front)
    env = {"CINCOPA_API_TOKEN": TOKEN, TIME_SCALE_ENV: str(SCALE)}
    for command in (["plan", "--format", "json"], ["apply", "--auto-approve"]):
        churning.emulator.clear_log()
        result = run(command[0], tmp_path, *command[1:], *churning.args, env=env)
        assert result.exit_code == 1
        assert result.stdout == ""  # no plan shown
        assert "error: asset.list: the listing changed while its pages were read" in result.stderr
        assert "nothing was planned from it" in result.stderr
        assert churning.emulator.writes() == []
        # ping (which account the plan is for), then the listing, and nothing else
        assert {c.endpoint for c in churning.emulator.calls} == {"ping", "asset.list"}
        assert [c.endpoint for c in churning.emulator.calls].count("ping") == 1
