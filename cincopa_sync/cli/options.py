"""Options shared by commands, and the steps they share: loading, connecting, colour."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

from cincopa_sync.api.client import CincopaClient, normalize_base
from cincopa_sync.api.endpoints import DEFAULT_API_BASE
from cincopa_sync.api.observe import HttpLog
from cincopa_sync.api.redact import register_secrets
from cincopa_sync.cli.app import API_URL_ENV, TOKEN_ENV, echo, token
from cincopa_sync.cli.environment import (
    env_options,
    manifest_layers,
    needs_pin,
    overlay_option,
    pin_account,
)
from cincopa_sync.errors import InvalidInput
from cincopa_sync.files import LocalFileError, open_append, read_bounded
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.resources import demo_account_path

EMULATOR_DEFAULT_TOKEN = "emulator-token"


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--verbose / --debug on every command, so they work after the command name too."""
    func = click.option("--debug", is_flag=True, help="Log everything; show tracebacks.")(func)
    func = click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")(func)
    return func


def api_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """How a command reaches the account: --api-url, --emulator, and --env / --config
    (whose account pin `connect` enforces)."""
    func = env_options(func)
    func = click.option(
        "--http-log",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Append one JSON line per API request and answer to FILE, secrets masked: "
        "attach it to a bug report.",
    )(func)
    func = click.option(
        "--emulator-state",
        type=click.Path(dir_okay=False),
        help="With --emulator: persist the emulated account in this JSON file between runs.",
    )(func)
    func = click.option(
        "--emulator",
        "use_emulator",
        is_flag=True,
        help="Run against the built-in emulator on a free loopback port (no account needed).",
    )(func)
    func = click.option(
        "--api-url",
        envvar=API_URL_ENV,
        default=DEFAULT_API_BASE,
        show_default=True,
        help=f"The API base URL (or {API_URL_ENV}). The token comes only from {TOKEN_ENV}.",
    )(func)
    return func


@dataclass(frozen=True)
class RunOptions:
    """What every command that reads the account is given, as one value."""

    api_url: str
    use_emulator: bool
    emulator_state: str | None
    overlays: tuple[str, ...]
    http_log: str | None
    parallelism: int
    targets: tuple[str, ...]
    resend_secrets: bool
    no_color: bool
    verbose: bool
    debug: bool

    @property
    def color(self) -> bool:
        return use_color(self.no_color)

    @property
    def api_identity(self) -> str:
        """Which API a saved plan was made against: the base URL, or for the emulator
        (whose port changes every run) its state file."""
        if self.use_emulator:
            state = os.path.abspath(self.emulator_state) if self.emulator_state else "demo"
            return f"emulator:{state}"
        return normalize_base(self.api_url)


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of plan-like commands, handed to the command as `run: RunOptions`."""
    names = [f.name for f in fields(RunOptions)]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        run = RunOptions(**{name: kwargs.pop(name) for name in names})
        return func(run=run, **kwargs)

    options = [
        overlay_option,
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="ADDR",
            help="Only changes to this address (repeatable; `*` globs, e.g. 'portal.*').",
        ),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=8,
            show_default=True,
            help="How many API calls may run at once.",
        ),
        click.option(
            "--resend-secrets",
            is_flag=True,
            help="Write every webhook that has a security key (for key rotation).",
        ),
        click.option("--no-color", is_flag=True, help="No colours (NO_COLOR does the same)."),
    ]
    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return common_options(api_options(decorated))


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*\Z")
_SECONDS_PER = {"": 1, "s": 1, "m": 60, "h": 3600}


class Duration(click.ParamType):
    """A length of time: seconds (`90`, `90s`), minutes (`30m`) or hours (`2h`)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float | int):
            return float(value)
        match = _DURATION.match(str(value))
        seconds = float(match.group(1)) * _SECONDS_PER[match.group(2)] if match else 0.0
        if seconds <= 0:
            self.fail(f"{value!r} is not a duration such as 90s, 30m or 2h", param, ctx)
        return seconds


