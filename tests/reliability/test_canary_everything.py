"""One canary test for every command and every failure path: no secret anywhere.

The API token (valid in the emulator), a read-only token, an unknown token, a webhook's
security key, a Slack URL and the key that signs saved plans all contain the word
CANARY. Every command runs (validate; plan as text, json, markdown, with --out and a
GitHub step summary; apply; apply --plan; ping; export), plain, with --verbose and with
--debug, each with --http-log (one file, all of them appending), and then every failure
path: each fault of the emulator's language on
the writes that carry the secrets, an API message that quotes them, retries that run out,
uploads lost, refused, failed or aborted (and the orphan warning after them), a connect
error, an unstable listing, a bad token, a missing permission, an interrupt, and
internal errors raised with the secrets in their message (shown with --debug, traceback
included); usage errors and exit-3 messages quoting the token, secret variables at the
wrong key, API messages quoting part of the Slack URL or spelling it otherwise, lost
answers reported unknown, saved plans refused for their signature or damage.

Scanned for "CANARY" (a percent-, plus- or JSON-encoding does not change those letters):
stdout, stderr, every log record any logger made (message, args, exception text; every
logger at DEBUG, whatever the flags), and every file under the test's directory, which
is the working directory, HOME and the home of every file a run wrote (plan files, the
step summary, the export). The emulator's own account is not a file here: it lives in
memory and keeps only a sha256 of keys (see docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import MANIFEST, SCALE, SEED

from cincopa_sync.api.retry import TIME_SCALE_ENV
from cincopa_sync.emulator import Emulator, UploadRules
from cincopa_sync.emulator.server import EmulatorServer

NEEDLE = "CANARY"
TOKEN = "tok-CANARY-7f3a9e21d4"
READONLY = "tok-CANARY-readonly-51b2"
UNKNOWN = "tok-CANARY-unknown-0c9d"
KEY = "key-CANARY-c0ffee&=?/ +%"  # characters a URL must encode
SLACK = "https://hooks.slack.com/services/TCAN/BCAN/slackCANARYsecret42"
PLAN_KEY = "plankey-CANARY-3e7c91d0"  # signs every saved plan of the run
ENV = {
    "CINCOPA_API_TOKEN": TOKEN,
    "CINCOPA_SYNC_PLAN_KEY": PLAN_KEY,
    "CINCOPA_HOOK_KEY": KEY,
    "SLACK_WEBHOOK_URL": SLACK,
    TIME_SCALE_ENV: str(SCALE),
}
LOGGERS = ("cincopa_sync", "httpx", "httpcore", "urllib3", "")
LIFECYCLE = """\
assets:
  - reference_id: SKU-NEW
    source: https://media.example.com/new-clip.mp4
    caption: New
    tags: [x, brand-new]
  - rid: RID_D_000004
    absent: true
portals:
  - subdomain: keep-me
    active: false
"""


class Records(logging.Handler):
    """Every record of every logger, as text: message, args and exception."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)  # records are made even without --debug
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


