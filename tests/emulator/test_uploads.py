"""asset.delete and the three upload endpoints, as the contract describes them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cincopa_sync.emulator import Emulator, UploadRules

from .conftest import base_seed


def call(client: httpx.Client, endpoint: str, **params: object) -> dict:
    response = client.post(f"{endpoint}.json", params=params)
    assert response.status_code == 200
    return response.json()


def status(client: httpx.Client, status_id: str) -> dict:
    response = client.get("asset.upload_from_url_get_status.json", params={"status_id": status_id})
    assert response.status_code == 200
    return response.json()


def start(client: httpx.Client, url: str) -> str:
    body = call(client, "asset.upload_from_url", input=url)
    assert body["success"] is True, body
    return body["status_id"]


# -- asset.delete -------------------------------------------------------------------------


def test_delete_is_permanent_and_an_unknown_rid_fails(emulator, client) -> None:
    assert call(client, "asset.delete", rid="rid0007")["success"] is True
    assert "rid0007" not in emulator.account.assets_by_rid
    assert emulator.account.assets_with_reference("SKU-7") == []
    again = call(client, "asset.delete", rid="rid0007")
    assert again["success"] is False and "rid0007" in again["message"]
    assert call(client, "asset.delete")["success"] is False  # rid is required


# -- uploads ------------------------------------------------------------------------------


def test_an_upload_completes_at_the_configured_status_read(client_for) -> None:
    em = Emulator(base_seed(3), uploads=UploadRules(after_reads=3))
    client = client_for(em)
    status_id = start(client, "https://media.example.com/a/new%20clip.mp4?sig=1")
    assert len(em.account) == 3  # nothing exists while it is processing
    first, second = status(client, status_id), status(client, status_id)
    assert [first["status"], second["status"]] == ["inprogress", "inprogress"]
    assert first["resid"] == "" and 0 < second["progress"] < 100
    done = status(client, status_id)
    assert done["status"] == "completed" and done["progress"] == 100
    asset = em.account.assets_by_rid[done["resid"]]
    assert (asset.filename, asset.type) == ("new clip.mp4", "video")
    assert (asset.reference_id, asset.tags, asset.caption, asset.description) == ("", [], "", "")
    assert status(client, status_id)["resid"] == done["resid"]  # stays completed, one asset
    assert len(em.account) == 4


def test_a_timed_upload_completes_without_any_status_read(client_for) -> None:
    now = [1000.0]
    em = Emulator(base_seed(0), uploads=UploadRules(after_ms=5000), clock=lambda: now[0])
    client = client_for(em)
    status_id = start(client, "https://media.example.com/poster.png")
    now[0] += 4.9
    assert status(client, status_id)["status"] == "inprogress"
    now[0] += 0.1
    listed = client.get("asset.list.json").json()["items"]  # any call settles what is due
    assert [(i["filename"], i["type"]) for i in listed] == [("poster.png", "image")]
    assert status(client, status_id)["resid"] == listed[0]["rid"]


def test_a_failing_input_ends_failed_and_makes_no_asset(client_for) -> None:
    em = Emulator(base_seed(0), uploads=UploadRules(failing=("*broken*",)))
    client = client_for(em)
    body = status(client, start(client, "https://media.example.com/broken.mp4"))
    assert (body["status"], body["resid"]) == ("failed", "")
    assert body["more"]
    assert len(em.account) == 0
    ok = status(client, start(client, "https://media.example.com/fine.mp4"))
    assert ok["status"] == "completed"


def test_abort_stops_an_upload_in_progress_but_not_a_completed_one(client_for) -> None:
    em = Emulator(base_seed(0), uploads=UploadRules(after_reads=2))
    client = client_for(em)
    status_id = start(client, "https://media.example.com/a.mp4")
    assert status(client, status_id)["status"] == "inprogress"
    aborted = call(client, "asset.upload_from_url_abort", status_id=status_id)
    assert (aborted["success"], aborted["status_id"]) == (True, status_id)
    assert status(client, status_id)["status"] == "failed"
    assert len(em.account) == 0  # an aborted upload makes no asset, even on later reads
    done_id = start(client, "https://media.example.com/b.mp4")
    status(client, done_id)
    assert status(client, done_id)["status"] == "completed"
    refused = call(client, "asset.upload_from_url_abort", status_id=done_id)
    assert refused["success"] is False


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("asset.upload_from_url", {}),
        ("asset.upload_from_url", {"input": "ftp://media.example.com/a.mp4"}),
        ("asset.upload_from_url", {"input": "https://m.example.com/a.mp4", "rid": "rid0001"}),
        ("asset.upload_from_url_get_status", {"status_id": "nope"}),
        ("asset.upload_from_url_abort", {"status_id": "nope"}),
        ("asset.upload_from_url_abort", {}),
    ],
)
def test_bad_upload_calls_fail(client, endpoint: str, params: dict) -> None:
    body = call(client, endpoint, **params)
    assert body["success"] is False and body["message"]


def test_uploads_need_write_permission_and_the_status_read_only_read(emulator, client_for) -> None:
    readonly = client_for(emulator, "emulator-readonly")
    refused = readonly.post("asset.upload_from_url.json", params={"input": "https://m.e/a.mp4"})
    assert refused.status_code == 403
    status_id = start(client_for(emulator), "https://m.example.com/a.mp4")
    assert status(readonly, status_id)["success"] is True
    assert readonly.post("asset.delete.json", params={"rid": "rid0001"}).status_code == 403


def test_an_upload_completing_on_a_read_is_saved_to_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(0), state_path=state)
    with httpx.Client(
        transport=em.transport(),
        base_url="http://emulator.test/v2/",
        params={"api_token": "emulator-token"},
    ) as client:
        resid = status(client, start(client, "https://m.example.com/a.mp4"))["resid"]
    assert [a.rid for a in Emulator(state_path=state).account.iter_assets()] == [resid]
