from __future__ import annotations

import hashlib

import httpx
import pytest


def call(client: httpx.Client, endpoint: str, **params: object) -> dict:
    response = client.post(f"{endpoint}.json", params=params)
    assert response.status_code == 200
    return response.json()


def portals(client: httpx.Client) -> dict[str, dict]:
    body = client.get("portal.list.json").json()
    assert body["success"] is True
    return {p["subdomain"]: p for p in body["portals"]}


# -- portals ----------------------------------------------------------------------------


def test_portal_list(client) -> None:
    assert portals(client) == {
        "acme": {
            "subdomain": "acme",
            "name": "Acme Videos",
            "visibility": "public",
            "status": "active",
            "settings": {"theme": "dark"},
        }
    }


def test_portal_check(client) -> None:
    own = call(client, "portal.check", subdomain="acme")
    assert own == {**own, "subdomain": "acme", "exists": True, "available": False}
    assert own["status"] == "active"
    free = call(client, "portal.check", subdomain="free-name")
    assert (free["exists"], free["available"], free["status"]) == (False, True, None)
    foreign = call(client, "portal.check", subdomain="taken")
    assert (foreign["exists"], foreign["available"]) == (False, False)


@pytest.mark.parametrize("name", ["Acme", "-acme", "acme-", "a_b", "a" * 64, "a.b"])
def test_invalid_subdomains_are_refused(emulator, client, name) -> None:
    assert call(client, "portal.check", subdomain=name)["success"] is False
    body = call(client, "portal.set", subdomain=name)
    assert body["success"] is False
    assert "subdomain" in body["message"]
    assert list(emulator.account.portals) == ["acme"]


def test_longest_valid_subdomain(client) -> None:
    assert call(client, "portal.set", subdomain="a" * 63)["success"] is True


def test_portal_set_creates_with_defaults(client) -> None:
    assert call(client, "portal.set", subdomain="new-one")["success"] is True
    assert portals(client)["new-one"] == {
        "subdomain": "new-one",
        "name": "new-one",
        "visibility": "public",
        "status": "active",
        "settings": {},
    }


def test_portal_set_create_with_settings(client) -> None:
    body = call(
        client, "portal.set", subdomain="p2", name="P Two", visibility="private", layout="grid"
    )
    assert body["success"] is True
    assert portals(client)["p2"] == {
        "subdomain": "p2",
        "name": "P Two",
        "visibility": "private",
        "status": "active",
        "settings": {"layout": "grid"},
    }


def test_portal_set_updates_only_given_and_merges_settings(client) -> None:
    assert call(client, "portal.set", subdomain="acme", visibility="private", fid="X1")["success"]
    assert portals(client)["acme"] == {
        "subdomain": "acme",
        "name": "Acme Videos",
        "visibility": "private",
        "status": "active",
        "settings": {"theme": "dark", "fid": "X1"},
    }
    call(client, "portal.set", subdomain="acme", theme="light")
    assert portals(client)["acme"]["settings"] == {"theme": "light", "fid": "X1"}


def test_portal_set_bad_visibility(emulator, client) -> None:
    body = call(client, "portal.set", subdomain="acme", visibility="hidden", name="Changed")
    assert body["success"] is False
    assert emulator.account.portals["acme"].name == "Acme Videos"


def test_portal_set_on_foreign_subdomain_fails(emulator, client) -> None:
    body = call(client, "portal.set", subdomain="taken", name="Mine")
    assert body["success"] is False
    assert "another account" in body["message"]
    assert "taken" not in emulator.account.portals


def test_cease_then_set_reactivates(client) -> None:
    assert call(client, "portal.cease", subdomain="acme")["success"] is True
    assert portals(client)["acme"]["status"] == "ceased"
    assert call(client, "portal.check", subdomain="acme")["status"] == "ceased"
    assert call(client, "portal.set", subdomain="acme")["success"] is True
    assert portals(client)["acme"]["status"] == "active"
    assert portals(client)["acme"]["name"] == "Acme Videos"


def test_rename_moves_settings(client) -> None:
    call(client, "portal.cease", subdomain="acme")
    assert call(client, "portal.rename", subdomain="acme", new_subdomain="acme-2")["success"]
    listed = portals(client)
    assert list(listed) == ["acme-2"]
    assert listed["acme-2"] == {
        "subdomain": "acme-2",
        "name": "Acme Videos",
        "visibility": "public",
        "status": "ceased",
        "settings": {"theme": "dark"},
    }
    assert call(client, "portal.check", subdomain="acme")["available"] is True


