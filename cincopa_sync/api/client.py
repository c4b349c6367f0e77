"""The HTTP client: token handling, envelope checks, retries, deadlines. The only network
I/O (its connections are made by api/deadline.py, which keeps each call's time budget).

The token, and the values of a call's secret params (a security key, a Slack URL), are
added by `_TokenTransport` at the last moment, just above httpx's transport: the requests
httpx's exceptions and responses carry and everything this module builds and logs hold
neither; a secret param shows there as `(sensitive)`.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.deadline import DeadlineTransport, budget
from cincopa_sync.api.endpoints import Call
from cincopa_sync.api.observe import Exchange, log_exchange
from cincopa_sync.api.redact import Secret, redact
from cincopa_sync.api.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after
from cincopa_sync.api.shapes import check_answer, decode_answer
from cincopa_sync.errors import (
    MAY_HAVE_ACTED,
    ApiError,
    AuthenticationError,
    InvalidInput,
    OutcomeUnknown,
    PermissionDenied,
    TransientApiError,
)
from cincopa_sync.shown import SENSITIVE, Unresolved

log = logging.getLogger("cincopa_sync.api")

# The request extension that carries a call's secret param values down to the transport.
_SECRETS = "cincopa_sync.secrets"
# The headers of every request: those an httpx.Client sends, with our name.
_HEADERS = httpx.Headers(
    {
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",
        "Connection": "keep-alive",
        "User-Agent": f"cincopa-sync python-httpx/{httpx.__version__}",
    }
)


class _TokenTransport(httpx.BaseTransport):
    """Adds the token and the secret params to the outgoing URL at the last moment and
    keeps them out of errors."""

    def __init__(self, inner: httpx.BaseTransport, token: Secret) -> None:
        self._inner = inner
        self._token = token

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        failure: httpx.TransportError | None = None
        hidden: dict[str, str] = request.extensions.get(_SECRETS) or {}
        try:
            authed = httpx.Request(
                request.method,
                request.url.copy_merge_params({**hidden, ep.TOKEN_PARAM: self._token.reveal()}),
                headers=request.headers,
                stream=request.stream,
                extensions={k: v for k, v in request.extensions.items() if k != _SECRETS},
            )
            return self._inner.handle_request(authed)
        except httpx.TransportError as exc:
            failure = exc
        finally:
            authed = None  # no frame left holding the token
        # Raised outside the except block: the new error has no context that holds the token.
        text = redact(str(failure), self._token.reveal(), *hidden.values())
        kind = _Unresolved if _unresolved(failure) else type(failure)
        error = kind(text, request=request)
        failure = None
        raise error

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return "<_TokenTransport>"


class _Unresolved(httpx.ConnectError):
    """The API host's name does not resolve: trying again would not help."""


