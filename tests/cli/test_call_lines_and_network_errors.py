"""What -v and --debug show, what a network error says, and a token pasted with its line
break: one line per API call; the host named, never the token; a name that does not
resolve is not retried."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import httpx
import pytest
from click.testing import Result
from support import EXAMPLES, Served

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.errors import ApiError, TransientApiError

CALL_LINE = re.compile(
    r"^INFO cincopa_sync\.api: (?P<endpoint>[a-z_.]+)(?P<params>( \S+=\S+)*) -> "
    r"(?P<status>\d{3}|no answer)(?: \(.*\))? in (?P<ms>\d+) ms \(attempt (?P<attempt>\d+)\)$"
)


def _call_lines(stderr: str) -> list[re.Match[str]]:
    return [m for m in map(CALL_LINE.match, stderr.splitlines()) if m]


def test_verbose_logs_one_line_per_api_call(run: Callable[..., Result], served: Served) -> None:
    served.emulator.set_faults("portal.list#1=503")
    result = run("plan", EXAMPLES, "-v", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    lines = _call_lines(result.stderr)
    served_calls = served.counts()
    assert len(lines) == sum(served_calls.values())  # one line per attempt, retries included
    by_endpoint = {(m["endpoint"], m["attempt"]): m for m in lines}
    assert by_endpoint[("portal.list", "1")]["status"] == "503"
    assert by_endpoint[("portal.list", "2")]["status"] == "200"
    listing = by_endpoint[("asset.list", "1")]
    assert listing["params"] == " page=1 items_per_page=1000"
    assert "portal.check subdomain=" in result.stderr


def test_verbose_masks_secret_params(run: Callable[..., Result], served: Served) -> None:
    slack = "https://hooks.slack.com/services/T0/B0/verbosesecret"
    env = {**served.env, "SLACK_WEBHOOK_URL": slack, "CINCOPA_HOOK_KEY": "k-verbose-secret"}
    result = run("apply", EXAMPLES, "--auto-approve", "-v", *served.args, env=env)
    assert result.exit_code == 0, result.stderr
    writes = [m for m in _call_lines(result.stderr) if m["endpoint"] == "webhook.set_slack"]
    assert len(writes) == 1
    assert "hook_url=(sensitive)" in writes[0]["params"]
    assert "verbosesecret" not in result.stderr and "k-verbose-secret" not in result.stderr


def test_debug_shows_our_lines_not_the_http_libraries_trace(
    run: Callable[..., Result], served: Served
) -> None:
    result = run("plan", EXAMPLES, "--debug", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(_call_lines(result.stderr)) == sum(served.counts().values())
    assert [line for line in lines if "httpcore" in line or "httpx" in line] == []
    assert len(lines) == len(_call_lines(result.stderr))


# -- network errors ------------------------------------------------------------------------


class Refusing(httpx.BaseTransport):
    """A transport whose every connection fails with `cause` underneath, as httpcore's do."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        self.attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        try:
            raise self.cause
        except BaseException as exc:
            raise httpx.ConnectError(f"{exc} while reaching {request.url}") from exc


def _client(transport: httpx.BaseTransport) -> CincopaClient:
    return CincopaClient(
        "https://api.example.test/v2/",
        "tok-secret-never-shown",
        transport=transport,
        policy=RetryPolicy(),
        sleep=lambda _s: None,
    )


