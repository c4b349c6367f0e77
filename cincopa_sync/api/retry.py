"""When to retry a call and how long to wait: capped exponential backoff with jitter."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timezone
from email.utils import parsedate_to_datetime

from cincopa_sync.errors import InvalidInput

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

# For tests only (deliberately not in the user docs): multiplies every wait and timeout of
# the default policy, Retry-After included, so that a test of a 429 or a read timeout
# through a real `cincopa-sync` process takes milliseconds, not seconds.
TIME_SCALE_ENV = "CINCOPA_SYNC_TIME_SCALE"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5  # seconds before the first retry (upper bound of the jitter)
    max_delay: float = 20.0  # cap of one wait
    deadline: float = 120.0  # overall budget of one call, attempts and waits together
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    time_scale: float = 1.0  # applied to Retry-After; the other numbers are already scaled
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RetryPolicy:
        """The default policy, its times multiplied by CINCOPA_SYNC_TIME_SCALE when set."""
        text = environ.get(TIME_SCALE_ENV, "").strip()
        if not text:
            return cls()
        try:
            scale = float(text)
        except ValueError:
            scale = math.nan
        if not 0 < scale <= 10:  # also false for nan
            raise InvalidInput(f"{TIME_SCALE_ENV} must be a number in (0, 10], got {text!r}")
        policy = cls()
        return replace(
            policy,
            base_delay=policy.base_delay * scale,
            max_delay=policy.max_delay * scale,
            deadline=policy.deadline * scale,
            connect_timeout=policy.connect_timeout * scale,
            read_timeout=policy.read_timeout * scale,
            time_scale=scale,
        )

    def backoff(self, attempt: int) -> float:
        """Wait before retry number `attempt` (1-based): a capped exponential, jittered
        between half and all of it so that clients spread out but never hammer at once."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None, now: Callable[[], float]) -> float | None:
    """`Retry-After` as delay seconds, from seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; parsedate gives naive for "-0000"
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())
