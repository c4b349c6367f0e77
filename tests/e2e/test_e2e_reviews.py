"""What reviewers see: every warning in every format, and --target that says what it did.

Each case runs the CLI against the demo account in an emulator and reads the output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from support import EXAMPLES, Served, serving

NO_CHANGES = "No changes. The account matches the manifests."
KEY_NOTE = "security keys cannot be read back"


def _typo_manifest(tmp_path: Path) -> tuple[Path, str]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    hooks = manifests / "webhooks.yaml"
    hooks.write_text(
        "webhooks:\n"
        "  - url: https://search-indexer.example.com/cincopa\n"
        "    events: [asset.*, gallery.creatd]\n",
        encoding="utf-8",
    )
    return manifests, f"{hooks}:3:23: unknown webhook event 'gallery.creatd'"


def _plan_json(run: Callable[..., Result], served: Served) -> dict:
    result = run("plan", EXAMPLES, "--format", "json", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _located_markdown(warning: str) -> str:
    """A warning as markdown shows it: the place in a code span (a link on GitHub)."""
    where, message = warning.split(": ", 1)
    return f"`{where}`: {message}"


def test_a_manifest_warning_is_in_text_json_and_markdown(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    manifests, warning = _typo_manifest(tmp_path)
    outputs = {}
    for fmt in ("text", "json", "markdown"):
        result = run("plan", manifests, "--format", fmt, *served.args, env=served.env)
        assert result.exit_code == 0, result.stderr
        outputs[fmt] = result
    document = json.loads(outputs["json"].stdout)
    assert document["warnings"] == [warning + " (did you mean 'gallery.created'?)"]
    assert f"Warning: {warning}" in outputs["text"].stdout
    # In a GitHub alert block; markdown escapes what it quotes: compare without them.
    markdown = outputs["markdown"].stdout.replace("\\", "")
    assert f"> [!WARNING]\n> {_located_markdown(warning)} (did you mean" in markdown
    # json and markdown go to files in CI: the warning is on stderr too, said once.
    assert outputs["json"].stderr.count("gallery.creatd") == 1
    assert outputs["text"].stderr.count("gallery.creatd") == 0


def test_validate_warns_on_stderr(run: Callable[..., Result], tmp_path: Path) -> None:
    manifests, warning = _typo_manifest(tmp_path)
    result = run("validate", manifests)
    assert result.exit_code == 0, result.stderr
    assert warning.replace(": unknown", ": warning: unknown") in result.stderr


def test_a_mistyped_kind_in_a_target_pattern_gets_a_suggestion(
    run: Callable[..., Result], served: Served
) -> None:
    result = run("plan", EXAMPLES, "--target", "portl.*", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    assert "--target portl.* matches no change of this plan (did you mean portal.*?)" in (
        result.stdout
    )


def test_target_that_matches_nothing_says_so_and_counts_what_it_left_out(
    run: Callable[..., Result], served: Served
) -> None:
    total = len(_plan_json(run, served)["changes"])
    # acme-academy is the old name of a portal the plan renames: no change has that address.
    args = ["plan", EXAMPLES, "--target", "portal.acme-academy", *served.args]
    text = run(*args, env=served.env)
    assert text.exit_code == 0, text.stderr
    assert NO_CHANGES not in text.stdout
    assert f"No change matches --target; it left out the plan's {total} changes." in text.stdout
    assert "Warning: --target portal.acme-academy matches no change of this plan" in text.stdout
    assert KEY_NOTE not in text.stdout

    document = json.loads(run(*args, "--format", "json", env=served.env).stdout)
    assert document["changes"] == []
    assert document["targets"] == {"patterns": ["portal.acme-academy"], "left_out": total}
    assert any("portal.acme-academy matches no change" in w for w in document["warnings"])

    markdown = run(*args, "--format", "markdown", env=served.env).stdout.replace("\\", "")
    assert f"No change matches --target; it left out the plan's {total} changes." in markdown


def test_a_targeted_plan_counts_the_rest_and_notes_keys_only_when_it_sends_one(
    run: Callable[..., Result], served: Served
) -> None:
    total = len(_plan_json(run, served)["changes"])
    portals = run("plan", EXAMPLES, "--target", "portal.*", *served.args, env=served.env)
    assert portals.exit_code == 0, portals.stderr
    assert f"to delete; --target left out {total - 2} other changes." in portals.stdout
    assert KEY_NOTE not in portals.stdout  # no keyed hook is written

    keyed = "webhook.https://hooks.example.com/cincopa/assets"
    hooks = run("plan", EXAMPLES, "--target", keyed, *served.args, env=served.env)
    assert f"--target left out {total - 1} other changes." in hooks.stdout
    assert KEY_NOTE in hooks.stdout

    slack = run(
        "plan",
        EXAMPLES,
        "--target",
        "webhook.https://hooks.slack.com/*",
        *served.args,
        env=served.env,
    )
    assert slack.exit_code == 0, slack.stderr
    assert "+ webhook.https://hooks.slack.com/" in slack.stdout
    assert KEY_NOTE not in slack.stdout  # a Slack hook has no key


def test_a_risky_saved_plan_says_how_to_allow_it_and_the_allowance_is_recorded(
    run: Callable[..., Result], demo_seed: dict, tmp_path: Path
) -> None:
    """9 of 10 portals pruned: the hint after --out must not suggest an apply that refuses."""
    seed = json.loads(json.dumps(demo_seed))
    seed["portals"] += [{"subdomain": f"promo-{i}", "name": "p"} for i in range(7)]
    manifest = tmp_path / "portals.yaml"
    manifest.write_text("portals:\n  - subdomain: acme-videos\nprune:\n  portals: true\n")
    saved = tmp_path / "risky.json"
    with serving(seed) as served:
        planned = run("plan", manifest, "--out", saved, *served.args, env=served.env)
        assert planned.exit_code == 0, planned.stderr
        assert "deletes 9 of 10 live portals" in planned.stdout
        assert f"apply it with `cincopa-sync apply --plan {saved}`" not in planned.stderr
        assert "refuses it (exit 4)" in planned.stderr and "--allow-deletes" in planned.stderr
        refused = run("apply", "--plan", saved, *served.args, env=served.env)
        assert refused.exit_code == 4 and served.writes() == []

        allowed = run("plan", manifest, "--out", saved, "--allow-deletes", *served.args,
                      env=served.env)  # fmt: skip
        assert f"apply it with `cincopa-sync apply --plan {saved}`" in allowed.stderr
        applied = run("apply", "--plan", saved, *served.args, env=served.env)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        assert len(served.writes()) == 9
