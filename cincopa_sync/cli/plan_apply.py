"""plan and apply."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import click

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.redact import register_secrets
from cincopa_sync.cli.app import PLAN_KEY_ENV, cli, echo
from cincopa_sync.cli.apply_report import ReportSink, outcome_line, report_option, reporting
from cincopa_sync.cli.base_scope import Base, base_option_help
from cincopa_sync.cli.confirm import ask_on_terminal, confirm_question
from cincopa_sync.cli.environment import account_info, plan_context, selected_environment
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.cli.options import (
    Duration,
    RunOptions,
    connect_for,
    load_desired,
    progress,
    run_options,
)
from cincopa_sync.cli.problems import annotate, echo_warnings, github_linker
from cincopa_sync.cli.progress import ticking
from cincopa_sync.cli.signals import while_writing
from cincopa_sync.engine.apply import require_secrets
from cincopa_sync.engine.planfile import as_damage, read_saved_plan, write_saved_plan
from cincopa_sync.engine.staleness import stale_objects
from cincopa_sync.errors import EXIT_CHANGES, InvalidInput, Refused
from cincopa_sync.files import LocalFileError, append_text
from cincopa_sync.kinds.base import PlanOptions
from cincopa_sync.manifest.interpolate import defaulted_names
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Plan
from cincopa_sync.render.json_format import plan_to_dict, render_json
from cincopa_sync.render.markdown import render_markdown, render_problems_markdown
from cincopa_sync.render.report import render_report
from cincopa_sync.render.text import render_text
from cincopa_sync.shown import Unresolved


@contextlib.contextmanager
def planning(
    paths: tuple[str, ...], run: RunOptions, base_dir: str | None = None
) -> Iterator[tuple[CincopaClient, DesiredState, Plan]]:
    """Load (bad manifests fail before any network call), connect, read, plan; with
    `base_dir`, the base branch's manifests too, planned against the same read."""
    from cincopa_sync.engine.diff import PlanOptions, make_plan_for
    from cincopa_sync.engine.read import read_live

    setup_logging(verbose=run.verbose, debug=run.debug)
    desired = load_desired(paths, run.overlays)
    base = Base.load(paths, run.overlays, base_dir) if base_dir else None
    with connect_for(run) as client:
        context = plan_context(client, emulator=run.use_emulator)  # ping first
        progress("Reading the live account...")
        with ticking(client, "reading the live account"):
            wanted = base.reading(desired) if base else desired
            live = read_live(client, wanted, parallelism=run.parallelism)
        options = PlanOptions(resend_secrets=run.resend_secrets)
        plan = make_plan_for(desired, live, options)
        if base:
            plan = base.scope(plan, live, options)
        plan = replace(plan.targeted(run.targets), context=context)
        annotate(plan.all_warnings())
        yield client, desired, plan


allow_deletes_option = click.option(
    "--allow-deletes",
    is_flag=True,
    help="Allow a plan that deletes more than 3 and more than 30% of a kind's objects.",
)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for machines (schemas/plan.schema.json), markdown for a "
    "pull-request comment.",
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Also save the plan to FILE (JSON, mode 0600, no secrets) for `apply --plan FILE`.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@click.option(
    "--base",
    "base_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help=base_option_help,
)
@allow_deletes_option
@run_options
def plan(
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    base_dir: str | None,
    allow_deletes: bool,
    run: RunOptions,
) -> int:
    """Show the API calls that would bring the account to the manifests. Writes nothing
    to the account."""
    try:
        with planning(paths, run, base_dir) as (_, desired, the_plan):
            pass
    except InvalidInput as exc:
        if fmt == "markdown":  # the pull request still gets a comment: what to fix, where
            text = render_problems_markdown(exc.problems, link=github_linker())
            echo(text, nl=False)
            _step_summary(text)
        raise
    recorded: tuple[str, ...] = ()  # the secrets' templates a saved plan records
    if out:
        recorded = write_saved_plan(
            out,
            the_plan,
            desired,
            api_identity=run.api_identity,
            review=_review(the_plan),
            allow_deletes=allow_deletes,
            options=PlanOptions(resend_secrets=run.resend_secrets),
            key=plan_key(),
        )
    echo(_render(the_plan, fmt, run), nl=False)
    if fmt != "text":  # the text rendering has them; json and markdown go to files
        echo_warnings(the_plan.warnings)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        _step_summary(_render(the_plan, "markdown", run))
    risky = the_plan.risky_deletes() and not allow_deletes
    if risky and fmt == "text":
        for warning in the_plan.risky_deletes():
            echo(f"warning: {warning}", err=True)
    if out:
        defaulted = sorted({n for t in recorded for n in defaulted_names(t, os.environ)})
        if defaulted:
            echo(
                "warning: a saved plan never records the :-default of a secret (it is a "
                f"secret too): set {', '.join(defaulted)} when you apply it",
                err=True,
            )
        echo(_saved_hint(out, risky, run), err=True)
    if detailed_exitcode and not the_plan.empty:
        return EXIT_CHANGES
    return 0


