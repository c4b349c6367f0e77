from __future__ import annotations

import pytest

from cincopa_sync.emulator import Emulator

from .conftest import READONLY, TOKEN, base_seed


def test_ping_reports_account_and_permissions(client) -> None:
    response = client.get("ping.json")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert isinstance(body["runtime"], int)
    assert {k: body[k] for k in ("ping", "accid", "accemail", "userid", "useremail")} == {
        "ping": "pong",
        "accid": "42",
        "accemail": "acme@example.com",
        "userid": "7",
        "useremail": "ops@example.com",
    }
    assert body["permissions"] == "|asset.*|portal.*|webhook.*|"


def test_readonly_token_ping(emulator, client_for) -> None:
    body = client_for(emulator, READONLY).get("ping.json").json()
    assert body["permissions"] == "|asset.read|portal.read|webhook.read|"


def test_both_url_shapes_and_methods(emulator) -> None:
    for method in ("GET", "POST"):
        for path in ("/v2/ping.json", "/ping.json"):
            reply = emulator.handle(method, path, {"api_token": TOKEN})
            assert (reply.status, reply.json()["ping"]) == (200, "pong")


def test_unknown_endpoint_is_404_json(emulator, client) -> None:
    response = client.get("asset.nothing.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["success"] is False
    assert emulator.handle("GET", "/v3/ping.json", {"api_token": TOKEN}).status == 404
    assert emulator.handle("GET", "/v2/ping", {"api_token": TOKEN}).status == 404


def test_other_http_methods_are_refused(emulator) -> None:
    reply = emulator.handle("DELETE", "/v2/portal.remove.json", {"api_token": TOKEN})
    assert reply.status == 405
    assert "acme" in emulator.account.portals


# -- tokens and permissions ------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_missing_or_unknown_token_is_403(emulator, client_for, token) -> None:
    response = client_for(emulator, token).get("asset.list.json")
    assert response.status_code == 403
    body = response.json()
    assert body["success"] is False
    assert body["message"]
    assert "items" not in body


def test_readonly_token_reads_but_cannot_write(emulator, client_for) -> None:
    client = client_for(emulator, READONLY)
    assert client.get("asset.list.json").json()["success"] is True
    assert client.get("portal.list.json").json()["success"] is True
    response = client.post("asset.set_meta.json", params={"rid": "rid0001", "caption": "x"})
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert "asset.set_meta" in response.json()["message"]
    assert "asset.write" in response.json()["message"]
    assert emulator.account.assets_by_rid["rid0001"].caption == "Caption 1"
    for endpoint, params in [
        ("portal.set", {"subdomain": "new"}),
        ("portal.remove", {"subdomain": "acme"}),
        ("webhook.delete", {"hook_url": "https://hooks.example.com/a"}),
    ]:
        assert client.post(f"{endpoint}.json", params=params).status_code == 403
    assert "acme" in emulator.account.portals
    assert "new" not in emulator.account.portals
    assert emulator.writes() == []


def permitted(perms: str, endpoint: str, params: dict | None = None) -> int:
    seed = base_seed(3)
    seed["tokens"] = {"t": perms}
    reply = Emulator(seed).handle(
        "GET", f"/v2/{endpoint}.json", {"api_token": "t", **(params or {})}
    )
    return reply.status or 0


def test_exact_method_entry_allows_only_that_call() -> None:
    perms = "|asset.set_meta|"
    assert permitted(perms, "asset.set_meta", {"rid": "rid0001"}) == 200
    assert permitted(perms, "asset.list") == 403
    assert permitted(perms, "portal.set", {"subdomain": "x"}) == 403


def test_namespace_read_and_write_entries() -> None:
    assert permitted("|portal.read|", "portal.check", {"subdomain": "x"}) == 200
    assert permitted("|portal.read|", "portal.list") == 200
    assert permitted("|portal.read|", "portal.cease", {"subdomain": "acme"}) == 403
    assert permitted("|portal.write|", "portal.cease", {"subdomain": "acme"}) == 200
    assert permitted("|portal.write|", "portal.list") == 403
    assert permitted("|portal.*|", "portal.rename", {"subdomain": "acme"}) == 200
    assert permitted("|portal.*|", "webhook.list") == 403
    assert permitted("|webhook.*|", "webhook.list") == 200


def test_ping_needs_only_a_valid_token() -> None:
    assert permitted("||", "ping") == 200
    assert permitted("||", "asset.get_tags") == 403


def test_temp_token_inherits_or_narrows(emulator, client) -> None:
    body = client.get("token.get_temp.json", params={"ttl": 60, "sourceip": "10.0.0.1"}).json()
    assert body["success"] is True
    temp = body["token"]
    assert temp not in (TOKEN, READONLY)
    reply = emulator.handle("GET", "/v2/asset.set_meta.json", {"api_token": temp, "rid": "rid0001"})
    assert reply.status == 200
    narrow = client.get("token.get_temp.json", params={"permissions": "|asset.read|"}).json()
    params = {"api_token": narrow["token"]}
    assert emulator.handle("GET", "/v2/asset.list.json", params).status == 200
    assert emulator.handle("GET", "/v2/portal.list.json", params).status == 403
    ping = emulator.handle("GET", "/v2/ping.json", params).json()
    assert ping["permissions"] == "|asset.read|"


def test_temp_token_cannot_widen(emulator, client_for) -> None:
    client = client_for(emulator, READONLY)
    body = client.get("token.get_temp.json", params={"permissions": "|asset.*|"}).json()
    assert body["success"] is False
    assert "token" not in body
    bad = client.get("token.get_temp.json", params={"permissions": "|assets.all|"}).json()
    assert bad["success"] is False
    assert "assets.all" in bad["message"]


def test_temp_token_expires() -> None:
    now = [1_000_000.0]
    em = Emulator(base_seed(1), clock=lambda: now[0])
    reply = em.handle("GET", "/v2/token.get_temp.json", {"api_token": TOKEN, "ttl": "30"})
    temp = reply.json()["token"]
    assert em.handle("GET", "/v2/ping.json", {"api_token": temp}).status == 200
    now[0] += 31
    expired = em.handle("GET", "/v2/ping.json", {"api_token": temp})
    assert expired.status == 403
    assert "expired" in expired.json()["message"]


def test_default_tokens_when_seed_names_none() -> None:
    assert Emulator().account.tokens == {
        "emulator-token": "|asset.*|portal.*|webhook.*|",
        "emulator-readonly": "|asset.read|portal.read|webhook.read|",
    }
    seeded = Emulator({"tokens": {"mine": "|asset.*|"}})
    assert seeded.account.tokens == {"mine": "|asset.*|"}
    assert seeded.handle("GET", "/v2/ping.json", {"api_token": TOKEN}).status == 403


# -- the call log ------------------------------------------------------------------------


def test_call_log_records_without_token(emulator, client) -> None:
    client.get("asset.list.json", params={"page": 2})
    client.post("asset.set_meta.json", params={"rid": "rid0001", "caption": "x"})
    client.post("asset.set_meta.json", params={"rid": "ghost", "caption": "x"})
    client.get("nope.json")
    calls = emulator.calls
    assert [(c.method, c.endpoint, c.status) for c in calls] == [
        ("GET", "asset.list", 200),
        ("POST", "asset.set_meta", 200),
        ("POST", "asset.set_meta", 200),
        ("GET", "nope", 404),
    ]
    assert calls[0].params == {"page": "2"}
    assert calls[1]["params"] == {"rid": "rid0001", "caption": "x"}
    assert all("api_token" not in c.params for c in calls)
    assert [c.success for c in calls] == [True, True, False, None]
    assert [(c.endpoint, c.params) for c in emulator.writes()] == [
        ("asset.set_meta", {"rid": "rid0001", "caption": "x"})
    ]
    assert [c.endpoint for c in emulator.calls_to("asset.*")] == [
        "asset.list",
        *["asset.set_meta"] * 2,
    ]
    emulator.clear_log()
    assert emulator.calls == []
    assert emulator.writes() == []
