"""`cincopa-sync export` from the command line, against the demo account of the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from support import EXAMPLES

# What the demo uses (examples/manifests/webhooks.yaml defaults, demo-account.json).
DEMO_HOOK_KEY = "demo-key-not-secret"
DEMO_SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/demo"
SECRET_PARTS = (DEMO_SLACK_URL, "T0000/B0000", DEMO_HOOK_KEY)

Run = Callable[..., Result]


def _export(run: Run, out: Path, state: Path, *extra: object, **kw: object) -> Result:
    return run("export", "--out", out, "--emulator", "--emulator-state", state, *extra, **kw)


def _plan(run: Run, out: Path, state: Path, env: dict[str, str]) -> Result:
    return run("plan", out, "--detailed-exitcode", "--emulator", "--emulator-state", state, env=env)


def test_export_of_the_demo_account_plans_no_changes(
    run: Run, tmp_path: Path, read_all: Callable[[Path], str]
) -> None:
    out, state = tmp_path / "manifests", tmp_path / "state.json"
    result = _export(run, out, state)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".cincopa-sync",  # the record of what it wrote, and the schema copy
        "assets-001.yaml",
        "portals.yaml",
        "webhooks.yaml",
    ]
    assert "Exported 36 asset(s), 3 portal(s) and 2 webhook(s)" in result.stdout
    assert "CINCOPA_HOOK_KEY_1" in result.stdout  # the variable to set, named

    plan = _plan(run, out, state, {"CINCOPA_HOOK_KEY_1": DEMO_HOOK_KEY})
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout
    # Without the variable too: a key on both sides is never compared, so it is not
    # needed; the plan says it is not set.
    missing = _plan(run, out, state, {})
    assert missing.exit_code == 0, missing.stderr
    assert "No changes" in missing.stdout
    assert "missing environment variable CINCOPA_HOOK_KEY_1" in missing.stdout


def test_export_as_json_plans_no_changes(run: Run, tmp_path: Path) -> None:
    out, state = tmp_path / "manifests", tmp_path / "state.json"
    result = _export(run, out, state, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".cincopa-sync",  # the record of what it wrote
        "assets-001.json",
        "portals.json",
        "webhooks.json",
    ]
    assets = (out / "assets-001.json").read_text(encoding="utf-8").splitlines()
    assert assets[0] == "{" and assets[1] == '  "version": 1,'
    assert assets[3].startswith('    {"rid": ')  # one entry a line
    assert '"${CINCOPA_HOOK_KEY_1}"' in (out / "webhooks.json").read_text(encoding="utf-8")

    plan = _plan(run, out, state, {"CINCOPA_HOOK_KEY_1": DEMO_HOOK_KEY})
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout


def test_export_after_apply_of_the_examples_keeps_the_slack_url_secret(
    run: Run, tmp_path: Path, read_all: Callable[[Path], str]
) -> None:
    """The applied examples add a Slack hook: its URL becomes ${SLACK_WEBHOOK_URL_1}."""
    out, state = tmp_path / "manifests", tmp_path / "state.json"
    applied = run("apply", EXAMPLES, "--auto-approve", "--emulator", "--emulator-state", state)
    assert applied.exit_code == 0, applied.stderr
    result = _export(run, out, state)
    assert result.exit_code == 0, result.stderr

    text = read_all(out)
    for secret in SECRET_PARTS:
        assert secret not in text
        assert secret not in result.stdout + result.stderr
    assert 'url: "${SLACK_WEBHOOK_URL_1}"' in text
    assert 'security_key: "${CINCOPA_HOOK_KEY_1}"' in text
    assert "SLACK_WEBHOOK_URL_1" in result.stdout

    env = {"CINCOPA_HOOK_KEY_1": DEMO_HOOK_KEY, "SLACK_WEBHOOK_URL_1": DEMO_SLACK_URL}
    plan = _plan(run, out, state, env)
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    # The wrong Slack URL is another webhook: a create, so the variable really matters.
    wrong = _plan(run, out, state, {**env, "SLACK_WEBHOOK_URL_1": DEMO_SLACK_URL + "x"})
    assert wrong.exit_code == 2


def test_export_with_a_read_only_token(run: Run, tmp_path: Path) -> None:
    out, state = tmp_path / "manifests", tmp_path / "state.json"
    result = _export(run, out, state, env={"CINCOPA_API_TOKEN": "emulator-readonly"})
    assert result.exit_code == 0, result.stderr


def test_export_into_a_foreign_directory_is_refused_before_any_call(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "manifests"
    out.mkdir()
    (out / "mine.yaml").write_text("version: 1\n", encoding="utf-8")
    (out / "portals.yaml").write_text("portals: []\n", encoding="utf-8")  # our name, not ours
    # An API nobody serves: a refusal that made a call first would fail with exit 1.
    result = run(
        "export",
        "--out",
        out,
        "--api-url",
        "http://127.0.0.1:9/v2/",
        env={"CINCOPA_API_TOKEN": "t"},
    )
    assert result.exit_code == 3, result.stderr
    assert "mine.yaml" in result.stderr and "portals.yaml" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.yaml", "portals.yaml"]
    assert (out / "portals.yaml").read_text(encoding="utf-8") == "portals: []\n"


def test_export_onto_a_file_is_refused(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    result = run("export", "--out", target, "--emulator")
    assert result.exit_code == 3
    assert target.read_text(encoding="utf-8") == "x"


def test_export_again_rewrites_an_earlier_export(run: Run, tmp_path: Path) -> None:
    out, state = tmp_path / "manifests", tmp_path / "state.json"
    assert _export(run, out, state).exit_code == 0
    (out / ".gitkeep").write_text("", encoding="utf-8")  # hidden entries are left alone
    before = (out / "portals.yaml").read_bytes()
    again = _export(run, out, state)
    assert again.exit_code == 0, again.stderr
    assert (out / "portals.yaml").read_bytes() == before  # same account, same bytes
    assert (out / ".gitkeep").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_export_help_lists_its_options(run: Run) -> None:
    result = run("export", "--help")
    assert result.exit_code == 0
    for option in ("--out", "--parallelism", "--emulator", "--api-url", "--schema"):
        assert option in result.stdout
