"""Every exception the tool raises on purpose, and the exit code each one maps to.

    CincopaSyncError            the root (exit 1 unless a subclass says otherwise)
    +-- InvalidInput            bad manifests, arguments or plan files (exit 3)
    +-- Refused                 a safety check said no: stale plan, delete threshold (exit 4)
    +-- ApiError                the API answered with an error or could not be reached (exit 1)
        +-- AuthenticationError the token is missing, unknown or expired
        +-- PermissionDenied    the token is valid but may not make this call
        +-- TransientApiError   429, 5xx, timeout or connection fault, retries used up
        +-- OutcomeUnknown      a write was sent and its answer lost: it may have acted
        +-- UnstableRead        a listing of several pages moved every time it was read
        +-- UnexpectedShape     an answer without the shape the client relies on
                                (schemas/api/): the API differs from the contract

The CLI maps them to exit codes in one place (cli/app.py); anything else is our bug and
is reported as "internal error".
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_API = 1
EXIT_CHANGES = 2
EXIT_INVALID = 3
EXIT_REFUSED = 4
EXIT_PARTIAL = 5
EXIT_INTERRUPTED = 130


class CincopaSyncError(Exception):
    """The root of every error this tool raises on purpose."""

    exit_code = EXIT_API


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a manifest file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a warning) in the input, with where it is."""

    location: Location | None
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.message}"


# At most this many problems are printed; a line says how many more there are (a file of
# 100,000 unknown keys must not bury the first real mistake under 100,000 lines).
SHOWN_PROBLEMS = 100


class InvalidInput(CincopaSyncError):
    """Bad manifests, arguments or plan files: every problem found, reported at once."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems[:SHOWN_PROBLEMS]))

    def shown(self) -> tuple[list[Problem], int]:
        """The problems to print, in order, and how many more were left out."""
        return self.problems[:SHOWN_PROBLEMS], max(0, len(self.problems) - SHOWN_PROBLEMS)


def _problem_order(problem: Problem) -> tuple:
    loc = problem.location
    return (loc is None, loc or Location("", 0, 0), problem.message)


class Refused(CincopaSyncError):
    """A safety check said no: a stale saved plan, or a delete threshold."""

    exit_code = EXIT_REFUSED


# What a write whose outcome cannot be known says (its status in a report: unknown).
MAY_HAVE_ACTED = "may have taken effect: run plan to see"


class ApiError(CincopaSyncError):
    """The API answered with an error, or could not be reached. Never carries a URL.

    `may_have_acted`: a write was sent and its answer lost (then the call was retried, or
    not): it may have taken effect, and the caller cannot say it failed."""

    exit_code = EXIT_API

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        may_have_acted: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.api_message = message
        self.status = status
        self.may_have_acted = may_have_acted
        status_part = f" (HTTP {status})" if status else ""
        super().__init__(f"{endpoint}{status_part}: {message}")


class AuthenticationError(ApiError):
    """The token is missing, unknown or expired."""


class PermissionDenied(ApiError):
    """The token is valid but may not make this call."""


class TransientApiError(ApiError):
    """A fault worth retrying (429, 5xx, timeout, connection): raised once retries ran out."""


class OutcomeUnknown(ApiError):
    """A non-idempotent write was sent but its answer was lost: it may or may not have acted."""

    def __init__(self, endpoint: str, message: str, *, status: int | None = None) -> None:
        super().__init__(endpoint, message, status=status, may_have_acted=True)


class UnstableRead(ApiError):
    """A listing of several pages changed while it was read, every time it was read."""


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way an answer differs from the shape the client relies on."""

    path: str  # a JSON path into the answer: "$.items[0].tags"
    problem: str  # "missing, expected a list of portals"

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class UnexpectedShape(ApiError):
    """An answer that does not have the shape the client relies on (schemas/api/): the real
    API differs from the contract. Nothing is read from it, so nothing is planned from it."""

    SHOWN = 3  # deviations in the message; `deviations` holds them all

    def __init__(self, endpoint: str, deviations: tuple[Deviation, ...], breaks: str) -> None:
        self.deviations = deviations
        self.breaks = breaks
        shown = "; ".join(map(str, deviations[: self.SHOWN]))
        more = len(deviations) - self.SHOWN
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(
            endpoint,
            f"the answer does not have the shape cincopa-sync relies on: {shown}. "
            f"So {breaks}; run `cincopa-sync doctor` for a report on every endpoint",
        )
