"""A webhook's security key is needed only when it is sent.

It cannot be read back, so it is never compared: `validate` and `plan` do without its
variable (a warning), and `apply` stops before any write, naming every missing variable,
only when it would send one. A Slack URL is the hook's identity and stays required; a
secret written out in a manifest is an error everywhere (it would be committed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from support import Served, serving

NO_CHANGES = "No changes. The account matches the manifests."
KEYED = "https://hooks.example.com/cincopa/assets"
OTHER = "https://other.example.com/hook"


def _seed(demo_seed: dict[str, Any]) -> dict[str, Any]:
    seed = json.loads(json.dumps(demo_seed))
    seed["webhooks"].append(
        {"hook_url": OTHER, "type": "http", "events": ["asset.*"], "security_key": "other-key"}
    )
    return seed


def _hooks(tmp_path: Path, first_events: str = "asset.uploaded, asset.updated") -> Path:
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "webhooks:\n"
        f"  - url: {KEYED}\n"
        f"    events: [{first_events}]\n"
        "    security_key: ${KEY_ONE}\n"
        f"  - url: {OTHER}\n"
        "    events: [asset.*]\n"
        "    security_key: ${KEY_TWO}\n",
        encoding="utf-8",
    )
    return manifest


def test_export_then_plan_with_no_variable_set_is_no_changes(
    run: Callable[..., Result], demo_seed: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    with serving(_seed(demo_seed)) as served:
        exported = run("export", "--out", out, *served.args, env=served.env)
        assert exported.exit_code == 0, exported.stderr
        assert "CINCOPA_HOOK_KEY_2" in exported.stdout  # two keyed hooks: two variables

        plan = run("plan", out, "--detailed-exitcode", *served.args, env=served.env)
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        assert NO_CHANGES in plan.stdout
        for name in ("CINCOPA_HOOK_KEY_1", "CINCOPA_HOOK_KEY_2"):
            assert f"missing environment variable {name}" in plan.stdout

        document = json.loads(
            run("plan", out, "--format", "json", *served.args, env=served.env).stdout
        )
        assert document["changes"] == []
        assert sum("missing environment variable" in w for w in document["warnings"]) == 2


def test_validate_and_plan_warn_apply_stops_before_any_write_naming_every_variable(
    run: Callable[..., Result], demo_seed: dict[str, Any], tmp_path: Path
) -> None:
    # Both hooks are written (the first misses an event, the second is new): both keys go.
    seed = json.loads(json.dumps(demo_seed))
    manifest = _hooks(tmp_path, "asset.uploaded, asset.updated, asset.deleted")
    checked = run("validate", manifest)
    assert checked.exit_code == 0, checked.stderr
    assert "warning: missing environment variable KEY_ONE" in checked.stderr
    assert "warning: missing environment variable KEY_TWO" in checked.stderr

    with serving(seed) as served:
        plan = run("plan", manifest, *served.args, env=served.env)
        assert plan.exit_code == 0, plan.stderr
        assert "KEY_ONE is not set: apply needs it to send this hook's key" in plan.stdout
        assert "KEY_TWO is not set" in plan.stdout
        assert "security_key=(sensitive)" in plan.stdout

        applied = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
        assert applied.exit_code == 3, applied.stdout + applied.stderr
        assert "KEY_ONE, KEY_TWO" in applied.stderr and "nothing was written" in applied.stderr
        assert served.writes() == []

        # With them set, the same manifests apply, and a plan after it has nothing to do.
        keys = {**served.env, "KEY_ONE": "one", "KEY_TWO": "two"}
        applied = run("apply", manifest, "--auto-approve", *served.args, env=keys)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert {dict(p)["security_key"] for _, p in served.writes()} == {"one", "two"}
        again = run("plan", manifest, "--detailed-exitcode", *served.args, env=served.env)
        assert again.exit_code == 0 and NO_CHANGES in again.stdout


@pytest.mark.parametrize("variable", ["KEY_ONE", "CINCOPA_HOOK_KEY_OF_ASSETS"])
def test_a_saved_plan_made_without_the_key_needs_it_at_apply(
    run: Callable[..., Result], served: Served, tmp_path: Path, variable: str
) -> None:
    """A long variable name was masked as a secret (`apply needs these environment
    variables for the secrets it sends: *** (for webhook...)`): the unresolved template
    `${NAME}` was registered with the values to mask."""
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        f"webhooks:\n  - url: {KEYED}\n    events: [asset.deleted]\n"
        f"    security_key: ${{{variable}}}\n",
        encoding="utf-8",
    )
    saved = tmp_path / "plan.json"
    plan = run("plan", manifest, "--out", saved, *served.args, env=served.env)
    assert plan.exit_code == 0, plan.stderr

    missing = run("apply", "--plan", saved, *served.args, env=served.env)
    assert missing.exit_code == 3, missing.stderr
    assert f"secrets it sends: {variable} (for webhook." in missing.stderr
    assert served.writes() == []
    direct = run("apply", manifest, "--auto-approve", *served.args, env=served.env)
    assert direct.exit_code == 3 and f"secrets it sends: {variable} (for" in direct.stderr
    assert served.writes() == []

    applied = run("apply", "--plan", saved, *served.args, env={**served.env, variable: "k1"})
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert [(e, p["security_key"]) for e, p in served.writes()] == [("webhook.set", "k1")]


def test_a_key_not_sent_is_not_needed_by_apply(
    run: Callable[..., Result], demo_seed: dict[str, Any], tmp_path: Path
) -> None:
    """A plan that writes an asset but no keyed hook applies without the key's variable."""
    manifest = _hooks(tmp_path)
    (tmp_path / "asset.yaml").write_text(
        "assets:\n  - rid: klZD_OCj2ISa\n    caption: New caption\n", encoding="utf-8"
    )
    with serving(_seed(demo_seed)) as served:
        applied = run("apply", tmp_path, "--auto-approve", *served.args, env=served.env)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert [e for e, _ in served.writes()] == ["asset.set_meta"]
    assert manifest.exists()


