"""validate, ping and emulator."""

from __future__ import annotations

import click

from cincopa_sync.cli.app import cli, echo
from cincopa_sync.cli.environment import (
    account_info,
    env_options,
    overlay_option,
    selected_environment,
)
from cincopa_sync.cli.logs import setup_logging
from cincopa_sync.cli.options import api_options, common_options, connect, load_desired
from cincopa_sync.cli.problems import annotate, echo_warnings
from cincopa_sync.errors import EXIT_INTERRUPTED, InvalidInput
from cincopa_sync.kinds import kinds
from cincopa_sync.resources import demo_account_path


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@overlay_option
@env_options
@common_options
def validate(paths: tuple[str, ...], overlays: tuple[str, ...], verbose: bool, debug: bool) -> int:
    """Check manifests offline: syntax, schema and semantics. Makes no API call."""
    setup_logging(verbose=verbose, debug=debug)
    state = load_desired(paths, overlays)
    echo_warnings(state.warnings)
    annotate(state.warnings)
    counts = ", ".join(f"{len(state.of(k.name))} {k.name}(s)" for k in kinds())
    environment = selected_environment()
    where = "" if environment is None else f"environment {environment.name}, "
    layers = f" in {state.layers} layers" if state.layers > 1 else ""
    echo(f"valid: {where}{len(state.files)} file(s){layers}, {counts}")
    return 0


@cli.command()
@api_options
@common_options
def ping(
    api_url: str,
    use_emulator: bool,
    emulator_state: str | None,
    http_log: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Check the token: which account it opens and what it may do."""
    setup_logging(verbose=verbose, debug=debug)
    with connect(api_url, use_emulator, emulator_state, http_log=http_log) as client:
        info = account_info(client)
    environment = selected_environment()
    if environment is not None:
        echo(f"environment {environment.name}: the token opens its account")
    echo(f"account {info['accid']} ({info['accemail']}) at {client.base_url}")
    echo("permissions: " + (" ".join(sorted(info["permissions"])) or "none"))
    return 0


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 picks a free port.")
@click.option("--state", type=click.Path(dir_okay=False), help="Load and persist the account.")
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False),
    help="Seed account JSON (default: the demo account, as --emulator uses).",
)
@click.option("--empty", is_flag=True, help="Start from an empty account instead of the demo.")
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Delay every answer.")
@click.option("--faults", help="Fault rules, see docs/emulator.md.")
@click.option("--fault-seed", type=int, default=0, help="Seed of the random faults.")
@click.option("--page-cap", type=click.IntRange(1), default=100, help="Largest items_per_page.")
@click.option(
    "--upload-reads",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="An upload from a URL completes at this status read.",
)
@click.option(
    "--upload-ms", type=click.IntRange(0), help="Or: an upload completes this long after it starts."
)
@click.option(
    "--upload-fail",
    "upload_fail",
    multiple=True,
    metavar="GLOB",
    help="Uploads of inputs matching GLOB end failed (repeatable).",
)
@click.option(
    "--variant",
    metavar="NAME",
    help="Answer in a deliberately different shape, to try `doctor` (see docs/emulator.md): "
    "portals-key, tags-array, no-items-data, numbers-as-strings.",
)
@common_options
def emulator(
    port: int,
    state: str | None,
    seed: str | None,
    empty: bool,
    latency_ms: int,
    faults: str | None,
    fault_seed: int,
    page_cap: int,
    upload_reads: int,
    upload_ms: int | None,
    upload_fail: tuple[str, ...],
    variant: str | None,
    verbose: bool,
    debug: bool,
) -> int:
    """Serve a local emulator of the Cincopa API on 127.0.0.1 until Ctrl-C (exit 130).

    It serves the demo account that --emulator uses, unless --seed, --empty or an
    existing --state file says otherwise.
    """
    from cincopa_sync.emulator import UploadRules, run

    setup_logging(verbose=verbose, debug=debug)
    if seed and empty:
        raise click.UsageError("give --seed FILE or --empty, not both")
    if seed is None and not empty:
        seed = str(demo_account_path())
    try:
        run(
            port=port,
            state=state,
            seed=seed,
            latency_ms=latency_ms,
            faults=faults,
            fault_seed=fault_seed,
            page_cap=page_cap,
            announce=lambda line: echo(line, err=False),
            uploads=UploadRules(upload_reads, upload_ms, upload_fail),
            variant=variant,
        )
    except ValueError as exc:  # a bad fault spec or seed file
        raise InvalidInput(str(exc)) from None
    except OSError as exc:  # the port is taken, or a seed or state file cannot be read
        raise InvalidInput(f"emulator: {exc.strerror or exc}") from None
    # run() returns when Ctrl-C stopped it: exit 130, "interrupted", as every command does.
    echo("interrupted", err=True)
    return EXIT_INTERRUPTED
