"""Ctrl-C and SIGTERM, the same way in every phase of every command.

Before apply's writes start (reading, planning, exporting, the permission check), the
first signal stops the command: exit 130, saying that nothing was written to the account.
While apply writes, the first one lets the calls in flight finish, starts no new one and
prints the report (exit 130). A second signal stops at once (exit 130, no report).

A signal that comes within REPEAT_WINDOW of the first is the same interruption, not a
second one: GNU `timeout`, a CI runner or a terminal may send it to the process and to
its process group, so it arrives twice at nearly the same moment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

from cincopa_sync.errors import EXIT_INTERRUPTED

REPEAT_WINDOW = 1.0  # seconds
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal before apply's writes started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signal_name = signal.Signals(signum).name


class _Interrupts:
    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self.first: float | None = None  # when the first signal came (monotonic)
        self.stop: threading.Event | None = None  # set while apply writes

    def handle(self, signum: int, _frame: object) -> None:
        now = time.monotonic()
        if self.first is not None:
            if now - self.first < REPEAT_WINDOW:
                return  # the same interruption, delivered again
            self._say("\nstopped at once: calls in flight may or may not have acted")
            os._exit(EXIT_INTERRUPTED)
        self.first = now
        if self.stop is None:
            raise Interrupted(signum)
        self.stop.set()
        self._say(
            "\ninterrupted: finishing the calls in flight, starting no new ones "
            "(again to stop at once)"
        )


_current: _Interrupts | None = None


@contextlib.contextmanager
def handled(say: Callable[[str], None]) -> Iterator[None]:
    """Signals handled as above for the run of one command (main thread only)."""
    global _current
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts, outer = _Interrupts(say), _current
    previous = {sig: signal.signal(sig, interrupts.handle) for sig in SIGNALS}
    _current = interrupts
    try:
        yield
    finally:
        _current = outer
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def while_writing() -> Iterator[threading.Event]:
    """The event apply watches: set by the first signal from here on (see above)."""
    stop = threading.Event()
    interrupts = _current
    if interrupts is None:  # not under handled(): a library caller, or another thread
        yield stop
        return
    if interrupts.first is not None:  # a signal came before the writes could start
        stop.set()
    interrupts.stop = stop
    try:
        yield stop
    finally:
        interrupts.stop = None
