"""A canary token must never appear in an exception, a log record, a repr or a message."""

from __future__ import annotations

import json
import logging
import socket
import traceback

import httpx
import pytest

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.errors import CincopaSyncError

CANARY = "CANARY-tok-5f1e9c0b7d"


def _chain_text(exc: BaseException) -> str:
    """Everything an exception can show: message, repr, traceback, and its whole chain."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        for attr in ("request", "response"):
            try:
                value = getattr(exc, attr, None)
            except RuntimeError:  # httpx raises when an error has no request attached
                value = None
            if value is not None:
                parts.append(repr(value))
                parts.append(str(getattr(value, "url", "")))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def _leaky_transport(request: httpx.Request) -> httpx.Response:
    """The worst case: a transport error whose message quotes the full URL."""
    raise httpx.ConnectError(f"cannot reach {request.url}", request=request)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(status: int, body: object):
    def handler(request: httpx.Request) -> httpx.Response:
        # An API that echoes the token in its message must not leak it through us either.
        payload = dict(body, message=f"bad token {request.url.params.get('api_token')}")
        return httpx.Response(status, content=json.dumps(payload).encode())

    return handler


SCENARIOS = {
    "leaky transport error": lambda: httpx.MockTransport(_leaky_transport),
    "connection refused (real socket)": lambda: httpx.HTTPTransport(),
    "403 echoing the token": lambda: httpx.MockTransport(_answers(403, {"success": False})),
    "success false echoing the token": lambda: httpx.MockTransport(
        _answers(200, {"success": False})
    ),
    "5xx until giving up": lambda: httpx.MockTransport(_answers(503, {"success": False})),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_canary_token_never_leaks(scenario, caplog):
    caplog.set_level(logging.DEBUG)  # httpx, httpcore and our own loggers, all of them
    base = f"http://127.0.0.1:{_free_port()}/v2/"
    client = CincopaClient(
        base,
        CANARY,
        transport=SCENARIOS[scenario](),
        policy=RetryPolicy(max_attempts=2, connect_timeout=0.5, read_timeout=0.5),
        sleep=lambda s: None,
    )
    with pytest.raises(CincopaSyncError) as info:
        client.call(ep.asset_set_meta("R1", {"caption": "x"}))
    client.close()

    seen = _chain_text(info.value)
    seen += "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    seen += caplog.text + repr(client) + repr(client.__dict__)
    assert caplog.records, "expected httpx or our client to log something at DEBUG"
    assert CANARY not in seen


def test_successful_calls_log_urls_without_the_token(caplog):
    caplog.set_level(logging.DEBUG)

    def ok(request: httpx.Request) -> httpx.Response:
        assert request.url.params["api_token"] == CANARY  # it did travel
        return httpx.Response(200, json={"success": True})

    client = CincopaClient("http://api.test/v2/", CANARY, transport=httpx.MockTransport(ok))
    client.call(ep.asset_set_meta("R1", {"caption": "x"}))
    assert "asset.set_meta rid=R1" in caplog.text  # the call's own log line
    assert CANARY not in caplog.text


def test_the_token_transport_alone_keeps_the_token_out_of_httpx_errors():
    """The layer below httpx's Client: its errors carry the tokenless request only."""
    from cincopa_sync.api.client import _TokenTransport
    from cincopa_sync.api.redact import Secret

    transport = _TokenTransport(httpx.MockTransport(_leaky_transport), Secret(CANARY))
    with httpx.Client(transport=transport) as http, pytest.raises(httpx.ConnectError) as info:
        http.get("http://api.test/v2/ping.json")
    text = _chain_text(info.value)
    assert "api.test" in text  # the message is still useful...
    assert CANARY not in text  # ...and holds no token
