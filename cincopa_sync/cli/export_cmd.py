"""export: the live account as manifests."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from cincopa_sync import __version__
from cincopa_sync.cli.app import cli, echo
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.cli.options import api_options, common_options, connect, progress
from cincopa_sync.files import write_atomic
from cincopa_sync.resources import SCHEMAS, schema_text


@cli.command("export")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("manifests"),
    show_default=True,
    help="Directory to write into: new, empty, or holding only an earlier export.",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="How many API calls may run at once.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml for people; json for very large accounts (one entry a line, loads several "
    "times faster, no comments).",
)
@click.option(
    "--schema",
    metavar="PATH_OR_URL",
    help="What the files' yaml-language-server line points at (default: the copy of the "
    "schema the export writes in DIR/.cincopa-sync/).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite files of an earlier export even if they were edited since.",
)
@click.option(
    "--identity",
    type=click.Choice(["auto", "rid"]),
    default="auto",
    show_default=True,
    help="auto: an asset by its reference_id when no other asset has it (the files then fit "
    "another account too), else by rid; rid: every asset by rid.",
)
@api_options
@common_options
def export(
    out_dir: Path,
    parallelism: int,
    fmt: str,
    schema: str | None,
    force: bool,
    identity: str,
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    http_log: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Write the live account as manifests: `plan` of them then shows no changes.

    It records what it wrote (DIR/.cincopa-sync/export.json: commit it with the files), so
    exporting again refuses to overwrite files edited since, unless --force.
    """
    from cincopa_sync.engine.export import export_account

    setup_logging(verbose=verbose, debug=debug)
    with connect(api_url, use_emulator, emulator_state, parallelism, http_log) as client:
        progress("Reading the live account...")
        result = export_account(
            client,
            out_dir,
            parallelism=parallelism,
            schema=schema,
            portable=identity == "auto",
            force=force,
            fmt=fmt,
        )
    for why in result.skipped:
        echo(f"warning: not exported: {why}", err=True)
    counted = [f"{n:,} {kind}(s)" for kind, n in result.counts.items()]
    listed = ", ".join(counted[:-1]) + " and " + counted[-1] if len(counted) > 1 else counted[0]
    echo(f"Exported {listed} into {out_dir}:")
    for path in result.files:
        echo(f"  wrote {path}")
    for path in result.removed:
        echo(f"  removed {path} (left from an earlier export)")
    if result.variables:
        echo("Set these environment variables before `plan` or `apply` (secrets are")
        echo("never exported; the API does not even return security keys):")
        width = max(len(v.name) for v in result.variables)
        for variable in result.variables:
            echo(f"  {variable.name:<{width}}  {variable.purpose}")
    echo(f"Check it: cincopa-sync plan {shlex.quote(str(out_dir))} (it should show no changes).")
    return 0


@cli.command("schema")
@click.argument("name", type=click.Choice(sorted(SCHEMAS)), default="manifest")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it to FILE (e.g. schemas/manifest.schema.json) instead of stdout.",
)
def schema(name: str, out: Path | None) -> int:
    """Print or write a JSON Schema: manifest (default), plan (plan --format json),
    apply-report (apply --report FILE).

    Commit the manifest schema next to your manifests and point their
    `# yaml-language-server: $schema=` line at it, relative to each file.
    """
    text = schema_text(name)
    if out is None:
        echo(text, nl=False)
        return 0
    write_atomic(out, text, mode=0o644)
    echo(f"wrote {out} (the {name} schema of cincopa-sync {__version__})", err=True)
    return 0
