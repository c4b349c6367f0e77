"""--http-log FILE: one JSON line per request and answer, every secret masked."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
from click.testing import Result
from support import EXAMPLES, Served

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.observe import BODY_CAP, HttpLog, masked_body
from cincopa_sync.api.redact import forget_secrets, register_secrets
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.errors import ApiError
from cincopa_sync.files import open_append

TOKEN = "tok-httplog-0f9e8d7c"
SLACK = "https://hooks.slack.com/services/T1/B1/slacksecret77"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _client(handler: Callable[[httpx.Request], httpx.Response], log: HttpLog) -> CincopaClient:
    return CincopaClient(
        "https://api.example.test/v2/",
        TOKEN,
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(),
        sleep=lambda _s: None,
        observers=[log],
    )


def test_one_line_per_attempt_with_what_a_bug_report_needs(tmp_path: Path) -> None:
    answers = iter([httpx.Response(503, json={"success": False}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        return answer or httpx.Response(200, json={"success": True, "portals": []})

    path = tmp_path / "http.jsonl"
    with HttpLog(open_append(path, 0o600)) as log:
        _client(handler, log).call(ep.list_page(ep.PORTAL_LIST, 2))
    first, second = _lines(path)
    assert set(first) == {
        "time",
        "endpoint",
        "method",
        "params",
        "attempt",
        "status",
        "ms",
        "error",
        "bytes",
        "body",
        "body_cut",
    }
    assert (first["endpoint"], first["method"], first["params"]) == (
        "portal.list",
        "GET",
        {"page": "2"},
    )
    assert (first["attempt"], first["status"], first["error"]) == (
        1,
        503,
        "server error (HTTP 503)",
    )
    assert (second["attempt"], second["status"], second["error"]) == (2, 200, None)
    assert json.loads(second["body"]) == {"success": True, "portals": []}
    assert isinstance(second["ms"], float) and second["time"].endswith("+00:00")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_no_token_and_no_secret_in_the_log(tmp_path: Path) -> None:
    """An API that echoes the token, a write with a secret param, a listing of Slack hooks
    the run does not know (export reads them without any manifest)."""
    forget_secrets()
    register_secrets(TOKEN)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("webhook.list.json"):
            hooks = [
                {"hook_url": SLACK, "type": "slack", "events": "asset.*", "has_security_key": False}
            ]
            body = json.dumps({"success": True, "webhooks": hooks}).replace("/", "\\/")
            return httpx.Response(200, content=body.encode())
        message = f"bad {request.url.params.get('api_token')} {request.url.params.get('hook_url')}"
        return httpx.Response(200, json={"success": False, "message": message})

    path = tmp_path / "http.jsonl"
    with HttpLog(open_append(path, 0o600)) as log:
        client = _client(handler, log)
        client.call(ep.list_page(ep.WEBHOOK_LIST, None))
        with contextlib.suppress(ApiError):  # success: false, quoting the call's secret
            client.call(ep.webhook_set(SLACK, {"asset.*"}, None, slack=True))
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text and "slacksecret77" not in text
    listed, written = _lines(path)
    assert '"hook_url": "(sensitive)"' in listed["body"]
    assert written["params"] == {"hook_url": "(sensitive)", "events": "asset.*"}


def test_a_body_is_cut_at_4_kb_and_a_cut_secret_is_still_masked() -> None:
    big = json.dumps({"success": True, "items": [{"caption": "x" * 100}] * 100}).encode()
    body = masked_body(big.decode())
    assert body is not None and len(body.encode()) == BODY_CAP < len(big)
    truncated = '{"success":true,"webhooks":[{"hook_url":"https://hooks.slack.com/services/T/B/cut'
    shown = masked_body(truncated)
    assert shown == '{"success":true,"webhooks":[{"hook_url":"(sensitive)'


def test_every_command_writes_it_and_lines_are_appended(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    path = tmp_path / "http.jsonl"
    result = run("plan", EXAMPLES, "--http-log", path, *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    after_plan = len(_lines(path))
    assert after_plan == sum(served.counts().values())
    for command in (["ping"], ["export", "--out", tmp_path / "export"]):
        result = run(*command, "--http-log", path, *served.args, env=served.env)
        assert result.exit_code == 0, result.stderr
    logged = _lines(path)
    assert len(logged) == sum(served.counts().values()) > after_plan
    assert {e["endpoint"] for e in logged} >= {"ping", "asset.list", "webhook.list"}
    assert "emulator-token" not in path.read_text(encoding="utf-8")


def test_a_log_that_cannot_be_opened_is_exit_3_before_any_call(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "http.jsonl"
    result = run("ping", "--http-log", missing, *served.args, env=served.env)
    assert result.exit_code == 3
    assert f"--http-log {missing}: cannot write: No such file or directory" in result.stderr
    assert served.emulator.calls == []
