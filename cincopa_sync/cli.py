"""The command line: parse, call the library, render, map errors to exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import click

from cincopa_sync import __version__
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.endpoints import DEFAULT_API_BASE
from cincopa_sync.api.redact import redact
from cincopa_sync.errors import (
    EXIT_API,
    EXIT_CHANGES,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    CincopaSyncError,
    InvalidInput,
    Refused,
)
from cincopa_sync.logs import setup_logging
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Plan
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.report import render_report
from cincopa_sync.render.text import render_text
from cincopa_sync.resources import demo_account_path

TOKEN_ENV = "CINCOPA_API_TOKEN"
API_URL_ENV = "CINCOPA_API_URL"
EMULATOR_DEFAULT_TOKEN = "emulator-token"


def _token() -> str:
    return os.environ.get(TOKEN_ENV, "")


class ExitCodeGroup(click.Group):
    """A click group whose errors follow our exit-code table, not click's defaults."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            code = super().main(args, prog_name or "cincopa-sync", standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.UsageError as exc:  # click would exit 2, which means "changes pending"
            exc.show()
            code = EXIT_INVALID
        except click.ClickException as exc:
            exc.show()
            code = EXIT_INVALID if exc.exit_code == 2 else exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            code = EXIT_INTERRUPTED
        except CincopaSyncError as exc:
            _report_error(exc)
            code = exc.exit_code
        except Exception as exc:  # our bug, not the user's: say so plainly
            click.echo(f"internal error: {redact(repr(exc), _token())}", err=True)
            if debug:
                click.echo(redact(traceback.format_exc(), _token()), err=True)
            else:
                click.echo("run again with --debug to see the traceback", err=True)
            code = EXIT_API
        sys.exit(code if isinstance(code, int) else 0)


def _report_error(exc: CincopaSyncError) -> None:
    if isinstance(exc, InvalidInput):
        errors = [p for p in exc.problems if p.severity == "error"]
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        files = {p.location.file for p in errors if p.location}
        where = f" in {len(files)} file(s)" if files else ""
        click.echo(f"{len(errors)} error(s){where}; nothing was planned or applied", err=True)
        return
    click.echo(f"error: {redact(str(exc), _token())}", err=True)


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--verbose / --debug on every command, so they work after the command name too."""
    func = click.option("--debug", is_flag=True, help="Log everything; show tracebacks.")(func)
    func = click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")(func)
    return func


def api_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


@contextlib.contextmanager
def connect(
    api_url: str, use_emulator: bool, emulator_state: str | None, parallelism: int = 8
) -> Iterator[CincopaClient]:
    """A client for the real API, or for an emulator started for this run only."""
    if emulator_state and not use_emulator:
        raise InvalidInput("--emulator-state needs --emulator")
    with contextlib.ExitStack() as stack:
        if use_emulator:
            from cincopa_sync.emulator import Emulator, serve

            seed = None if emulator_state and os.path.exists(emulator_state) else demo_seed_path()
            emulator = Emulator.from_files(seed_path=seed, state_path=emulator_state)
            server = stack.enter_context(serve(emulator))
            # A real token exported for other work is never sent, not even to loopback:
            # only one of the emulator's own tokens (e.g. emulator-readonly) is used.
            token = _token() if _token() in emulator.token_names else EMULATOR_DEFAULT_TOKEN
            base = server.base_url
        else:
            base, token = api_url, _token()
        client = stack.enter_context(CincopaClient(base, token, max_connections=parallelism))
        yield client


def demo_seed_path() -> str:
    return str(demo_account_path())


@click.group(cls=ExitCodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cincopa-sync")
def cli() -> None:
    """Keep a Cincopa account in the state that YAML manifests describe.

    \b
    Exit codes: 0 ok (plan: no changes), 1 API or internal error, 2 changes pending
    (plan --detailed-exitcode), 3 invalid input, 4 refused, 5 partial apply, 130 interrupted.
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@common_options
def validate(paths: tuple[str, ...], verbose: bool, debug: bool) -> int:
    """Check manifests offline: syntax, schema and semantics. Makes no API call."""
    setup_logging(verbose=verbose, debug=debug)
    state = load_desired(paths)
    click.echo(
        f"valid: {len(state.files)} file(s), {len(state.assets)} asset(s), "
        f"{len(state.portals)} portal(s), {len(state.webhooks)} webhook(s)"
    )
    return 0


@cli.command()
@api_options
@common_options
def ping(
    api_url: str, use_emulator: bool, emulator_state: str | None, verbose: bool, debug: bool
) -> int:
    """Check the token: which account it opens and what it may do."""
    setup_logging(verbose=verbose, debug=debug, secrets=(_token(),))
    with connect(api_url, use_emulator, emulator_state) as client:
        info = client.ping()
    click.echo(f"account {info['accid']} ({info['accemail']}) at {client.base_url}")
    click.echo("permissions: " + (" ".join(sorted(info["permissions"])) or "none"))
    return 0


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 picks a free port.")
@click.option("--state", type=click.Path(dir_okay=False), help="Load and persist the account.")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), help="Seed account JSON.")
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Delay every answer.")
@click.option("--faults", help="Fault rules, see docs/emulator.md.")
@click.option("--fault-seed", type=int, default=0, help="Seed of the random faults.")
@click.option("--page-cap", type=click.IntRange(1), default=100, help="Largest items_per_page.")
@common_options
def emulator(
    port: int,
    state: str | None,
    seed: str | None,
    latency_ms: int,
    faults: str | None,
    fault_seed: int,
    page_cap: int,
    verbose: bool,
    debug: bool,
) -> int:
    """Serve a local emulator of the Cincopa API on 127.0.0.1 until Ctrl-C."""
    from cincopa_sync.emulator import run

    setup_logging(verbose=verbose, debug=debug)
    try:
        run(
            port=port,
            state=state,
            seed=seed,
            latency_ms=latency_ms,
            faults=faults,
            fault_seed=fault_seed,
            page_cap=page_cap,
            announce=lambda line: click.echo(line, err=False),
        )
    except ValueError as exc:  # a bad fault spec or seed file
        raise InvalidInput(str(exc)) from None
    except KeyboardInterrupt:
        pass
    return 0


