"""The Emulator: routing, token checks, faults, the envelope, the call log, persistence.

`handle()` is the whole server minus the network; the in-process transport and the
HTTP server only translate its Reply into bytes or into the errors a network gives.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import tokens
from .account import Account, Asset
from .faults import Fault, FaultPlan
from .handlers import ENDPOINTS, ApiFailure, AssetItems, Context, Endpoint
from .state import load_json, save_atomic
from .uploads import UploadRules, Uploads
from .variants import check_variant, reshape

if TYPE_CHECKING:
    import httpx

_PATH_RE = re.compile(r"^/(?:v2/)?([A-Za-z0-9_.]+)\.json$")
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_NOT_JSON = (
    b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
    b"<body><p>Service temporarily unavailable. Please try again later.</p></body></html>"
)
_JSON = {"Content-Type": "application/json"}
_HTML = {"Content-Type": "text/html; charset=utf-8"}
# Never written to the --log file: the design keeps secrets out of files.
_SENSITIVE = frozenset({"security_key"})


@dataclass
class Reply:
    """What the server does with one request.

    action "respond": send status/headers/body after `delay_ms`; "drop": close the
    connection without a response; "refuse": fail as a refused connection would.
    """

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "respond"
    delay_ms: int = 0
    fault: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Call:
    """One served request. `params` never holds api_token.

    `acted` says whether the endpoint ran (so a write took effect when `success` is
    true, even if a fault then kept the answer from the client); `status` is None when
    no response was sent.
    """

    method: str
    endpoint: str
    params: dict[str, str]
    status: int | None
    fault: str | None
    kind: str | None = None  # "read", "write", or None for an unknown endpoint
    acted: bool = False
    success: bool | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def endpoint_from_path(path: str) -> str | None:
    """`/v2/asset.list.json` or `/asset.list.json` -> `asset.list` (query string ignored)."""
    match = _PATH_RE.match(path.split("?", 1)[0])
    return match.group(1) if match else None


class Emulator:
    """An emulated Cincopa account behind the API contract (the API's documentation)."""

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        *,
        state_path: str | os.PathLike[str] | None = None,
        page_cap: int = 100,
        latency_ms: int = 0,
        faults: str | None = None,
        fault_seed: int = 0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        record_calls: bool = True,
        on_request: Callable[[str, dict[str, str]], None] | None = None,
        uploads: UploadRules | None = None,
        variant: str | None = None,
    ) -> None:
        if page_cap < 1:
            raise ValueError("page_cap must be at least 1")
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        self.clock = clock or time.time
        self.state_path = Path(state_path) if state_path is not None else None
        if self.state_path is not None and self.state_path.exists():
            seed = load_json(self.state_path)  # a saved state wins over the seed
        self.account = Account.from_json(seed, self.clock)
        if variant is not None:  # the argument wins over the seed's `variant`
            self.account.variant = check_variant(variant)
        self.page_cap = page_cap
        self.latency_ms = latency_ms
        # In-process waits go through this; the default never sleeps, so tests stay fast.
        self.sleep: Callable[[float], None] = sleep or (lambda _seconds: None)
        self.log_path = Path(log_path) if log_path is not None else None
        # A long-running `run()` turns this off: nobody reads the log, and it would grow.
        self.record_calls = record_calls
        self.calls: list[Call] = []
        # Called with (endpoint, params without api_token) as each request arrives, before
        # it is served and outside the lock: a test can change the account between two
        # page reads (add_asset / remove_asset) or note when each call started.
        self.on_request = on_request
        self._lock = threading.Lock()
        self._faults = FaultPlan(faults, fault_seed, ENDPOINTS)
        self.uploads = Uploads(uploads or UploadRules(), self.clock)

    @classmethod
    def from_files(
        cls,
        seed_path: str | os.PathLike[str] | None = None,
        state_path: str | os.PathLike[str] | None = None,
        **kw: Any,
    ) -> Emulator:
        """An emulator seeded from a JSON file, or restored from `state_path` if it exists."""
        seed = None
        state_exists = state_path is not None and Path(state_path).exists()
        if seed_path is not None and not state_exists:
            seed = load_json(seed_path)
        return cls(seed, state_path=state_path, **kw)

    # -- configuration and state --------------------------------------------------------

    @property
    def faults(self) -> str:
        return self._faults.spec

    def set_faults(self, spec: str | None, fault_seed: int = 0) -> None:
        """Replaces the fault rules (call counters and random source start afresh)."""
        plan = FaultPlan(spec, fault_seed, ENDPOINTS)
        with self._lock:
            self._faults = plan

    @property
    def token_names(self) -> list[str]:
        return list(self.account.tokens)

    def add_asset(self, item: Mapping[str, Any] | None = None, **fields: Any) -> Asset:
        """Adds an asset behind the API's back (e.g. to test paging while it changes)."""
        with self._lock:
            return self.account.add_asset(item, **fields)

    def remove_asset(self, rid: str) -> Asset:
        with self._lock:
            return self.account.remove_asset(rid)

    def warm(self) -> None:
        """Encode every asset's listing item now (it is kept until the asset changes)."""
        with self._lock:
            for asset in self.account.iter_assets():
                asset.wire_item()

    def to_json(self) -> dict[str, Any]:
        """The account in the seed/state format."""
        with self._lock:
            return self.account.to_json()

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Writes the state file now (to `path`, or the configured state_path)."""
        target = path if path is not None else self.state_path
        if target is None:
            raise ValueError("no state path configured")
        with self._lock:
            save_atomic(target, self.account.to_json())

    # -- the call log ----------------------------------------------------------------

    def clear_log(self) -> None:
        with self._lock:
            self.calls.clear()

    def writes(self) -> list[Call]:
        """The write calls that took effect, in order (including ones whose answer was lost)."""
        return [c for c in list(self.calls) if c.kind == "write" and c.acted and c.success]

    def calls_to(self, pattern: str) -> list[Call]:
        """The served calls whose endpoint matches a glob such as `asset.*`."""
        return [c for c in list(self.calls) if fnmatchcase(c.endpoint, pattern)]

    # -- request handling ------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport that serves requests in-process (no sockets)."""
        from .transport import EmulatorTransport

        return EmulatorTransport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        from .transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self)

    def handle(self, method: str, path: str, params: Mapping[str, str]) -> Reply:
        """Serves one request: `params` are the query/form parameters, api_token included."""
        started = time.perf_counter()
        method = method.upper()
        params = {str(k): str(v) for k, v in params.items()}  # tolerate ints from tests
        token = params.pop("api_token", None)
        name = endpoint_from_path(path)
        if self.on_request is not None:
            self.on_request(name or path, dict(params))
        with self._lock:
            endpoint = ENDPOINTS.get(name) if name else None
            if endpoint is None:
                reply = _json_reply(404, _failure(f"unknown endpoint: {name or path}"), started)
                return self._finish(method, name or path, params, reply, None, None)
            if method not in ("GET", "POST"):
                reply = _json_reply(405, _failure(f"method {method} not allowed"), started)
                return self._finish(method, endpoint.name, params, reply, endpoint, None)
            fault = self._faults.pick(endpoint.name)
            if fault is not None and not fault.acts:
                reply = self._fault_reply(fault, started)
                return self._finish(method, endpoint.name, params, reply, endpoint, None)
            assets = len(self.account)
            self.uploads.settle(self.account)  # timed uploads that are due
            status, payload = self._dispatch(endpoint, token, params)
            success = bool(payload["success"])
            # An upload that completed (on a status read, or on time) made an asset.
            changed = len(self.account) != assets or (success and endpoint.kind == "write")
            if changed and self.state_path is not None:
                try:
                    save_atomic(self.state_path, self.account.to_json())
                except OSError as exc:
                    # The change is in memory but not on disk: say so, as a server would.
                    status, payload = 500, _failure(f"could not save state: {exc.strerror}")
            reply = _json_reply(status, payload, started, self._variant_of(endpoint.name))
            if fault is not None:
                reply = _after_acting(fault, reply)
            return self._finish(method, endpoint.name, params, reply, endpoint, success)

    @property
    def variant(self) -> str | None:
        """The contract variant the answers follow (docs/emulator.md), or None."""
        return self.account.variant

    def _variant_of(self, endpoint: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        variant = self.account.variant
        if variant is None:
            return None
        return lambda payload: reshape(variant, endpoint, payload)

    def _dispatch(
        self, endpoint: Endpoint, token: str | None, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if not token:
            return 403, _failure("missing api_token")
        permissions = self.account.permissions_of(token)
        if permissions is None:
            return 403, _failure("invalid or expired api_token")
        if not endpoint.token_only and not tokens.allows(permissions, endpoint.name, endpoint.kind):
            needed = ", ".join(tokens.required_entries(endpoint.name, endpoint.kind))
            return 403, _failure(
                f"permission denied for {endpoint.name}: the token needs one of {needed}"
            )
        ctx = Context(self.account, token, permissions, self.page_cap, self.uploads)
        try:
            payload = endpoint.handler(ctx, params)
        except ApiFailure as exc:
            return 200, _failure(str(exc))
        return 200, {"success": True, **payload}

    def _fault_reply(self, fault: Fault, started: float) -> Reply:
        kind = fault.kind
        if kind in ("drop", "refuse"):
            return Reply(None, action=kind, fault=fault.text)
        if kind == "html":
            return Reply(502, _HTML_502, dict(_HTML), fault=fault.text)
        if kind == "not-json":
            return Reply(200, _NOT_JSON, dict(_HTML), fault=fault.text)
        if kind == "fail":
            reply = _json_reply(200, _failure(fault.message), started)
        else:  # a status code, maybe with Retry-After
            reply = _json_reply(fault.status or 500, _failure(f"HTTP {fault.status}"), started)
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = (
                    formatdate(self.clock() + fault.retry_after, usegmt=True)
                    if fault.retry_date
                    else str(fault.retry_after)
                )
        reply.fault = fault.text
        return reply

    def _finish(
        self,
        method: str,
        endpoint_name: str,
        params: dict[str, str],
        reply: Reply,
        endpoint: Endpoint | None,
        success: bool | None,
    ) -> Reply:
        reply.delay_ms += self.latency_ms
        call = Call(
            method=method,
            endpoint=endpoint_name,
            params=params,
            status=reply.status if reply.action == "respond" else None,
            fault=reply.fault,
            kind=endpoint.kind if endpoint else None,
            acted=success is not None,
            success=success,
        )
        if self.record_calls:
            self.calls.append(call)
        if self.log_path is not None:
            record = call.as_dict()
            record["params"] = {
                k: "(sensitive)" if k in _SENSITIVE else v for k, v in params.items()
            }
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        return reply


def _failure(message: str) -> dict[str, Any]:
    return {"success": False, "message": message}


def _json_reply(
    status: int,
    payload: dict[str, Any],
    started: float,
    variant: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Reply:
    payload["runtime"] = int((time.perf_counter() - started) * 1000)
    if variant is not None:
        payload = variant(_as_dicts(payload))
    return Reply(status, _encode(payload), dict(_JSON))


def _as_dicts(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v.as_dicts() if isinstance(v, AssetItems) else v for k, v in payload.items()}


def _encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON; a list of assets as their items, each encoded once (`AssetItems`)."""
    if not any(isinstance(v, AssetItems) for v in payload.values()):
        return json.dumps(payload, separators=(",", ":")).encode()
    parts = [
        json.dumps(k).encode()
        + b":"
        + (
            v.encoded()
            if isinstance(v, AssetItems)
            else json.dumps(v, separators=(",", ":")).encode()
        )
        for k, v in payload.items()
    ]
    return b"{" + b",".join(parts) + b"}"


def _after_acting(fault: Fault, reply: Reply) -> Reply:
    reply.fault = fault.text
    if fault.kind == "drop-after":
        reply.action = "drop"
    elif fault.kind == "truncate":
        reply.body = reply.body[: max(1, len(reply.body) // 2)]
    elif fault.kind == "slow":
        reply.delay_ms += fault.delay_ms
    return reply
