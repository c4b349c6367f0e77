"""The emulator over real HTTP: a threaded server on a loopback port, and `run()`.

Replies are written with one socket write and keep-alive, so the emulator stays far
cheaper than the client it serves. A dropped connection really closes the socket with
no response at all.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .core import Emulator
from .transport import request_params
from .uploads import UploadRules


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not block close()
    request_queue_size = 256
    emulator: Emulator
    stats: ServiceStats


STATS_PATH = "/_emulator/stats"


class ServiceStats:
    """Calls served by endpoint and the server's own time on them (latency excluded), so a
    benchmark can show the emulator is not its bottleneck. Read at STATS_PATH, outside
    the API's namespace; `?reset=1` starts afresh.

    `service_seconds` adds up each call's time from its request to its answer written, so
    calls served at once (threads taking turns) count their waits for each other too;
    `cpu_seconds` is the CPU the whole emulator process used since the reset, the figure
    that says whether it kept up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: dict[str, int] = {}
            self.service_seconds = 0.0
            self.max_service_seconds = 0.0
            self.cpu_started = time.process_time()

    def add(self, endpoint: str, seconds: float) -> None:
        with self._lock:
            self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
            self.service_seconds += seconds
            self.max_service_seconds = max(self.max_service_seconds, seconds)

    def as_json(self) -> bytes:
        with self._lock:
            return json.dumps(
                {
                    "calls": dict(sorted(self.calls.items())),
                    "service_seconds": round(self.service_seconds, 6),
                    "max_service_ms": round(self.max_service_seconds * 1000, 3),
                    "cpu_seconds": round(time.process_time() - self.cpu_started, 6),
                }
            ).encode()


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cincopa-emulator"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the call log is the emulator's; stderr stays quiet

    def _serve(self) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        if split.path == STATS_PATH:
            self._stats(split.query)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        params = request_params(split.query, self.headers.get("Content-Type"), body)
        reply = self.server.emulator.handle(self.command, split.path, params)
        name = split.path.rsplit("/", 1)[-1].removesuffix(".json")
        served = time.perf_counter() - started
        if reply.delay_ms:
            time.sleep(reply.delay_ms / 1000)
        if reply.action != "respond":
            self.server.stats.add(name, served)
            # No response: the handler returns, and the server shuts the socket down.
            self.close_connection = True
            return
        status = reply.status or 500
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}", f"Server: {self.server_version}"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items()]
        lines.append(f"Content-Length: {len(reply.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        write_started = time.perf_counter()
        self.wfile.write(head + reply.body)
        served += time.perf_counter() - write_started
        self.server.stats.add(name, served)

    def _stats(self, query: str) -> None:
        if "reset=1" in query:
            self.server.stats.reset()
        body = self.server.stats.as_json()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)


class EmulatorServer:
    """A running server; `base_url` is the API base (ends in `/v2/`)."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = _IPv6HTTPServer if ":" in host else _HTTPServer
        self.emulator = emulator
        self.httpd = server_class((host, port), _Handler)
        self.httpd.emulator = emulator
        self.httpd.stats = self.stats = ServiceStats()
        self.host = host
        self.port: int = self.httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{self.port}/v2/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name=f"cincopa-emulator-{self.port}",
            daemon=True,
        )
        self._closed = False
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Starts serving `emulator` in a background thread; port 0 picks a free port."""
    return EmulatorServer(emulator, host, port)


def run(
    *,
    port: int = 0,
    state: str | os.PathLike[str] | None = None,
    seed: str | os.PathLike[str] | None = None,
    latency_ms: int = 0,
    faults: str | None = None,
    fault_seed: int = 0,
    page_cap: int = 100,
    announce: Callable[[str], Any] = print,
    host: str = "127.0.0.1",
    log: str | os.PathLike[str] | None = None,
    uploads: UploadRules | None = None,
    variant: str | None = None,
) -> None:
    """Serves until KeyboardInterrupt (then closes and returns).

    `announce` gets exactly one line: the base URL and the token names. Bad arguments
    (a bad fault spec, an unreadable seed) raise ValueError/OSError before serving.
    """
    emulator = Emulator.from_files(
        seed,
        state,
        page_cap=page_cap,
        latency_ms=latency_ms,
        faults=faults,
        fault_seed=fault_seed,
        log_path=log,
        record_calls=False,
        uploads=uploads,
        variant=variant,
    )
    emulator.warm()  # every asset encoded now, not while a benchmark measures the listing
    with serve(emulator, host, port) as server:
        try:
            names = ", ".join(emulator.token_names)
            shape = f"; answers as variant {emulator.variant}" if emulator.variant else ""
            announce(f"Cincopa API emulator serving {server.base_url} (tokens: {names}{shape})")
            while server.is_alive():
                server._thread.join(timeout=1.0)
        except KeyboardInterrupt:
            return
