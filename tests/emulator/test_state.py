from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from cincopa_sync.emulator import Emulator

from .conftest import TOKEN, base_seed


def write(em: Emulator, endpoint: str, **params: str) -> dict:
    reply = em.handle("POST", f"/v2/{endpoint}.json", {"api_token": TOKEN, **params})
    assert reply.status == 200
    return reply.json()


def test_state_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(5), state_path=state)
    assert not state.exists()  # reads alone write nothing
    em.handle("GET", "/v2/asset.list.json", {"api_token": TOKEN})
    assert not state.exists()
    assert write(em, "asset.set_meta", rid="rid0002", tags="x,y", caption="c")["success"]
    assert write(em, "portal.set", subdomain="new", theme="t")["success"]
    assert write(em, "webhook.set", hook_url="https://h.example/2", events="asset.*")["success"]
    on_disk = json.loads(state.read_text())
    assert on_disk == em.to_json()
    asset = next(a for a in on_disk["assets"] if a["rid"] == "rid0002")
    assert asset["tags"] == ["x", "y"]
    assert asset["caption"] == "c"
    reloaded = Emulator(state_path=state)
    assert reloaded.to_json() == em.to_json()
    assert reloaded.account.info["accid"] == "42"


def test_state_file_never_holds_a_clear_key_and_is_private(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(1), state_path=state)
    write(em, "webhook.set", hook_url="https://h.example/k", events="asset.*", security_key="pw9")
    text = state.read_text()
    assert "pw9" not in text
    assert "s3cret" not in text
    hooks = {h["hook_url"]: h for h in json.loads(text)["webhooks"]}
    assert set(hooks["https://h.example/k"]) == {
        "hook_url",
        "type",
        "events",
        "security_key_sha256",
    }
    assert len(hooks["https://h.example/k"]["security_key_sha256"]) == 64
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600


def test_failed_writes_do_not_persist(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(1), state_path=state)
    assert write(em, "asset.set_meta", rid="ghost", caption="x")["success"] is False
    assert not state.exists()


def test_state_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(2), state_path=state)
    write(em, "asset.set_meta", rid="rid0001", caption="first")
    before = state.read_text()
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        # At the moment of the swap the old file is still whole and the new one complete.
        assert state.read_text() == before
        assert json.loads(Path(src).read_text())["assets"][0]["caption"] == "second"
        assert Path(src).parent == tmp_path
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write(em, "asset.set_meta", rid="rid0001", caption="second")
    assert len(replaced) == 1
    assert replaced[0][1] == str(state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_failed_save_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "state.json"
    em = Emulator(base_seed(2), state_path=state)
    write(em, "asset.set_meta", rid="rid0001", caption="first")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    reply = em.handle(
        "POST", "/v2/asset.set_meta.json", {"api_token": TOKEN, "rid": "rid0001", "caption": "2"}
    )
    assert reply.status == 500
    assert "No space left" in reply.json()["message"]
    assert json.loads(state.read_text())["assets"][0]["caption"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_state_wins_over_seed(tmp_path: Path) -> None:
    state, seed = tmp_path / "state.json", tmp_path / "seed.json"
    seed.write_text(json.dumps(base_seed(3)))
    em = Emulator.from_files(seed, state)
    assert len(em.account) == 3
    write(em, "asset.set_meta", rid="rid0001", caption="kept")
    again = Emulator.from_files(seed, state)
    assert again.account.assets_by_rid["rid0001"].caption == "kept"
    direct = Emulator(base_seed(1), state_path=state)
    assert len(direct.account) == 3


def test_a_state_file_is_a_valid_seed(tmp_path: Path) -> None:
    em = Emulator(base_seed(4))
    em.save(tmp_path / "s.json")
    copy = Emulator.from_files(seed_path=tmp_path / "s.json")
    assert copy.to_json() == em.to_json()
    assert copy.state_path is None


def test_missing_sections_default_to_empty() -> None:
    data = Emulator({"assets": [{"rid": "only"}]}).to_json()
    assert data["portals"] == data["webhooks"] == data["foreign_subdomains"] == []
    assert data["assets"][0]["id"] == "1001"
    assert data["assets"][0]["tags"] == []
    assert set(data["account"]) == {"accid", "accemail", "userid", "useremail"}


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"asset": []}, "unknown top-level keys: asset"),
        ({"assets": {}}, "assets must be a JSON list"),
        ({"assets": [{"id": "1"}]}, r"assets\[0\]: rid is required"),
        ({"assets": [{"rid": "a", "id": "x1"}]}, "id must be a number"),
        ({"assets": [{"rid": "a"}, {"rid": "a"}]}, "duplicate asset rid"),
        ({"assets": [{"rid": "a", "tags": [1]}]}, "tags must be a list of strings"),
        ({"assets": [{"rid": "a", "type": "movie"}]}, "type must be one of"),
        ({"portals": [{"subdomain": "Bad"}]}, "not a valid DNS label"),
        ({"portals": [{"subdomain": "a", "visibility": "x"}]}, "visibility"),
        ({"webhooks": [{"events": []}]}, "hook_url is required"),
        ({"foreign_subdomains": ["a"], "portals": [{"subdomain": "a"}]}, "also a portal"),
    ],
)
def test_seed_errors_are_clear(seed: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Emulator(seed)


def test_seed_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        Emulator.from_files(bad)


def test_log_file_has_no_secrets(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    em = Emulator(base_seed(1), log_path=log)
    write(
        em, "webhook.set", hook_url="https://h.example/x", events="asset.*", security_key="pw-Zq81"
    )
    em.handle("GET", "/v2/ping.json", {"api_token": TOKEN})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["endpoint"] for line in lines] == ["webhook.set", "ping"]
    assert lines[0]["params"]["security_key"] == "(sensitive)"
    assert lines[0]["status"] == 200
    assert TOKEN not in log.read_text()
    assert "pw-Zq81" not in log.read_text()
