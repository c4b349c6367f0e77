"""The fault spec language: which calls fail, and how (grammar in docs/emulator.md).

    asset.list#1,2=503; portal.set=drop-after@0.1; *=429:2@0.05

Rules are tried in order; the first that fires decides the fault. Every rule counts the
calls that match its target, whether or not an earlier rule fired, so `#2` always means
"the 2nd call matching this target". Probabilities come from one random.Random seeded
with `fault_seed`, so a run with the same calls in the same order fails the same way.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

STATUS_CODES = (429, 500, 502, 503, 504)
# Faults after which the server has acted: a write took effect, whatever the client sees.
ACTING_KINDS = frozenset({"drop-after", "truncate", "slow"})
SIMPLE_KINDS = ("html", "drop", "drop-after", "refuse", "truncate", "not-json")

_TARGET_RE = re.compile(r"^[a-z_.*?]+$")
_STATUS_RE = re.compile(r"^(\d{3})(?:(:|-date:)(\d+))?$")
_INT_RE = re.compile(r"^\d+$")
_PROB_RE = re.compile(r"^(?:0|1)?(?:\.\d+)?$")


@dataclass(frozen=True)
class Fault:
    """One way for a call to go wrong. `text` is how the spec wrote it (used in logs)."""

    text: str
    kind: str  # "status", "fail", "slow" or one of SIMPLE_KINDS
    status: int | None = None
    retry_after: int | None = None  # seconds
    retry_date: bool = False  # send Retry-After as an HTTP date instead of seconds
    message: str = "emulated failure"
    delay_ms: int = 0

    @property
    def acts(self) -> bool:
        """True when the server carries out the call before the fault shows."""
        return self.kind in ACTING_KINDS


@dataclass
class FaultRule:
    target: str
    fault: Fault
    calls: frozenset[int] | None = None
    probability: float | None = None
    seen: int = field(default=0, compare=False)

    def matches(self, endpoint: str) -> bool:
        return fnmatchcase(endpoint, self.target)


class FaultPlan:
    """Parsed rules plus their state (call counters and the seeded random source)."""

    def __init__(self, spec: str | None, seed: int = 0, endpoints: Iterable[str] = ()) -> None:
        self.spec = spec or ""
        self.rules = parse_faults(spec, endpoints)
        self.random = random.Random(seed)

    def pick(self, endpoint: str) -> Fault | None:
        chosen: Fault | None = None
        for rule in self.rules:
            if not rule.matches(endpoint):
                continue
            rule.seen += 1
            if chosen is not None:
                continue  # keep counting, but draw no random number: keeps runs reproducible
            if rule.calls is not None:
                fires = rule.seen in rule.calls
            elif rule.probability is not None:
                fires = self.random.random() < rule.probability
            else:
                fires = True
            if fires:
                chosen = rule.fault
        return chosen


def parse_faults(spec: str | None, endpoints: Iterable[str] = ()) -> list[FaultRule]:
    """Parses a fault spec; raises ValueError naming the bad rule and why.

    `endpoints`, when given, are the known endpoint names: a target matching none of
    them is an error (a typo would otherwise never fire).
    """
    if spec is None or not spec.strip():
        return []
    known = list(endpoints)
    rules = []
    for n, raw in enumerate(spec.split(";"), start=1):
        try:
            rules.append(_parse_rule(raw.strip(), known))
        except ValueError as exc:
            raise ValueError(f"fault spec rule {n} ({raw.strip()!r}): {exc}") from None
    return rules


def _parse_rule(text: str, known: list[str]) -> FaultRule:
    if not text:
        raise ValueError("empty rule")
    if "=" not in text:
        raise ValueError("expected TARGET[#CALLS]=FAULT[@PROBABILITY]")
    left, right = (part.strip() for part in text.split("=", 1))
    target, calls = left, None
    if "#" in left:
        target, numbers = (part.strip() for part in left.split("#", 1))
        calls = _parse_calls(numbers)
    if not _TARGET_RE.match(target):
        raise ValueError(f"bad target {target!r}: use an endpoint name or a glob like asset.*")
    if known and not any(fnmatchcase(name, target) for name in known):
        raise ValueError(f"target {target!r} matches no endpoint")
    probability = None
    if "@" in right:
        right, prob_text = (part.strip() for part in right.rsplit("@", 1))
        probability = _parse_probability(prob_text)
        if calls is not None:
            raise ValueError("give call numbers (#) or a probability (@), not both")
    return FaultRule(target, _parse_fault(right), calls, probability)


def _parse_calls(text: str) -> frozenset[int]:
    numbers: set[int] = set()
    for piece in (p.strip() for p in text.split(",")):
        low, sep, high = piece.partition("-")
        if not _INT_RE.match(low) or (sep and not _INT_RE.match(high)):
            raise ValueError(f"bad call number {piece!r}: use 1-based numbers or ranges (3-5)")
        first, last = int(low), int(high) if sep else int(low)
        if first < 1 or last < first:
            raise ValueError(f"bad call number {piece!r}: use 1-based numbers or ranges (3-5)")
        numbers.update(range(first, last + 1))
    return frozenset(numbers)


def _parse_probability(text: str) -> float:
    if not text or not _PROB_RE.match(text) or text == ".":
        raise ValueError(f"bad probability {text!r}: use a number in (0, 1]")
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"bad probability {text!r}: use a number in (0, 1]")
    return value


def _parse_fault(text: str) -> Fault:
    if not text:
        raise ValueError("missing fault after '='")
    status = _STATUS_RE.match(text)
    if status:
        code = int(status.group(1))
        if code not in STATUS_CODES:
            raise ValueError(f"status {code} not supported: use one of {STATUS_CODES}")
        secs = int(status.group(3)) if status.group(3) else None
        return Fault(text, "status", code, secs, status.group(2) == "-date:")
    if text in SIMPLE_KINDS:
        return Fault(text, text)
    name, sep, arg = text.partition(":")
    if name == "fail":
        if sep and not arg.strip():
            raise ValueError("fail: needs a message after ':' (or write just 'fail')")
        return Fault(text, "fail", message=arg.strip() or "emulated failure")
    if name == "slow":
        if not _INT_RE.match(arg.strip()):
            raise ValueError("slow needs a delay in milliseconds: slow:1500")
        return Fault(text, "slow", delay_ms=int(arg.strip()))
    names = [*(str(c) for c in STATUS_CODES), *SIMPLE_KINDS, "fail", "slow"]
    raise ValueError(f"unknown fault {text!r}: expected one of {', '.join(names)}")