def test_rename_failures(emulator, client) -> None:
    call(client, "portal.set", subdomain="other")
    cases = [
        ({"subdomain": "missing", "new_subdomain": "fine"}, "missing"),
        ({"subdomain": "acme", "new_subdomain": "other"}, "taken"),
        ({"subdomain": "acme", "new_subdomain": "taken"}, "taken"),
        ({"subdomain": "acme", "new_subdomain": "Bad"}, "invalid"),
        ({"subdomain": "acme"}, "new_subdomain"),
    ]
    for params, word in cases:
        body = call(client, "portal.rename", **params)
        assert body["success"] is False, params
        assert word in body["message"]
    assert sorted(emulator.account.portals) == ["acme", "other"]


def test_remove_is_permanent(client) -> None:
    assert call(client, "portal.remove", subdomain="acme")["success"] is True
    assert portals(client) == {}
    assert call(client, "portal.remove", subdomain="acme")["success"] is False
    assert call(client, "portal.cease", subdomain="acme")["success"] is False
    assert call(client, "portal.check", subdomain="acme")["available"] is True


def test_portal_list_is_sorted(client) -> None:
    for name in ("zeta", "beta"):
        call(client, "portal.set", subdomain=name)
    assert list(portals(client)) == ["acme", "beta", "zeta"]


# -- webhooks ---------------------------------------------------------------------------


def hooks(client: httpx.Client) -> dict[str, dict]:
    body = client.get("webhook.list.json").json()
    assert body["success"] is True
    return {h["hook_url"]: h for h in body["webhooks"]}


URL = "https://hooks.example.com/a"


def test_webhook_list_hides_the_key(emulator, client) -> None:
    assert hooks(client) == {
        URL: {
            "hook_url": URL,
            "type": "http",
            "events": "asset.uploaded,asset.updated",
            "has_security_key": True,
        }
    }
    stored = emulator.account.webhooks[URL]
    assert stored.security_key_sha256 == hashlib.sha256(b"s3cret").hexdigest()
    assert "s3cret" not in str(emulator.to_json())


def test_webhook_set_creates(client) -> None:
    body = call(client, "webhook.set", hook_url="https://h.example/new", events="gallery.*")
    assert body["success"] is True
    assert hooks(client)["https://h.example/new"] == {
        "hook_url": "https://h.example/new",
        "type": "http",
        "events": "gallery.*",
        "has_security_key": False,
    }


def test_webhook_set_key_rules(emulator, client) -> None:
    call(client, "webhook.set", hook_url=URL, events="asset.deleted")  # absent keeps
    assert hooks(client)[URL] == {
        "hook_url": URL,
        "type": "http",
        "events": "asset.deleted",
        "has_security_key": True,
    }
    call(client, "webhook.set", hook_url=URL, events="asset.deleted", security_key="k2")
    expected = hashlib.sha256(b"k2").hexdigest()
    assert emulator.account.webhooks[URL].security_key_sha256 == expected
    call(client, "webhook.set", hook_url=URL, events="asset.deleted", security_key="")
    assert hooks(client)[URL]["has_security_key"] is False


def test_webhook_events_are_split_and_trimmed(client) -> None:
    call(client, "webhook.set", hook_url=URL, events=" asset.uploaded , leads.*,,asset.uploaded")
    assert hooks(client)[URL]["events"] == "asset.uploaded,leads.*"


@pytest.mark.parametrize(
    "params",
    [
        {"hook_url": URL},
        {"hook_url": URL, "events": ""},
        {"hook_url": URL, "events": "not an event"},
        {"events": "asset.uploaded"},
        {"hook_url": "ftp://x.example/", "events": "asset.uploaded"},
    ],
)
def test_webhook_set_failures(emulator, client, params) -> None:
    assert call(client, "webhook.set", **params)["success"] is False
    assert emulator.account.webhooks[URL].events == ["asset.uploaded", "asset.updated"]


def test_webhook_set_slack(client) -> None:
    slack = "https://hooks.slack.com/services/T0/B0/XYZ"
    assert call(client, "webhook.set_slack", hook_url=slack, events="asset.*")["success"] is True
    assert hooks(client)[slack] == {
        "hook_url": slack,
        "type": "slack",
        "events": "asset.*",
        "has_security_key": False,
    }


def test_webhook_delete(client) -> None:
    assert call(client, "webhook.delete", hook_url=URL)["success"] is True
    assert hooks(client) == {}
    body = call(client, "webhook.delete", hook_url=URL)
    assert body["success"] is False
    assert body["message"]
