"""Every call ends by its deadline, whatever the server does: a real loopback server that
answers slowly, a byte at a time (each byte well within the read timeout), in its body or
in its headers, or that accepts the connection and never says a word."""

from __future__ import annotations

import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import TIME_SCALE_ENV, RetryPolicy
from cincopa_sync.errors import TransientApiError

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
GAP = 0.05  # seconds between two bytes: far under every read timeout below


def body_trickle(sock: socket.socket) -> None:
    sock.sendall(HEADERS)
    trickle(sock, b'{"success": true, "ping": "pong"' + b" " * 4000)


def header_trickle(sock: socket.socket) -> None:
    trickle(sock, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 4000)


def silent(sock: socket.socket) -> None:
    time.sleep(30)


def trickle(sock: socket.socket, data: bytes) -> None:
    for index in range(len(data)):
        try:
            sock.sendall(data[index : index + 1])
        except OSError:  # the client gave up and closed: done
            return
        time.sleep(GAP)


@pytest.fixture
def slow_server(request: pytest.FixtureRequest) -> Iterator[str]:
    behaviour: Callable[[socket.socket], None] = request.param

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(65536)  # the request line and headers
            behaviour(self.request)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/"
    finally:
        server.shutdown()
        server.server_close()


SERVERS = [body_trickle, header_trickle, silent]


@pytest.mark.parametrize("slow_server", SERVERS, indirect=True, ids=lambda f: f.__name__)
def test_a_call_ends_by_its_deadline(slow_server: str) -> None:
    """A server sending headers, then one body byte every 5 s (under the read timeout),
    kept `ping` alive indefinitely, even with the budget scaled down to 1.2 s: the read
    timeout bounded each wait for a byte, not the call."""
    policy = RetryPolicy(deadline=1.0, read_timeout=0.5, connect_timeout=0.5, base_delay=0.01)
    with CincopaClient(slow_server, "tok", policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(TransientApiError, match="ping: timed out waiting for the answer from"):
            client.ping()
        took = time.monotonic() - started
    assert took < policy.deadline + 0.3, took


@pytest.mark.parametrize("slow_server", [body_trickle], indirect=True, ids=["body_trickle"])
def test_ping_through_the_cli_ends_by_its_scaled_budget(
    slow_server: str, run_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """CINCOPA_SYNC_TIME_SCALE=0.01 cincopa-sync ping --api-url http://127.0.0.1:PORT/v2/
    (a server trickling its body) never returned."""
    started = time.monotonic()
    result = run_process(
        "ping",
        "--api-url",
        slow_server,
        env={"CINCOPA_API_TOKEN": "tok", TIME_SCALE_ENV: "0.01"},
        timeout=20,
    )
    took = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "ping: timed out waiting for the answer from 127.0.0.1:" in result.stderr
    assert took < 1.2 + 3.0, took  # the budget, and the start of a Python process
