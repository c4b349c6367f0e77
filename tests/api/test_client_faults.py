"""The client's retry, envelope and error rules, against scripted answers (no sockets, no sleep)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime

import httpx
import pytest
from support import read_kind

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy, parse_retry_after
from cincopa_sync.errors import (
    ApiError,
    AuthenticationError,
    InvalidInput,
    OutcomeUnknown,
    PermissionDenied,
    TransientApiError,
)

OK = {"success": True}  # a write's answer
# an empty listing, in the shape the client relies on (schemas/api/asset.list.json)
LISTING = {
    "success": True,
    "items": [],
    "items_data": {"page": 1, "items_per_page": 50, "items_count": 0, "pages_count": 0},
}


class Script:
    """Answers requests from a list of steps; records what was asked."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(request)
        status, body, headers = step if len(step) == 3 else (*step, {})
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_client(script: Script, clock: FakeTime | None = None, **policy) -> CincopaClient:
    clock = clock or FakeTime()
    return CincopaClient(
        "http://api.test/v2",
        "tok-123",
        transport=httpx.MockTransport(script),
        policy=RetryPolicy(**policy),
        clock=clock.clock,
        sleep=clock.sleep,
        wall_clock=lambda: 1_700_000_000.0,
    )


def test_url_shape_token_and_method():
    script = Script((200, OK), (200, LISTING))
    client = make_client(script)
    client.call(ep.asset_set_meta("R1", {"caption": "x"}))
    client.call(ep.asset_list(rid="R1"))
    write, read = script.requests
    assert write.method == "POST" and read.method == "GET"
    assert write.url.path == "/v2/asset.set_meta.json"
    assert write.url.params["api_token"] == "tok-123"
    assert dict(write.url.params) == {"rid": "R1", "caption": "x", "api_token": "tok-123"}


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_retry_on_transient_status_then_succeed(status):
    clock = FakeTime()
    script = Script((status, {"success": False}), (status, b"<html>down</html>"), (200, LISTING))
    client = make_client(script, clock)
    assert client.call(ep.asset_list(rid="R1")) == LISTING
    assert len(script.requests) == 3
    assert len(clock.slept) == 2
    assert all(0 < s <= 20 for s in clock.slept)


def test_retry_after_seconds_is_honoured():
    clock = FakeTime()
    script = Script((429, {}, {"Retry-After": "7"}), (200, LISTING))
    make_client(script, clock).call(ep.asset_list())
    assert clock.slept == [7.0]


def test_retry_after_http_date_is_honoured():
    clock = FakeTime()
    when = datetime.fromtimestamp(1_700_000_000 + 12, tz=timezone.utc)
    script = Script((429, {}, {"Retry-After": format_datetime(when, usegmt=True)}), (200, LISTING))
    make_client(script, clock).call(ep.asset_list())
    assert clock.slept == [pytest.approx(12.0)]


def test_parse_retry_after_rejects_garbage():
    assert parse_retry_after("soon", lambda: 0.0) is None
    assert parse_retry_after(None, lambda: 0.0) is None
    assert parse_retry_after("-3", lambda: 0.0) == 0.0


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    waits = [policy.backoff(n) for n in range(1, 8)]
    assert 0.5 <= waits[0] <= 1.0
    assert 4.0 <= waits[3] <= 8.0
    assert max(waits) <= 8.0


def test_gives_up_after_max_attempts_with_endpoint_in_message():
    script = Script((503, {}))
    client = make_client(script, max_attempts=3)
    with pytest.raises(TransientApiError) as info:
        client.call(ep.asset_list())
    assert len(script.requests) == 3
    assert "asset.list" in str(info.value) and "3 attempt" in str(info.value)


def test_deadline_bounds_the_whole_call():
    clock = FakeTime()
    script = Script((429, {}, {"Retry-After": "100"}))
    client = make_client(script, clock, deadline=30.0)
    with pytest.raises(TransientApiError):
        client.call(ep.asset_list())
    assert len(script.requests) == 1  # waiting 100 s would break the 30 s deadline
    assert clock.slept == []


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("reset"),
    ],
)
def test_transport_faults_are_retried_for_reads(fault):
    script = Script(fault, (200, LISTING))
    assert make_client(script).call(ep.asset_list()) == LISTING
    assert len(script.requests) == 2


@pytest.mark.parametrize("body", [b'{"success": tr', b"<html>Bad gateway</html>", b"not json"])
def test_garbled_bodies_are_retried_for_reads(body):
    script = Script((200, body), (200, LISTING))
    assert make_client(script).call(ep.asset_list()) == LISTING
    assert len(script.requests) == 2


def test_success_false_is_an_error_with_endpoint_and_message_and_not_retried():
    script = Script((200, {"success": False, "message": "no such rid"}))
    with pytest.raises(ApiError) as info:
        make_client(script).call(ep.asset_set_meta("R9", {"caption": "x"}))
    assert str(info.value) == "asset.set_meta: no such rid"
    assert len(script.requests) == 1


