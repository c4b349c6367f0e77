"""Progress on stderr that a CI log shows too: no long phase goes silent.

A `Ticker` prints a line whenever `every` seconds passed without one (a long read, the
writes, the read-back, upload polling), and `line()` prints one now (one per change as
apply completes it). click.echo flushes every line, so a log that is not a terminal gets
each one as it happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.cli.app import echo

PROGRESS_EVERY = 10.0  # seconds; scaled like the retry waits (CINCOPA_SYNC_TIME_SCALE)


class Ticker:
    def __init__(self, describe: Callable[[float], str], every: float) -> None:
        self._describe = describe  # elapsed seconds -> the line to print
        self._every = every
        self._started = self._last = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def line(self, text: str) -> None:
        with self._lock:
            echo(text, err=True)
            self._last = time.monotonic()

    def _run(self) -> None:
        while not self._done.wait(self._every / 4):
            with self._lock:
                now = time.monotonic()
                if now - self._last >= self._every:
                    echo(self._describe(now - self._started), err=True)
                    self._last = now

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@contextmanager
def ticking(client: CincopaClient, doing: str | Callable[[], str]) -> Iterator[Ticker]:
    """A Ticker saying what is being done (a text, or a function giving it as it is now),
    with the API calls made and the time it has taken."""
    before = sum(client.calls.values())

    def describe(elapsed: float) -> str:
        calls = sum(client.calls.values()) - before
        what = doing if isinstance(doing, str) else doing()
        return f"... still {what}: {calls:,} API call{'' if calls == 1 else 's'}, {elapsed:.0f} s"

    with Ticker(describe, PROGRESS_EVERY * client.policy.time_scale) as ticker:
        yield ticker
