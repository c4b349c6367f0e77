"""What a pull request gets: a plan scoped to it (plan --base), a comment for reviewers,
and, on GitHub Actions, annotations on the diff.

The --base case builds a real git repository: main holds the example manifests (the demo
account already differs from them: drift), a branch edits them, and the base branch is
checked out as a git worktree, as the GitHub workflow does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from jsonschema import Draft202012Validator
from support import EXAMPLES, Served, serving

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/video-config",
    "GITHUB_SHA": "3f9c2e1d",
}
BLOB = "https://github.com/acme/video-config/blob/3f9c2e1d"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, Path]:
    """(the pull request's checkout, the base branch's worktree)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "manifests")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "main")
    _git(repo, "checkout", "-q", "-b", "pr")
    manifests = repo / "manifests"
    # The pull request's own changes: a caption, and the portal name main already changes.
    _edit(manifests / "assets.yaml", 'caption: "Trail Runner"', 'caption: "Trail Runner X"')
    _edit(manifests / "portals.yaml", "name: Acme Videos\n", "name: Acme Videos HQ\n")
    # It accepts the account's current caption of the Ridge Jacket (main would change it).
    _edit(manifests / "assets.yaml", "Ridge Jacket — 2026 edition", "Ridge Jacket")
    _git(repo, "commit", "-q", "-am", "pr")
    _git(repo, "worktree", "add", "-q", str(tmp_path / "base"), "main")
    return repo, tmp_path / "base"


