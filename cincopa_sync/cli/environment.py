"""--env, --config and --overlay: which environment a run is for, which layers it reads, and
the account pin that keeps one environment's manifests off another's account.

The selected environment lives in the click context of the run (`selected_environment()`),
so that every command built on the shared options (`api_options`) gets its API base and
its pin without passing them along: `connect()` pins before any other call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click
import httpx
from click.core import ParameterSource

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.errors import Refused
from cincopa_sync.manifest.config import CONFIG_NAME, Environment, load_config
from cincopa_sync.plan import PlanContext

_ENVIRONMENT = "cincopa_sync.environment"
_PING = "cincopa_sync.ping"


def env_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--env NAME and --config FILE; with an environment, its api_url takes the place of
    CINCOPA_API_URL and the default (an --api-url given on the command line beats it)."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        name, config = kwargs.pop("env_name"), kwargs.pop("config_file")
        if config and not name:
            raise click.UsageError("--config needs --env NAME (the config names environments)")
        if name:
            environment = load_config(config).environment(name)
            ctx = click.get_current_context()
            ctx.meta[_ENVIRONMENT] = environment
            given = ctx.get_parameter_source("api_url") is ParameterSource.COMMANDLINE
            if "api_url" in kwargs and environment.api_url and not given:
                kwargs["api_url"] = environment.api_url
        return func(**kwargs)

    wrapper = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help=f"The environments config (default: {CONFIG_NAME} in the current directory).",
    )(wrapper)
    return click.option(
        "--env",
        "env_name",
        metavar="NAME",
        help=f"Take the manifests, vars, account pin and API base of environment NAME of "
        f"{CONFIG_NAME}.",
    )(wrapper)


overlay_option = click.option(
    "--overlay",
    "overlays",
    multiple=True,
    type=click.Path(),
    metavar="PATH",
    help="A layer on top of the manifests (repeatable, applied in order): its entries merge "
    "into the earlier ones for the same object.",
)


def selected_environment() -> Environment | None:
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(_ENVIRONMENT)


def manifest_layers(
    paths: Sequence[str], overlays: Sequence[str]
) -> tuple[Sequence[str], list[list[str]], Mapping[str, str]]:
    """The base layer, the layers on top of it and the vars of a run: from PATH arguments
    and --overlay, or from the environment (then its layers, then any --overlay)."""
    environment = selected_environment()
    on_top = [[path] for path in overlays]
    if environment is None:
        if not paths:
            raise click.UsageError(
                f"give manifest PATHs, or --env NAME to take them from {CONFIG_NAME}"
            )
        return paths, on_top, {}
    if paths:
        raise click.UsageError(
            f"give manifest PATHs or --env {environment.name}, not both: the environment "
            f"names its manifests in {environment.config}"
        )
    first, *rest = environment.layers
    return [first], [[path] for path in rest] + on_top, environment.variables


def pin_account(client: CincopaClient, account: str | None = None) -> Mapping[str, Any]:
    """`ping`, before any other call, and refuse (exit 4) unless it opens the account the
    environment is for, and `account` (a saved plan's) when given. The answer is kept
    for `account_info`."""
    info = account_info(client)
    opened = str(info["accid"])
    environment = selected_environment()
    if environment is not None and opened != environment.account:
        raise Refused(
            f"the token opens account {opened}, but environment {environment.name} is for "
            f"account {environment.account}: nothing else was called (check CINCOPA_API_TOKEN "
            "and the API base)"
        )
    if account is not None and opened != account:
        raise Refused(
            f"the token opens account {opened}, but the saved plan was made for account "
            f"{account}: nothing else was called"
        )
    return info


def needs_pin(account: str | None) -> bool:
    return account is not None or selected_environment() is not None


def account_info(client: CincopaClient) -> Mapping[str, Any]:
    """What `ping` says of the token (account, permissions): asked once per client."""
    ctx = click.get_current_context(silent=True)
    kept = None if ctx is None else ctx.meta.get(_PING)
    if kept is not None and kept[0] is client:
        return kept[1]
    info = client.ping()
    if ctx is not None:
        ctx.meta[_PING] = (client, info)
    return info


EMULATOR_HOST = "emulator"  # what --emulator's plans name as their API host


def plan_context(client: CincopaClient, *, emulator: bool = False) -> PlanContext:
    """Where a plan is for: the environment, the account the token opens, the API host
    (for --emulator just `emulator`: its port changes every run)."""
    environment = selected_environment()
    return PlanContext(
        account=str(account_info(client)["accid"]),
        api_host=EMULATOR_HOST if emulator else api_host(client.base_url),
        environment=None if environment is None else environment.name,
    )


def api_host(base_url: str) -> str:
    """The host (and a port other than the scheme's) of an API base: never a path or query."""
    url = httpx.URL(base_url)
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.host if url.port in (None, default) else f"{url.host}:{url.port}"