def test_a_name_that_does_not_resolve_is_not_retried_and_the_host_is_named() -> None:
    transport = Refusing(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(ApiError) as caught:
        _client(transport).ping()
    assert transport.attempts == 1
    message = str(caught.value)
    assert "cannot resolve the API host api.example.test" in message
    assert "tok-secret" not in message


def test_a_temporary_resolver_failure_is_retried() -> None:
    transport = Refusing(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    with pytest.raises(TransientApiError) as caught:
        _client(transport).ping()
    assert transport.attempts == RetryPolicy().max_attempts
    assert "cannot connect to api.example.test (" in str(caught.value)
    assert "tok-secret" not in str(caught.value)


def test_a_refused_connection_names_host_and_port(run: Callable[..., Result]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(
        "ping",
        "--api-url",
        f"http://127.0.0.1:{port}/v2/",
        env={"CINCOPA_API_TOKEN": "tok-secret-never-shown", "CINCOPA_SYNC_TIME_SCALE": "0.01"},
    )
    assert result.exit_code == 1
    assert f"error: ping: cannot connect to 127.0.0.1:{port} (" in result.stderr
    assert "tok-secret" not in result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("not-a-url", "'not-a-url'"),
        ("ftp://files.example.com/v2/", "'ftp://files.example.com/v2/'"),
        ("https://api.example.com/v2/?api_token=tok-in-url", "api_token=***"),
        ("https://me:pw-in-url@api.example.com/v2/?x=1", "'https://***@api.example.com/v2/?x=1'"),
    ],
)
def test_a_bad_api_url_is_shown_without_secrets(
    url: str, shown: str, run: Callable[..., Result]
) -> None:
    result = run("ping", "--api-url", url, env={"CINCOPA_API_TOKEN": "tok-realistic-0123"})
    assert result.exit_code == 3
    assert shown in result.stderr
    assert "tok-in-url" not in result.stderr and "pw-in-url" not in result.stderr
    assert "nothing was planned or applied" not in result.stderr  # ping plans nothing


def test_a_bad_api_url_for_plan_still_says_nothing_was_planned(
    run: Callable[..., Result],
) -> None:
    result = run(
        "plan", EXAMPLES, "--api-url", "not-a-url", env={"CINCOPA_API_TOKEN": "tok-realistic-0123"}
    )
    assert result.exit_code == 3
    assert result.stderr.rstrip().endswith("nothing was planned or applied")


# -- the token ------------------------------------------------------------------------------


@pytest.mark.parametrize("pasted", ["emulator-token\n", "  emulator-token\r\n", "\temulator-token"])
def test_a_token_with_a_line_break_around_it_works(
    pasted: str, run: Callable[..., Result], served: Served
) -> None:
    result = run("ping", *served.args, env={"CINCOPA_API_TOKEN": pasted})
    assert result.exit_code == 0, result.stderr
    assert "account " in result.stdout
    tokens = {c.endpoint: c for c in served.emulator.calls}
    assert tokens["ping"].status == 200


def test_a_token_with_a_line_break_inside_is_refused_before_any_call(
    run: Callable[..., Result], served: Served
) -> None:
    result = run("ping", *served.args, env={"CINCOPA_API_TOKEN": "emulator\ntoken"})
    assert result.exit_code == 3
    assert "CINCOPA_API_TOKEN has a space or line break inside it" in result.stderr
    assert served.emulator.calls == []


@pytest.mark.parametrize(
    ("errno", "attempts", "says"),
    [
        (socket.EAI_NONAME, 1, "error: ping: cannot resolve the API host api.example.test ("),
        (socket.EAI_AGAIN, 6, "error: ping: cannot connect to api.example.test ("),
    ],
)
def test_resolver_failures_through_the_real_transport(
    errno: int,
    attempts: int,
    says: str,
    run: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The resolver's error reaches the client through httpcore and the deadline
    transport with its kind intact: a name that does not exist is not asked again."""
    asked: list[str] = []

    def getaddrinfo(host: str, *_args: object, **_kw: object) -> list[object]:
        asked.append(host)
        raise socket.gaierror(errno, "no such name (test)")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    env = {"CINCOPA_API_TOKEN": "tok-secret-never-shown", "CINCOPA_SYNC_TIME_SCALE": "0.01"}
    result = run("ping", "--api-url", "https://api.example.test/v2/", env=env)
    assert result.exit_code == 1
    assert says in result.stderr, result.stderr
    assert asked == ["api.example.test"] * attempts
    assert "tok-secret" not in result.stderr
