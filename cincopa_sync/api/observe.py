"""What the client tells observers about each attempt of a call, and the two observers:
the `-v` log line and the `--http-log` file.

An Exchange holds nothing secret the client knows of: the params are the shown ones
(secret values as `(sensitive)`), the token is never in them, and the body has the token
and the call's own secret values masked. What an answer may hold beyond that (a Slack
hook's URL in `webhook.list`) is masked by the observer that writes the body down.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.redact import redact
from cincopa_sync.shown import SENSITIVE

log = logging.getLogger("cincopa_sync.api")

BODY_CAP = 4096  # bytes of an answer kept in the HTTP log


@dataclass(frozen=True, slots=True)
class Exchange:
    """One attempt of a call: the request as shown and what came back."""

    endpoint: str
    method: str
    params: Mapping[str, str]  # secret values already masked; never the token
    attempt: int
    status: int | None  # None: no answer (connect error, timeout, dropped connection)
    seconds: float
    size: int | None  # bytes of the answer, None when none came
    # The answer as text, for observers that want it (`wants_body`); else None.
    body: str | None
    error: str | None  # why the attempt failed (already redacted), None when it did not


def log_exchange(exchange: Exchange) -> None:
    """The `-v` line: endpoint, params, status (or the fault), milliseconds, attempt."""
    if not log.isEnabledFor(logging.INFO):
        return
    params = " ".join(f"{k}={_shown_value(v)}" for k, v in exchange.params.items())
    answer = str(exchange.status) if exchange.status is not None else "no answer"
    if exchange.error:
        answer += f" ({exchange.error})"
    log.info(
        "%s%s -> %s in %d ms (attempt %d)",
        exchange.endpoint,
        " " + params if params else "",
        answer,
        round(exchange.seconds * 1000),
        exchange.attempt,
    )


def _shown_value(value: str) -> str:
    return value if value and not any(c.isspace() for c in value) else json.dumps(value)


class HttpLog:
    """`--http-log FILE`: one JSON line per request and its answer, appended, for bug
    reports. The file is created 0600: it holds account data."""

    wants_body = True  # the client decodes and masks answers only for such observers

    def __init__(self, handle: IO[str], clock: Callable[[], float] = time.time) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self._clock = clock

    def __call__(self, exchange: Exchange) -> None:
        body = masked_body(exchange.body)
        size = exchange.size
        record = {
            "time": datetime.fromtimestamp(self._clock(), timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "endpoint": exchange.endpoint,
            "method": exchange.method,
            "params": {k: redact(v) for k, v in exchange.params.items()},
            "attempt": exchange.attempt,
            "status": exchange.status,
            "ms": round(exchange.seconds * 1000, 1),
            "error": exchange.error,
            "bytes": size,
            "body": body,
            "body_cut": size is not None and size > BODY_CAP,
        }
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            self._handle.close()

    def __enter__(self) -> HttpLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _secret_field(name: str) -> re.Pattern[str]:
    # `"name": "value"`, the closing quote optional: a truncated answer may end in it.
    return re.compile(rf'("{re.escape(name)}"\s*:\s*")((?:[^"\\]|\\.)*)("?)')


_SECRET_FIELDS = tuple(_secret_field(name) for name in sorted(ep.SECRET_RESPONSE_FIELDS))


def masked_body(body: str | None) -> str | None:
    """The answer fit for a log: its first BODY_CAP bytes, every value of a response field
    that may hold a secret masked (whatever the endpoint), and every secret the run knows
    (`redact`)."""
    if body is None:
        return None
    # `\/` is how PHP spells `/`: a secret URL quoted in a message must still match.
    text = body.replace("\\/", "/")
    for pattern in _SECRET_FIELDS:
        text = pattern.sub(rf"\g<1>{SENSITIVE}\g<3>", text)
    text = redact(text)
    return text.encode("utf-8")[:BODY_CAP].decode("utf-8", errors="ignore")
