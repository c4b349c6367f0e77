"""show: a saved plan, rendered as `plan` would, without a single API call."""

from __future__ import annotations

import click

from cincopa_sync.cli.app import cli, echo
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.cli.options import common_options, use_color
from cincopa_sync.cli.plan_apply import format_option
from cincopa_sync.cli.problems import github_linker
from cincopa_sync.engine.planfile import as_damage, read_saved_plan
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.markdown import render_markdown
from cincopa_sync.render.text import render_text


@cli.command()
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(dir_okay=False))
@format_option
@click.option("--no-color", is_flag=True, help="No colours (NO_COLOR does the same).")
@common_options
def show(plan_file: str, fmt: str, no_color: bool, verbose: bool, debug: bool) -> int:
    """Show a saved plan (from `plan --out`) as it was reviewed. Makes no API call."""
    setup_logging(verbose=verbose, debug=debug)
    saved = read_saved_plan(plan_file)
    plan = saved.plan
    with as_damage(plan_file):  # rendered whole before anything is printed
        if fmt == "json":
            shown = render_json(plan)
        elif fmt == "markdown":
            shown = render_markdown(plan, link=github_linker())
        else:
            allowance = (
                "; it allows deletes over the safety threshold" if saved.allow_deletes else ""
            )
            shown = f"Saved plan {plan_file}, made against {saved.api_identity}{allowance}.\n"
            shown += render_text(plan, color=use_color(no_color))
    echo(shown, nl=False)
    return 0
