"""One exception root; every error knows its exit code, and manifest errors their place."""

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


class InvalidInput(CincopaSyncError):
    """Bad manifests, arguments or plan files: every problem found, reported at once."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple:
    loc = problem.location
    return (loc is None, loc or Location("", 0, 0), problem.message)


class Refused(CincopaSyncError):
    """A safety check said no: a stale saved plan, or a delete threshold."""

    exit_code = EXIT_REFUSED


class ApiError(CincopaSyncError):
    """The API answered with an error, or could not be reached. Never carries a URL."""

    exit_code = EXIT_API

    def __init__(self, endpoint: str, message: str, *, status: int | None = None) -> None:
        self.endpoint = endpoint
        self.api_message = message
        self.status = status
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
