"""The emulator over real loopback HTTP (serve() and run())."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path

import httpx
import pytest

from cincopa_sync.emulator import Emulator, run, serve

from .conftest import TOKEN, base_seed


def http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, params={"api_token": TOKEN}, timeout=10.0)


def test_serve_basic_calls() -> None:
    em = Emulator(base_seed(10), page_cap=4)
    with serve(em) as server, http(server.base_url) as c:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v2/", server.base_url)
        assert server.port > 0
        assert c.get("ping.json").json()["ping"] == "pong"
        body = c.get("asset.list.json", params={"page": 3, "items_per_page": 50}).json()
        assert [i["rid"] for i in body["items"]] == ["rid0009", "rid0010"]
        assert body["items_data"]["items_per_page"] == 4
        response = c.post("asset.set_meta.json", data={"rid": "rid0001", "caption": "form"})
        assert response.json()["success"] is True
        assert c.get("/ping.json").status_code == 200  # the base without /v2/
        assert c.get("nope.json").status_code == 404
        assert httpx.get(server.base_url + "ping.json").status_code == 403
    assert em.account.assets_by_rid["rid0001"].caption == "form"
    assert [c.endpoint for c in em.calls] == [
        "ping",
        "asset.list",
        "asset.set_meta",
        "ping",
        "nope",
        "ping",
    ]
    assert em.calls[2].params == {"rid": "rid0001", "caption": "form"}


def test_server_keeps_connections_alive() -> None:
    with serve(Emulator()) as server, http(server.base_url) as c:
        ports = set()
        for _ in range(5):
            response = c.get("ping.json")
            stream = response.extensions["network_stream"]
            ports.add(stream.get_extra_info("client_addr")[1])
    assert len(ports) == 1


def test_server_drop_closes_without_response() -> None:
    em = Emulator(base_seed(1), faults="portal.set#1=drop-after; ping#1=drop")
    with serve(em) as server, http(server.base_url) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("portal.set.json", params={"subdomain": "fresh"})
        assert "fresh" in em.account.portals
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("ping.json")
        assert c.get("ping.json").status_code == 200


def test_server_drop_sends_no_bytes() -> None:
    em = Emulator(faults="ping=drop")
    with serve(em) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"GET /v2/ping.json?api_token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.settimeout(5)
        assert sock.recv(1024) == b""  # EOF, not a response


def test_server_faults_on_the_wire() -> None:
    em = Emulator(faults="webhook.list#1=429-date:5; webhook.list#2=truncate; ping=html")
    with serve(em) as server, http(server.base_url) as c:
        limited = c.get("webhook.list.json")
        assert limited.status_code == 429
        assert limited.headers["retry-after"].endswith(" GMT")
        cut = c.get("webhook.list.json")
        assert cut.status_code == 200
        assert cut.content.startswith(b'{"success":true')
        with pytest.raises(json.JSONDecodeError):
            cut.json()
        page = c.get("ping.json")
        assert (page.status_code, page.headers["content-type"]) == (502, "text/html; charset=utf-8")


def test_server_slow_reply_hits_client_timeout() -> None:
    em = Emulator(faults="ping#1=slow:400")
    with serve(em) as server, http(server.base_url) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("ping.json", timeout=httpx.Timeout(5.0, read=0.05))
        assert c.get("ping.json").status_code == 200


def test_server_handles_concurrent_clients() -> None:
    em = Emulator(base_seed(50))
    errors: list[BaseException] = []
    with serve(em) as server:

        def worker(n: int) -> None:
            try:
                with http(server.base_url) as c:
                    for i in range(10):
                        rid = f"rid{(n * 10 + i) % 50 + 1:04d}"
                        c.post("asset.set_meta.json", params={"rid": rid, "caption": f"w{n}"})
            except BaseException as exc:  # surfaced by the assert below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(em.writes()) == 50
    assert {a.caption for a in em.account.iter_assets()} == {f"w{n}" for n in range(5)}


def test_close_is_idempotent_and_frees_the_port() -> None:
    server = serve(Emulator())
    port = server.port
    server.close()
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v2/ping.json", params={"api_token": TOKEN})


def test_run_announces_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(base_seed(2)))
    state = tmp_path / "state.json"
    lines: list[str] = []

    def announce(line: str) -> None:
        lines.append(line)
        base = re.search(r"http://\S+/v2/", line)
        assert base is not None
        with http(base.group(0)) as c:
            c.post("asset.set_meta.json", params={"rid": "rid0002", "caption": "via run"})
        raise KeyboardInterrupt

    assert run(seed=seed, state=state, announce=announce, page_cap=10) is None
    assert len(lines) == 1
    assert "emulator-token" in lines[0]
    assert "emulator-readonly" in lines[0]
    saved = json.loads(state.read_text())
    assert [a["caption"] for a in saved["assets"]] == ["Caption 1", "via run"]


def test_run_rejects_a_bad_fault_spec_before_serving() -> None:
    lines: list[str] = []
    with pytest.raises(ValueError, match="unknown fault"):
        run(faults="*=explode", announce=lines.append)
    assert lines == []


def test_stats_count_calls_by_endpoint_and_reset() -> None:
    import httpx

    from cincopa_sync.emulator import Emulator, serve

    with serve(Emulator({"assets": [{"rid": "R1"}]})) as server:
        root = server.base_url.removesuffix("v2/")
        for _ in range(3):
            httpx.get(server.base_url + "asset.list.json", params={"api_token": "emulator-token"})
        httpx.get(server.base_url + "ping.json", params={"api_token": "emulator-token"})
        stats = httpx.get(root + "_emulator/stats").json()
        assert stats["calls"] == {"asset.list": 3, "ping": 1}
        assert 0 < stats["service_seconds"] < 5
        assert 0 < stats["cpu_seconds"] < 5
        httpx.get(root + "_emulator/stats?reset=1")
        assert httpx.get(root + "_emulator/stats").json()["calls"] == {}