class Account:
    """A fresh emulated account per scenario, behind the session's loopback server."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.emulator = self.fresh()

    def fresh(self, **kw: object) -> Emulator:
        seed = json.loads(json.dumps(SEED))
        seed["tokens"] = {
            TOKEN: "|asset.*|portal.*|webhook.*|",
            READONLY: "|asset.read|portal.read|webhook.read|",
        }
        self.emulator = Emulator(seed, **kw)  # type: ignore[arg-type]
        self.server.httpd.emulator = self.emulator
        return self.emulator

    @property
    def args(self) -> list[str]:
        return ["--api-url", self.server.base_url]


def test_no_secret_in_any_output_log_or_file_of_any_command_or_failure(
    run: Callable[..., Result],
    server: EmulatorServer,
    records: Records,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    for directory in (home, work):
        directory.mkdir()
    monkeypatch.chdir(work)
    manifests = work / "manifests"
    manifests.mkdir()
    (manifests / "account.yaml").write_text(MANIFEST, encoding="utf-8")
    summary = work / "step-summary.md"
    account = Account(server)
    base_env = {**ENV, "HOME": str(home)}
    outputs: list[tuple[str, Result]] = []

    http_log = work / "http.jsonl"  # every command that calls the API appends to it

    def cli(*args: object, env: dict[str, str] | None = None, expect: int | None = None) -> Result:
        logged = ["--http-log", http_log] if args[0] not in ("validate", "show") else []
        if args[0] == "apply":  # every apply writes its report, whatever the outcome
            logged += ["--report", work / f"report{len(outputs)}.json"]
        result = run(*args, *logged, env={**base_env, **(env or {})})
        outputs.append((" ".join(map(str, args)), result))
        if expect is not None:
            assert result.exit_code == expect, (args, result.stdout, result.stderr)
        return result

    plan_args = ["plan", "manifests", *account.args]
    for flags in ([], ["--verbose"], ["--debug"]):
        # -- every command, on the happy path ----------------------------------------------
        account.fresh()
        cli("validate", "manifests", *flags, expect=0)
        cli(*plan_args, *flags, expect=0)
        cli(*plan_args, "--format", "json", *flags, expect=0)
        cli(*plan_args, "--format", "markdown", *flags, env={"GITHUB_STEP_SUMMARY": str(summary)})
        saved = work / f"plan{len(outputs)}.json"
        cli(*plan_args, "--out", saved, *flags, expect=0)
        cli("apply", "--plan", saved, *account.args, *flags, expect=0)
        cli(*plan_args, "--detailed-exitcode", *flags, expect=0)  # converged
        account.fresh()
        cli("apply", "manifests", "--auto-approve", *account.args, *flags, expect=0)
        cli("ping", *account.args, *flags, expect=0)
        cli("export", "--out", work / f"export{len(outputs)}", *account.args, *flags, expect=0)

    # -- environments: --env runs, the account pin, a config that quotes the token ----------
    config = work / "cincopa-sync.yaml"
    where = f"api_url: '{account.server.base_url}'"
    config.write_text(
        "environments:\n"
        f"  demo: {{manifests: [manifests], account: '100001', {where}, vars: {{UNUSED: x}}}}\n"
        f"  other: {{manifests: [manifests], account: '999', {where}}}\n",
        encoding="utf-8",
    )
    account.fresh()
    cli("validate", "--env", "demo", "--debug", expect=0)
    for fmt in ("text", "json", "markdown"):
        cli("plan", "--env", "demo", "--format", fmt, "--debug", expect=0)
    cli("ping", "--env", "demo", "--debug", expect=0)
    cli("ping", "--env", "other", "--debug", expect=4)  # the pin refuses
    saved = work / "plan-env.json"
    cli("plan", "--env", "demo", "--out", saved, "--debug", expect=0)
    cli("apply", "--plan", saved, "--env", "other", "--debug", expect=4)
    cli("apply", "--plan", saved, "--env", "demo", "--debug", expect=0)
    cli("export", "--env", "demo", "--out", work / "export-env", "--debug", expect=0)
    account.fresh()
    cli("apply", "--env", "demo", "--auto-approve", "--debug", expect=0)
    quoting = work / "quoting.yaml"
    quoting.write_text(
        f"environments:\n  x: {{manifests: [manifests], account: '1', api_url: "
        f"'{account.server.base_url}?api_token={TOKEN}'}}\n  y: {{manifests: [m], account: "
        f"'1', api_url: 'ftp://h/?api_token={TOKEN}', vars: {{CINCOPA_API_TOKEN: '{TOKEN}'}}}}\n",
        encoding="utf-8",
    )
    cli("plan", "--env", "x", "--config", quoting, "--debug", expect=3)
    quoting.unlink()  # the input itself holds the token; what the run made must not

    # the secrets did travel: the canary token opened the account, the key was set, the
    # Slack hook was made with its real URL
    hooks = {h["hook_url"]: h for h in account.emulator.to_json()["webhooks"]}
    assert SLACK in hooks
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert hooks["https://hooks.example.com/new"]["security_key_sha256"] == digest

    # -- the review outputs: a saved plan shown, a pull-request plan, workflow commands,
    # the invalid-manifest comment (a Slack URL from the environment that is not https)
    account.fresh()
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/videos",
        "GITHUB_SHA": "abc123",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    saved = work / "review-plan.json"
    cli(*plan_args, "--base", work, "--out", saved, "--format", "markdown", env=github, expect=0)
    for fmt in ("text", "json", "markdown"):
        cli("show", saved, "--format", fmt, env=github, expect=0)
    cli(*plan_args, "--target", "nothing.*", "--format", "json", env=github, expect=0)
    bad = work / "bad"
    bad.mkdir()
    (bad / "hooks.yaml").write_text(
        "webhooks:\n  - url: ${SLACK_WEBHOOK_URL}\n    type: slack\n    events: asset.*\n"
        "  - url: https://hooks.example.com/k\n    events: [asset.*]\n"
        "    security_key: ${CINCOPA_HOOK_KEY}x\n",
        encoding="utf-8",
    )
    http_slack = SLACK.replace("https://", "http://")
    for fmt in ("text", "markdown"):
        cli("plan", bad, "--format", fmt, *account.args, "--debug",
            env={**github, "SLACK_WEBHOOK_URL": http_slack}, expect=3)  # fmt: skip
    cli("validate", bad, env={**github, "SLACK_WEBHOOK_URL": http_slack}, expect=3)

    # -- every failure path, with --debug (the most that is ever shown) --------------------
    # each fault kind on the calls that carry the key and the Slack URL (and on others)
    for faults in (
        "webhook.set#1=drop-after; webhook.set_slack#1=slow:1000; portal.set#1=not-json",
        "webhook.set#1=truncate; webhook.set_slack#1=drop; portal.rename#1=429-date:1",
        "webhook.set#1=html; webhook.set_slack#1=not-json; asset.set_meta#1=refuse",
        "webhook.set#1=500; webhook.set_slack#1=refuse; webhook.delete#1=429:1",
    ):
        account.fresh(faults=faults)
        cli("apply", "manifests", "--auto-approve", *account.args, "--debug", expect=0)
        assert len([c for c in account.emulator.calls if c.fault]) >= 3
    # an API that quotes what it was sent, token included, in its error message (with
    # --parallelism 1, webhook.set #1 is the create that sends the key)
    account.fresh(
        faults=f"webhook.set#1=fail:rejected key {KEY} tok {TOKEN}; "
        f"webhook.set_slack#1=fail:rejected {SLACK} tok {TOKEN}"
    )
    cli("apply", "manifests", "--auto-approve", *account.args, "--parallelism", "1", "--debug",
        expect=5)  # fmt: skip
    account.fresh(faults="webhook.set=503; webhook.set_slack=503")  # retries run out: exit 5
    cli("apply", "manifests", "--auto-approve", *account.args, "--debug", expect=5)
    # creates, deletes and portal state: uploads refused with the token quoted, lost
    # (reported unknown, then an orphan warning), failed, aborted on timeout
    lifecycle = work / "lifecycle"
    lifecycle.mkdir()
    (lifecycle / "l.yaml").write_text(LIFECYCLE, encoding="utf-8")
    for faults, uploads, extra in (
        (f"asset.upload_from_url=fail:bad input {TOKEN}", None, []),
        ("asset.upload_from_url#1=drop-after", UploadRules(after_ms=0), []),
        (f"asset.upload_from_url_get_status=fail:no status for {TOKEN}", None, []),
        (
            f"asset.upload_from_url_abort=fail:too late {TOKEN}",
            UploadRules(10**6),
            ["--upload-timeout", "0.02"],
        ),
        (None, UploadRules(failing=("*",)), []),
    ):
        account.fresh(faults=faults, uploads=uploads)
        cli("apply", lifecycle, "--auto-approve", *account.args, "--debug", *extra, expect=5)
        account.emulator.set_faults(None)  # the plan after it: an orphan warning, maybe
        cli("plan", lifecycle, *account.args, "--debug", "--format", "markdown", expect=0)
    assert any("has no reference" in r.stdout for _, r in outputs)  # the lost upload's
    account.fresh(faults="webhook.list=fail:no hooks for " + TOKEN)  # a read fails: exit 1
    cli(*plan_args, "--debug", expect=1)
    account.fresh(page_cap=2)  # an unstable listing: exit 1
    uploads = itertools.count()
    account.emulator.on_request = lambda endpoint, params: (
        account.emulator.add_asset(rid=f"UPLOAD{next(uploads):06d}")
        if endpoint == "asset.list" and params.get("page") == "2"
        else None
    )
    cli(*plan_args, "--debug", expect=1)
    account.fresh()
    cli(*plan_args, "--debug", env={"CINCOPA_API_TOKEN": UNKNOWN}, expect=1)  # 403
    cli("ping", *account.args, "--debug", env={"CINCOPA_API_TOKEN": UNKNOWN}, expect=1)
    cli("apply", "manifests", "--auto-approve", *account.args, "--debug",
        env={"CINCOPA_API_TOKEN": READONLY}, expect=1)  # fmt: skip
    with socket.socket() as probe:  # a connect error
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v2/"
    cli("plan", "manifests", "--api-url", closed, "--debug", expect=1)
    cli("apply", "--plan", work / "missing.json", *account.args, "--debug", expect=3)

    # usage errors and exit-3 messages that quote what they were given
    cli("ping", TOKEN, *account.args, "--debug", expect=3)  # an extra argument
    cli("plan", TOKEN, *account.args, "--debug", expect=3)  # a path that does not exist
    cli(*plan_args, "--parallelism", TOKEN, expect=3)  # a bad option value
    cli("validate", f"--{TOKEN}", "manifests", expect=3)  # an unknown option
    cli("apply", "--plan", work / f"{TOKEN}.json", *account.args, expect=3)
    cli(*plan_args, env={"GITHUB_STEP_SUMMARY": str(work / "no-such-dir" / TOKEN)}, expect=3)
    cli("ping", "--api-url", f"https://{TOKEN}.{'x' * 64}.example/v2/", expect=3)
    wrong_keys = work / "wrong-keys"  # the secret variables at keys that are not secret
    wrong_keys.mkdir()
    wrong_hook = '  - url: ${CINCOPA_HOOK_KEY}\n    events: ["${SLACK_WEBHOOK_URL}"]\nprune:'
    (wrong_keys / "m.yaml").write_text(MANIFEST.replace("prune:", wrong_hook), encoding="utf-8")
    wrong = cli("validate", wrong_keys, "--debug", expect=3)
    assert "url from ${CINCOPA_HOOK_KEY} is not valid: it must be an https:// URL" in wrong.stderr
    assert "unknown webhook event 'https://hooks.slack.com/services/***'" in wrong.stderr
    # API messages quoting part of the Slack URL, or spelling it otherwise
    slack_path = SLACK.split("/services/", 1)[1]
    lower = SLACK.replace(":", "%3a").replace("/", "%2f")
    account.fresh(faults=f"webhook.set_slack=fail:rejected hooks.slack.com/services/{slack_path}")
    cli("apply", "manifests", "--auto-approve", *account.args, "--debug", expect=5)
    account.fresh(faults=f"webhook.set=fail:rejected {lower} and {slack_path[5:]}")
    cli("apply", "manifests", "--auto-approve", *account.args, "--debug", expect=5)
    # saved plans refused: signed with another key, edited, damaged
    account.fresh()
    signed = work / "signed.json"
    cli(*plan_args, "--out", signed, expect=0)
    cli("apply", "--plan", signed, *account.args, "--debug",
        env={"CINCOPA_SYNC_PLAN_KEY": "otherkey-CANARY-51"}, expect=4)  # fmt: skip
    document = json.loads(signed.read_text(encoding="utf-8"))
    document["secrets"]["s1"]["template"] = [["env", "CINCOPA_API_TOKEN"]]
    damaged = work / "damaged.json"
    damaged.write_text(json.dumps(document), encoding="utf-8")
    cli("apply", "--plan", damaged, *account.args, "--debug", expect=3)
    # lost answers that no read can check: reported unknown
    account.fresh(
        faults="webhook.set_slack=drop-after; webhook.set=drop-after; webhook.list#2-999=503"
    )
    unknown = cli("apply", "manifests", "--auto-approve", *account.args, "--debug", expect=5)
    assert "UNKNOWN  webhook." in unknown.stdout

    # an interrupt, and internal errors carrying every secret in their message
    boom = f"boom {TOKEN}"  # manifest secrets in an internal error: see the test below

    def interrupt(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    def internal(*_a: object, **_k: object) -> None:
        raise RuntimeError(boom)

    for target in (
        "cincopa_sync.engine.diff.make_plan_for",
        "cincopa_sync.engine.apply.apply_plan",
    ):
        for fail in (interrupt, internal):
            account.fresh()
            with monkeypatch.context() as patch:
                patch.setattr(target, fail)
                result = cli("apply", "manifests", "--auto-approve", *account.args, "--debug")
            assert result.exit_code == (130 if fail is interrupt else 1), result.stderr
    assert any("Traceback" in r.stderr and "RuntimeError" in r.stderr for _, r in outputs)

    # -- the scan ----------------------------------------------------------------------
    leaks = [
        (command, stream)
        for command, result in outputs
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr))
        if NEEDLE in text
    ]
    assert leaks == [], leaks
    assert [t for t in records.texts if NEEDLE in t] == []
    # the log did hold each call with its params, so a leaked secret would show there
    assert any("webhook.set_slack" in t and " -> " in t for t in records.texts)
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in work.glob("report*.json")]
    assert len(reports) > 10 and any(r["summary"]["failed"] for r in reports)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 12  # manifests, plans, a step summary, the exports
    assert [str(p) for p in written if NEEDLE.encode() in p.read_bytes()] == []
    assert any("(sensitive)" in r.stdout for _, r in outputs)  # secrets were shown masked
    # the HTTP log holds every exchange, parseable, secrets masked: the Slack hook was
    # written and listed, and failures were logged with their answers
    exchanges = [json.loads(line) for line in http_log.read_text(encoding="utf-8").splitlines()]
    assert {"webhook.set_slack", "webhook.set", "webhook.list", "ping"} <= {
        e["endpoint"] for e in exchanges
    }
    assert any(e["endpoint"] == "webhook.set_slack" and e["status"] == 200 for e in exchanges)
    assert any(e["status"] is None and e["error"] for e in exchanges)  # dropped, refused
    listed = [e["body"] for e in exchanges if e["endpoint"] == "webhook.list" and e["body"]]
    assert any('"hook_url":"(sensitive)"' in body for body in listed)


@pytest.mark.parametrize("path", ["internal error", "API message quoting another call"])
def test_manifest_secrets_are_masked_in_every_message(
    path: str,
    run: Callable[..., Result],
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message we did not expect to quote a secret (an internal error, an API message
    about another call) still shows none: every secret of the run is masked everywhere."""
    (tmp_path / "account.yaml").write_text(MANIFEST, encoding="utf-8")
    account = Account(server)
    if path == "internal error":

        def internal(*_a: object, **_k: object) -> None:
            raise RuntimeError(f"boom {KEY} {SLACK}")

        monkeypatch.setattr("cincopa_sync.engine.apply.apply_plan", internal)
    else:  # the update of a hook without a key gets a message quoting the other hooks'
        account.fresh(faults=f"webhook.set=fail:rejected {SLACK} key {KEY}")
    result = run("apply", tmp_path, "--auto-approve", *account.args, "--debug", env=ENV)
    assert result.exit_code in (1, 5)
    assert NEEDLE not in result.stdout + result.stderr
