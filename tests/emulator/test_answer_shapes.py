"""The emulator's answers against the response shapes in schemas/api/, and its contract
variants against them too. The schemas are read as data, with jsonschema: nothing of the
client is used, so the emulator and the client are checked against one definition without
sharing code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cincopa_sync.emulator import Emulator
from cincopa_sync.emulator.variants import VARIANTS

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "api"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "emulator" / "demo-account.json"
TOKEN = "emulator-token"


def _validator(endpoint: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{endpoint}.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _seed() -> dict[str, Any]:
    seed = json.loads(DEMO.read_text(encoding="utf-8"))
    seed["assets"][0]["video_thumb_sec"] = 15  # an optional number, to see it as a string
    return seed


def _answers(em: Emulator) -> dict[str, dict[str, Any]]:
    """One answer from each endpoint that has a schema, on the demo account."""

    def get(endpoint: str, **params: str) -> dict[str, Any]:
        reply = em.handle("GET", f"/v2/{endpoint}.json", {"api_token": TOKEN, **params})
        assert reply.status == 200, reply.body
        return reply.json()

    started = get("asset.upload_from_url", input="https://media.example.com/new.mp4")
    return {
        "ping": get("ping"),
        "asset.list": get("asset.list", details="tags,reference_id", items_per_page="3"),
        "asset.get_tags": get("asset.get_tags"),
        "portal.list": get("portal.list"),
        "portal.check": get("portal.check", subdomain="acme-new"),
        "webhook.list": get("webhook.list"),
        "asset.upload_from_url_get_status": get(
            "asset.upload_from_url_get_status", status_id=started["status_id"]
        ),
    }


def test_every_endpoint_with_a_schema_is_exercised() -> None:
    assert {p.stem for p in SCHEMAS.glob("*.json")} == set(_answers(Emulator(_seed())))


@pytest.mark.parametrize("variant", [None, "numbers-as-strings"])
def test_faithful_answers_and_numbers_as_strings_have_the_shape(variant: str | None) -> None:
    answers = _answers(Emulator(_seed(), variant=variant))
    for endpoint, answer in answers.items():
        errors = [e.message for e in _validator(endpoint).iter_errors(answer)]
        assert errors == [], (endpoint, errors)
    if variant:  # the variant really changed the numbers
        assert answers["asset.list"]["items_data"]["page"] == "1"
        assert answers["asset.list"]["items"][0]["video_thumb_sec"] == "15"
        assert answers["ping"]["success"] is True


@pytest.mark.parametrize(
    ("variant", "endpoint", "path", "keyword"),
    [
        ("portals-key", "portal.list", [], "required"),
        ("tags-array", "asset.list", ["items", 0, "tags"], "type"),
        ("no-items-data", "asset.list", [], "required"),
    ],
)
def test_each_breaking_variant_deviates_where_it_says(
    variant: str, endpoint: str, path: list[object], keyword: str
) -> None:
    answers = _answers(Emulator(_seed(), variant=variant))
    errors = list(_validator(endpoint).iter_errors(answers[endpoint]))
    assert [(list(e.absolute_path), e.validator) for e in errors][:1] == [(path, keyword)]
    others = {e: a for e, a in answers.items() if e != endpoint}
    assert all(_validator(e).is_valid(a) for e, a in others.items())  # only that endpoint


def test_the_variants_change_only_the_answers_not_the_account() -> None:
    plain = _answers(Emulator(_seed()))
    shaped = _answers(Emulator(_seed(), variant="portals-key"))
    assert shaped["portal.list"]["items"] == plain["portal.list"]["portals"]
    tags = _answers(Emulator(_seed(), variant="tags-array"))["asset.list"]["items"]
    assert [",".join(i["tags"]) for i in tags] == [
        i["tags"].strip(",") for i in plain["asset.list"]["items"]
    ]


def test_a_variant_from_the_seed_persists_in_the_state_and_a_bad_one_is_refused(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    em = Emulator({**_seed(), "variant": "no-items-data"}, state_path=state)
    assert em.variant == "no-items-data"
    em.save()
    assert Emulator(None, state_path=state).variant == "no-items-data"
    assert Emulator({**_seed(), "variant": "no-items-data"}, variant="tags-array").variant == (
        "tags-array"
    )
    with pytest.raises(ValueError, match="unknown variant 'portal-key': one of no-items-data"):
        Emulator({"variant": "portal-key"})
    assert set(VARIANTS) >= {"portals-key", "tags-array", "no-items-data", "numbers-as-strings"}
