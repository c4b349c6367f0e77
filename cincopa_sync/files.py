"""Files: writing what the tool produces (saved plans, exports) safely, and reading or
appending to what it is handed (manifests, saved plans, states, the step summary) safely."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import IO

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


# -- reading and appending to files the tool did not write ----------------------------


class LocalFileError(InvalidInput):
    """A local file that cannot be used: `reason` says why, without the path."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


# Opened without blocking (a FIFO with no writer, a terminal) and never as our terminal.
_OPEN_FLAGS = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def size_text(limit: int) -> str:
    """A byte count as people read it: 64 MiB, or 100 bytes."""
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit >= mib and limit % mib == 0 else f"{limit} bytes"


def read_bounded(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, else LocalFileError (exit 3).

    For every file a user hands the tool (a manifest, a saved plan, an emulator state): a
    FIFO, a device or a directory is refused from its stat, before it is opened (reading
    one would block, or never end), and so is a file over the cap; a file that grows after
    the stat is read up to the cap only. `what` names the kind of file in the message.
    """
    where = os.fspath(path)
    try:
        before = os.stat(where)
        _must_be_regular(where, before)
        if before.st_size > limit:
            raise LocalFileError(where, _too_large(limit, what))
        fd = os.open(where, os.O_RDONLY | _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            _must_be_regular(where, os.fstat(fd))  # not swapped for a FIFO since the stat
            # Sized by the stat: read(limit) would allocate the whole cap up front.
            data = handle.read(before.st_size + 1)
            if len(data) > before.st_size:
                data += handle.read(max(0, limit + 1 - len(data)))
    except OSError as exc:
        raise LocalFileError(where, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise LocalFileError(where, _too_large(limit, what))
    return data


def append_text(path: str | os.PathLike[str], text: str) -> None:
    """Append to a regular file, creating it if missing; LocalFileError (exit 3) for
    anything else (a FIFO would block the run until someone read it)."""
    with open_append(path) as handle:
        handle.write(text)


def open_append(path: str | os.PathLike[str], mode: int = 0o644) -> IO[str]:
    """A regular file opened to append text (created with `mode` if missing), or
    LocalFileError (exit 3) for anything else, found without blocking."""
    where = os.fspath(path)
    try:
        if os.path.lexists(where):
            _must_be_regular(where, os.stat(where))
        fd = os.open(where, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _OPEN_FLAGS, mode)
        try:
            _must_be_regular(where, os.fstat(fd))
        except LocalFileError:
            os.close(fd)
            raise
        return os.fdopen(fd, "a", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise LocalFileError(where, f"cannot write: {exc.strerror or exc}") from None


def _must_be_regular(where: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise LocalFileError(where, "not a regular file")


def _too_large(limit: int, what: str) -> str:
    return f"file is larger than the {size_text(limit)} limit for {what}"
