"""Every message on every path goes through one redactor, with every secret of the run
registered before anything is printed: click's usage errors, exit-3 problems, warnings,
API messages quoting part of a secret, log records of every library."""

from __future__ import annotations

import ast
import logging
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from click.testing import Result
from reliability_helpers import Served

from cincopa_sync.api.redact import MASK, forget_secrets, redact, register_secrets
from cincopa_sync.kinds.webhook import mask_url

TOKEN = "tok-REDACT-4c1e9b77a0"
KEY = "key-REDACT-5f00d/ +&="
SLACK = "https://hooks.slack.com/services/TRED/BRED/slackREDACTsecret99"
NEEDLE = "REDACT"


@pytest.fixture(autouse=True)
def fresh_redactor() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def assert_clean(result: Result) -> None:
    assert NEEDLE not in result.stdout + result.stderr, result.stdout + result.stderr


# -- click's usage errors and exit-3 problems quote what they were given ------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ping", TOKEN],  # an extra argument
        ["plan", TOKEN, "--emulator"],  # a manifest path that does not exist
        ["plan", "--emulator", "--parallelism", TOKEN, "x"],  # a bad option value
        ["validate", f"--{TOKEN}", "x"],  # an unknown option
        ["apply", "--plan", f"/nonexistent/{TOKEN}.json", "--emulator"],
    ],
    ids=["extra argument", "missing path", "bad option value", "unknown option", "plan file"],
)
def test_usage_errors_and_invalid_input_never_print_the_token(
    args: list[str], run: Callable[..., Result]
) -> None:
    """`ping "$CINCOPA_API_TOKEN"` printed `Error: Got unexpected extra argument
    (tok-...)`, `plan "$CINCOPA_API_TOKEN"` printed `tok-...: no such file or directory`,
    `--parallelism "$TOKEN"` printed `'tok-...' is not a valid integer range`: click's
    usage errors and exit-3 problems were printed without redaction."""
    result = run(*args, env={"CINCOPA_API_TOKEN": TOKEN})
    assert result.exit_code == 3, result.output
    assert MASK in result.stderr
    assert_clean(result)


def test_a_step_summary_path_holding_the_token_is_masked(run: Callable[..., Result]) -> None:
    """GITHUB_STEP_SUMMARY=/nonexistent/$TOKEN cincopa-sync plan ... printed the path."""
    env = {"CINCOPA_API_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": f"/nonexistent/{TOKEN}"}
    result = run("plan", "examples/manifests", "--emulator", env=env)
    assert result.exit_code == 3, result.output
    assert "GITHUB_STEP_SUMMARY=/nonexistent/***" in result.stderr
    assert_clean(result)


# -- a secret variable used at the wrong key ------------------------------------------------

WRONG_KEYS = """\
webhooks:
  - url: https://hooks.example.com/keyed
    events: [asset.uploaded]
    security_key: ${CINCOPA_HOOK_KEY}
  - url: ${CINCOPA_HOOK_KEY}
    events: [asset.uploaded, "${CINCOPA_HOOK_KEY}"]
  - url: ${SLACK_WEBHOOK_URL}
    type: slack
    events: [asset.*]
portals:
  - subdomain: p1
    visibility: ${CINCOPA_HOOK_KEY}
    name: ${SLACK_WEBHOOK_URL}
"""


