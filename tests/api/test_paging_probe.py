"""The page size a listing asks for: 1,000 on page 1, then larger while the server
honours it and a larger page saves calls; what was settled holds for the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.endpoints import PageInfo
from cincopa_sync.api.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, next_size
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.emulator import Emulator
from cincopa_sync.engine.apply import apply_plan
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import read_live, reader_for
from cincopa_sync.errors import UnstableRead
from cincopa_sync.kinds import get
from cincopa_sync.manifest import load_manifests


def _account(count: int) -> dict:
    return {
        "assets": [
            {"id": str(i + 1), "rid": f"r{i:06d}", "caption": f"c{i}", "tags": ["t"]}
            for i in range(count)
        ]
    }


def _client(
    emulator: Emulator,
    refuse_above: int | None = None,
    before: Callable[[httpx.Request], None] | None = None,
    after: Callable[[httpx.Request, dict], None] | None = None,
) -> CincopaClient:
    """A client of the emulator; `before` sees each request first, `after` may rewrite
    each answer (a server that says other things than it sends)."""
    inner = emulator.transport()

    def handle(request: httpx.Request) -> httpx.Response:
        asked = int(request.url.params.get("items_per_page", "0"))
        if refuse_above is not None and asked > refuse_above:
            return httpx.Response(200, json={"success": False, "message": "bad items_per_page"})
        if before is not None:
            before(request)
        response = inner.handle_request(request)
        response.read()
        if after is None:
            return httpx.Response(response.status_code, content=response.content)
        body = json.loads(response.content)
        after(request, body)
        return httpx.Response(response.status_code, json=body)

    return CincopaClient(
        "http://emulator.test/v2/",
        "emulator-token",
        transport=httpx.MockTransport(handle),
        policy=RetryPolicy(),
        sleep=lambda _s: None,
    )


def _sizes(emulator: Emulator) -> list[str]:
    """items_per_page of each page of the whole listing (not of lookups) the server saw."""
    pages = [c for c in emulator.calls if c.endpoint == "asset.list"]
    return [c.params["items_per_page"] for c in pages if "rid" not in c.params]


def _manifest(tmp_path: Path, rids: list[str]) -> Path:
    lines = ["assets:"] + [f'  - rid: "{r}"\n    caption: "new {r}"' for r in rids]
    path = tmp_path / "m.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("asked", "per_page", "then"),
    [(1000, 1000, 10_000), (1000, 100, None), (10_000, 10_000, None), (1000, 5000, 10_000)],
)
def test_the_next_size_follows_what_the_server_honoured(asked, per_page, then) -> None:
    assert next_size(asked, PageInfo(1, per_page, 50_000, 50_000 // per_page)) == then


def test_a_server_that_honours_large_pages_is_read_in_pages_of_the_ceiling(tmp_path) -> None:
    emulator = Emulator(_account(25_000), page_cap=50_000)
    with _client(emulator) as client:
        assets = _read_all(client)
    assert len(assets) == 25_000
    # page 1 in pages of 1,000 (25 pages), again in pages of 10,000 (3), then pages 2 and 3
    assert _sizes(emulator) == ["1000"] + [str(MAX_PAGE_SIZE)] * 3


def test_a_server_that_caps_below_what_was_asked_is_not_probed() -> None:
    emulator = Emulator(_account(2_500), page_cap=100)
    with _client(emulator) as client:
        assert len(_read_all(client)) == 2_500
    assert _sizes(emulator) == [str(DEFAULT_PAGE_SIZE)] * 25  # 25 pages of 100, no probe


def test_a_larger_size_the_api_refuses_leaves_the_listing_in_pages_of_before() -> None:
    emulator = Emulator(_account(5_000), page_cap=50_000)
    with _client(emulator, refuse_above=DEFAULT_PAGE_SIZE) as client:
        assert len(_read_all(client)) == 5_000
    # the refused probe never reached the emulator; the listing went on in pages of 1,000
    assert _sizes(emulator) == ["1000"] * 5


def test_no_probe_when_a_larger_page_would_not_save_a_call() -> None:
    emulator = Emulator(_account(2_000), page_cap=50_000)
    with _client(emulator) as client:
        assert len(_read_all(client)) == 2_000
    assert _sizes(emulator) == ["1000", "1000"]  # a probe would cost the call it saves


def test_lookups_win_when_even_larger_pages_cost_more(tmp_path) -> None:
    emulator = Emulator(_account(50_000), page_cap=50_000)
    desired = load_manifests([str(_manifest(tmp_path, ["r049998", "r049999"]))], {})
    with _client(emulator) as client:
        live = read_live(client, desired)
    assert live.of("asset").read == "lookup"
    # page 1 at 1,000, then one lookup per asset: 5 pages of 10,000 would be more calls
    assert _sizes(emulator) == ["1000"]
    assert sorted(live.of("asset").objects) == ["r049998", "r049999"]


def test_the_strategy_counts_the_pages_of_the_size_the_server_honours(tmp_path) -> None:
    """At pages of 1,000 the listing is 49 more calls, against 30 lookups; at pages of
    10,000 it is 4 (and the probe): the listing wins, in pages of 10,000."""
    rids = [f"r{i:06d}" for i in range(20_000, 20_030)]
    emulator = Emulator(_account(50_000), page_cap=50_000)
    desired = load_manifests([str(_manifest(tmp_path, rids))], {})
    with _client(emulator) as client:
        live = read_live(client, desired)
        assert live.of("asset").read == "listing"
        assert _sizes(emulator) == ["1000"] + ["10000"] * 5
        plan = make_plan_for(desired, live)
    assert len(plan.changes) == 30


def test_apply_in_pages_of_the_ceiling_then_plan_again_is_no_changes(tmp_path) -> None:
    rids = [f"r{i:06d}" for i in range(20_000, 20_030)]
    emulator = Emulator(_account(50_000), page_cap=50_000)
    desired = load_manifests([str(_manifest(tmp_path, rids))], {})
    with _client(emulator) as client:
        report = apply_plan(client, make_plan_for(desired, read_live(client, desired)))
        assert report.exit_code == 0
        assert len(emulator.calls_to("asset.set_meta")) == 30
        again = make_plan_for(desired, read_live(client, desired))
    assert again.changes == ()
    assert set(_sizes(emulator)) == {"1000", "10000"}  # probed once, 10,000 after that
    assert _sizes(emulator).count("1000") == 1


def test_the_settled_size_holds_for_every_later_read_of_the_run() -> None:
    emulator = Emulator(_account(25_000), page_cap=50_000)
    kind = get("asset")
    with _client(emulator) as client:
        with reader_for(client) as reader:
            assert len(kind.export_read(reader)) == 25_000
            emulator.calls.clear()
            assert len(kind.export_read(reader)) == 25_000  # e.g. a read again after a write
        assert _sizes(emulator) == ["10000"] * 3
        emulator.calls.clear()
        with reader_for(client) as another:  # apply's verification reads with its own
            assert len(kind.export_read(another)) == 25_000
        assert _sizes(emulator) == ["10000"] * 3


def _read_all(client: CincopaClient) -> list:
    with reader_for(client) as reader:
        return get("asset").export_read(reader)


# -- servers that say other things than they send (found by a hostile review) -----------


def test_a_page_1_that_claims_to_be_the_only_one_is_not_the_whole_listing(tmp_path) -> None:
    """pages_count 1 on a listing of 2,500 in pages of 1,000: the plan kept page 1 alone
    and planned a create of an asset that exists (export returned 1,000 of 2,500)."""

    def only_one(request: httpx.Request, body: dict) -> None:
        if "items_data" in body:
            body["items_data"]["pages_count"] = 1

    emulator = Emulator(_account(2_500), page_cap=1_000)
    with _client(emulator, after=only_one) as client, pytest.raises(UnstableRead) as info:
        _read_all(client)
    assert "pages held 1000 item(s) where items_count said 2500" in str(info.value)
    desired = load_manifests([str(_manifest(tmp_path, ["r002000"]))], {})
    with _client(emulator, after=only_one) as client, pytest.raises(UnstableRead):
        read_live(client, desired)


def test_an_asset_deleted_while_page_1_is_asked_for_again_is_not_kept(tmp_path) -> None:
    """Page 1 in pages of 1,000 was kept, then page 1 in pages of 10,000 added to it: an
    asset deleted between the two reads stayed in the plan (an update of a ghost)."""
    emulator = Emulator(_account(25_000), page_cap=50_000)

    def delete_first(request: httpx.Request) -> None:
        if request.url.params.get("items_per_page") == "10000" and (
            "r000005" in emulator.account.assets_by_rid
        ):
            emulator.account.remove_asset("r000005")

    rids = ["r000005", *(f"r{i:06d}" for i in range(20_000, 20_030))]
    desired = load_manifests([str(_manifest(tmp_path, rids))], {})
    with _client(emulator, before=delete_first) as client:
        live = read_live(client, desired)
    assert live.of("asset").read == "listing"
    assert "r000005" not in live.of("asset").objects
    assert len(live.of("asset").objects) == 30


def test_a_server_that_pages_otherwise_after_a_large_page_1_is_read_in_pages_of_1000() -> None:
    """It honoured 10,000 on page 1 and 1,000 after: every run failed (UnstableRead)."""

    def cap_later(request: httpx.Request, body: dict) -> None:
        asked = request.url.params.get("items_per_page")
        if asked == "10000" and request.url.params.get("page") != "1":
            start = (int(request.url.params["page"]) - 1) * 1_000
            body["items"] = [a for a in ALL if start <= int(a["id"]) - 1 < start + 1_000]
            body["items_data"]["items_per_page"] = 1_000

    ALL = [
        {"id": str(i + 1), "rid": f"r{i:06d}", "caption": f"c{i}", "tags": ",t,"}
        for i in range(25_000)
    ]
    emulator = Emulator(_account(25_000), page_cap=50_000)
    with _client(emulator, after=cap_later) as client:
        assert len(_read_all(client)) == 25_000
        assert client.page_sizes == {"asset.list": DEFAULT_PAGE_SIZE}
    sizes = _sizes(emulator)
    assert sizes[:4] == ["1000", "10000", "10000", "10000"]  # the first read, that moved
    assert sizes[4:] == ["1000"] * 25  # then pages of 1,000, without probing again


def test_a_probe_that_fails_is_tried_once_then_the_listing_goes_on() -> None:
    """A 500 at 10,000 was retried like any read (six attempts, seconds of backoff)
    before the listing went on in pages of 1,000."""
    tries: list[str] = []

    def fail_large(request: httpx.Request) -> None:
        if request.url.params.get("items_per_page") == "10000":
            tries.append("10000")
            raise httpx.ReadError("the server broke off")

    emulator = Emulator(_account(5_000), page_cap=50_000)
    with _client(emulator, before=fail_large) as client:
        assert len(_read_all(client)) == 5_000
        assert client.page_sizes == {"asset.list": DEFAULT_PAGE_SIZE}
    assert tries == ["10000"]
    assert _sizes(emulator) == ["1000"] * 5
