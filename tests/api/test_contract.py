"""The client against the emulator, endpoint by endpoint, in-process (no sockets, no sleep)."""

from __future__ import annotations

import pytest
from support import lookup, read_kind

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.paging import Reader
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.emulator import Emulator
from cincopa_sync.errors import (
    ApiError,
    AuthenticationError,
    OutcomeUnknown,
    PermissionDenied,
    TransientApiError,
)


def _seed(n_assets: int = 100) -> dict:
    return {
        "assets": [
            {
                "rid": f"R{i:03d}",
                "caption": f"Video {i}",
                "reference_id": "DUP" if i in (5, 6) else f"SKU-{i}",
                "tags": ["a", "b"] if i % 2 else [],
            }
            for i in range(n_assets)
        ],
        "portals": [{"subdomain": "acme", "name": "Acme", "settings": {"theme": "dark"}}],
        "webhooks": [{"hook_url": "https://h.example.com/x", "events": ["asset.*"]}],
        "foreign_subdomains": ["taken"],
    }


class Waits(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(em: Emulator, token: str = "emulator-token", **policy) -> CincopaClient:
    return CincopaClient(
        "http://emulator.test/v2/",
        token,
        transport=em.transport(),
        policy=RetryPolicy(**policy),
        sleep=Waits(),
    )


@pytest.fixture
def em() -> Emulator:
    return Emulator(_seed(), page_cap=37)


def test_ping(em):
    info = client_for(em).ping()
    assert info["permissions"] == {"asset.*", "portal.*", "webhook.*"}
    assert info["accid"]


def test_paging_under_a_cap_of_37_reads_every_asset_once(em):
    client = client_for(em)
    rids = [a["rid"] for a in read_kind(client, "asset")]
    assert rids == [f"R{i:03d}" for i in range(100)]
    assert client.sent["asset.list"] == 3  # ceil(100 / 37)


def test_list_page_reports_what_the_server_honoured(em):
    call = ep.asset_list(page=2, items_per_page=500)
    items, info = Reader(client_for(em), None).page(call, ep.LISTS[ep.ASSET_LIST], 2)  # type: ignore[arg-type]
    assert (info.page, info.items_per_page, info.items_count, info.pages_count) == (2, 37, 100, 3)
    assert len(items) == 37


def test_lookups_by_rid_and_reference_id(em):
    client = client_for(em)
    assert [a["caption"] for a in lookup(client, rid="R007")] == ["Video 7"]
    assert sorted(a["rid"] for a in lookup(client, reference_id="DUP")) == ["R005", "R006"]
    assert lookup(client, rid="nope") == []


def test_set_meta_writes_only_given_fields_and_tags_round_trip(em):
    client = client_for(em)
    client.call(ep.asset_set_meta("R001", {"tags": frozenset({"x", "y"}), "description": "d"}))
    (asset,) = lookup(client, rid="R001")
    assert asset["tags"] == {"x", "y"}
    assert asset["description"] == "d"
    assert asset["caption"] == "Video 1"  # untouched
    assert em.account.assets_by_rid["R001"].tags == ["x", "y"]
    client.call(ep.asset_set_meta("R001", {"tags": frozenset(), "caption": ""}))
    (asset,) = lookup(client, rid="R001")
    assert asset["tags"] == frozenset() and asset["caption"] == ""


def test_set_meta_of_unknown_rid_is_an_api_error_with_the_endpoint(em):
    with pytest.raises(ApiError, match=r"^asset\.set_meta: "):
        client_for(em).call(ep.asset_set_meta("missing", {"caption": "x"}))


def test_portals_set_check_rename_remove(em):
    client = client_for(em)
    assert client.call(ep.portal_check("taken"))["available"] is False
    assert client.call(ep.portal_check("fresh"))["available"] is True
    client.call(ep.portal_set("fresh", {"name": "Fresh", "settings": {"theme": "light"}}))
    client.call(ep.portal_rename("fresh", "fresher"))
    portals = {p["subdomain"]: p for p in read_kind(client, "portal")}
    assert portals["fresher"]["settings"] == {"theme": "light"}
    assert portals["fresher"]["name"] == "Fresh"
    assert "fresh" not in portals
    client.call(ep.portal_remove("fresher"))
    assert {p["subdomain"] for p in read_kind(client, "portal")} == {"acme"}
    with pytest.raises(ApiError, match=r"portal\.set"):
        client.call(ep.portal_set("taken", {"name": "mine"}))


def test_webhooks_set_slack_delete_and_key_presence(em):
    client = client_for(em)
    client.call(ep.webhook_set("https://h.example.com/new", {"asset.uploaded"}, "k1"))
    client.call(
        ep.webhook_set("https://hooks.slack.com/services/T/B/C", {"asset.*"}, None, slack=True)
    )
    hooks = {h["url"]: h for h in read_kind(client, "webhook")}
    assert hooks["https://h.example.com/new"]["has_security_key"] is True
    assert hooks["https://h.example.com/new"]["events"] == {"asset.uploaded"}
    assert hooks["https://hooks.slack.com/services/T/B/C"]["type"] == "slack"
    client.call(ep.webhook_delete("https://h.example.com/new"))
    assert "https://h.example.com/new" not in {h["url"] for h in read_kind(client, "webhook")}


def test_get_tags_and_temp_token(em):
    client = client_for(em)
    assert client.call(ep.make_call("asset.get_tags", []))["tag_cloud"]["a"] == 50
    temp = client.call(ep.make_call("token.get_temp", [("ttl", "60")]))["token"]
    assert client_for(em, temp).ping()["accid"]


def test_unknown_token_is_an_authentication_error():
    em = Emulator(_seed(3))
    with pytest.raises(AuthenticationError):
        read_kind(client_for(em, "not-a-token"), "portal")


def test_read_only_token_writing_is_a_permission_error_and_writes_nothing():
    em = Emulator(_seed(3))
    with pytest.raises(PermissionDenied, match=r"asset\.set_meta"):
        client_for(em, "emulator-readonly").call(ep.asset_set_meta("R001", {"caption": "x"}))
    assert em.writes() == []
    assert em.account.assets_by_rid["R001"].caption == "Video 1"


# -- each fault and its retry ---------------------------------------------------------

RETRIED_FAULTS = [
    "429",
    "429:3",
    "429-date:5",
    "500",
    "502",
    "503",
    "504",
    "html",
    "not-json",
    "drop",
    "refuse",
    "truncate",
]


@pytest.mark.parametrize("fault", RETRIED_FAULTS)
def test_reads_survive_each_fault_by_retrying(fault):
    em = Emulator(_seed(10), faults=f"asset.list#1,2={fault}")
    client = client_for(em)
    assert len(read_kind(client, "asset")) == 10
    assert client.sent["asset.list"] == 3  # two faults, then the answer
    assert len(client._sleep) == 2  # waited twice, for nothing (injected sleep)


def test_retry_after_seconds_from_the_emulator_is_honoured():
    em = Emulator(_seed(3), faults="asset.list#1=429:3")
    client = client_for(em)
    read_kind(client, "asset")
    assert client._sleep == [3.0]


@pytest.mark.parametrize("fault", ["500", "drop-after", "truncate"])
def test_idempotent_writes_are_retried_and_take_effect_once(fault):
    em = Emulator(_seed(3), faults=f"asset.set_meta#1={fault}")
    client = client_for(em)
    client.call(ep.asset_set_meta("R001", {"caption": "new"}))
    assert em.account.assets_by_rid["R001"].caption == "new"
    assert client.sent["asset.set_meta"] == 2


def test_a_create_whose_answer_is_lost_reports_unknown_outcome_not_a_duplicate():
    em = Emulator(_seed(3), faults="portal.set#1=drop-after")
    client = client_for(em)
    with pytest.raises(OutcomeUnknown):
        client.call(ep.portal_set("fresh", {"name": "F"}), idempotent=False)
    assert client.sent["portal.set"] == 1
    assert "fresh" in em.account.portals  # it did act: the caller must read before retrying


def test_success_false_is_not_retried():
    em = Emulator(_seed(3), faults="asset.set_meta#1=fail:quota exceeded")
    client = client_for(em)
    with pytest.raises(ApiError, match="quota exceeded"):
        client.call(ep.asset_set_meta("R001", {"caption": "x"}))
    assert client.sent["asset.set_meta"] == 1


def test_persistent_faults_give_up_within_the_budget():
    em = Emulator(_seed(3), faults="portal.list=503")
    client = client_for(em, max_attempts=4)
    with pytest.raises(TransientApiError, match="4 attempt"):
        read_kind(client, "portal")
    assert client.sent["portal.list"] == 4
