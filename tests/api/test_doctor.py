"""doctor's findings against scripted answers: what the end-to-end tests cannot make the
emulator do (refuse a call the permissions allow, answer ping in another shape, say one
page size in items_data and send another)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.engine.doctor import DIFFERS, FAILED, OK, SKIPPED, examine
from cincopa_sync.errors import AuthenticationError

PING = {"success": True, "accid": "7", "accemail": "a@example.com", "permissions": "|asset.*|"}
PAGING = {"page": 1, "items_per_page": 1000, "items_count": 2500, "pages_count": 3}
ANSWERS: dict[str, Any] = {
    "ping": PING,
    "asset.list": {"success": True, "items": [{"rid": "R1"}] * 100, "items_data": PAGING},
    "asset.get_tags": {"success": True, "tag_cloud": {"a": 1}},
    "portal.list": {"success": True, "portals": []},
    "webhook.list": {"success": True, "webhooks": []},
}


def _client(answers: dict[str, Any]) -> tuple[CincopaClient, list[str]]:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        asked.append(endpoint)
        answer = answers[endpoint]
        if isinstance(answer, int):
            return httpx.Response(answer, json={"success": False, "message": "no"})
        return httpx.Response(200, json=answer)

    client = CincopaClient(
        "https://api.example.test/v2/",
        "tok-doctor-5678",
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=1),
        sleep=lambda _s: None,
    )
    return client, asked


def _outcomes(report: Any) -> dict[str, str]:
    return {c.endpoint: c.outcome for c in report.checks}


def test_skipped_where_the_token_may_not_read_and_the_page_size_seen() -> None:
    client, asked = _client(ANSWERS)
    report = examine(client)
    assert _outcomes(report) == {
        "ping": OK,
        "asset.list": OK,
        "asset.get_tags": OK,
        "portal.list": SKIPPED,
        "webhook.list": SKIPPED,
    }
    assert report.ok
    # nothing it may not call; the listing honoured 1,000, so it was asked for 10,000
    assert asked == ["ping", "asset.list", "asset.list", "asset.get_tags"]
    listing = next(c for c in report.checks if c.endpoint == ep.ASSET_LIST)
    assert listing.notes[0] == (
        "page 1 of 3 holds 100 of 2500 items; the server honours 1000 items per page (1000 asked)"
    )
    assert "items_data says 1000 per page but page 1 holds 100" in listing.notes[1]
    assert listing.notes[-1] == (
        "asked again for pages of 10,000: the server honours 1,000 items per page "
        "(plans ask for at most 10,000)"
    )
    portals = next(a for a in report.access if a.plural == "portals")
    assert portals.unreadable == portals.reads and portals.unwritable == portals.writes


@pytest.mark.parametrize(("cap", "told"), [(50_000, "10,000"), (4_000, "4,000")])
def test_the_largest_page_size_honoured_is_found_by_asking_again(cap, told) -> None:
    sizes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        if endpoint != "asset.list":
            return httpx.Response(200, json=ANSWERS[endpoint])
        sizes.append(request.url.params["items_per_page"])
        per_page = min(int(sizes[-1]), cap)
        pages = -(-90_000 // per_page)
        paging = {
            "page": 1,
            "items_per_page": per_page,
            "items_count": 90_000,
            "pages_count": pages,
        }
        items = [{"rid": f"R{i}"} for i in range(per_page)]
        return httpx.Response(200, json={"success": True, "items": items, "items_data": paging})

    client = CincopaClient(
        "https://api.example.test/v2/", "tok-doctor-5678", transport=httpx.MockTransport(handler)
    )
    listing = next(c for c in examine(client).checks if c.endpoint == ep.ASSET_LIST)
    assert sizes == ["1000", "10000"]
    assert listing.notes[-1] == (
        f"asked again for pages of 10,000: the server honours {told} items per page "
        "(plans ask for at most 10,000)"
    )


def test_a_larger_page_refused_is_told_and_is_no_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        if endpoint == "asset.list" and request.url.params["items_per_page"] != "1000":
            return httpx.Response(200, json={"success": False, "message": "too many"})
        return httpx.Response(200, json=ANSWERS[endpoint])

    client = CincopaClient(
        "https://api.example.test/v2/", "tok-doctor-5678", transport=httpx.MockTransport(handler)
    )
    report = examine(client)
    listing = next(c for c in report.checks if c.endpoint == ep.ASSET_LIST)
    assert listing.outcome == OK and report.ok
    assert listing.notes[-1] == "pages of 10000 refused (too many): plans read pages of 1000"


def test_refused_although_the_permissions_allow_it_is_a_failure() -> None:
    answers = {**ANSWERS, "asset.get_tags": 403}
    report = examine(_client(answers)[0])
    check = next(c for c in report.checks if c.endpoint == ep.ASSET_GET_TAGS)
    assert check.outcome == FAILED and not report.ok
    assert "permissions may mean something else than the contract says" in check.notes[0]


@pytest.mark.parametrize("broken", [{"success": True, "permissions": 7}, {"success": True}])
def test_a_ping_in_another_shape_is_reported_and_every_read_still_tried(
    broken: dict[str, Any],
) -> None:
    client, asked = _client({**ANSWERS, "ping": broken})
    report = examine(client)
    assert _outcomes(report)["ping"] == DIFFERS
    assert report.permissions is None and report.account is None and not report.ok
    reads = ["asset.list", "asset.list", "asset.get_tags", "portal.list", "webhook.list"]
    assert asked == ["ping", *reads]  # the second asset.list: pages of 10,000 (see above)
    ping = report.checks[0]
    assert any(d.path in ("$.accid", "$.permissions") for d in ping.deviations)


def test_a_refused_token_is_raised_not_reported() -> None:
    with pytest.raises(AuthenticationError):
        examine(_client({**ANSWERS, "ping": 403})[0])


def test_an_answer_in_another_shape_is_differs_with_its_paths() -> None:
    answers: dict[str, Any] = {**ANSWERS, "ping": {**PING, "permissions": "|asset.*|webhook.*|"}}
    answers["webhook.list"] = {
        "success": True,
        "webhooks": [{"hook_url": "https://h.example.com/x", "events": "asset.*"}],
    }
    report = examine(_client(answers)[0])
    check = next(c for c in report.checks if c.endpoint == ep.WEBHOOK_LIST)
    assert check.outcome == DIFFERS
    assert [d.path for d in check.deviations] == [
        "$.webhooks[0].type",
        "$.webhooks[0].has_security_key",
    ]
    assert check.breaks == "webhooks cannot be planned, applied or exported"


def test_doctor_makes_no_write_whatever_the_token_may_do() -> None:
    client, asked = _client({**ANSWERS, "ping": {**PING, "permissions": "|asset.*|portal.*|"}})
    examine(client)
    assert len(asked) == 5 and all(not ep.ENDPOINTS[name].write for name in asked)