def _review(the_plan: Plan) -> dict[str, Any]:
    """What reviewers read of a plan, as a saved plan keeps it (its JSON rendering)."""
    return json.loads(json.dumps(plan_to_dict(the_plan)))


def plan_key() -> str | None:
    """The key that signs saved plans (CINCOPA_SYNC_PLAN_KEY), if one is set."""
    return os.environ.get(PLAN_KEY_ENV) or None


def _step_summary(markdown: str) -> None:
    """Append to the job summary GitHub Actions shows on the run's page, when it is set."""
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary_file:
        return
    try:
        append_text(summary_file, markdown)
    except LocalFileError as exc:
        raise InvalidInput(f"GITHUB_STEP_SUMMARY={exc}") from None


def _saved_hint(out: str, risky: bool, run: RunOptions) -> str:
    # The apply command to copy: with what reaches the same account (the emulator and its
    # state file, the environment), since apply --plan refuses another one.
    words = ["cincopa-sync", "apply", "--plan", out]
    environment = selected_environment()
    if environment is not None:
        words += ["--env", environment.name]
    if run.use_emulator:
        words += [
            "--emulator",
            *(["--emulator-state", run.emulator_state] if run.emulator_state else []),
        ]
    command = shlex.join(words)
    if not risky:
        return f"Saved the plan to {out}: apply it with `{command}`."
    return (
        f"Saved the plan to {out}, but `{command}` refuses it (exit 4): "
        "it deletes more than the safety threshold allows. If those deletes are meant, plan "
        f"again with --allow-deletes (the saved plan records it), or apply it with "
        f"`{command} --allow-deletes`."
    )


def _render(the_plan: Plan, fmt: str, run: RunOptions) -> str:
    if fmt == "json":
        return render_json(the_plan)
    if fmt == "markdown":
        return render_markdown(the_plan, link=github_linker())
    return render_text(the_plan, color=run.color)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Apply exactly this saved plan (from `plan --out`), or refuse if it went stale.",
)
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed with no terminal)."
)
@click.option(
    "--upload-timeout",
    type=Duration(),
    default="30m",
    show_default=True,
    help="How long an asset created from a source may take to upload (90s, 30m, 2h).",
)
@allow_deletes_option
@report_option
@run_options
def apply(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    upload_timeout: float,
    allow_deletes: bool,
    report_file: str | None,
    run: RunOptions,
) -> int:
    """Plan, show the plan, confirm, then make exactly the plan's calls.

    With --plan FILE: no manifests and no prompt (the saved plan was the review); the
    objects it touches are read again first, and it is refused if any of them moved.
    """
    with reporting(report_file) as sink:
        sink.exit_code = _apply_command(
            paths, plan_file, auto_approve, allow_deletes, upload_timeout, run, sink
        )
        return sink.exit_code


def _apply_command(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    allow_deletes: bool,
    upload_timeout: float,
    run: RunOptions,
    sink: ReportSink,
) -> int:
    if plan_file and (paths or run.overlays):
        raise click.UsageError("give manifest PATHs (and --overlay), or --plan FILE, not both")
    if not (plan_file or paths or selected_environment()):
        raise click.UsageError("give manifest PATHs, --env NAME, or --plan FILE")
    if plan_file:
        return _apply_saved(plan_file, allow_deletes, run, upload_timeout, sink)
    with planning(paths, run) as (client, _, the_plan):
        sink.plan = the_plan
        echo(render_text(the_plan, color=run.color), nl=False)
        if the_plan.empty:
            return 0
        _check_deletes(the_plan, allow_deletes)
        require_secrets(the_plan)  # before the question: the answer could not be used
        _confirm(auto_approve, the_plan)
        return _apply(client, the_plan, run, upload_timeout, sink)