def test_plan_base_marks_the_pull_requests_changes_apart_from_drift(
    run: Callable[..., Result],
    served: Served,
    pull_request: tuple[Path, Path],
    plan_schema: Draft202012Validator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, base = pull_request
    monkeypatch.chdir(repo)
    calls_for_one_plan = _calls_of_a_plan(run, served)
    args = ["plan", "manifests", "--base", base, *served.args]
    result = run(*args, "--format", "json", env=served.env)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(plan_schema.iter_errors(document)) == []
    origins = {c["address"]: c["origin"] for c in document["changes"]}
    assert {a for a, o in origins.items() if o == "change"} == {
        "asset.ZpDE0iGXlD6g",  # the caption the pull request changes
        "portal.acme-videos",  # main renames it too, but not to this: the pull request's
    }
    assert {a for a, o in origins.items() if o == "drift"} == {
        "asset.IvPZZ63fFKcZ",
        "asset.l7dXTPyLsxPF",
        "asset.ref:SKU-1026",
        "asset.ref:SKU-1030",
        "portal.acme-training",
        "webhook.https://hooks.example.com/cincopa/assets",
        "webhook.https://hooks.slack.com/(sensitive:74e73eaf)",
    }
    assert document["drift_adopted"] == ["asset.klZD_OCj2ISa"]
    # one live read for both plans: exactly the calls one plan makes
    assert sum(served.counts().values()) == 2 * calls_for_one_plan

    text = run(*args, env=served.env).stdout
    own = text.index("Changes this pull request makes:")
    drift = text.index("Drift: the account already differs from the base branch")
    assert own < text.index("~ asset.ZpDE0iGXlD6g") < drift < text.index("~ asset.IvPZZ63fFKcZ")
    assert "Drift adopted: " in text and "asset.klZD_OCj2ISa" in text
    assert "(2 from this pull request, 7 drift)" in text

    markdown = run(*args, "--format", "markdown", env=served.env).stdout.replace("\\", "")
    assert "#### Changes this pull request makes: 2" in markdown
    assert "#### Drift: the account already differs from the base branch" in markdown
    assert markdown.index("asset.ZpDE0iGXlD6g") < markdown.index("#### Drift")
    assert "**Drift adopted:**" in markdown and "`asset.klZD_OCj2ISa`" in markdown

    # a saved pull-request plan keeps the origins, and applies all of it
    saved = repo / "plan.json"
    assert run(*args, "--out", saved, env=served.env).exit_code == 0
    shown = json.loads(run("show", saved, "--format", "json").stdout)
    assert {c["address"]: c["origin"] for c in shown["changes"]} == origins
    applied = run("apply", "manifests", "--auto-approve", *served.args, env=served.env)
    assert applied.exit_code == 0, applied.stderr
    after = run("plan", "manifests", "--detailed-exitcode", *served.args, env=served.env)
    assert after.exit_code == 0, after.stdout


def _calls_of_a_plan(run: Callable[..., Result], served: Served) -> int:
    before = sum(served.counts().values())
    assert run("plan", "manifests", *served.args, env=served.env).exit_code == 0
    return sum(served.counts().values()) - before


def test_a_base_that_does_not_load_leaves_every_change_the_pull_requests(
    run: Callable[..., Result], served: Served, pull_request: tuple[Path, Path], monkeypatch
) -> None:
    repo, base = pull_request
    (base / "manifests" / "portals.yaml").write_text("portals: [oops\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    result = run("plan", "manifests", "--base", base, "--format", "json", *served.args,
                 env=served.env)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {c["origin"] for c in document["changes"]} == {"change"}
    assert any("could not be planned" in w for w in document["warnings"])


def test_invalid_manifests_still_give_a_comment_and_workflow_commands(
    run: Callable[..., Result], served: Served, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "hooks.yaml").write_text(
        "webhooks:\n"
        "  - url: http://hooks.example.com/a\n"  # every problem at once: the URL and the type
        "    events: asset.updated\n"
        "  - url: https://b.example.com/x\n"
        "    events: [asset.*, gallery.creatd]\n",
        encoding="utf-8",
    )
    summary = tmp_path / "summary.md"
    result = run(
        "plan", "manifests", "--format", "markdown", *served.args,
        env={**served.env, **GITHUB, "GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert result.exit_code == 3
    comment = result.stdout
    assert comment.startswith("<!-- cincopa-sync plan -->\n### The manifests are invalid: 2 errors")
    for line, column in ((2, 10), (3, 13), (5, 23)):
        link = f"[`manifests/hooks.yaml:{line}:{column}`]({BLOB}/manifests/hooks.yaml#L{line})"
        assert link in comment
    assert "is not valid: it must be an https\\:// URL" in comment  # no autolink
    assert summary.read_text(encoding="utf-8") == comment
    commands = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert commands == [
        "::error file=manifests/hooks.yaml,line=2,col=10::url 'http://hooks.example.com/…' is "
        "not valid: it must be an https:// URL with a host, on one line",
        "::error file=manifests/hooks.yaml,line=3,col=13::events must be a list, got string "
        "'asset.updated'",
        "::warning file=manifests/hooks.yaml,line=5,col=23::unknown webhook event "
        "'gallery.creatd' (did you mean 'gallery.created'?)",
    ]
    assert served.counts() == {}  # nothing was asked of the API


def test_deletes_are_a_caution_block_with_links_and_set_items(
    run: Callable[..., Result], demo_seed: dict[str, Any], tmp_path: Path, monkeypatch
) -> None:
    seed = json.loads(json.dumps(demo_seed))
    seed["portals"] += [{"subdomain": f"promo-{i}", "name": f"Promo {i}"} for i in range(5)]
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    with (tmp_path / "manifests" / "portals.yaml").open("a", encoding="utf-8") as handle:
        handle.write("prune:\n  portals: true\n")
    with serving(seed) as served:
        result = run(
            "plan", "manifests", "--format", "markdown", *served.args, env={**served.env, **GITHUB}
        )
    assert result.exit_code == 0, result.stderr
    markdown = result.stdout
    caution = markdown[markdown.index("> [!CAUTION]") :].split("\n\n", 1)[0]
    assert (
        "**This plan deletes 6 objects:** `portal.acme-2019-archive`, `portal.promo-0`" in caution
    )
    assert "> - The plan deletes 6 of 8 live portals" in caution
    assert "apply refuses without --allow-deletes" in caution
    # the caution comes before the table and every folded section
    assert markdown.index("> [!CAUTION]") < markdown.index("| | create |")
    assert f"[`manifests/portals.yaml:4:5`]({BLOB}/manifests/portals.yaml#L4)" in markdown
    # a set changed in place: what it was, then the items it gains
    assert '| `tags` | `["camping", "review"]` | added `"winter"` |' in markdown
    # workflow commands name the warning (no place: none is written for it)
    assert "::warning::the plan deletes 6 of 8 live portals" in result.stderr
