"""Fixtures for the manifest loader tests: every test that parses runs with both parsers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest import load_manifests, yamlload

PARSERS = [
    pytest.param(
        "c",
        marks=pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml"),
    ),
    "pure",
]


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs the test once with libyaml's parser and once with PyYAML's pure one."""
    monkeypatch.setattr(yamlload, "PARSER", request.param)
    yield request.param


def _problems_of(paths: list[str], env: dict[str, str] | None = None) -> list[str]:
    try:
        state = load_manifests(paths, env or {})
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    return [str(w) for w in state.warnings]


@pytest.fixture
def problems_of() -> Callable[..., list[str]]:
    """`file:line:col: message` lines of a failing load (the warnings of a passing one)."""
    return _problems_of


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., str]:
    """Writes a manifest under tmp_path and returns its path as a string."""

    def write(name: str, text: str | bytes) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Runs the rest of the test inside a directory, so locations are relative."""

    def enter(path: Path) -> None:
        monkeypatch.chdir(os.fspath(path))

    return enter
