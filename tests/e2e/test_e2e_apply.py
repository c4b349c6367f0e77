"""apply against an emulator: exactly the plan's calls, then a plan with nothing left.

Every test here applies, then plans again and expects "No changes" with exit 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from support import EXAMPLES, TOKEN, invoke

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import WRITES, Emulator, serve
from cincopa_sync.engine.apply import apply_plan
from cincopa_sync.plan import Change, FieldChange, make_plan

NO_CHANGES = "No changes. The account matches the manifests.\n"


def assert_converged(run: Callable[..., Result], *args: object, env: dict | None = None) -> None:
    result = run("plan", *args, "--detailed-exitcode", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert NO_CHANGES in result.stdout
    assert "Plan:" not in result.stdout


def test_demo_apply_then_plan_with_emulator_state(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    state = tmp_path / "account.json"
    args = [EXAMPLES, "--emulator", "--emulator-state", state]
    pending = run("plan", *args, "--detailed-exitcode")
    assert pending.exit_code == 2
    assert "Plan: 2 to create, 6 to update, 1 to rename, 0 to delete." in pending.stdout

    applied = run("apply", *args, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.startswith(pending.stdout)  # it showed the same plan first
    assert applied.stdout.endswith(
        "Apply complete: 9 applied, 0 failed, 0 skipped; "
        "every change verified by reading it back.\n"
    )
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert sorted(p["subdomain"] for p in saved["portals"]) == [
        "acme-2019-archive",  # unmanaged, and prune is off: still there
        "acme-training",
        "acme-videos",
    ]
    assert_converged(run, *args)


def _seed_asset(seed: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(a for a in seed["assets"] if a["rid"] == rid)


def test_apply_makes_exactly_the_plans_calls(
    run: Callable[..., Result],
    served: Any,
    plan_json: Callable[..., dict],
    writes_equal_plan: Callable[..., None],
    demo_seed: dict[str, Any],
) -> None:
    plan = plan_json(served, EXAMPLES)
    assert served.writes() == []
    served.emulator.clear_log()

    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    writes = served.writes()
    writes_equal_plan(plan, writes, {"https://hooks.slack.com/services/T0000/B0000/demo"})
    assert len(writes) == 10

    # every set_meta of an existing asset carries the rid and only fields whose value
    # really changes; the created asset's carries its reference_id and every field
    set_metas = [params for endpoint, params in writes if endpoint == "asset.set_meta"]
    assert len(set_metas) == 5
    (created,) = [p for p in set_metas if p["rid"] not in {a["rid"] for a in demo_seed["assets"]}]
    assert created == {
        "rid": created["rid"],
        "caption": "Summit Stove",
        "description": "See the Summit Stove in action.",
        "related_link_text": "Shop now",
        "related_link_url": "https://shop.example.com/summit-stove",
        "reference_id": "SKU-1030",
        "tags": "camping,launch",
    }
    assert served.emulator.account.assets_by_rid[created["rid"]].filename == "summit-stove.mp4"
    for params in set_metas:
        if params is created:
            continue
        before = _seed_asset(demo_seed, params["rid"])
        for field, value in params.items():
            if field == "rid":
                continue
            old = ",".join(sorted(before[field])) if field == "tags" else before[field]
            assert old != value, f"{params['rid']}: {field} sent unchanged"

    # the security key went with the hook whose events changed: the demo default
    (hook,) = [p for e, p in writes if e == "webhook.set"]
    assert hook["security_key"] == "demo-key-not-secret"

    # the call counts of one apply of examples/manifests against the demo account
    # (the report of this work quotes them): 1 page of assets (36 < the page cap), the
    # account's tags (the manifests write tags), the portal and hook lists, 1 portal.check
    # for the new name, 1 ping for permissions, 1 status read of the upload (the emulator
    # completes it at the first), then the verification reads: the cheaper of lookups (5)
    # and the listing (1 page), and the two lists again.
    assert served.counts("read") == {
        "asset.get_tags": 1,
        "asset.list": 2,
        "asset.upload_from_url_get_status": 1,
        "ping": 1,
        "portal.check": 1,
        "portal.list": 2,
        "webhook.list": 2,
    }
    assert served.counts("write") == {
        "asset.set_meta": 5,
        "asset.upload_from_url": 1,
        "portal.rename": 1,
        "portal.set": 1,
        "webhook.set": 1,
        "webhook.set_slack": 1,
    }
    assert_converged(run, EXAMPLES, *served.args, env=served.env)


def test_renames_are_renames(
    run: Callable[..., Result], served: Any, demo_seed: dict[str, Any]
) -> None:
    before = next(p for p in demo_seed["portals"] if p["subdomain"] == "acme-academy")
    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    portal_writes = [(e, p) for e, p in served.writes() if e.startswith("portal.")]
    assert ("portal.rename", {"subdomain": "acme-academy", "new_subdomain": "acme-training"}) in (
        portal_writes
    )
    assert [e for e, _ in portal_writes].count("portal.rename") == 1
    assert not [p for e, p in portal_writes if e == "portal.remove"]
    assert not [p for e, p in portal_writes if p.get("subdomain") == "acme-training"]
    after = {p["subdomain"]: p for p in served.emulator.to_json()["portals"]}
    assert "acme-academy" not in after
    assert after["acme-training"] == {**before, "subdomain": "acme-training"}
    assert_converged(run, EXAMPLES, *served.args, env=served.env)


@pytest.fixture
def pruning_manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    folder.mkdir()
    for source in EXAMPLES.glob("*.yaml"):
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "prune.yaml").write_text("prune:\n  portals: true\n", encoding="utf-8")
    return folder


def test_prune_only_when_asked(
    run: Callable[..., Result],
    served: Any,
    pruning_manifests: Path,
    plan_json: Callable[..., dict],
    writes_equal_plan: Callable[..., None],
) -> None:
    # without prune the unnamed portal is counted, never removed
    plain = plan_json(served, EXAMPLES)
    assert plain["unmanaged"] == {"portal": 1}
    assert not [c for c in plain["changes"] if c["action"] == "delete"]

    plan = plan_json(served, pruning_manifests)
    deletes = [c for c in plan["changes"] if c["action"] == "delete"]
    assert [(c["address"], c["calls"]) for c in deletes] == [
        (
            "portal.acme-2019-archive",
            [{"endpoint": "portal.remove", "params": {"subdomain": "acme-2019-archive"}}],
        )
    ]
    assert plan["unmanaged"] == {}
    result = run("apply", pruning_manifests, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    writes_equal_plan(plan, served.writes(), {"https://hooks.slack.com/services/T0000/B0000/demo"})
    assert "acme-2019-archive" not in {p["subdomain"] for p in served.emulator.to_json()["portals"]}
    assert_converged(run, pruning_manifests, *served.args, env=served.env)


def test_target_applies_only_the_matching_changes(
    run: Callable[..., Result],
    served: Any,
    plan_json: Callable[..., dict],
) -> None:
    full = plan_json(served, EXAMPLES)
    result = run(
        "apply", EXAMPLES, "--auto-approve", "--target", "portal.*", *served.args, env=served.env
    )
    assert result.exit_code == 0, result.stderr
    assert {e for e, _ in served.writes()} == {"portal.rename", "portal.set"}
    assert "asset." not in result.stdout and "webhook." not in result.stdout

    rest = plan_json(served, EXAMPLES)
    assert rest["changes"] == [c for c in full["changes"] if c["kind"] != "portal"]

    nothing = run("plan", EXAMPLES, "--target", "portal.*", *served.args, env=served.env)
    assert nothing.exit_code == 0
    # Not "the account matches": the asset and webhook changes are still pending.
    assert NO_CHANGES not in nothing.stdout
    left = len(rest["changes"])
    assert f"No change matches --target; it left out the plan's {left} changes." in nothing.stdout
    assert "Warning: --target portal.* matches no change of this plan" in nothing.stdout
    assert "  ~ " not in nothing.stdout and "  > " not in nothing.stdout

    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    assert_converged(run, EXAMPLES, *served.args, env=served.env)


def test_partial_failure_applies_the_rest_and_reports(
    run: Callable[..., Result],
    served: Any,
    plan_json: Callable[..., dict],
    writes_equal_plan: Callable[..., None],
) -> None:
    plan = plan_json(served, EXAMPLES)
    served.emulator.clear_log()
    served.emulator.set_faults("asset.set_meta#2=fail:asset is locked for editing")

    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 5, result.stderr
    failed_lines = [line for line in result.stdout.splitlines() if line.startswith("  FAILED")]
    assert len(failed_lines) == 1
    (failed_set_meta,) = [
        c for c in served.emulator.calls if c.endpoint == "asset.set_meta" and not c.success
    ]
    (failed,) = [c for c in plan["changes"] if c["calls"][-1]["params"] == failed_set_meta.params]
    assert failed_lines[0] == (
        f"  FAILED   {failed['address']}: asset.set_meta: asset is locked for editing"
    )
    assert "Apply complete: 8 applied, 1 failed, 0 skipped;" in result.stdout
    assert "Run `plan` again to see exactly what remains." in result.stdout
    rest = {**plan, "changes": [c for c in plan["changes"] if c is not failed]}
    writes_equal_plan(rest, served.writes(), {"https://hooks.slack.com/services/T0000/B0000/demo"})

    remaining = plan_json(served, EXAMPLES)
    assert remaining["changes"] == [failed]

    served.emulator.set_faults(None)
    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    assert_converged(run, EXAMPLES, *served.args, env=served.env)


def test_a_failed_create_holds_back_the_deletes_of_its_kind(
    run: Callable[..., Result],
    served: Any,
    tmp_path: Path,
    plan_json: Callable[..., dict],
) -> None:
    """A replaced webhook: the new one is created before the old one is deleted, and when
    the create fails the delete waits (no window without delivery)."""
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "webhooks:\n"
        "  - url: https://hooks.example.com/cincopa/assets/v2\n"
        "    events: [asset.uploaded, asset.updated]\n"
        "  - url: https://search-indexer.example.com/cincopa\n"
        "    events: [asset.*]\n"
        "prune:\n  webhooks: true\n",
        encoding="utf-8",
    )
    plan = plan_json(served, manifest)
    assert [(c["action"], c["address"]) for c in plan["changes"]] == [
        ("delete", "webhook.https://hooks.example.com/cincopa/assets"),
        ("create", "webhook.https://hooks.example.com/cincopa/assets/v2"),
    ]
    served.emulator.set_faults("webhook.set#1=fail:hook_url is not reachable")
    result = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 5
    assert "  FAILED   webhook.https://hooks.example.com/cincopa/assets/v2: webhook.set: " in (
        result.stdout
    )
    assert "  skipped  webhook.https://hooks.example.com/cincopa/assets: " in result.stdout
    assert served.writes() == []  # the old hook still delivers
    assert plan_json(served, manifest)["changes"] == plan["changes"]

    served.emulator.set_faults(None)
    served.emulator.clear_log()
    result = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    assert [e for e, _ in served.writes()] == ["webhook.set", "webhook.delete"]  # create first
    assert_converged(run, manifest, *served.args, env=served.env)


@pytest.mark.parametrize("lost", ["portal.remove", "portal.rename", "webhook.set_slack"])
def test_a_lost_answer_is_checked_by_reading_not_repeated(
    lost: str,
    run: Callable[..., Result],
    served: Any,
    pruning_manifests: Path,
    plan_json: Callable[..., dict],
) -> None:
    """The server acts, then the connection drops before the answer: apply reads to see
    whether the call took effect, makes it once, and reports the change applied."""
    plan = plan_json(served, pruning_manifests)
    served.emulator.clear_log()
    served.emulator.set_faults(f"{lost}#1=drop-after")
    result = run("apply", pruning_manifests, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Apply complete: 10 applied, 0 failed, 0 skipped;" in result.stdout
    endpoints = [e for e, _ in served.writes()]
    assert endpoints.count(lost) == 1
    writes = [c for ch in plan["changes"] for c in ch["calls"] if c["endpoint"] in WRITES]
    assert len(endpoints) == len(writes)
    served.emulator.set_faults(None)
    assert_converged(run, pruning_manifests, *served.args, env=served.env)


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


def test_a_plan_that_writes_a_ceased_portal_says_it_comes_back(tmp_path):
    manifest = tmp_path / "p.yaml"
    manifest.write_text("portals:\n  - subdomain: old-archive\n    name: Renamed\n")
    seed = {"portals": [{"subdomain": "old-archive", "name": "Old", "status": "ceased"}]}
    with serve(Emulator(seed)) as server:
        result = invoke(
            "plan", manifest, "--api-url", server.base_url, env={"CINCOPA_API_TOKEN": TOKEN}
        )
    assert result.exit_code == 0, result.output
    assert "# the portal is ceased: writing it makes it active again" in result.stdout