def test_a_slack_url_stays_required(run: Callable[..., Result], tmp_path: Path) -> None:
    manifest = tmp_path / "slack.yaml"
    manifest.write_text(
        "webhooks:\n  - url: ${SLACK_URL}\n    type: slack\n    events: [asset.*]\n",
        encoding="utf-8",
    )
    result = run("validate", manifest)
    assert result.exit_code == 3
    assert f"{manifest}:2:10: missing environment variable SLACK_URL" in result.stderr


def test_validate_rejects_what_a_saved_plan_rejects_and_hints_at_braces(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "webhooks:\n"
        "  - url: https://a.example.com/x\n    events: [asset.*]\n"
        "    security_key: literal-key-in-git\n"
        "  - url: https://b.example.com/x\n    events: [asset.*]\n"
        "    security_key: $HOOK_KEY\n"
        "  - url: https://hooks.slack.com/services/T/B/written-out\n"
        "    type: slack\n    events: [asset.*]\n",
        encoding="utf-8",
    )
    result = run("validate", manifest)
    assert result.exit_code == 3
    errors = result.stderr
    assert f"{manifest}:4:19: security_key is written out in the manifest" in errors
    assert f"{manifest}:7:19: security_key is written out" in errors
    assert "did you mean '${HOOK_KEY}'?" in errors
    assert f"{manifest}:8:10: a Slack webhook's url is written out" in errors
    assert "written-out" not in errors  # the secret itself is never quoted
    assert "3 error(s)" in errors


def test_a_bare_dollar_name_anywhere_is_a_warning(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    manifest = tmp_path / "portal.yaml"
    manifest.write_text("portals:\n  - subdomain: acme\n    name: $PORTAL_NAME\n")
    result = run("validate", manifest)
    assert result.exit_code == 0, result.stderr
    assert (
        f"{manifest}:3:11: warning: '$PORTAL_NAME' is not a variable reference and is kept "
        "as written (did you mean '${PORTAL_NAME}'?)"
    ) in result.stderr