def _apply_saved(
    plan_file: str, allow_deletes: bool, run: RunOptions, upload_timeout: float, sink: ReportSink
) -> int:
    setup_logging(verbose=run.verbose, debug=run.debug)
    key = plan_key()
    saved = read_saved_plan(plan_file, key=key)
    if saved.signed and not key:
        echo(
            f"warning: {plan_file} is signed, but {PLAN_KEY_ENV} is not set: its signature "
            "was not checked (it is planned again all the same)",
            err=True,
        )
    if _review(saved.plan) != saved.review:
        raise Refused(
            f"{plan_file}: the saved plan's changes are not the ones its review section shows "
            "(the file was edited): nothing was written. Plan again"
        )
    if saved.api_identity != run.api_identity:
        raise InvalidInput(
            f"{plan_file}: the plan was made against {saved.api_identity}, "
            f"not {run.api_identity}: plan again against this API"
        )
    made_for = saved.plan.context
    environment = selected_environment()
    if environment is not None and (made_for is None or made_for.environment != environment.name):
        was = made_for.environment if made_for is not None else None
        raise Refused(
            f"{plan_file}: the plan was made "
            + (f"for environment {was}" if was else "without --env")
            + f", not for environment {environment.name}: nothing was called"
        )
    targeted = saved.plan.targeted(run.targets)
    sink.plan = targeted
    _check_deletes(targeted, allow_deletes or saved.allow_deletes)
    if targeted.empty:
        echo(render_text(targeted, color=run.color), nl=False)
        return 0
    account = made_for.account if made_for is not None else None
    with connect_for(run, account) as client:
        progress("Checking that the account has not moved since the plan...")
        with (
            ticking(client, "checking that the account has not moved since the plan"),
            as_damage(plan_file),
        ):
            the_plan = stale_objects(
                client, saved, targets=run.targets, parallelism=run.parallelism
            )
        echo(render_text(the_plan, color=run.color), nl=False)
        return _apply(client, the_plan, run, upload_timeout, sink)


def _apply(
    client: CincopaClient, the_plan: Plan, run: RunOptions, upload_timeout: float, sink: ReportSink
) -> int:
    from cincopa_sync.engine.apply import apply_plan, check_permissions

    # Every secret the writes carry is masked in whatever is printed or logged from here
    # (a saved plan's come from the environment only now). Not an unresolved one: its
    # text names variables (`${CINCOPA_HOOK_KEY}`), which the error about it must show.
    register_secrets(
        *(
            v
            for c in the_plan.calls()
            for k, v in c.params
            if k in c.secret and not isinstance(v, Unresolved)
        )
    )
    check_permissions(client, the_plan, account_info(client)["permissions"])
    total, done = len(the_plan.changes), [0]

    def doing() -> str:
        if done[0] < total:
            return f"applying: {done[0]:,} of {total:,} changes done"
        return "reading the changes back to verify them"

    with while_writing() as stop, ticking(client, doing) as ticker:

        def on_outcome(outcome: Any) -> None:  # one flushed line per change, as it ends
            done[0] += 1
            ticker.line(outcome_line(done[0], total, outcome))

        report = apply_plan(
            client,
            the_plan,
            parallelism=run.parallelism,
            stop=stop,
            on_outcome=on_outcome,
            upload_timeout=upload_timeout,
        )
    sink.report = report
    echo(render_report(report), nl=False)
    return report.exit_code


def _check_deletes(the_plan: Plan, allowed: bool) -> None:
    risky = the_plan.risky_deletes()
    if risky and not allowed:
        raise Refused("; ".join(risky) + "; nothing was written")


def _confirm(auto_approve: bool, the_plan: Plan) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Refused("no terminal to confirm on: review the plan and pass --auto-approve")
    if ask_on_terminal(confirm_question(the_plan)) != "yes":
        raise Refused("apply cancelled: nothing was written")
