"""The `cincopa-sync` group: one exit-code table for every error, click's included."""

from __future__ import annotations

import io
import os
import sys
import traceback
from typing import Any

import click

from cincopa_sync import __version__
from cincopa_sync.api.redact import forget_secrets, redact, register_secrets
from cincopa_sync.cli import signals
from cincopa_sync.cli.logs import redact_log_records
from cincopa_sync.errors import (
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    CincopaSyncError,
    InvalidInput,
)
from cincopa_sync.shown import escape_controls

TOKEN_ENV = "CINCOPA_API_TOKEN"
API_URL_ENV = "CINCOPA_API_URL"
PLAN_KEY_ENV = "CINCOPA_SYNC_PLAN_KEY"  # signs saved plans (see docs/ci.md)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print, with every secret of the run masked: the one way the CLI prints."""
    click.echo(redact(text), err=err, nl=nl)


def token() -> str:
    """The API token: from the environment only (a flag would land in shell history),
    without the line break a copied or `$(cat file)`-less value often ends in."""
    return os.environ.get(TOKEN_ENV, "").strip()


class ExitCodeGroup(click.Group):
    """A click group whose errors follow our exit-code table, not click's defaults."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        forget_secrets()
        # Registered before anything can be printed, click's own usage errors included.
        register_secrets(token(), os.environ.get(PLAN_KEY_ENV))
        redact_log_records()
        try:
            with signals.handled(lambda message: echo(message, err=True)):
                code = super().main(
                    args, prog_name or "cincopa-sync", standalone_mode=False, **extra
                )
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.UsageError as exc:  # click would exit 2, which means "changes pending"
            _show(exc)
            code = EXIT_INVALID
        except click.ClickException as exc:
            _show(exc)
            code = EXIT_INVALID if exc.exit_code == 2 else exc.exit_code
        except (click.Abort, KeyboardInterrupt) as exc:
            cause = exc.__cause__ if isinstance(exc, click.Abort) else exc  # click wraps it
            by = f" by {cause.signal_name}" if isinstance(cause, signals.Interrupted) else ""
            echo(f"interrupted{by}: nothing was written to the account", err=True)
            code = EXIT_INTERRUPTED
        except CincopaSyncError as exc:
            _report_error(exc, _command_of(argv))
            code = exc.exit_code
        except Exception as exc:  # our bug, not the user's: say so plainly
            echo(f"internal error: {exc!r}", err=True)
            if debug:
                echo(traceback.format_exc(), err=True)
            else:
                echo("run again with --debug to see the traceback", err=True)
            code = EXIT_API
        sys.exit(code if isinstance(code, int) else 0)


# What a command that stopped on invalid input did not do, for its last line.
_NOT_DONE = {
    "validate": "nothing was planned or applied",
    "plan": "nothing was planned or applied",
    "apply": "nothing was planned or applied",
    "export": "nothing was exported",
}


def _show(exc: click.ClickException) -> None:
    """click's own message (a usage error quotes the arguments it did not take), masked."""
    buffer = io.StringIO()
    exc.show(file=buffer)
    echo(buffer.getvalue(), err=True, nl=False)


def _command_of(argv: list[str]) -> str | None:
    """The subcommand's name: the group itself takes no option with a value."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _report_error(exc: CincopaSyncError, command: str | None) -> None:
    if isinstance(exc, InvalidInput):
        from cincopa_sync.cli.problems import annotate

        errors = [p for p in exc.problems if p.severity == "error"]
        shown, left_out = exc.shown()
        for problem in shown:  # one line each, whatever a file name or key holds
            echo(escape_controls(str(problem)), err=True)
        if left_out:
            echo(f"... and {left_out:,} more not shown (fix these, then run again)", err=True)
        annotate(shown)
        files = {p.location.file for p in errors if p.location}
        where = f" in {len(files)} file(s)" if files else ""
        not_done = f"; {_NOT_DONE[command]}" if command in _NOT_DONE else ""
        echo(f"{len(errors)} error(s){where}{not_done}", err=True)
        return
    echo(f"error: {exc}", err=True)


@click.group(cls=ExitCodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cincopa-sync")
def cli() -> None:
    """Keep a Cincopa account in the state that YAML manifests describe.

    \b
    Exit codes: 0 ok (plan: no changes), 1 API or internal error, 2 changes pending
    (plan --detailed-exitcode), 3 invalid input, 4 refused, 5 partial apply, 130 interrupted.
    """


def main() -> None:
    cli.main()
