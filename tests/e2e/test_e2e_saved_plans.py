"""Saved plans (`plan --out`, `apply --plan`) and the delete safety threshold."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from click.testing import Result
from support import EXAMPLES, Served, invoke

from cincopa_sync.emulator import Emulator, serve

HOOK_KEY = "demo-key-not-secret"
SLACK = "https://hooks.slack.com/services/T0000/B0000/demo"
SECRETS = {"CINCOPA_HOOK_KEY": HOOK_KEY, "SLACK_WEBHOOK_URL": SLACK}


def save_plan(run: Callable[..., Result], served: Served, path: Path, *extra: object) -> Result:
    result = run(
        "plan", EXAMPLES, "--out", path, *extra, *served.args, env={**served.env, **SECRETS}
    )
    assert result.exit_code == 0, result.stderr
    return result


def apply_saved(run: Callable[..., Result], served: Served, path: Path, env=None) -> Result:
    return run("apply", "--plan", path, *served.args, env={**served.env, **SECRETS, **(env or {})})


def plan_again(run: Callable[..., Result], served: Served) -> Result:
    return run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env={**served.env, **SECRETS})


def test_an_untouched_saved_plan_applies_exactly_its_calls(
    run, served, tmp_path, writes_equal_plan
):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    review = json.loads(path.read_text())["review"]
    served.emulator.clear_log()

    result = apply_saved(run, served, path)
    assert result.exit_code == 0, result.output
    assert "9 applied, 0 failed, 0 skipped" in result.stdout
    writes_equal_plan(review, served.writes(), {SLACK})
    # No --auto-approve and no terminal, yet it applied: a saved plan asks nothing.
    again = plan_again(run, served)
    assert again.exit_code == 0, again.stdout
    assert "No changes" in again.stdout


def test_a_changed_object_makes_the_saved_plan_stale_and_nothing_is_written(run, served, tmp_path):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    asset = next(a for a in served.emulator.account.iter_assets() if a.caption == "Ridge Jacket")
    asset.caption = "Edited by hand"
    served.emulator.clear_log()

    result = apply_saved(run, served, path)
    assert result.exit_code == 4
    assert f'asset.{asset.rid}: caption is now "Edited by hand"' in result.stderr
    assert served.writes() == []


def test_an_object_that_appeared_makes_the_saved_plan_stale(run, served, tmp_path):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    served.emulator.handle(  # someone created the portal the plan renames to
        "POST", "/v2/portal.set.json", {"api_token": "emulator-token", "subdomain": "acme-training"}
    )
    served.emulator.clear_log()

    result = apply_saved(run, served, path)
    assert result.exit_code == 4
    assert "portal.acme-training: appeared since the plan was made" in result.stderr
    assert served.writes() == []


def test_the_plan_file_holds_no_token_and_no_secret(run, tmp_path, demo_seed):
    canary_token = "CANARY-token-8d1f"
    canary_key = "CANARY-key-77a1"
    canary_slack = "https://hooks.slack.com/services/TCANARY/BCANARY/xyzzy"
    seed = dict(demo_seed, tokens={canary_token: "|asset.*|portal.*|webhook.*|"})
    with serve(Emulator(seed)) as server:
        path = tmp_path / "plan.json"
        env = {
            "CINCOPA_API_TOKEN": canary_token,
            "CINCOPA_HOOK_KEY": canary_key,
            "SLACK_WEBHOOK_URL": canary_slack,
        }
        result = run("plan", EXAMPLES, "--out", path, "--api-url", server.base_url, env=env)
        assert result.exit_code == 0, result.stderr
    text = path.read_text()
    for secret in (canary_token, canary_key, canary_slack, "TCANARY"):
        for spelled in (secret, quote(secret, safe=""), quote_plus(secret)):
            assert spelled not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(text)["secrets"]  # the references are there, not the values


def test_a_secret_changed_since_the_plan_is_refused(run, served, tmp_path):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    served.emulator.clear_log()
    result = apply_saved(run, served, path, env={"CINCOPA_HOOK_KEY": "another-key"})
    assert result.exit_code == 4
    assert "CINCOPA_HOOK_KEY is not the value the plan was made with" in result.stderr
    assert "another-key" not in result.output
    assert served.writes() == []


def test_a_missing_secret_variable_is_invalid_input(run, served, tmp_path):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    result = run("apply", "--plan", path, *served.args, env=served.env)
    assert result.exit_code == 3
    assert "CINCOPA_HOOK_KEY, SLACK_WEBHOOK_URL" in result.stderr
    assert served.writes() == []


def test_another_api_base_an_unknown_version_and_damage_are_refused(run, served, tmp_path):
    path = tmp_path / "plan.json"
    save_plan(run, served, path)
    other = run(
        "apply",
        "--plan",
        path,
        "--api-url",
        "http://127.0.0.1:9/v2/",
        env={**served.env, **SECRETS},
    )
    assert other.exit_code == 3
    assert "the plan was made against" in other.stderr

    document = json.loads(path.read_text())
    (tmp_path / "v9.json").write_text(json.dumps(dict(document, format_version=9)))
    assert apply_saved(run, served, tmp_path / "v9.json").exit_code == 3

    (tmp_path / "cut.json").write_text(path.read_text()[:500])
    cut = apply_saved(run, served, tmp_path / "cut.json")
    assert cut.exit_code == 3 and "damaged" in cut.stderr

    edited = path.read_text().replace('"caption"', '"description"', 1)
    (tmp_path / "edited.json").write_text(edited)
    tampered = apply_saved(run, served, tmp_path / "edited.json")
    assert tampered.exit_code == 3 and "checksum" in tampered.stderr
    assert served.writes() == []


def test_a_secret_written_out_in_the_manifest_cannot_be_saved(run, served, tmp_path):
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "webhooks:\n  - url: https://hooks.example.com/x\n    events: [asset.*]\n"
        "    security_key: literal-key-in-git\n"
    )
    result = run("plan", manifest, "--out", tmp_path / "p.json", *served.args, env=served.env)
    assert result.exit_code == 3
    assert "written out in the manifest" in result.stderr
    assert not (tmp_path / "p.json").exists()


def test_deleting_a_live_slack_hook_resolves_its_url_from_the_account(run, tmp_path):
    seed = {"webhooks": [{"hook_url": SLACK, "type": "slack", "events": ["asset.*"]}]}
    manifest = tmp_path / "m.yaml"
    manifest.write_text("prune:\n  webhooks: true\n")
    emulator = Emulator(seed)
    with serve(emulator) as server:
        served = Served(emulator, server.base_url)
        path = tmp_path / "p.json"
        made = run("plan", manifest, "--out", path, *served.args, env=served.env)
        assert made.exit_code == 0, made.stderr
        assert SLACK not in path.read_text()
        result = run("apply", "--plan", path, *served.args, env=served.env)
        assert result.exit_code == 0, result.output
        assert served.writes() == [("webhook.delete", {"hook_url": SLACK})]


# -- delete safety -------------------------------------------------------------------


def _many_portals_seed() -> dict[str, Any]:
    names = ["one", "two", "three", "four", "five"]
    return {"portals": [{"subdomain": n, "name": n.title()} for n in names]}


@pytest.fixture
def pruning(tmp_path: Path):
    manifest = tmp_path / "portals.yaml"
    manifest.write_text("portals:\n  - subdomain: one\nprune:\n  portals: true\n")
    emulator = Emulator(_many_portals_seed())
    with serve(emulator) as server:
        yield manifest, Served(emulator, server.base_url)


def test_plan_warns_and_apply_refuses_deleting_most_of_a_kind(run, pruning):
    manifest, served = pruning
    plan = run("plan", manifest, *served.args, env=served.env)
    assert plan.exit_code == 0
    assert "deletes 4 of 5 live portals" in plan.stderr
    assert "Warning: the plan deletes 4 of 5 live portals" in plan.stdout

    refused = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
    assert refused.exit_code == 4
    assert "without --allow-deletes" in refused.stderr
    assert served.writes() == []

    allowed = run(
        "apply", manifest, "--auto-approve", "--allow-deletes", *served.args, env=served.env
    )
    assert allowed.exit_code == 0, allowed.output
    assert [e for e, _ in served.writes()] == ["portal.remove"] * 4


def test_a_saved_plan_carries_the_allowance_its_review_gave(run, pruning, tmp_path):
    manifest, served = pruning
    refused_file, allowed_file = tmp_path / "r.json", tmp_path / "a.json"
    assert run("plan", manifest, "--out", refused_file, *served.args, env=served.env).exit_code == 0
    assert (
        run(
            "plan", manifest, "--out", allowed_file, "--allow-deletes", *served.args, env=served.env
        ).exit_code
        == 0
    )
    assert run("apply", "--plan", refused_file, *served.args, env=served.env).exit_code == 4
    assert served.writes() == []
    result = run("apply", "--plan", allowed_file, *served.args, env=served.env)
    assert result.exit_code == 0, result.output
    assert len(served.writes()) == 4


def test_small_deletes_need_no_allowance(run, tmp_path):
    manifest = tmp_path / "portals.yaml"
    manifest.write_text(
        "portals:\n  - subdomain: one\n  - subdomain: two\n"
        "  - subdomain: three\nprune:\n  portals: true\n"
    )
    emulator = Emulator(_many_portals_seed())
    with serve(emulator) as server:
        served = Served(emulator, server.base_url)
        result = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 0, result.output  # 2 of 5: under both limits
    assert len(served.writes()) == 2


def test_markdown_format_and_the_github_step_summary(run, served, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {**served.env, **SECRETS, "GITHUB_STEP_SUMMARY": str(summary)}
    text = run("plan", EXAMPLES, *served.args, env=env)
    assert text.exit_code == 0
    head, body = text.stdout.split("\n\n", 1)  # stdout keeps the format asked for
    assert head.startswith("Plan for account 100001 at 127.0.0.1:") and body.startswith(
        "  ~ asset."
    )
    appended = summary.read_text()
    assert appended.startswith("earlier step\n<!-- cincopa-sync plan -->")  # appended, kept
    assert "| **total** | **2** | **6** | **1** | **0** |" in appended
    assert HOOK_KEY not in appended and SLACK not in appended

    markdown = run(
        "plan", EXAMPLES, "--format", "markdown", *served.args, env={**served.env, **SECRETS}
    )
    assert markdown.stdout == appended.removeprefix("earlier step\n")


def test_a_targeted_saved_plan_needs_only_its_own_secrets_and_keeps_its_notes(tmp_path):
    examples = EXAMPLES
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


def test_the_hint_after_plan_out_is_a_command_that_applies_it(run, tmp_path):
    """With --emulator the hint said `apply --plan FILE`, which refused the plan (made
    against the emulator, not the default API): exit 3."""
    state, saved = tmp_path / "state.json", tmp_path / "plan.json"
    planned = run(
        "plan", EXAMPLES, "--emulator", "--emulator-state", state, "--out", saved, env=SECRETS
    )
    assert planned.exit_code == 0, planned.stderr
    hint = planned.stderr.split("apply it with `", 1)[1].split("`", 1)[0]
    assert hint == f"cincopa-sync apply --plan {saved} --emulator --emulator-state {state}"
    applied = run(*hint.split()[1:], env=SECRETS)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    again = run(
        "plan",
        EXAMPLES,
        "--emulator",
        "--emulator-state",
        state,
        "--detailed-exitcode",
        env=SECRETS,
    )
    assert again.exit_code == 0, again.stdout


def test_plan_out_warns_that_a_secrets_default_is_not_saved(run, tmp_path):
    """The example manifests' webhooks run on their `:-` defaults; plan --out said nothing,
    and apply --plan then stopped for want of the variables."""
    saved = tmp_path / "plan.json"
    planned = run("plan", EXAMPLES, "--emulator", "--out", saved)
    assert planned.exit_code == 0, planned.stderr
    assert (
        "a saved plan never records the :-default of a secret (it is a secret too): set "
        "CINCOPA_HOOK_KEY, SLACK_WEBHOOK_URL when you apply it"
    ) in planned.stderr
    applied = run("apply", "--plan", saved, "--emulator")
    assert applied.exit_code == 3
    assert "CINCOPA_HOOK_KEY, SLACK_WEBHOOK_URL (it never records the :-default" in applied.stderr
    quiet = run("plan", EXAMPLES, "--emulator", "--out", saved, env=SECRETS)
    assert quiet.exit_code == 0 and ":-default" not in quiet.stderr
