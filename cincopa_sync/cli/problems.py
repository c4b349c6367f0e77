"""Problems (errors and warnings) on stderr, and as GitHub workflow commands in Actions.

Under GITHUB_ACTIONS=true every problem with a place is also written as
`::error file=F,line=L,col=C::message` (or `::warning ...`), which GitHub shows as an
annotation on the pull request's diff. The texts are those printed on stderr, which hold
no secret: a problem names a secret's variable or shows it masked, never its value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from urllib.parse import quote

from cincopa_sync.cli.app import echo
from cincopa_sync.errors import Location, Problem
from cincopa_sync.plan import warning_text

GITHUB_ACTIONS_ENV = "GITHUB_ACTIONS"


def echo_warnings(warnings: Iterable[Problem]) -> None:
    """Warnings on stderr, `file:line:col: warning: message`."""
    for problem in warnings:
        echo(str(problem), err=True)


def annotate(problems: Iterable[Problem]) -> None:
    """Workflow commands for GitHub Actions (nothing elsewhere)."""
    if os.environ.get(GITHUB_ACTIONS_ENV) != "true":
        return
    for problem in problems:
        echo(workflow_command(problem), err=True)


def workflow_command(problem: Problem) -> str:
    """`::error file=F,line=L,col=C::message`, escaped as GitHub's toolkit escapes them."""
    command = "warning" if problem.severity == "warning" else "error"
    message = warning_text(problem) if not problem.location else problem.message
    properties = ""
    if problem.location:
        loc = problem.location
        where = {"file": _repo_path(loc.file), "line": str(loc.line), "col": str(loc.column)}
        properties = " " + ",".join(f"{k}={_escape_property(v)}" for k, v in where.items())
    return f"::{command}{properties}::{_escape_data(message)}"


def _repo_path(path: str) -> str:
    """A path as GitHub matches it against the diff: relative to the workspace."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isabs(path):
        relative = os.path.relpath(path, workspace)
        if not relative.startswith(".."):
            return relative
    return path.removeprefix("./")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_linker() -> Callable[[Location], str | None] | None:
    """Links to the reviewed files, `{server}/{repository}/blob/{sha}/{path}#L{line}`,
    when GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_SHA are set (GitHub Actions sets
    them; on a pull request the sha is the merge commit, whose files are those planned)."""
    server, repository, sha = (
        os.environ.get(name, "").strip()
        for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")
    )
    if not (server and repository and sha):
        return None

    def link(location: Location) -> str | None:
        path = _repo_path(location.file)
        if os.path.isabs(path) or path.split("/", 1)[0] == "..":
            return None  # not a file of the repository
        return f"{server.rstrip('/')}/{repository}/blob/{sha}/{quote(path)}#L{location.line}"

    return link