def test_a_secret_variable_at_the_wrong_key_is_masked_in_its_error_and_warning(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """`url: ${CINCOPA_HOOK_KEY}` printed `webhook url must be an https:// URL, got
    'key-...'`, `visibility: ${CINCOPA_HOOK_KEY}` printed `got 'key-...'` and the key in
    `events` was echoed in the unknown-event warning: the secret variables were
    registered only once the manifests had loaded without an error."""
    (tmp_path / "m.yaml").write_text(WRONG_KEYS, encoding="utf-8")
    env = {"CINCOPA_HOOK_KEY": KEY, "SLACK_WEBHOOK_URL": SLACK}
    result = run("validate", tmp_path, env=env)
    assert result.exit_code == 3, result.output
    # the https rule is the schema's now: a value from the environment is named, not shown
    assert "url from ${CINCOPA_HOOK_KEY} is not valid: it must be an https:// URL" in (
        result.stderr
    )
    assert "visibility must be one of: public, private; got '***'" in result.stderr
    assert "unknown webhook event '***'" in result.stderr
    assert_clean(result)


# -- API messages that quote part of a secret, in any spelling ------------------------------


@pytest.mark.parametrize(
    "quoted",
    [
        "hooks.slack.com/services/TRED/BRED/slackREDACTsecret99",  # without its scheme
        "TRED/BRED/slackREDACTsecret99",  # the path alone
        "https%3a%2f%2fhooks.slack.com%2fservices%2fTRED%2fBRED%2fslackREDACTsecret99",
        "https:\\/\\/hooks.slack.com\\/services\\/TRED\\/BRED\\/slackREDACTsecret99",
        "slackREDACTsec",  # a part of it
        "key-REDACT-5f",  # a part of the key
        "key-REDACT-5f00d%2F%20%2B%26%3D",  # the key as a URL spells it
    ],
)
def test_an_api_message_quoting_part_of_a_secret_is_masked(
    quoted: str, run: Callable[..., Result], served: Served, manifest: Path
) -> None:
    """An API message quoting `hooks.slack.com/services/T../B../SECRET`, or the URL with
    lowercase percent-escapes, was printed in clear: only whole secrets, as written and
    as Python's quote() spells them, were masked."""
    secrets = {"CINCOPA_HOOK_KEY": KEY, "SLACK_WEBHOOK_URL": SLACK}
    served.emulator.set_faults(f"webhook.set_slack=fail:rejected {quoted}")
    result = run("apply", manifest, "--auto-approve", *served.args, env={**served.env, **secrets})
    assert result.exit_code == 5, result.output
    rejected = [line for line in result.stdout.splitlines() if "rejected" in line]
    assert len(rejected) == 1 and MASK in rejected[0], result.stdout
    assert_clean(result)


def test_every_part_longer_than_eight_characters_is_masked_and_shorter_ones_are_not() -> None:
    register_secrets("0123456789abcdef")
    assert redact("x 123456789 y") == f"x {MASK} y"  # 9 characters of it
    assert redact("x 12345678 y") == "x 12345678 y"  # 8: too short to tell
    assert redact("x 456789abcdef0123 y") == f"x {MASK}0123 y"
    register_secrets("short")  # a short secret: masked where it stands alone
    assert redact("a short word, shortly") == f"a {MASK} word, shortly"


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secretpass@hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com?token=secretquery",
        "https://hooks.slack.com#secretfragment",
        "https://hooks.slack.com\\services\\T\\B\\secretbackslash",
        "https://hooks.slack.com;secretsemicolon/x",
    ],
)
def test_a_masked_slack_url_shows_only_its_scheme_and_host(url: str) -> None:
    """mask_url kept everything before the first `/`: `https://user:pass@host`,
    `https://host?token=...`, `https://host#...` and `https://host\\services\\...` showed."""
    shown = mask_url(url)
    assert "secret" not in shown
    assert shown.startswith(("https://hooks.slack.com/(sensitive:", "https://(sensitive)/"))


# -- a library's log records ----------------------------------------------------------------

UNICODE_TOKEN = "tok-REDACT-é-ünïcode-42"


@pytest.fixture
def echoing_server() -> Iterator[str]:
    """Answers every request with the token it was sent, in a header."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline().decode("latin-1")
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            query = line.split("?", 1)[1].split(" ", 1)[0]
            token = dict(p.split("=", 1) for p in query.split("&"))["api_token"]
            body = b'{"success": true, "accid": "1", "permissions": "|asset.*|"}'
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nX-Echo: " + unquote_to_bytes(token) + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_non_ascii_token_echoed_in_a_header_is_masked_in_every_log_record(
    echoing_server: str, run: Callable[..., Result]
) -> None:
    """A non-ASCII token echoed in a response header showed in --debug as a bytes repr
    (`b'tok-...\\xc3\\xa9...'`), which no spelling of the token matched."""
    texts: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            texts.append(record.getMessage())

    keep = Keep(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("httpcore", "httpx", "cincopa_sync")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(keep)
    try:
        result = run(
            "ping", "--api-url", echoing_server, "--debug", env={"CINCOPA_API_TOKEN": UNICODE_TOKEN}
        )
    finally:
        logging.getLogger().removeHandler(keep)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    assert result.exit_code == 0, result.output
    assert any("X-Echo" in t for t in texts)  # httpcore did log the answer's headers
    assert [t for t in texts if NEEDLE in t] == []
    assert_clean(result)


def test_the_cli_prints_only_through_the_redactor() -> None:
    """Every line the CLI prints goes through cli.app.echo, which redacts: no other
    module calls click.echo, print or writes to sys.stdout / sys.stderr itself."""
    package = Path(__file__).resolve().parents[2] / "cincopa_sync"
    printing = {("click", "echo"), ("click", "secho"), ("stdout", "write"), ("stderr", "write")}
    found = []
    for path in sorted(package.rglob("*.py")):
        if "emulator" in path.parts:  # a server of its own, not the CLI's output
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "print":
                found.append(f"{path.name}:{node.lineno} print")
            elif isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name | ast.Attribute
            ):
                owner = func.value.id if isinstance(func.value, ast.Name) else func.value.attr
                if (owner, func.attr) in printing:
                    found.append(f"{path.name}:{node.lineno} {owner}.{func.attr}")
    assert len(found) == 1 and found[0].startswith("app.py:"), found  # cli.app.echo itself
    assert found[0].endswith(" click.echo"), found
