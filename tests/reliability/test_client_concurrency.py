"""More threads than connections: no request may stall until its read timeout.

read_live and verify run `parallelism` worker threads next to the main thread, all on one
client whose pool holds `parallelism` connections. httpcore 1.0.9 can close a connection
it has just handed to a queued request, which then waits for an answer that never comes
until the read timeout fires (encode/httpcore#1110); in production that is a 30 s stall
and a retry. The client lets no more requests reach httpx than it has connections.
"""

from __future__ import annotations

import threading

import httpx

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.emulator import Emulator
from cincopa_sync.emulator.server import EmulatorServer

ROUNDS = 200
THREADS = 4


def test_more_threads_than_connections_never_wait_for_a_read_timeout(
    server: EmulatorServer,
) -> None:
    server.httpd.emulator = Emulator({"assets": [{"rid": "R1"}]})
    policy = RetryPolicy(read_timeout=0.25, connect_timeout=0.25, base_delay=0.001)
    retried = 0
    for _ in range(ROUNDS):  # a fresh pool each round: the race is in its first moments
        transport = httpx.HTTPTransport(
            verify=False, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
        )
        client = CincopaClient(
            server.base_url, "emulator-token", transport=transport, policy=policy, max_connections=1
        )

        def worker(client: CincopaClient = client) -> None:
            client.call(ep.list_page("portal.list", None))
            client.call(ep.list_page("webhook.list", None))

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
        retried += sum(client.sent.values()) - sum(client.calls.values())
    assert retried == 0, f"{retried} call(s) stalled until the read timeout and were retried"
