"""Uploads from a URL: started by asset.upload_from_url, watched through
asset.upload_from_url_get_status, stopped by asset.upload_from_url_abort.

The emulator fetches nothing. An upload is "processing" until it completes after a
configured number of status reads, or a configured time after it started (by the
emulator's clock), whichever the rules say. On completion it becomes a new asset whose
filename is the last path segment of the input, with no reference_id, no tags and empty
texts (the contract's ASSUMED behaviour); an input matching a failing pattern ends
`failed` instead and makes no asset. Uploads live in memory only, like temporary tokens.
"""

from __future__ import annotations

import heapq
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import unquote, urlsplit

from .account import Account

INPROGRESS, COMPLETED, FAILED = "inprogress", "completed", "failed"
_TYPES = {
    "image": (".jpg", ".jpeg", ".png", ".gif", ".webp"),
    "audio": (".mp3", ".wav", ".aac", ".m4a", ".ogg"),
    "video": (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv"),
}
_RID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


@dataclass(frozen=True)
class UploadRules:
    """When uploads end, and how.

    `after_reads`: an upload completes at its Nth status read (1: the first read already
    sees it completed). `after_ms`: when set, it completes that many milliseconds after it
    started instead, whether or not anyone reads its status. `failing`: glob patterns
    (fnmatch, case-sensitive) of inputs whose upload ends `failed`.
    """

    after_reads: int = 1
    after_ms: int | None = None
    failing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.after_reads < 1:
            raise ValueError("uploads must complete after at least 1 status read")
        if self.after_ms is not None and self.after_ms < 0:
            raise ValueError("upload time must not be negative")


@dataclass
class Upload:
    status_id: str
    input: str
    started: float  # emulator clock, seconds
    reads: int = 0
    status: str = INPROGRESS
    resid: str = ""
    more: str = ""


def filename_of(url: str) -> str:
    """The last path segment of a URL, percent-escapes decoded: the new asset's filename."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _type_of(filename: str) -> str:
    lower = filename.lower()
    for kind, endings in _TYPES.items():
        if lower.endswith(endings):
            return kind
    return "other"


@dataclass
class Uploads:
    """Every upload of this emulator's lifetime, by status_id."""

    rules: UploadRules
    clock: Callable[[], float]
    by_id: dict[str, Upload] = field(default_factory=dict)
    _due: list[tuple[float, str]] = field(default_factory=list)  # (completes at, status_id)

    def start(self, url: str) -> Upload:
        status_id = secrets.token_hex(16)
        upload = Upload(status_id, url, self.clock())
        self.by_id[status_id] = upload
        if self.rules.after_ms is not None:
            heapq.heappush(self._due, (upload.started + self.rules.after_ms / 1000, status_id))
        return upload

    def settle(self, account: Account) -> bool:
        """End the timed uploads that are due; whether an asset was made."""
        made = False
        now = self.clock()
        while self._due and self._due[0][0] <= now:
            _, status_id = heapq.heappop(self._due)
            made = self._end(self.by_id[status_id], account) or made
        return made

    def read(self, upload: Upload, account: Account) -> bool:
        """One status read; whether it made the asset."""
        upload.reads += 1
        if self.rules.after_ms is None and upload.reads >= self.rules.after_reads:
            return self._end(upload, account)
        return False

    def progress(self, upload: Upload) -> int:
        if upload.status != INPROGRESS:
            return 100 if upload.status == COMPLETED else 0
        if self.rules.after_ms:
            done = (self.clock() - upload.started) * 1000 / self.rules.after_ms
        else:
            done = upload.reads / self.rules.after_reads
        return max(0, min(99, int(done * 100)))

    def _end(self, upload: Upload, account: Account) -> bool:
        if upload.status != INPROGRESS:
            return False
        if any(fnmatchcase(upload.input, pattern) for pattern in self.rules.failing):
            upload.status, upload.more = FAILED, "the source could not be fetched"
            return False
        name = filename_of(upload.input)
        asset = account.add_asset(rid=_new_rid(account), filename=name, type=_type_of(name))
        upload.status, upload.resid = COMPLETED, asset.rid
        return True


def _new_rid(account: Account) -> str:
    while True:
        rid = "".join(secrets.choice(_RID_ALPHABET) for _ in range(12))
        if rid not in account.assets_by_rid:
            return rid
