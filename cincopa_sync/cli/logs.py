"""Logging to stderr for --verbose / --debug; every line goes through redact(), which masks
the secrets the run registered (the token, webhook keys, Slack URLs)."""

from __future__ import annotations

import logging
import sys

from cincopa_sync.api.redact import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(*, verbose: bool, debug: bool) -> None:
    """INFO of our own loggers with --verbose; DEBUG of everything (httpx too) with --debug."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cincopa_sync", False):
            root.removeHandler(handler)
    if not (verbose or debug):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._cincopa_sync = True  # type: ignore[attr-defined]
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    else:
        root.setLevel(logging.WARNING)
        logging.getLogger("cincopa_sync").setLevel(logging.INFO)
