from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

import httpx
import pytest

from cincopa_sync.emulator import Emulator, parse_faults
from cincopa_sync.emulator.handlers import ENDPOINTS

from .conftest import base_seed

NOW = 1_800_000_000.0


def faulty(spec: str, **kw) -> Emulator:
    return Emulator(base_seed(5), faults=spec, clock=lambda: NOW, **kw)


# -- the spec language ----------------------------------------------------------------


def test_parse_a_full_spec() -> None:
    rules = parse_faults(
        "asset.list#1,2,5-6=503; portal.set = drop-after @ 0.1 ;*=429:2@0.05; ping=fail:no way",
        ENDPOINTS,
    )
    assert [(r.target, r.calls, r.probability, r.fault.text) for r in rules] == [
        ("asset.list", frozenset({1, 2, 5, 6}), None, "503"),
        ("portal.set", None, 0.1, "drop-after"),
        ("*", None, 0.05, "429:2"),
        ("ping", None, None, "fail:no way"),
    ]
    assert rules[2].fault.retry_after == 2
    assert rules[3].fault.message == "no way"


@pytest.mark.parametrize(
    "text",
    [
        *("429", "429:3", "429-date:3", "500", "502", "503:1", "504", "html", "drop"),
        *("drop-after", "refuse", "truncate", "not-json", "fail", "fail:quota exceeded"),
        "slow:2500",
    ],
)
def test_every_fault_name_parses(text: str) -> None:
    (rule,) = parse_faults(f"*={text}", ENDPOINTS)
    assert rule.fault.text == text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("asset.list", "expected TARGET"),
        ("asset.list=", "missing fault"),
        ("asset.list=boom", "unknown fault 'boom'"),
        ("asset.list=404", "status 404 not supported"),
        ("asset.lsit=503", "matches no endpoint"),
        ("Asset.list=503", "bad target"),
        ("asset.list#0=503", "bad call number '0'"),
        ("asset.list#3-1=503", "bad call number"),
        ("asset.list#=503", "bad call number"),
        ("asset.list#1=503@0.5", "not both"),
        ("asset.list=503@1.5", "bad probability"),
        ("asset.list=503@0", "bad probability"),
        ("asset.list=503@x", "bad probability"),
        ("asset.list=slow", "slow needs a delay"),
        ("asset.list=slow:fast", "slow needs a delay"),
        ("asset.list=fail:", "needs a message"),
        ("asset.list=503;;ping=500", "rule 2"),
        ("asset.list=503;", "rule 2"),
    ],
)
def test_bad_specs_raise_value_error(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Emulator(faults=spec)


def test_empty_spec_means_no_faults() -> None:
    assert parse_faults(None) == []
    assert parse_faults("  ") == []


# -- deterministic and seeded firing -------------------------------------------------------


def outcomes(em: Emulator, endpoint: str, n: int) -> list[int | None]:
    return [
        em.handle("GET", f"/v2/{endpoint}.json", {"api_token": "emulator-token"}).status
        for _ in range(n)
    ]


def test_call_numbers_count_per_rule() -> None:
    em = faulty("asset.list#1,3=503; asset.*#2=502")
    assert outcomes(em, "asset.list", 4) == [503, 502, 503, 200]
    assert outcomes(em, "asset.get_tags", 2) == [200, 200]  # asset.* already saw 4 calls
    assert [c.fault for c in em.calls[:3]] == ["503", "502", "503"]


def test_counters_ignore_other_endpoints() -> None:
    em = faulty("portal.list#2=500")
    em.handle("GET", "/v2/ping.json", {"api_token": "emulator-token"})
    assert outcomes(em, "portal.list", 3) == [200, 500, 200]


def test_seeded_probability_is_reproducible() -> None:
    first = outcomes(faulty("*=503@0.3", fault_seed=7), "portal.list", 200)
    second = outcomes(faulty("*=503@0.3", fault_seed=7), "portal.list", 200)
    other = outcomes(faulty("*=503@0.3", fault_seed=8), "portal.list", 200)
    assert first == second
    assert first != other
    assert 30 < first.count(503) < 90


def test_set_faults_replaces_rules() -> None:
    em = faulty("ping=500")
    assert outcomes(em, "ping", 1) == [500]
    em.set_faults("ping#2=503")
    assert em.faults == "ping#2=503"
    assert outcomes(em, "ping", 2) == [200, 503]
    em.set_faults(None)
    assert outcomes(em, "ping", 1) == [200]


# -- every fault kind through httpx, in-process -----------------------------------------


def client(em: Emulator, **kw) -> httpx.Client:
    return httpx.Client(
        transport=em.transport(),
        base_url="http://emulator.test/v2/",
        params={"api_token": "emulator-token"},
        **kw,
    )


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
def test_status_faults(code: int) -> None:
    with client(faulty(f"portal.list#1={code}")) as c:
        response = c.get("portal.list.json")
        assert response.status_code == code
        assert response.json()["success"] is False
        assert "retry-after" not in response.headers
        assert c.get("portal.list.json").status_code == 200


def test_429_with_retry_after_seconds() -> None:
    with client(faulty("ping=429:7")) as c:
        response = c.get("ping.json")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_429_with_retry_after_date() -> None:
    with client(faulty("ping=429-date:30")) as c:
        response = c.get("ping.json")
    assert response.status_code == 429
    when = parsedate_to_datetime(response.headers["retry-after"])
    assert when.timestamp() == NOW + 30
    assert response.headers["retry-after"].endswith("GMT")


def test_html_error_page() -> None:
    with client(faulty("ping=html")) as c:
        response = c.get("ping.json")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<h1>502 Bad Gateway</h1>" in response.content
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_non_json_200() -> None:
    em = faulty("asset.set_meta=not-json")
    with client(em) as c:
        response = c.post("asset.set_meta.json", params={"rid": "rid0001", "caption": "x"})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert em.account.assets_by_rid["rid0001"].caption == "Caption 1"


def test_success_false_with_message() -> None:
    em = faulty("portal.set=fail:quota exceeded")
    with client(em) as c:
        response = c.post("portal.set.json", params={"subdomain": "fresh"})
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert response.json()["message"] == "quota exceeded"
    assert "fresh" not in em.account.portals
    assert em.writes() == []


def test_drop_before_acting() -> None:
    em = faulty("portal.set#1=drop")
    with client(em) as c, pytest.raises(httpx.RemoteProtocolError):
        c.post("portal.set.json", params={"subdomain": "fresh"})
    assert "fresh" not in em.account.portals
    assert em.writes() == []
    assert (em.calls[0].status, em.calls[0].fault, em.calls[0].acted) == (None, "drop", False)


def test_drop_after_acting_leaves_the_outcome_unknown() -> None:
    em = faulty("portal.set#1=drop-after")
    with client(em) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("portal.set.json", params={"subdomain": "fresh", "name": "F"})
        assert em.account.portals["fresh"].name == "F"  # the write took effect
        again = c.post("portal.set.json", params={"subdomain": "fresh", "name": "F"})
        assert again.json()["success"] is True
    assert [(w.endpoint, w.fault, w.status) for w in em.writes()] == [
        ("portal.set", "drop-after", None),
        ("portal.set", None, 200),
    ]


def test_refused_connection() -> None:
    em = faulty("webhook.list#1=refuse")
    with client(em) as c:
        with pytest.raises(httpx.ConnectError):
            c.get("webhook.list.json")
        assert c.get("webhook.list.json").status_code == 200


def test_truncated_body_after_acting() -> None:
    em = faulty("asset.set_meta=truncate")
    with client(em) as c:
        response = c.post("asset.set_meta.json", params={"rid": "rid0001", "caption": "cut"})
    assert response.status_code == 200
    full = b'{"success":true,"runtime":'
    assert response.content and full.startswith(response.content)
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert em.account.assets_by_rid["rid0001"].caption == "cut"


def test_slow_response_times_out_through_injected_sleep() -> None:
    slept: list[float] = []
    em = faulty("portal.set#1=slow:5000", sleep=slept.append)
    with client(em, timeout=httpx.Timeout(2.0)) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post("portal.set.json", params={"subdomain": "slowpoke"})
        assert slept == [2.0]
        assert "slowpoke" in em.account.portals  # acted, then was too slow to answer
        assert c.get("ping.json").status_code == 200
    assert slept == [2.0]


def test_slow_within_timeout_just_waits() -> None:
    slept: list[float] = []
    em = faulty("ping=slow:1500", sleep=slept.append)
    with client(em, timeout=10.0) as c:
        assert c.get("ping.json").status_code == 200
    assert slept == [1.5]


def test_latency_is_added_to_every_response() -> None:
    slept: list[float] = []
    em = faulty("ping#2=slow:100", latency_ms=40, sleep=slept.append)
    with client(em) as c:
        c.get("ping.json")
        c.get("ping.json")
        c.get("nope.json")
    assert slept == [0.04, 0.14, 0.04]


def test_latency_beyond_timeout_times_out() -> None:
    em = faulty("", latency_ms=3000)
    with client(em, timeout=1.0) as c, pytest.raises(httpx.ReadTimeout):
        c.get("ping.json")


def test_async_transport_gives_the_same_faults() -> None:
    import asyncio

    em = faulty("ping#1=drop")

    async def go() -> int:
        async with httpx.AsyncClient(
            transport=em.async_transport(),
            base_url="http://emulator.test/v2/",
            params={"api_token": "emulator-token"},
        ) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("ping.json")
            return (await c.get("ping.json")).status_code

    assert asyncio.run(go()) == 200
