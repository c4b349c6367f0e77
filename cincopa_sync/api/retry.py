"""When to retry a call and how long to wait: capped exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5  # seconds before the first retry (upper bound of the jitter)
    max_delay: float = 20.0  # cap of one wait
    deadline: float = 120.0  # overall budget of one call, attempts and waits together
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

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
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())
