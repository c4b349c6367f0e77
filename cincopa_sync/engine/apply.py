"""Runs a Plan: permissions first, bounded concurrency, ordering, report, convergence check."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Collection
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
    MAY_HAVE_ACTED,
    ApiError,
    InvalidInput,
    OutcomeUnknown,
    PermissionDenied,
)
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.base import Drift, Interrupted, StepContext, Steps, Wait
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
# How long a change may wait for work the API does (an upload's processing), by default.
DEFAULT_UPLOAD_TIMEOUT = 30 * 60.0
# The longest the scheduler waits before it looks at Ctrl-C again, while calls run.
_LOOK_AGAIN = 0.2
NOT_STARTED = "interrupted before it started"


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    status: str  # applied | failed | skipped | unknown (may have taken effect)
    message: str = ""
    made: str | None = None  # the key of what it made, when the plan could not know it


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
        if self.by_status("unknown"):
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


def check_permissions(
    client: CincopaClient, plan: Plan, granted: Collection[str] | None = None
) -> None:
    """Fail before the first write when the token may not make every call of the plan,
    or the reads that check a write (a lost answer, the convergence check). `granted`:
    the permissions a `ping` of this run already reported (else it pings)."""
    if granted is None:
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
    upload_timeout: float = DEFAULT_UPLOAD_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
) -> ApplyReport:
    """Make the plan's calls. Deletes of a kind wait for that kind's creates and updates
    (a replaced webhook is never missing); for a kind whose deletes need its creates,
    they are skipped when one of its creates failed. A change that waits for the API (an
    upload) holds no worker while it waits. `clock` and `sleep` (default: a wait that
    Ctrl-C ends) time those waits."""
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

    deletes = {
        kind: [c for c in plan.changes if c.kind == kind and c.action == "delete"] for kind in names
    }
    context = StepContext(client, clock, upload_timeout)
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        runner = _Runner(client, pool, stop, context, record, sleep or stop.wait)
        first = {
            kind: [runner.start(c) for c in plan.changes if c.kind == kind and c.action != "delete"]
            for kind in names
        }
        waiting = {kind for kind in names if deletes[kind]}

        def start_ready_deletes() -> None:
            # Each kind's deletes start as soon as that kind's creates and updates are
            # done, without waiting for the other kinds.
            for kind in sorted(waiting):
                if all(job.finished for job in first[kind]):
                    waiting.discard(kind)
                    _start_deletes(kind, deletes[kind], report, runner.start, record)

        start_ready_deletes()
        runner.run(start_ready_deletes)
    report.interrupted = stop.is_set()
    if not report.interrupted:
        try:
            report.drift = verify(client, report.by_status("applied"), parallelism=parallelism)
        except ApiError as exc:  # the writes were made: report them all the same
            report.unverified = str(exc)
    return report


@dataclass(eq=False)
class _Job:
    change: Change
    steps: Steps | None = None
    started: bool = False
    interrupted: bool = False  # Interrupted was thrown into its steps
    finished: bool = False


class _Runner:
    """Runs changes on a pool of workers. A change run as steps (`Kind.steps`) gives its
    worker back whenever it waits: the main thread keeps the waits on a timer heap and
    queues the next step when one is due, so waiting creates hold no slot and polling
    shares the workers with every other call."""

    def __init__(
        self,
        client: CincopaClient,
        pool: ThreadPoolExecutor,
        stop: threading.Event,
        context: StepContext,
        record: Callable[[Outcome], None],
        sleep: Callable[[float], object],
    ) -> None:
        self.client, self.pool, self.stop, self.context = client, pool, stop, context
        self.record, self.sleep = record, sleep
        self.running: dict[Future[Wait | None], _Job] = {}
        self.timers: list[tuple[float, int, _Job]] = []  # (due, order, job)
        self._order = itertools.count()

    def start(self, change: Change) -> _Job:
        job = _Job(change)
        self._submit(job)
        return job

    def run(self, after_each: Callable[[], None]) -> None:
        """Until every change started (also by `after_each`) has ended."""
        clock = self.context.clock
        while self.running or self.timers:
            if self.stop.is_set():  # parked steps get Interrupted now, not when due
                for _, _, job in self.timers:
                    job.interrupted = True
                    self._submit(job, interrupt=True)
                self.timers.clear()
            while self.timers and self.timers[0][0] <= clock():
                self._submit(heapq.heappop(self.timers)[2])
            if self.running:
                due = self.timers[0][0] - clock() if self.timers else _LOOK_AGAIN
                done, _ = wait(
                    self.running, timeout=min(max(due, 0), _LOOK_AGAIN), return_when=FIRST_COMPLETED
                )
                for future in done:
                    self._park(self.running.pop(future), future.result())
                after_each()
            elif self.timers:
                self.sleep(max(0.0, self.timers[0][0] - clock()))

    def _park(self, job: _Job, step: Wait | None) -> None:
        if step is None:
            return
        if self.stop.is_set() and not job.interrupted:
            job.interrupted = True
            self._submit(job, interrupt=True)
        else:
            due = self.context.clock() + step.seconds
            heapq.heappush(self.timers, (due, next(self._order), job))

    def _submit(self, job: _Job, interrupt: bool = False) -> None:
        self.running[self.pool.submit(self._advance, job, interrupt)] = job

    def _advance(self, job: _Job, interrupt: bool) -> Wait | None:
        """In a worker: the change, or its next step, until it waits or ends."""
        change = job.change
        try:
            if not job.started:
                job.started = True
                job.steps = get(change.kind).steps(change, self.context)
                if job.steps is None:
                    return self._end(job, _run_change(self.client, change, self.stop))
                if self.stop.is_set():
                    job.steps.close()
                    return self._end(job, Outcome(change, "skipped", NOT_STARTED))
            assert job.steps is not None
            if self.stop.is_set() and not job.interrupted:  # a step queued before Ctrl-C
                job.interrupted = interrupt = True
            return job.steps.throw(Interrupted()) if interrupt else next(job.steps)
        except StopIteration as end:
            ended = end.value  # its message may quote the API: nothing secret goes out
            outcome = Outcome(change, ended.status, redact(ended.message), ended.made)
            return self._end(job, outcome)
        except Interrupted:  # steps that do not handle it: they stopped where they waited
            return self._end(job, Outcome(change, "failed", "interrupted while it waited"))
        except Exception as exc:  # our bug, not the API's: the change must not vanish
            return self._end(job, Outcome(change, "failed", f"internal error: {redact(repr(exc))}"))

    def _end(self, job: _Job, outcome: Outcome) -> None:
        job.finished = True
        self.record(outcome)


def _start_deletes(
    kind: str,
    changes: list[Change],
    report: ApplyReport,
    start: Callable[[Change], object],
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
            start(change)


def _run_change(client: CincopaClient, change: Change, stop: threading.Event) -> Outcome:
    for done in range(len(change.calls)):
        if stop.is_set():
            if done:
                return Outcome(change, "failed", f"interrupted after {done} of its calls")
            return Outcome(change, "skipped", NOT_STARTED)
        try:
            _send(client, change, done)
        except ApiError as exc:
            prefix = f"{done} of {len(change.calls)} calls made; " if done else ""
            # The API's message may quote what it was sent: never a key or a Slack URL.
            secrets = [v for c in change.calls for k, v in c.params if k in c.secret]
            message = prefix + redact(str(exc), *secrets)
            if not exc.may_have_acted:
                return Outcome(change, "failed", message)
            if done == len(change.calls) - 1:  # its last call: the change can be read back
                return _settle(client, change, message)
            return Outcome(change, "unknown", _unknown(message))
    return Outcome(change, "applied")


def _settle(client: CincopaClient, change: Change, message: str) -> Outcome:
    """A change whose last write may have acted (its answer was lost, and retries or the
    read after it did not tell): read it back, as verification does. Only when that read
    fails too is its outcome unknown: reported so, never as a failure."""
    kind = get(change.kind)
    target = kind.target_of(change)
    try:
        current = kind.reread(inline_reader(client), [target] if target else [])
    except ApiError as exc:
        return Outcome(change, "unknown", _unknown(f"{message}; reading it back failed ({exc})"))
    if not kind.drift(change, current.get(target or "")):
        return Outcome(change, "applied", "it took effect, as a read after it shows")
    return Outcome(change, "failed", f"{message}; reading it back, it did not take effect")


def _unknown(message: str) -> str:
    return message if message.endswith(MAY_HAVE_ACTED) else f"{message}; {MAY_HAVE_ACTED}"


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
        except OutcomeUnknown as lost:
            try:
                happened = kind.took_effect(inline_reader(client), call)
            except ApiError as exc:  # the read that would tell failed: still unknown
                raise OutcomeUnknown(call.endpoint, f"{lost.api_message}; {exc}") from None
            if happened:
                return
            if attempt == UNKNOWN_OUTCOME_RETRIES:
                raise


def verify(client: CincopaClient, applied: list[Outcome], *, parallelism: int = 8) -> list[Drift]:
    """Re-read what apply changed (and what it made) and list every field that does not
    hold the value sent."""
    drift: list[Drift] = []
    with reader_for(client, parallelism) as reader:
        for kind in kinds():
            mine = [(o.change, o.made or kind.target_of(o.change)) for o in applied]
            mine = [(change, key) for change, key in mine if change.kind == kind.name]
            if not mine:
                continue
            current = kind.reread(reader, {key for _, key in mine} - {None})
            for change, key in mine:
                drift += kind.drift(change, current.get(key or ""))
    return drift
