"""Runs a Plan: permissions first, bounded concurrency, ordering, report, convergence check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.redact import redact
from cincopa_sync.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    ApiError,
    OutcomeUnknown,
    PermissionDenied,
)
from cincopa_sync.live import read_assets
from cincopa_sync.plan import KINDS, Change, Plan

# How often a create whose answer was lost is tried again after a read showed it absent.
UNKNOWN_OUTCOME_RETRIES = 2


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    status: str  # applied | failed | skipped
    message: str = ""


@dataclass(frozen=True, slots=True)
class Drift:
    """A field that did not take the value sent: the API ignored or changed it."""

    address: str
    field: str
    expected: object
    actual: object


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


def check_permissions(client: CincopaClient, plan: Plan) -> None:
    """Fail before the first write when the token may not make every call of the plan."""
    granted = client.ping()["permissions"]
    needed = sorted({call.endpoint for call in plan.calls()} | _verification_reads(plan))
    missing = [name for name in needed if not ep.permits(granted, name)]
    if missing:
        raise PermissionDenied(
            "ping",
            f"the token may not call {', '.join(missing)} (its permissions: "
            f"{'|'.join(sorted(granted)) or 'none'}); nothing was written",
            status=403,
        )


def _verification_reads(plan: Plan) -> set[str]:
    return {ep.LIST_OF_KIND[c.kind] for c in plan.changes}


def apply_plan(
    client: CincopaClient,
    plan: Plan,
    *,
    parallelism: int = 8,
    stop: threading.Event | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyReport:
    """Make the plan's calls. Deletes of a kind wait for that kind's creates and updates, so
    a replaced webhook is never missing; when a webhook create fails, the webhook deletes
    are skipped."""
    stop = stop or threading.Event()
    report = ApplyReport()
    lock = threading.Lock()

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
        kind: [c for c in plan.changes if c.kind == kind and c.action == "delete"] for kind in KINDS
    }
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        first: dict[str, list[Future[None]]] = {kind: [] for kind in KINDS}
        for change in plan.changes:
            if change.action != "delete":
                first[change.kind].append(pool.submit(run, change))
        # Each kind's deletes start as soon as that kind's creates and updates are done,
        # without waiting for the other kinds.
        waiting = {kind for kind in KINDS if deletes[kind]}
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
    """A failed webhook create holds the webhook deletes back: a replaced hook is never
    deleted before its replacement exists (deliveries never stop). Other deletes do not
    depend on anything and go ahead."""
    blocked = kind == "webhook" and any(
        o.status != "applied" and o.change.kind == kind and o.change.action == "create"
        for o in list(report.outcomes)
    )
    for change in changes:
        if blocked:
            reason = "a webhook create failed; deletes wait so deliveries never stop"
            record(Outcome(change, "skipped", reason))
        else:
            pool.submit(run, change)


def _run_change(client: CincopaClient, change: Change, stop: threading.Event) -> Outcome:
    for done, call in enumerate(change.calls):
        if stop.is_set():
            if done:
                return Outcome(change, "failed", f"interrupted after {done} of its calls")
            return Outcome(change, "skipped", "interrupted before it started")
        try:
            _send(client, change, call, first=done == 0)
        except ApiError as exc:
            prefix = f"{done} of {len(change.calls)} calls made; " if done else ""
            # The API's message may quote what it was sent: never a key or a Slack URL.
            secrets = [v for c in change.calls for k, v in c.params if k in c.secret]
            return Outcome(change, "failed", prefix + redact(str(exc), *secrets))
    return Outcome(change, "applied")


def _send(client: CincopaClient, change: Change, call: ep.Call, *, first: bool) -> None:
    """One call; a create, rename or delete whose answer was lost is checked by reading,
    then tried again only if it did not happen: never a duplicate, never a false failure."""
    # A delete is idempotent in effect but not in its answer: sent again after it acted,
    # it gets `success: false` (no such object). So it is verified by reading, like a create.
    idempotent = not (
        (change.creates and first) or call.endpoint in ep.RENAMES or call.endpoint in ep.DELETES
    )
    for attempt in range(UNKNOWN_OUTCOME_RETRIES + 1):
        try:
            client.call(call, idempotent=idempotent)
            return
        except OutcomeUnknown:
            if _took_effect(client, call):
                return
            if attempt == UNKNOWN_OUTCOME_RETRIES:
                raise


def _took_effect(client: CincopaClient, call: ep.Call) -> bool:
    """Whether a portal or webhook write whose answer was lost happened, by reading."""
    if call.endpoint.startswith("portal."):
        names = {p["subdomain"] for p in client.list_portals()}
    else:
        names = {h["url"] for h in client.list_webhooks()}
    if call.endpoint in ep.RENAMES:
        return call.target() in names and call.renamed_from() not in names
    return (call.target() in names) != (call.endpoint in ep.DELETES)


# -- the convergence check -------------------------------------------------------------


def verify(client: CincopaClient, applied: list[Outcome], *, parallelism: int = 8) -> list[Drift]:
    """Re-read what apply changed and list every field that does not hold the value sent."""
    changes = [o.change for o in applied]
    if not changes:
        return []
    kinds = {c.kind for c in changes}
    rids = [c.calls[0].target() for c in changes if c.kind == "asset"]
    assets = read_assets(client, rids, parallelism=parallelism) if rids else {}
    portals = {p["subdomain"]: p for p in client.list_portals()} if "portal" in kinds else {}
    hooks = {h["url"]: h for h in client.list_webhooks()} if "webhook" in kinds else {}
    drift: list[Drift] = []
    for change in changes:
        drift += _drift_of(change, assets, portals, hooks)
    return drift


def _drift_of(change: Change, assets: dict, portals: dict, hooks: dict) -> list[Drift]:
    call = change.calls[-1]
    current = {"asset": assets, "portal": portals, "webhook": hooks}[change.kind].get(call.target())
    if change.action == "delete":
        return [] if current is None else [Drift(change.address, "(exists)", None, "present")]
    if current is None:
        return [Drift(change.address, "(exists)", "present", None)]
    out = []
    for fc in change.fields:
        actual = _actual(fc.field, current, fc.after)
        if actual is not _SAME:
            out.append(Drift(change.address, fc.field, fc.after, actual))
    return out


_SAME = object()


def _actual(field_name: str, current: dict, expected: object) -> object:
    """The live value when it differs from what was sent, else _SAME."""
    if field_name == "security_key":
        return _SAME if current.get("has_security_key") else "(none)"
    if field_name in ("url", "subdomain"):
        return _SAME  # identity: presence was checked above
    if field_name == "settings":
        have = current.get("settings") or {}
        wrong = {k: have.get(k) for k, v in dict(expected).items() if have.get(k) != v}
        return wrong or _SAME
    value = current.get(field_name)
    if isinstance(value, frozenset):
        value = tuple(sorted(value))
    if value is None and field_name == "thumb_attached_rid":
        value = ""
    return _SAME if value == expected else value