# -- plan and apply ---------------------------------------------------------------------


def plan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
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
    for option in reversed(options):
        func = option(func)
    return func


def _use_color(no_color: bool) -> bool:
    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _build_plan(
    desired: DesiredState,
    client: CincopaClient,
    *,
    parallelism: int,
    targets: tuple[str, ...],
    resend_secrets: bool,
) -> Plan:
    from cincopa_sync.live import read_live
    from cincopa_sync.planner import PlanOptions, make_plan_for

    _progress("Reading the live account...")
    live = read_live(client, desired, parallelism=parallelism)
    plan = make_plan_for(desired, live, PlanOptions(resend_secrets=resend_secrets))
    plan = plan.targeted(targets)
    if targets and plan.empty:
        click.echo("warning: no change matches the --target addresses given", err=True)
    return plan


def load_desired(paths: tuple[str, ...]) -> DesiredState:
    from cincopa_sync.manifest import load_manifests

    desired = load_manifests(paths, os.environ)
    for warning in desired.warnings:
        click.echo(str(warning), err=True)
    return desired


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines (schemas/plan.schema.json).",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@plan_options
@api_options
@common_options
def plan(
    paths: tuple[str, ...],
    fmt: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    parallelism: int,
    resend_secrets: bool,
    no_color: bool,
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Show the API calls that would bring the account to the manifests. Writes nothing."""
    setup_logging(verbose=verbose, debug=debug, secrets=(_token(),))
    desired = load_desired(paths)  # bad manifests fail before any network call
    with connect(api_url, use_emulator, emulator_state, parallelism) as client:
        the_plan = _build_plan(
            desired,
            client,
            parallelism=parallelism,
            targets=targets,
            resend_secrets=resend_secrets,
        )
    if fmt == "json":
        click.echo(render_json(the_plan), nl=False)
    else:
        click.echo(render_text(the_plan, color=_use_color(no_color)), nl=False)
    if detailed_exitcode and not the_plan.empty:
        return EXIT_CHANGES
    return 0


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed with no terminal)."
)
@plan_options
@api_options
@common_options
def apply(
    paths: tuple[str, ...],
    auto_approve: bool,
    targets: tuple[str, ...],
    parallelism: int,
    resend_secrets: bool,
    no_color: bool,
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Plan, show the plan, confirm, then make exactly the plan's calls."""
    from cincopa_sync.apply import apply_plan, check_permissions

    setup_logging(verbose=verbose, debug=debug, secrets=(_token(),))
    desired = load_desired(paths)
    with connect(api_url, use_emulator, emulator_state, parallelism) as client:
        the_plan = _build_plan(
            desired,
            client,
            parallelism=parallelism,
            targets=targets,
            resend_secrets=resend_secrets,
        )
        click.echo(render_text(the_plan, color=_use_color(no_color)), nl=False)
        if the_plan.empty:
            return 0
        # The writes carry security keys and Slack URLs in their query strings, which
        # httpx logs with --debug: mask them there too.
        setup_logging(verbose=verbose, debug=debug, secrets=_log_secrets(the_plan))
        _confirm(auto_approve, len(the_plan.changes))
        check_permissions(client, the_plan)
        with interruptible() as stop:
            report = apply_plan(
                client, the_plan, parallelism=parallelism, stop=stop, on_outcome=_on_outcome
            )
    click.echo(render_report(report), nl=False)
    return report.exit_code


def _log_secrets(plan: Plan) -> tuple[str, ...]:
    """The token and every secret param value of the plan's calls, as written and as a
    logged URL spells them."""
    values = [_token()]
    values += [v for call in plan.calls() for k, v in call.params if k in call.secret]
    spelled = [form for v in values if v for form in (v, quote(v, safe=""), quote_plus(v))]
    return tuple(sorted(set(spelled), key=len, reverse=True))  # longest first


def _confirm(auto_approve: bool, count: int) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Refused("no terminal to confirm on: review the plan and pass --auto-approve")
    answer = click.prompt(
        f"Apply these {count} change(s)? Only 'yes' is accepted", default="", err=True
    )
    if answer.strip() != "yes":
        raise Refused("apply cancelled: nothing was written")


def _on_outcome(outcome: Any) -> None:
    if sys.stderr.isatty():
        click.echo(f"{outcome.status}: {outcome.change.address}", err=True)


@contextlib.contextmanager
def interruptible() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM: no new call starts, in-flight ones finish, the report is printed.
    A second one stops at once."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            click.echo("\nstopped at once: calls in flight may or may not have acted", err=True)
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        click.echo(
            "\ninterrupted: finishing the calls in flight, starting no new ones "
            "(again to stop at once)",
            err=True,
        )

    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main() -> None:
    cli.main()
