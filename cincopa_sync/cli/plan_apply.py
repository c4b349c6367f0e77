"""plan and apply."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import click

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.cli.app import cli, token
from cincopa_sync.cli.options import RunOptions, connect, load_desired, progress, run_options
from cincopa_sync.errors import EXIT_CHANGES, EXIT_INTERRUPTED, Refused
from cincopa_sync.logs import setup_logging
from cincopa_sync.plan import Plan
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.report import render_report
from cincopa_sync.render.text import render_text


@contextlib.contextmanager
def planning(paths: tuple[str, ...], run: RunOptions) -> Iterator[tuple[CincopaClient, Plan]]:
    """Load (bad manifests fail before any network call), connect, read, plan."""
    from cincopa_sync.live import read_live
    from cincopa_sync.planner import PlanOptions, make_plan_for

    setup_logging(verbose=run.verbose, debug=run.debug, secrets=(token(),))
    desired = load_desired(paths)
    with connect(run.api_url, run.use_emulator, run.emulator_state, run.parallelism) as client:
        progress("Reading the live account...")
        live = read_live(client, desired, parallelism=run.parallelism)
        plan = make_plan_for(desired, live, PlanOptions(resend_secrets=run.resend_secrets))
        plan = plan.targeted(run.targets)
        if run.targets and plan.empty:
            click.echo("warning: no change matches the --target addresses given", err=True)
        yield client, plan


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
@run_options
def plan(paths: tuple[str, ...], fmt: str, detailed_exitcode: bool, run: RunOptions) -> int:
    """Show the API calls that would bring the account to the manifests. Writes nothing."""
    with planning(paths, run) as (_, the_plan):
        pass
    if fmt == "json":
        click.echo(render_json(the_plan), nl=False)
    else:
        click.echo(render_text(the_plan, color=run.color), nl=False)
    if detailed_exitcode and not the_plan.empty:
        return EXIT_CHANGES
    return 0


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed with no terminal)."
)
@run_options
def apply(paths: tuple[str, ...], auto_approve: bool, run: RunOptions) -> int:
    """Plan, show the plan, confirm, then make exactly the plan's calls."""
    from cincopa_sync.apply import apply_plan, check_permissions

    with planning(paths, run) as (client, the_plan):
        click.echo(render_text(the_plan, color=run.color), nl=False)
        if the_plan.empty:
            return 0
        # The writes carry security keys and Slack URLs in their query strings, which
        # httpx logs with --debug: mask them there too.
        setup_logging(verbose=run.verbose, debug=run.debug, secrets=_log_secrets(the_plan))
        _confirm(auto_approve, len(the_plan.changes))
        check_permissions(client, the_plan)
        with interruptible() as stop:
            report = apply_plan(
                client, the_plan, parallelism=run.parallelism, stop=stop, on_outcome=_on_outcome
            )
    click.echo(render_report(report), nl=False)
    return report.exit_code


def _log_secrets(plan: Plan) -> tuple[str, ...]:
    """The token and every secret param value of the plan's calls, as written and as a
    logged URL spells them."""
    values = [token()]
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
