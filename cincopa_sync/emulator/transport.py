"""httpx transports that serve requests from an Emulator in-process (no sockets).

Faults become what a real network would give the client: a refused connection is
httpx.ConnectError, a dropped one httpx.RemoteProtocolError, a reply slower than the
request's read timeout httpx.ReadTimeout (after "waiting" that long through the
emulator's sleep function, which by default does not wait at all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import httpx

if TYPE_CHECKING:
    from .core import Emulator

_FORM = "application/x-www-form-urlencoded"


def request_params(query: str, content_type: str | None, body: bytes) -> dict[str, str]:
    """Query parameters, then form-body parameters (a body value wins on a clash).

    Blank values are kept: `caption=` means "clear the caption", not "absent".
    """
    params = dict(parse_qsl(query, keep_blank_values=True))
    if body and content_type and content_type.split(";", 1)[0].strip().lower() == _FORM:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _serve(emulator: Emulator, request: httpx.Request) -> httpx.Response:
    params = request_params(
        request.url.query.decode("ascii", "replace"),
        request.headers.get("content-type"),
        request.content,
    )
    reply = emulator.handle(request.method, request.url.path, params)
    if reply.action == "refuse":
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
    delay = reply.delay_ms / 1000
    timeout = request.extensions.get("timeout", {}).get("read")
    if timeout is not None and delay > timeout:
        emulator.sleep(timeout)
        raise httpx.ReadTimeout("The read operation timed out", request=request)
    if delay:
        emulator.sleep(delay)
    if reply.action == "drop":
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return httpx.Response(
        reply.status or 500, headers=reply.headers, content=reply.body, request=request
    )


class EmulatorTransport(httpx.BaseTransport):
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return _serve(self.emulator, request)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """The same for httpx.AsyncClient; waits still go through the (sync) sleep function."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return _serve(self.emulator, request)
