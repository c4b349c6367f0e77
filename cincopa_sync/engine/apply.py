"""Runs a Plan: permissions first, bounded concurrency, ordering, report, convergence check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.redact import redact
from cincopa_sync.engine.read import inline_reader, reader_for
from cincopa_sync.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    ApiError,
    InvalidInput,
    OutcomeUnknown,
    PermissionDenied,
)
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.base import Drift
from cincopa_sync.plan import Change, Plan
from cincopa_sync.shown import unresolved_names

__all__ = [
    "ApplyReport",
    "Drift",
    "Outcome",
    "apply_plan",
    "check_permissions",
    "require_secrets",
    "verify",
]

# How often a create whose answer was lost is tried again after a read showed it absent.
UNKNOWN_OUTCOME_RETRIES = 2


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    status: str  # applied | failed | skipped
    message: str = ""


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    interrupted: bool = False
    unverified: str = ""  # why the read-back after the writes failed, if it did

    def by_status(self, status: str) -> list[Outcome]:
        return sorted(
            (o for o in self.outcomes if o.status == status), key=lambda o: o.change.sort_key
        )

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.by_status("failed") or self.by_status("skipped") or self.drift:
            return EXIT_PARTIAL
        if self.unverified:
            return EXIT_PARTIAL
        return EXIT_OK


def require_secrets(plan: Plan) -> None:
    """Fail before the first write when a call would send a secret whose environment
    variables are not set (validate and plan do without them), naming every one."""

    def sent(changes: list[Change] | tuple[Change, ...]) -> list[str]:
        return unresolved_names(v for c in changes for call in c.calls for _, v in call.params)

    needing = [c for c in plan.changes if sent([c])]
    if not needing:
        return
    names = sent(needing)
    raise InvalidInput(
        f"apply needs these environment variables for the secrets it sends: {', '.join(names)} "
        f"(for {', '.join(c.address for c in needing)}); nothing was written"
    )


def check_permissions(client: CincopaClient, plan: Plan) -> None:
    """Fail before the first write when the token may not make every call of the plan,
    or the reads that check a write (a lost answer, the convergence check)."""
    granted = client.ping()["permissions"]
    reads = {get(c.kind).list_endpoint for c in plan.changes}
    needed = sorted({call.endpoint for call in plan.calls()} | reads)
    missing = [name for name in needed if not ep.permits(granted, name)]
    if missing:
        raise PermissionDenied(
            ep.PING,
            f"the token may not call {', '.join(missing)} (its permissions: "
            f"{'|'.join(sorted(granted)) or 'none'}); nothing was written",
            status=403,
        )


def apply_plan(
    client: CincopaClient,
    plan: Plan,
    *,
    parallelism: int = 8,
    stop: threading.Event | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyReport:
    """Make the plan's calls. Deletes of a kind wait for that kind's creates and updates
    (a replaced webhook is never missing); for a kind whose deletes need its creates,
    they are skipped when one of its creates failed."""
    require_secrets(plan)
    stop = stop or threading.Event()
    report = ApplyReport()
    lock = threading.Lock()
    names = [k.name for k in kinds()]

    def record(outcome: Outcome) -> None:
        with lock:
            report.outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    def run(change: Change) -> None:
        try:
            outcome = _run_change(client, change, stop)
        except Exception as exc:  # our bug, not the API's: the change must not vanish
            outcome = Outcome(change, "failed", f"internal error: {redact(repr(exc))}")
        record(outcome)

    deletes = {
        kind: [c for c in plan.changes if c.kind == kind and c.action == "delete"] for kind in names
    }
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        first: dict[str, list[Future[None]]] = {kind: [] for kind in names}
        for change in plan.changes:
            if change.action != "delete":
                first[change.kind].append(pool.submit(run, change))
        # Each kind's deletes start as soon as that kind's creates and updates are done,
        # without waiting for the other kinds.
        waiting = {kind for kind in names if deletes[kind]}
        while waiting:
            for kind in sorted(waiting):
                if all(f.done() for f in first[kind]):
                    waiting.discard(kind)
                    _start_deletes(kind, deletes[kind], report, pool, run, record)
            if waiting:
                wait([f for k in waiting for f in first[k]], return_when=FIRST_COMPLETED)
    report.interrupted = stop.is_set()
    if not report.interrupted:
        try:
            report.drift = verify(client, report.by_status("applied"), parallelism=parallelism)
        except ApiError as exc:  # the writes were made: report them all the same
            report.unverified = str(exc)
    return report


def _start_deletes(
    kind: str,
    changes: list[Change],
    report: ApplyReport,
    pool: ThreadPoolExecutor,
    run: Callable[[Change], None],
    record: Callable[[Outcome], None],
) -> None:
    blocked = get(kind).deletes_need_creates and any(
        o.status != "applied" and o.change.kind == kind and o.change.action == "create"
        for o in list(report.outcomes)
    )
    for change in changes:
        if blocked:
            reason = (
                f"a {kind} create failed; deletes wait so nothing is left without its replacement"
            )
            record(Outcome(change, "skipped", reason))
        else:
            pool.submit(run, change)


def _run_change(client: CincopaClient, change: Change, stop: threading.Event) -> Outcome:
    for done in range(len(change.calls)):
        if stop.is_set():
            if done:
                return Outcome(change, "failed", f"interrupted after {done} of its calls")
            return Outcome(change, "skipped", "interrupted before it started")
        try:
            _send(client, change, done)
        except ApiError as exc:
            prefix = f"{done} of {len(change.calls)} calls made; " if done else ""
            # The API's message may quote what it was sent: never a key or a Slack URL.
            secrets = [v for c in change.calls for k, v in c.params if k in c.secret]
            return Outcome(change, "failed", prefix + redact(str(exc), *secrets))
    return Outcome(change, "applied")


def _send(client: CincopaClient, change: Change, index: int) -> None:
    """One call; a create, rename or delete whose answer was lost is checked by reading,
    then tried again only if it did not happen: never a duplicate, never a false failure."""
    kind = get(change.kind)
    call = change.calls[index]
    idempotent = kind.idempotent(change, index)
    for attempt in range(UNKNOWN_OUTCOME_RETRIES + 1):
        try:
            client.call(call, idempotent=idempotent)
            return
        except OutcomeUnknown:
            if kind.took_effect(inline_reader(client), call):
                return
            if attempt == UNKNOWN_OUTCOME_RETRIES:
                raise


def verify(client: CincopaClient, applied: list[Outcome], *, parallelism: int = 8) -> list[Drift]:
    """Re-read what apply changed and list every field that does not hold the value sent."""
    changes = [o.change for o in applied]
    drift: list[Drift] = []
    with reader_for(client, parallelism) as reader:
        for kind in kinds():
            mine = [c for c in changes if c.kind == kind.name]
            if not mine:
                continue
            current = kind.reread(reader, {kind.target_of(c) for c in mine} - {None})
            for change in mine:
                drift += kind.drift(change, current.get(kind.target_of(change) or ""))
    return drift