def test_other_4xx_is_not_retried():
    script = Script((400, {"success": False, "message": "bad request"}))
    with pytest.raises(ApiError, match="bad request"):
        make_client(script).call(ep.asset_list())
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), (502, {}), (200, b"trunc")],
)
def test_a_create_whose_outcome_is_unknown_is_not_retried(fault):
    script = Script(fault, (200, OK))
    call = ep.portal_set("new-portal", {"name": "New"})
    with pytest.raises(OutcomeUnknown, match=r"portal\.set"):
        make_client(script).call(call, idempotent=False)
    assert len(script.requests) == 1


@pytest.mark.parametrize("fault", [httpx.ConnectError("refused"), (429, {})])
def test_a_create_that_surely_did_not_arrive_is_retried(fault):
    script = Script(fault, (200, OK))
    call = ep.portal_set("new-portal", {"name": "New"})
    assert make_client(script).call(call, idempotent=False) == OK
    assert len(script.requests) == 2


def _by_endpoint(answers):
    def handler(request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        status, body = answers[endpoint]
        return httpx.Response(status, json=body)

    return handler


def test_403_with_a_bad_token_is_an_authentication_error():
    bad = (403, {"success": False, "message": "invalid token"})
    script = Script(_by_endpoint({"ping": bad, "asset.set_meta": bad}))
    with pytest.raises(AuthenticationError, match="refused the token"):
        make_client(script).call(ep.asset_set_meta("R1", {"caption": "x"}))


def test_403_with_a_valid_token_is_a_permission_error_naming_the_call():
    answers = {
        "ping": (200, {"success": True, "accid": "1", "permissions": "|asset.read|"}),
        "asset.set_meta": (403, {"success": False, "message": "not allowed"}),
    }
    script = Script(_by_endpoint(answers))
    with pytest.raises(PermissionDenied) as info:
        make_client(script).call(ep.asset_set_meta("R1", {"caption": "x"}))
    assert "asset.set_meta" in str(info.value) and "asset.read" in str(info.value)


def test_paging_follows_items_data_when_the_server_caps_page_size():
    assets = [{"rid": f"R{i}", "tags": ",a,"} for i in range(100)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        per_page = min(int(request.url.params["items_per_page"]), 37)
        chunk = assets[(page - 1) * per_page : page * per_page]
        data = {"page": page, "items_per_page": per_page, "items_count": 100, "pages_count": 3}
        return httpx.Response(200, json={"success": True, "items": chunk, "items_data": data})

    script = Script(handler)
    got = read_kind(make_client(script), "asset")
    assert [a["rid"] for a in got] == [f"R{i}" for i in range(100)]
    assert len(script.requests) == 3
    assert got[0]["tags"] == frozenset({"a"})


@pytest.mark.parametrize("url", ["ftp://x/", "https://api.test/v2/?api_token=abc", "nohost"])
def test_bad_api_urls_are_invalid_input(url):
    with pytest.raises(InvalidInput):
        CincopaClient(url, "tok", transport=httpx.MockTransport(Script((200, OK))))


def test_tags_round_trip():
    assert ep.parse_list(",launch,cars,") == {"launch", "cars"}
    assert ep.parse_list("") == frozenset()
    assert ep.parse_list(None) == frozenset()
    assert ep.format_list({"b", "a"}) == "a,b"
    call = ep.asset_set_meta("R1", {"tags": frozenset({"z", "a"})})
    assert call.param("tags") == "a,z"


def test_portal_settings_may_not_override_call_params():
    with pytest.raises(ValueError, match="reserved"):
        ep.portal_set("acme", {"settings": {"api_token": "x"}})


def test_portal_and_webhook_lists_follow_items_data_should_they_page():
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        data = {"page": page, "items_per_page": 1, "items_count": 2, "pages_count": 2}
        portal = {"subdomain": f"p{page}", "name": "", "visibility": "public"}
        return httpx.Response(200, json={"success": True, "portals": [portal], "items_data": data})

    script = Script(handler)
    portals = read_kind(make_client(script), "portal")
    assert [p["subdomain"] for p in portals] == ["p1", "p2"]
    assert "page" not in script.requests[0].url.params  # one plain call when it does not page
    assert script.requests[1].url.params["page"] == "2"


def test_a_body_that_does_not_decode_is_retried_like_any_garbled_answer():
    sent = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:  # announced as gzip, but it is not: httpx cannot decode it
            garbled = httpx.ByteStream(b"not gzip at all")
            return httpx.Response(200, stream=garbled, headers={"Content-Encoding": "gzip"})
        return httpx.Response(200, json={"success": True, "portals": []})

    client = CincopaClient(
        "http://api.test/v2/",
        "tok",
        transport=httpx.MockTransport(answer),
        policy=RetryPolicy(),
        sleep=lambda s: None,
    )
    assert read_kind(client, "portal") == []
    assert client.sent["portal.list"] == 2
