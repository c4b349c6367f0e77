"""Export tests: the CLI in-process (the export command registered) and helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import cincopa_sync.cli.export_cmd  # noqa: F401 - registers `export` until cli/__init__ does
from cincopa_sync.cli import cli
from cincopa_sync.logs import setup_logging

REPO = Path(__file__).resolve().parents[2]
# Nothing from the developer's shell may leak into a run: every test sets what it needs.
CLEAN_ENV: dict[str, str | None] = {
    "CINCOPA_API_TOKEN": None,
    "CINCOPA_API_URL": None,
    "NO_COLOR": None,
    "CINCOPA_HOOK_KEY": None,
    "SLACK_WEBHOOK_URL": None,
    "CINCOPA_HOOK_KEY_1": None,
    "SLACK_WEBHOOK_URL_1": None,
}


@pytest.fixture
def run() -> Iterator[Callable[..., Result]]:
    """Runs `cincopa-sync ARGS` in-process with a clean environment plus `env`."""

    def invoke(*args: object, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            cli, [str(a) for a in args], env={**CLEAN_ENV, **(env or {})}, catch_exceptions=False
        )

    root = logging.getLogger()
    level = root.level
    yield invoke
    setup_logging(verbose=False, debug=False)
    root.setLevel(level)


def _read_all(directory: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*")) if p.is_file()
    )


@pytest.fixture(scope="session")
def read_all() -> Callable[[Path], str]:
    """Every file below a directory, hidden ones included, as one text."""
    return _read_all
