"""Logging to stderr for --verbose / --debug; every line goes through redact(), which masks
the secrets the run registered (the token, webhook keys, Slack URLs).

`-v` shows our INFO lines: one per API call (endpoint, params, status, milliseconds,
attempt), each retry and each re-read. `--debug` adds our DEBUG lines. Other libraries
(httpx, httpcore) show only their warnings: their request lines repeat ours, and their
connection trace is noise; the raw exchanges are what `--http-log FILE` is for.
"""

from __future__ import annotations

import logging
import sys

from cincopa_sync.api.redact import redact

OURS = "cincopa_sync"


def redact_log_records() -> None:
    """Mask secrets in every log record as it is made, whoever made it and whatever
    handles it (a library's debug dump of headers included), not only in our output."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_redacting", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record that does not format: the handler will say so
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    make._redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _ours_or_a_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.partition(".")[0] == OURS


def setup_logging(*, verbose: bool, debug: bool) -> None:
    """Our INFO lines with --verbose, our DEBUG lines too with --debug; other loggers'
    warnings either way."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cincopa_sync", False):
            root.removeHandler(handler)
    if not (verbose or debug):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._cincopa_sync = True  # type: ignore[attr-defined]
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ours_or_a_warning)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(OURS).setLevel(logging.DEBUG if debug else logging.INFO)
