"""Shared by the saved-plan trust tests: a saved plan of the reliability account, and
edits to it made as someone who can write the file would make them (the checksum made
to match again, so only what apply checks beyond it can catch them)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from reliability_helpers import Served

Document = dict[str, Any]


def save(
    run: Callable[..., Result], served: Served, manifest: Path, path: Path, **env: str
) -> Path:
    result = run("plan", manifest, "--out", path, *served.args, env={**served.env, **env})
    assert result.exit_code == 0, result.stderr
    return path


def load(path: Path) -> Document:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, document: Document, *, fix_checksum: bool = True) -> Path:
    """The document as a file; with `fix_checksum`, its checksum recomputed (as anyone
    who can edit the file can), any signature kept as it was."""
    document = dict(document)
    checksum = document.pop("checksum", None)
    signature = document.pop("signature", None)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))  # as plan writes
    head: Document = {
        "checksum": hashlib.sha256(text.encode()).hexdigest() if fix_checksum else checksum
    }
    if signature is not None:
        head["signature"] = signature
    path.write_text(json.dumps({**head, **document}, indent=2, ensure_ascii=False) + "\n")
    return path


def apply_saved(run: Callable[..., Result], served: Served, path: Path, **env: str) -> Result:
    return run("apply", "--plan", path, *served.args, env={**served.env, **env})


def writes(served: Served) -> Counter[str]:
    return Counter(json.dumps([e, p], sort_keys=True) for e, p in served.writes())


def change(document: Document, address: str) -> Document:
    return next(c for c in document["changes"] if c["address"] == address)


def review_change(document: Document, address: str) -> Document:
    return next(c for c in document["review"]["changes"] if c["address"] == address)
