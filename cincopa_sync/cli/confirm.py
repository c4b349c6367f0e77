"""apply's question before it writes: what it will change, where, asked on the terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

from cincopa_sync.plan import Plan


def confirm_question(plan: Plan) -> str:
    """How many changes of which action, to which environment, account and API host."""
    counts = ", ".join(f"{n} to {action}" for action, n in plan.summary().items() if n)
    ctx = plan.context
    where = "the account"
    if ctx is not None:
        where = f"account {ctx.account} at {ctx.api_host}"
        if ctx.environment:
            where = f"environment {ctx.environment} (account {ctx.account} at {ctx.api_host})"
    return (
        f"\nApply {len(plan.changes)} change(s) ({counts}) to {where}?\n"
        "Type yes to apply, anything else to cancel: "
    )


def ask_on_terminal(question: str) -> str:
    """The answer (stripped) read from stdin to a question written to the terminal itself
    (/dev/tty), so it shows even when stdout and stderr go to a pipe (`2>&1 | tail`);
    without a controlling terminal, to stderr, flushed. End of input answers ""."""
    with _terminal() as out:
        out.write(question)
        out.flush()
    return sys.stdin.readline().strip()


@contextlib.contextmanager
def _terminal() -> Iterator[TextIO]:
    try:
        tty: TextIO | None = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
    except OSError:
        tty = None
    if tty is None:
        yield sys.stderr
        return
    with tty:
        yield tty
