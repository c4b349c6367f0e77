"""Client rules the end-to-end tests rely on, against scripted answers (no sockets, no sleep):
the test-only time scale, secret params kept below httpx, honest failure messages."""

from __future__ import annotations

import logging

import httpx
import pytest

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import TIME_SCALE_ENV, RetryPolicy, parse_retry_after
from cincopa_sync.errors import ApiError, InvalidInput, TransientApiError

KEY = "k3y&with=odd/chars"
SLACK = "https://hooks.slack.com/services/T1/B2/secretpath"


def client_for(handler, **policy) -> CincopaClient:
    return CincopaClient(
        "http://api.test/v2/",
        "tok-123",
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(**policy),
        sleep=lambda _s: None,
    )


def test_the_time_scale_shortens_every_wait_and_timeout() -> None:
    policy = RetryPolicy.from_env({TIME_SCALE_ENV: "0.01"})
    assert (policy.base_delay, policy.max_delay, policy.deadline) == (0.005, 0.2, 1.2)
    assert (policy.connect_timeout, policy.read_timeout) == (0.1, 0.3)
    assert policy.time_scale == 0.01 and policy.max_attempts == 6
    assert RetryPolicy.from_env({}) == RetryPolicy()


@pytest.mark.parametrize("bad", ["fast", "0", "-1", "nan", "11"])
def test_a_bad_time_scale_is_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput, match=TIME_SCALE_ENV):
        RetryPolicy.from_env({TIME_SCALE_ENV: bad})


def test_retry_after_that_is_not_a_finite_number_is_ignored() -> None:
    assert parse_retry_after("inf", lambda: 0.0) is None
    assert parse_retry_after("nan", lambda: 0.0) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", lambda: 1445412470.0) == 10.0


def test_secret_params_reach_the_server_but_not_logs_or_errors(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:  # an error that quotes the full URL, as some transports do
            raise httpx.ConnectError(f"cannot reach {request.url}", request=request)
        return httpx.Response(200, json={"success": True})

    client = client_for(handler)
    client.call(ep.webhook_set(SLACK, ["asset.*"], None, slack=True), idempotent=False)
    client.call(ep.webhook_set("https://h.example.com/x", ["asset.*"], KEY))
    assert seen[1].url.params["hook_url"] == SLACK  # it did travel
    assert seen[2].url.params["security_key"] == KEY
    assert "webhook.set_slack hook_url=(sensitive)" in caplog.text  # the call was logged
    text = caplog.text + repr([r.args for r in caplog.records])
    for secret in (SLACK, KEY, "secretpath", "k3y", "tok-123"):
        assert secret not in text


def test_an_api_message_quoting_the_calls_secrets_is_masked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        message = f"bad key {request.url.params['security_key']} ({request.url})"
        return httpx.Response(200, json={"success": False, "message": message})

    with pytest.raises(ApiError) as info:
        client_for(handler).call(ep.webhook_set("https://h.example.com/x", ["a.b"], KEY))
    assert "k3y" not in str(info.value) and "tok-123" not in str(info.value)
    assert str(info.value).startswith("webhook.set: bad key ***")


def test_a_write_that_gives_up_after_a_lost_answer_says_it_may_have_acted() -> None:
    answers = iter([httpx.RemoteProtocolError("dropped"), *[(503, {})] * 10])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer[0], json=answer[1])

    with pytest.raises(TransientApiError) as info:
        client_for(handler).call(ep.asset_set_meta("R1", {"caption": "x"}))
    assert "gave up after 6 attempt(s)" in str(info.value)
    assert "may have taken effect: run plan to see" in str(info.value)
    assert info.value.may_have_acted


def test_success_false_after_a_lost_answer_says_it_may_have_acted() -> None:
    answers = iter(["drop", "fail"])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(answers) == "drop":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"success": False, "message": "no such rid"})

    with pytest.raises(ApiError) as info:
        client_for(handler).call(ep.asset_set_meta("R1", {"caption": "x"}))
    assert str(info.value) == (
        "asset.set_meta: no such rid; an attempt whose answer was lost may have taken "
        "effect: run plan to see"
    )


def test_a_read_that_gives_up_says_nothing_of_effects() -> None:
    client = client_for(lambda request: httpx.Response(503, json={}), max_attempts=2)
    with pytest.raises(TransientApiError) as info:
        client.call(ep.asset_list())
    assert "may have taken effect" not in str(info.value)


def test_a_body_that_breaks_off_quoting_the_request_masks_the_calls_secrets() -> None:
    """An error raised while the body is read (after the transport answered) was cleaned
    of the token only: its text could hold the call's security key."""

    class Breaks(httpx.SyncByteStream):
        def __init__(self, url: str) -> None:
            self.url = url

        def __iter__(self):
            yield b'{"succ'
            raise httpx.ReadError(f"connection lost reading the answer to {self.url}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Breaks(str(request.url)))

    with pytest.raises(ApiError) as info:
        client_for(handler, max_attempts=1).call(
            ep.webhook_set("https://h.example.com/x", ["a.b"], KEY)
        )
    text = str(info.value)
    assert "connection lost" in text  # the error is still told...
    for secret in ("k3y", "tok-123"):
        assert secret not in text  # ...without the key or the token
