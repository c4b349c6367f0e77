"""Behaviours a review found missing: each test fails without its fix."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner
from support import read_kind

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.cli import cli
from cincopa_sync.emulator import Emulator, serve
from cincopa_sync.engine.apply import apply_plan
from cincopa_sync.plan import Change, FieldChange, make_plan

ENV = {"CINCOPA_API_TOKEN": "emulator-token", "CINCOPA_HOOK_KEY": None, "NO_COLOR": None}


def invoke(*args: object, env: dict | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env={**ENV, **(env or {})})


def test_an_unexpected_error_in_a_worker_fails_its_change_instead_of_losing_it(monkeypatch):
    em = Emulator({"assets": [{"rid": "R1"}, {"rid": "R2"}]})
    client = CincopaClient("http://em/v2/", "emulator-token", transport=em.transport())
    changes = [
        Change(
            f"asset.{rid}",
            "asset",
            "update",
            (FieldChange("caption", "", "x"),),
            (ep.asset_set_meta(rid, {"caption": "x"}),),
        )
        for rid in ("R1", "R2")
    ]
    real = client.call

    def flaky(call, **kw):
        if call.param("rid") == "R2":
            raise RuntimeError("a bug of ours")
        return real(call, **kw)

    monkeypatch.setattr(client, "call", flaky)
    report = apply_plan(client, make_plan(changes))
    statuses = {o.change.address: o.status for o in report.outcomes}
    assert statuses == {"asset.R1": "applied", "asset.R2": "failed"}
    assert "internal error" in report.by_status("failed")[0].message
    assert report.exit_code == 5


def test_a_body_that_does_not_decode_is_retried_like_any_garbled_answer():
    sent = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:  # announced as gzip, but it is not: httpx cannot decode it
            garbled = httpx.ByteStream(b"not gzip at all")
            return httpx.Response(200, stream=garbled, headers={"Content-Encoding": "gzip"})
        return httpx.Response(200, json={"success": True, "portals": []})

    client = CincopaClient(
        "http://api.test/v2/",
        "tok",
        transport=httpx.MockTransport(answer),
        policy=RetryPolicy(),
        sleep=lambda s: None,
    )
    assert read_kind(client, "portal") == []
    assert client.sent["portal.list"] == 2


def test_a_plan_that_writes_a_ceased_portal_says_it_comes_back(tmp_path):
    manifest = tmp_path / "p.yaml"
    manifest.write_text("portals:\n  - subdomain: old-archive\n    name: Renamed\n")
    seed = {"portals": [{"subdomain": "old-archive", "name": "Old", "status": "ceased"}]}
    with serve(Emulator(seed)) as server:
        result = invoke("plan", manifest, "--api-url", server.base_url)
    assert result.exit_code == 0, result.output
    assert "# the portal is ceased: writing it makes it active again" in result.stdout


def test_unwritable_outputs_and_a_damaged_emulator_state_are_invalid_input(tmp_path):
    examples = Path(__file__).resolve().parents[2] / "examples" / "manifests"
    secrets = {"CINCOPA_HOOK_KEY": "k", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x/y"}
    out = invoke("plan", examples, "--emulator", "--out", tmp_path / "no" / "p.json", env=secrets)
    assert out.exit_code == 3, out.output
    assert "cannot write" in out.stderr
    (tmp_path / "state.json").write_text("{ not json")
    state = invoke("plan", examples, "--emulator", "--emulator-state", tmp_path / "state.json")
    assert state.exit_code == 3, state.output
    assert "--emulator-state" in state.stderr


def test_a_targeted_saved_plan_needs_only_its_own_secrets_and_keeps_its_notes(tmp_path):
    examples = Path(__file__).resolve().parents[2] / "examples" / "manifests"
    secrets = {"CINCOPA_HOOK_KEY": "k1", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x/y"}
    state, path = tmp_path / "state.json", tmp_path / "p.json"
    made = invoke(
        "plan", examples, "--emulator", "--emulator-state", state, "--out", path, env=secrets
    )
    assert made.exit_code == 0, made.output
    assert json.loads(path.read_text())["notes"]  # the security-key note travels with it
    # no secret variable set: the portal changes need none
    result = invoke(
        "apply", "--plan", path, "--target", "portal.*", "--emulator", "--emulator-state", state
    )
    assert result.exit_code == 0, result.output
    assert "2 applied, 0 failed, 0 skipped" in result.stdout
    whole = invoke("apply", "--plan", path, "--emulator", "--emulator-state", state)
    assert whole.exit_code == 3  # the webhook changes do need theirs
    assert "CINCOPA_HOOK_KEY" in whole.stderr
