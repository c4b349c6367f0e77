"""Export tests: the CLI in-process (the export command registered) and helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def _read_all(directory: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*")) if p.is_file()
    )


@pytest.fixture(scope="session")
def read_all() -> Callable[[Path], str]:
    """Every file below a directory, hidden ones included, as one text."""
    return _read_all
