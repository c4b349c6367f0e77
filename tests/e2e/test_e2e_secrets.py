"""Secrets never reach stdout or stderr: the API token, a hook's security key, a Slack URL.

Canary values go in through the environment, the emulator's state file accepts the canary
token as a valid full-permission token, and every output of plan / apply / ping (text,
json, --verbose, --debug; in-process and in a real process) is searched for them in every
spelling a URL or a JSON document could give them.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from click.testing import Result

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"

CANARY_TOKEN = "tok-CANARY-9d2e7f41c0"
CANARY_KEY = "key-CANARY-4b8a19e6"
CANARY_SLACK = "https://hooks.slack.com/services/TCANARY1/BCANARY2/slackCANARYsecret77"
CANARY_ENV = {
    "CINCOPA_API_TOKEN": CANARY_TOKEN,
    "CINCOPA_HOOK_KEY": CANARY_KEY,
    "SLACK_WEBHOOK_URL": CANARY_SLACK,
}


def spellings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


NEEDLES = {s for secret in (*CANARY_ENV.values(), "slackCANARYsecret77") for s in spellings(secret)}


def assert_clean(*texts: str) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text


@pytest.fixture
def canary_state(tmp_path: Path, demo_seed: dict[str, Any]) -> Path:
    state = tmp_path / "account.json"
    seed = json.loads(json.dumps(demo_seed))
    seed["tokens"] = {CANARY_TOKEN: "|asset.*|portal.*|webhook.*|"}
    state.write_text(json.dumps(seed), encoding="utf-8")
    return state


def test_no_secret_in_any_output_of_plan_and_apply(
    run: Callable[..., Result], canary_state: Path
) -> None:
    args = [EXAMPLES, "--emulator", "--emulator-state", canary_state]
    outputs = []
    for command in (
        ["plan", *args],
        ["plan", *args, "--format", "json"],
        ["plan", *args, "--verbose"],
        ["plan", *args, "--debug"],
        ["apply", *args, "--auto-approve", "--debug"],
        ["plan", *args, "--debug", "--detailed-exitcode"],
        ["ping", "--emulator", "--emulator-state", canary_state, "--debug"],
    ):
        result = run(*command, env=CANARY_ENV)
        outputs.append((command[0], result))
        assert_clean(result.stdout, result.stderr)
    codes = [r.exit_code for _, r in outputs]
    assert codes == [0, 0, 0, 0, 0, 0, 0], [r.stderr for _, r in outputs]
    # the runs really used the secrets: the canary token was accepted (ping, apply), the
    # Slack hook was created and the key was sent (the emulator keeps only its digest) ...
    saved = json.loads(canary_state.read_text(encoding="utf-8"))
    hooks = {h["hook_url"]: h for h in saved["webhooks"]}
    assert CANARY_SLACK in hooks
    digest = hashlib.sha256(CANARY_KEY.encode()).hexdigest()
    assert hooks["https://hooks.example.com/cincopa/assets"]["security_key_sha256"] == digest
    # ... and --debug did log every call, the secret params masked
    apply_result = outputs[4][1]
    assert re.search(
        r"webhook\.set_slack hook_url=\(sensitive\) events=\S+ -> 200 in \d+ ms \(attempt 1\)",
        apply_result.stderr,
    ), apply_result.stderr
    assert "No changes." in outputs[5][1].stdout


def test_no_secret_in_a_real_process_with_debug(
    run_process: Callable[..., subprocess.CompletedProcess[str]], canary_state: Path
) -> None:
    common = ["examples/manifests", "--emulator", "--emulator-state", canary_state, "--debug"]
    applied = run_process("apply", *common, "--auto-approve", env=CANARY_ENV)
    assert applied.returncode == 0, applied.stderr[-2000:]
    assert_clean(applied.stdout, applied.stderr)
    again = run_process("plan", *common, "--format", "json", "--detailed-exitcode", env=CANARY_ENV)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["changes"] == []
    assert_clean(again.stdout, again.stderr)


def test_no_secret_when_the_api_fails(run: Callable[..., Result], served: Any) -> None:
    """Error paths print messages: still no key and no Slack URL in them."""
    served.emulator.set_faults("webhook.set_slack=fail:bad hook_url " + CANARY_SLACK)
    env = {**served.env, "CINCOPA_HOOK_KEY": CANARY_KEY, "SLACK_WEBHOOK_URL": CANARY_SLACK}
    result = run("apply", EXAMPLES, "--auto-approve", "--debug", *served.args, env=env)
    assert result.exit_code == 5
    assert "FAILED   webhook.https://hooks.slack.com/(sensitive:" in result.stdout
    assert_clean(result.stdout, result.stderr)
    served.emulator.set_faults(None)
    result = run("apply", EXAMPLES, "--auto-approve", *served.args, env=env)
    assert result.exit_code == 0
    final = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=env)
    assert final.exit_code == 0
    assert "No changes. The account matches the manifests." in final.stdout
    assert_clean(result.stdout, result.stderr, final.stdout, final.stderr)
