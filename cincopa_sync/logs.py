"""Logging to stderr for --verbose / --debug, with the token masked as a last line of defence."""

from __future__ import annotations

import logging
import sys

from cincopa_sync.api.redact import redact


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), *self._secrets)


def setup_logging(*, verbose: bool, debug: bool, secrets: tuple[str, ...] = ()) -> None:
    """INFO of our own loggers with --verbose; DEBUG of everything (httpx too) with --debug."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cincopa_sync", False):
            root.removeHandler(handler)
    if not (verbose or debug):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._cincopa_sync = True  # type: ignore[attr-defined]
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", secrets))
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    else:
        root.setLevel(logging.WARNING)
        logging.getLogger("cincopa_sync").setLevel(logging.INFO)
