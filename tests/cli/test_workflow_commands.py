"""GitHub workflow commands: escaped as GitHub's toolkit escapes them."""

from __future__ import annotations

import pytest

from cincopa_sync.cli.problems import workflow_command
from cincopa_sync.errors import Location, Problem


def test_properties_and_message_are_escaped() -> None:
    problem = Problem(Location("dir,x/a:b.yaml", 3, 7), "100% wrong\nsecond line\r")
    assert workflow_command(problem) == (
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=7::100%25 wrong%0Asecond line%0D"
    )


def test_a_warning_without_a_place_has_no_properties() -> None:
    assert workflow_command(Problem(None, "a: b", "warning")) == "::warning::a: b"


@pytest.mark.parametrize("path", ["./manifests/a.yaml", "manifests/a.yaml"])
def test_paths_are_relative_to_the_workspace(path: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    command = workflow_command(Problem(Location(path, 1, 1), "m"))
    assert command.startswith("::error file=manifests/a.yaml,")
    absolute = workflow_command(Problem(Location(str(tmp_path / "m" / "b.yaml"), 1, 1), "m"))
    assert absolute.startswith("::error file=m/b.yaml,")