def _unresolved(exc: BaseException) -> bool:
    """Whether a transport error comes from a name that does not resolve (a temporary
    failure of the resolver, EAI_AGAIN, may pass and is retried)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return cause.errno != socket.EAI_AGAIN
        cause = cause.__cause__ or cause.__context__
    return False


def normalize_base(url: str) -> str:
    """The API base with one trailing slash; a base carrying a query or a token is refused."""
    shown = _shown_url(url)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidInput(f"invalid API URL {shown}: {redact(str(exc))}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(f"the API URL must be an http(s) URL with a host, got {shown}")
    problem = _host_problem(parsed.raw_host)
    if problem:
        raise InvalidInput(f"invalid API URL {shown}: {problem}")
    if parsed.query or parsed.fragment:
        raise InvalidInput(
            f"the API URL must not have a query string, got {shown} "
            "(the token comes from CINCOPA_API_TOKEN)"
        )
    text = str(parsed)
    return text if text.endswith("/") else text + "/"


def _host_problem(raw_host: bytes) -> str | None:
    """Why a host name cannot be resolved (the resolver would raise UnicodeError at the
    first call), or None. DNS: labels of 1 to 63 bytes, 253 in all."""
    if b":" in raw_host:  # an IPv6 address
        return None
    name = raw_host.removesuffix(b".")
    if len(name) > 253:
        return "the host name is longer than 253 characters"
    labels = name.split(b".")
    if any(not label for label in labels):
        return "the host name has an empty label (two dots in a row)"
    if any(len(label) > 63 for label in labels):
        return "the host name has a label longer than 63 characters"
    return None


def _shown_url(url: object) -> str:
    """A URL as it may be shown in a message: no token, no password."""
    text = redact(str(url))
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return repr(scheme + sep + rest)


def host_of(base_url: str) -> str:
    """The host (and a port other than the scheme's default) that messages name."""
    url = httpx.URL(base_url)
    return url.host if url.port is None else f"{url.host}:{url.port}"


def clean_token(token: str) -> str:
    """The token without the whitespace around it (a copied line often ends in a newline);
    whitespace inside it is refused: no token has any."""
    stripped = token.strip()
    if any(c.isspace() for c in stripped):
        raise InvalidInput(
            "CINCOPA_API_TOKEN has a space or line break inside it; a token has none: "
            "check how it was set"
        )
    return stripped


class CincopaClient:
    """A Cincopa API v2 client. Thread-safe: apply and the paged reads share one instance."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        max_connections: int = 8,
        observers: Sequence[Callable[[Exchange], None]] = (),
        typed_decoding: bool = True,
    ) -> None:
        token = clean_token(token)
        if not token:
            raise AuthenticationError("auth", "no API token: set CINCOPA_API_TOKEN")
        self.base_url = normalize_base(base_url)
        self.host = host_of(self.base_url)
        self._token = Secret(token)
        # Told about every attempt of every call: the -v line, and --http-log when given.
        self._observers = (log_exchange, *observers)
        self._wants_bodies = any(getattr(o, "wants_body", False) for o in observers)
        # Listings decoded and checked in one pass where their shape allows (api/typed.py);
        # False: always json and the item predicate (a test compares the two).
        self._typed = typed_decoding
        self.policy = policy or RetryPolicy.from_env()
        self._clock, self._sleep, self._wall_clock = clock, sleep, wall_clock
        inner = transport or DeadlineTransport(
            httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        )
        # Requests go straight to the transport, not through an httpx.Client: the Client
        # adds nothing this client uses (redirects are never followed, since one would
        # carry the token elsewhere; no cookies, no auth flow, no hooks) and cost about
        # 0.1 ms of CPU a call (bench/bench_listing.py).
        self._transport = _TokenTransport(inner, self._token)
        self._lock = threading.Lock()
        # The page size settled for each listing (api/paging.Reader.widest): kept here, on
        # the one client of a run, so that every read of the run asks for it.
        self.page_sizes: dict[str, int] = {}
        # At most max_connections requests reach httpx at once, so that its pool never
        # queues one: httpcore 1.0.9 can close a connection it has just handed to a queued
        # request, which then hangs until its read timeout (encode/httpcore#1110).
        self._slots = threading.BoundedSemaphore(max(1, max_connections))
        self.sent: Counter[str] = Counter()  # attempts by endpoint, retries included
        self.calls: Counter[str] = Counter()  # logical calls by endpoint

    def __repr__(self) -> str:
        return f"CincopaClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> CincopaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one way a call is made -----------------------------------------------

    def call(
        self, call: Call, *, idempotent: bool = True, attempts: int | None = None
    ) -> dict[str, Any]:
        """Send one call and return its checked envelope.

        Reads and idempotent writes are retried on 429, 5xx, timeouts, connection errors
        and garbled bodies. A non-idempotent write (a create) is retried only when it
        surely did not reach the server (connect errors, 429); when its outcome is unknown
        OutcomeUnknown is raised so the caller can read before trying again. `attempts`
        caps the tries below the policy's, for a call with a fallback (a probe).
        """
        max_attempts = min(attempts or self.policy.max_attempts, self.policy.max_attempts)
        endpoint = call.endpoint
        if any(isinstance(value, Unresolved) for _, value in call.params):
            # The last guard (apply checks before any write): never send "${NAME}" as a key.
            raise InvalidInput(f"{endpoint}: a secret it sends comes from variables not set")
        spec = ep.ENDPOINTS[endpoint]
        safe = idempotent or not spec.write
        with self._lock:
            self.calls[endpoint] += 1
        started = self._clock()
        attempt = 0
        may_have_acted = False  # a write sent before whose answer was lost or garbled
        while True:
            attempt += 1
            with self._lock:
                self.sent[endpoint] += 1
            remaining = self.policy.deadline - (self._clock() - started)
            try:
                return self._attempt(call, spec.write, remaining, attempt)
            except _Retryable as fault:
                reached_server = fault.reached_server
                reason, wait_hint = fault.reason, fault.retry_after
            except ApiError as exc:
                if not may_have_acted:
                    raise
                # e.g. `success: false` (no such object) to a retry of a write that acted
                raise type(exc)(
                    exc.endpoint,
                    exc.api_message + _MAY_HAVE_ACTED,
                    status=exc.status,
                    may_have_acted=True,
                ) from None
            if reached_server and not safe:
                raise OutcomeUnknown(
                    endpoint, f"{reason}; the call may or may not have taken effect"
                )
            may_have_acted = may_have_acted or (spec.write and reached_server)
            if wait_hint is not None:
                wait = wait_hint * self.policy.time_scale
            else:
                wait = self.policy.backoff(attempt)
            elapsed = self._clock() - started
            if attempt >= max_attempts or elapsed + wait > self.policy.deadline:
                asked = (
                    f"; it asked to wait {wait:.0f} s, beyond the {self.policy.deadline:.0f} s "
                    "budget of a call"
                    if wait_hint is not None and elapsed + wait > self.policy.deadline
                    else ""
                )
                raise TransientApiError(
                    endpoint,
                    f"{reason}{asked}; gave up after {attempt} attempt(s) in {elapsed:.1f} s"
                    + (_MAY_HAVE_ACTED if may_have_acted else ""),
                    may_have_acted=may_have_acted,
                )
            log.info("%s: %s; retry %d in %.1f s", endpoint, reason, attempt, wait)
            self._sleep(wait)

    def _attempt(self, call: Call, write: bool, remaining: float, attempt: int) -> dict[str, Any]:
        endpoint = call.endpoint
        url = self.base_url + endpoint + ep.URL_SUFFIX
        read, connect = self.policy.read_timeout, self.policy.connect_timeout
        timeout = {
            "connect": max(0.001, min(connect, remaining)),
            "read": max(0.001, min(read, remaining)),
            "write": max(0.001, min(read, remaining)),
            "pool": None,
        }
        method = "POST" if write else "GET"
        # Secret values travel beside the request, not in it: see _TokenTransport.
        shown = [(k, SENSITIVE if k in call.secret else v) for k, v in call.params]
        hidden = {k: v for k, v in call.params if k in call.secret}

        def clean(exc: BaseException) -> str:
            return self._clean(exc, *hidden.values())

        extensions: dict[str, object] = {"timeout": timeout}
        if hidden:
            extensions[_SECRETS] = hidden
        started = self._clock()
        response: httpx.Response | None = None
        failure: str | None = None
        try:
            # The budget holds for the wait for a connection and, through
            # DeadlineTransport, for every read of the answer: a server that trickles its
            # answer cannot keep the call past its deadline.
            if not self._slots.acquire(timeout=max(0.0, remaining)):
                raise _Retryable("no connection was free within the budget", False)
            try:
                with budget(max(0.0, remaining)):
                    request = httpx.Request(
                        method, url, params=shown, headers=_HEADERS, extensions=extensions
                    )
                    answer = self._transport.handle_request(request)
                    answer.request = request
                    try:
                        answer.read()
                    finally:
                        answer.close()
                    response = answer  # only an answer read whole is told and checked
            except _Unresolved as exc:  # not retried: the name will not resolve in a second
                raise ApiError(
                    endpoint, f"cannot resolve the API host {self.host} ({clean(exc)})"
                ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise _Retryable(
                    f"cannot connect to {self.host} ({clean(exc)})", reached_server=False
                ) from None
            except httpx.TimeoutException:
                raise _Retryable(
                    f"timed out waiting for the answer from {self.host}", reached_server=True
                ) from None
            except httpx.TransportError as exc:
                raise _Retryable(f"connection to {self.host} failed ({clean(exc)})", True) from None
            except httpx.RequestError as exc:  # e.g. a body that does not decode as announced
                raise _Retryable(f"unreadable answer ({clean(exc)})", True) from None
            finally:
                self._slots.release()
            return self._check(endpoint, response, tuple(hidden.values()))
        except _Retryable as exc:
            failure = exc.reason
            raise
        except ApiError as exc:
            failure = exc.api_message
            raise
        finally:
            self._tell(call, method, shown, attempt, response, self._clock() - started, failure)

    def _tell(
        self,
        call: Call,
        method: str,
        shown: list[tuple[str, str]],
        attempt: int,
        response: httpx.Response | None,
        seconds: float,
        failure: str | None,
    ) -> None:
        """Every observer hears of the attempt; the answer's text only those that want
        it, with the token and the call's own secrets masked."""
        body = None
        if response is not None and self._wants_bodies:
            secrets = [v for k, v in call.params if k in call.secret]
            text = response.content.decode("utf-8", errors="replace")
            body = redact(text, self._token.reveal(), *secrets)
        exchange = Exchange(
            call.endpoint,
            method,
            dict(shown),
            attempt,
            None if response is None else response.status_code,
            seconds,
            None if response is None else len(response.content),
            body,
            failure,
        )
        for observer in self._observers:
            observer(exchange)

    def _check(
        self, endpoint: str, response: httpx.Response, secrets: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._wall_clock)
            raise _Retryable(
                "rate limited (HTTP 429)", reached_server=False, retry_after=retry_after
            )
        if status in RETRYABLE_STATUS or status >= 500:
            raise _Retryable(f"server error (HTTP {status})", reached_server=True)
        if self._typed and 200 <= status < 300:
            checked = decode_answer(endpoint, response.content)
            if checked is not None:
                return checked
        body = _json_body(response)
        message = self._clean_message(body, secrets)
        if status == 403 or status == 401:
            raise self._forbidden(endpoint, message)
        if not 200 <= status < 300:
            raise ApiError(endpoint, message or f"unexpected HTTP {status}", status=status)
        if body is None:
            raise _Retryable("the answer was not the JSON the API sends", reached_server=True)
        if body.get(ep.F_SUCCESS) is not True:
            raise ApiError(endpoint, message or "the API answered success: false")
        check_answer(endpoint, body)  # UnexpectedShape: not retried, the API differs
        return body

    def _forbidden(self, endpoint: str, message: str) -> ApiError:
        """403 means a bad token or a missing permission: ping (which needs only a valid
        token) tells which."""
        if endpoint != ep.PING:
            try:
                who = self.ping()
            except AuthenticationError:
                pass
            else:
                granted = "|".join(sorted(who["permissions"])) or "none"
                return PermissionDenied(
                    endpoint,
                    f"the token is valid but may not call {endpoint} "
                    f"(its permissions: {granted}){': ' + message if message else ''}",
                    status=403,
                )
        return AuthenticationError(
            endpoint,
            f"the API refused the token (unknown, expired or revoked)"
            f"{': ' + message if message else ''}",
            status=403,
        )

    def _clean(self, exc: BaseException, *secrets: str) -> str:
        """An httpx error's text without the token or the call's secret params (a body
        read can fail quoting the request line)."""
        return redact(str(exc) or type(exc).__name__, self._token.reveal(), *secrets)

    def _clean_message(self, body: dict[str, Any] | None, secrets: tuple[str, ...] = ()) -> str:
        """The API's message, which may quote what it was sent: no token, no secret param."""
        if not body:
            return ""
        text = str(body.get(ep.F_MESSAGE) or "")
        return redact(text, self._token.reveal(), *secrets)

    def pause_before_reread(self, attempt: int) -> None:
        """A short backoff before reading a listing again that did not hold still."""
        self._sleep(self.policy.backoff(attempt))

    # -- typed reads ----------------------------------------------------------------

    def ping(self) -> dict[str, Any]:
        try:
            body = self.call(Call(ep.PING, ()))
        except PermissionDenied as exc:  # ping needs only a valid token
            raise AuthenticationError(ep.PING, exc.api_message, status=exc.status) from None
        except ApiError as exc:
            if exc.status in (401, 403):
                raise AuthenticationError(ep.PING, exc.api_message, status=exc.status) from None
            raise
        info = {k: body.get(k) for k in ep.PING_FIELDS}
        info[ep.F_ACCID] = str(body[ep.F_ACCID])  # a string or a number: compared as text
        info["permissions"] = ep.parse_permissions(body.get(ep.F_PERMISSIONS))
        return info


_MAY_HAVE_ACTED = f"; an attempt whose answer was lost {MAY_HAVE_ACTED}"


class _Retryable(Exception):
    """Internal: a fault that may be retried (or, for a create, may have acted)."""

    def __init__(self, reason: str, reached_server: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.reached_server = reached_server
        self.retry_after = retry_after


def _json_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, httpx.HTTPError):
        return None
    return body if isinstance(body, dict) else None