def use_color(no_color: bool) -> bool:
    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def progress(message: str) -> None:
    """A progress line for people watching a terminal; nothing in logs or pipes."""
    if sys.stderr.isatty():
        echo(message, err=True)


def load_desired(paths: Sequence[str], overlays: Sequence[str] = ()) -> DesiredState:
    """The manifests of the run (PATHs and --overlay layers, or --env's), checked."""
    from cincopa_sync.manifest import load_manifests

    first, on_top, variables = manifest_layers(paths, overlays)
    desired = load_manifests(
        first, os.environ, overlays=on_top, variables=variables, on_secret=register_secrets
    )
    # The desired state lives as long as the run: the cyclic collector need never walk it
    # again (a million entries made every later collection walk millions of objects).
    gc.freeze()
    register_secrets(*desired.secret_values())
    return desired


@contextlib.contextmanager
def connect(
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    parallelism: int = 8,
    http_log: str | None = None,
    *,
    account: str | None = None,
) -> Iterator[CincopaClient]:
    """A client for the real API, or for an emulator started for this run only; with
    `http_log`, every request and answer is also written to that file. With an
    environment (--env), or the `account` a saved plan was made for, its first call is
    `ping`, and any other account is refused (exit 4) before a second call."""
    if emulator_state and not use_emulator:
        raise InvalidInput("--emulator-state needs --emulator")
    with contextlib.ExitStack() as stack:
        observers = [stack.enter_context(_http_log(http_log))] if http_log else []
        if use_emulator:
            from cincopa_sync.emulator import Emulator, serve

            try:
                emulator = _emulator(Emulator, emulator_state)
            except LocalFileError as exc:
                raise InvalidInput(f"--emulator-state {exc}") from None
            except (ValueError, OSError) as exc:  # a damaged state file
                raise InvalidInput(f"--emulator-state {emulator_state}: {exc}") from None
            server = stack.enter_context(serve(emulator))
            # A real token exported for other work is never sent, not even to loopback:
            # only one of the emulator's own tokens (e.g. emulator-readonly) is used.
            chosen = token() if token() in emulator.token_names else EMULATOR_DEFAULT_TOKEN
            base = server.base_url
        else:
            base, chosen = api_url, token()
            if not chosen:  # the user's setup, not the API's answer: invalid input
                raise InvalidInput(
                    "no API token: set CINCOPA_API_TOKEN (to try cincopa-sync without an "
                    "account, add --emulator)"
                )
        client = stack.enter_context(
            CincopaClient(base, chosen, max_connections=parallelism, observers=observers)
        )
        if needs_pin(account):
            pin_account(client, account)
        yield client


def _http_log(path: str) -> HttpLog:
    """--http-log FILE: appended to, created 0600 (it holds account data); a regular file
    only, as every file the tool is handed."""
    try:
        return HttpLog(open_append(path, 0o600))
    except LocalFileError as exc:
        raise InvalidInput(f"--http-log {exc}") from None


def connect_for(
    run: RunOptions, account: str | None = None
) -> contextlib.AbstractContextManager[CincopaClient]:
    return connect(
        run.api_url,
        run.use_emulator,
        run.emulator_state,
        run.parallelism,
        run.http_log,
        account=account,
    )


# An emulator state larger than this is refused from its size (the demo is 20 KB; an
# account of 100,000 assets about 40 MB).
MAX_STATE_BYTES = 256 * 1024 * 1024


def _emulator(emulator_class: Any, state: str | None) -> Any:
    """The emulator of a run: the demo account, or the account saved in `state`, read as
    any file a user hands the tool is (a regular file, under a cap)."""
    if not (state and os.path.lexists(state)):
        return emulator_class.from_files(seed_path=str(demo_account_path()), state_path=state)
    data = json.loads(read_bounded(state, MAX_STATE_BYTES, "an emulator state"))
    if not isinstance(data, dict):
        raise ValueError("the top level must be a JSON object")
    emulator = emulator_class(data)
    emulator.state_path = Path(state)  # persisted there after each write
    return emulator
