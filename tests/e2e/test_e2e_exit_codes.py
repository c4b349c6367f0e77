"""The exit-code table (README, cli/app.py), command by command, with what each failure prints."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from support import EXAMPLES, invoke


def test_plan_detailed_exitcode_2_then_0(run: Callable[..., Result], served: Any) -> None:
    pending = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=served.env)
    assert pending.exit_code == 2
    plain = run("plan", EXAMPLES, *served.args, env=served.env)
    assert plain.exit_code == 0  # changes pending, but no --detailed-exitcode
    assert plain.stdout == pending.stdout
    assert run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env).exit_code == 0
    done = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=served.env)
    assert done.exit_code == 0
    assert "No changes. The account matches the manifests." in done.stdout


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_invalid_manifest_exits_3_with_every_place(
    command: str, run: Callable[..., Result], served: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "portals:\n"
        "  - subdomain: Acme_Videos\n"
        "    visibility: secret\n"
        "webhooks:\n"
        "  - url: https://hooks.example.com/x\n"
        "    events: [asset.uploaded]\n"
        "    colour: blue\n",
        encoding="utf-8",
    )
    extra = {"validate": [], "plan": served.args, "apply": [*served.args, "--auto-approve"]}
    result = run(command, bad, *extra[command], env=served.env)
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    places = [re.match(r"^(.*)bad\.yaml:(\d+):(\d+): ", line) for line in lines[:-1]]
    assert all(places), lines
    assert [(int(m.group(2)), int(m.group(3))) for m in places if m] == [(2, 16), (3, 17), (7, 5)]
    assert "'Acme_Videos' is not valid" in lines[0]
    assert "unknown key 'colour'" in lines[2]
    assert lines[-1] == "3 error(s) in 1 file(s); nothing was planned or applied"
    assert served.emulator.calls == []  # a bad manifest fails before any network call


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],  # a missing argument
        ["plan", str(EXAMPLES), "--format", "yaml"],  # a bad choice
        ["plan", str(EXAMPLES), "--no-such-flag"],
        ["no-such-command"],
        ["apply", str(EXAMPLES), "--parallelism", "0"],
    ],
)
def test_usage_errors_exit_3_not_2(args: list[str], run: Callable[..., Result]) -> None:
    result = run(*args)
    assert result.exit_code == 3
    assert "Usage:" in result.stderr or "Error:" in result.stderr
    assert result.stdout == ""


def test_emulator_state_without_emulator_is_invalid(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    result = run("plan", EXAMPLES, "--emulator-state", tmp_path / "s.json")
    assert result.exit_code == 3
    assert "--emulator-state needs --emulator" in result.stderr


def test_apply_without_terminal_or_auto_approve_refuses(
    run: Callable[..., Result], served: Any
) -> None:
    result = run("apply", EXAMPLES, *served.args, env=served.env)
    assert result.exit_code == 4
    assert "no terminal to confirm on" in result.stderr
    assert "Plan: 2 to create, 6 to update" in result.stdout  # it showed what it would do
    assert served.writes() == []
    assert served.counts("write") == {}


def test_read_only_token_plans_but_cannot_apply(run: Callable[..., Result], served: Any) -> None:
    served.token = "emulator-readonly"
    plan = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=served.env)
    assert plan.exit_code == 2  # a read-only token is enough to plan
    served.emulator.clear_log()
    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=served.env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ping (HTTP 403): the token may not call asset.set_meta")
    assert "nothing was written" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert served.counts("write") == {}  # not even attempted
    # nothing changed: the same plan is still pending
    again = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=served.env)
    assert (again.exit_code, again.stdout) == (2, plan.stdout)


def test_unknown_token_fails_ping_with_an_authentication_message(
    run: Callable[..., Result], served: Any
) -> None:
    served.token = "not-a-known-token"
    result = run("ping", *served.args, env=served.env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "refused the token (unknown, expired or revoked)" in result.stderr
    assert "not-a-known-token" not in result.stderr


def test_ping_with_a_valid_token(run: Callable[..., Result], served: Any) -> None:
    result = run("ping", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"account 100001 (video-team@acme.example) at {served.url}\n"
        "permissions: asset.* portal.* webhook.*\n"
    )


def test_no_token_at_all(run: Callable[..., Result], served: Any) -> None:
    """Was exit 1, as if the API had answered; it is the user's setup: exit 3."""
    result = run("plan", EXAMPLES, *served.args)
    assert result.exit_code == 3
    assert "no API token: set CINCOPA_API_TOKEN (to try" in result.stderr
    assert "add --emulator" in result.stderr
    assert served.emulator.calls == []


def test_an_api_error_while_planning_exits_1(run: Callable[..., Result], served: Any) -> None:
    """`success: false` is not retried: exit 1 with the API's message, no traceback."""
    served.emulator.set_faults("webhook.list=fail:the webhook service is down")
    result = run("plan", EXAMPLES, *served.args, env=served.env)
    assert result.exit_code == 1
    assert result.stderr.endswith("error: webhook.list: the webhook service is down\n")
    assert "internal error" not in result.stderr
    assert result.stdout == ""


def test_unwritable_outputs_and_a_damaged_emulator_state_are_invalid_input(tmp_path):
    examples = EXAMPLES
    secrets = {"CINCOPA_HOOK_KEY": "k", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x/y"}
    out = invoke("plan", examples, "--emulator", "--out", tmp_path / "no" / "p.json", env=secrets)
    assert out.exit_code == 3, out.output
    assert "cannot write" in out.stderr
    (tmp_path / "state.json").write_text("{ not json")
    state = invoke("plan", examples, "--emulator", "--emulator-state", tmp_path / "state.json")
    assert state.exit_code == 3, state.output
    assert "--emulator-state" in state.stderr
