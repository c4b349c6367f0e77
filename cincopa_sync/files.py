"""Writing files the tool produces (saved plans, exported manifests) safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cincopa_sync.errors import InvalidInput


def write_atomic(path: Path, text: str, *, mode: int) -> None:
    """Temp file in the same directory, fsync, then rename: a reader sees the old file or
    the new one, never half of one. A path that cannot be written is the user's input
    problem (exit 3), not an internal error."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
