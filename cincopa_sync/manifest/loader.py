"""Manifest paths in, one desired state out, or every problem of every file at once.

Stages per file: find, read (size cap before reading), decode, parse (strict YAML),
interpolate, validate against the schema. A file with YAML problems is not checked
further (its tree cannot be trusted); an entry with an interpolation or schema problem is
left out of the semantic checks, so one mistake is reported once, not again as a
follow-up. Then the semantic checks and the model, across all files.
"""

from __future__ import annotations

import gc
import hashlib
import os
import stat
from collections.abc import Mapping, Sequence

from cincopa_sync.errors import InvalidInput, Location, Problem
from cincopa_sync.files import LocalFileError, read_bounded
from cincopa_sync.kinds import kinds
from cincopa_sync.manifest import yamlload
from cincopa_sync.manifest.interpolate import interpolate
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.manifest.schema import validate
from cincopa_sync.manifest.semantic import Builder, Skip
from cincopa_sync.manifest.yamlload import Document, PosDict, PosList, decode, parse_yaml

MANIFEST_SUFFIXES = (".yaml", ".yml")


class ManifestFile:
    __slots__ = ("display", "path", "relative")

    def __init__(self, display: str, relative: str, path: str) -> None:
        self.display = display  # as the user gave it, joined with the part below it
        self.relative = relative  # for the digest: independent of where the run starts
        self.path = path


def load_manifests(paths: Sequence[str], env: Mapping[str, str]) -> DesiredState:
    """Load, check and merge the manifests under `paths` (files or directories).

    Raises InvalidInput listing every problem of every file (warnings included) when
    anything is wrong; otherwise the desired state, with its warnings.
    """
    # The load allocates millions of small acyclic objects; the cyclic collector would
    # rescan the growing tree again and again (about half the CPU of a large load).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, env)
    finally:
        if collecting:
            gc.enable()


def _load(paths: Sequence[str], env: Mapping[str, str]) -> DesiredState:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files = find_files(paths, problems, warnings)
    builder = Builder()
    digests: list[tuple[str, str]] = []
    for file in files:
        data = _read(file, problems)
        if data is None:
            continue
        digests.append((file.relative, hashlib.sha256(data).hexdigest()))
        text, problem = decode(data, file.display)
        del data
        if problem is not None:
            problems.append(problem)
            continue
        doc = parse_yaml(text, file.display)
        del text
        if doc.problems:
            problems.extend(doc.problems)
            continue
        broken = interpolate(doc, env, _send_only(doc))
        skip = _entries_holding(doc, broken) if broken else set()
        skip |= validate(doc)
        problems.extend(doc.problems)
        warnings.extend(doc.warnings)
        builder.document(doc, skip)  # then the tree goes: one file's tree alive at a time
        del doc
    collected = builder.finish()
    problems.extend(collected.problems)
    warnings.extend(collected.warnings)
    if problems:
        raise InvalidInput(problems + warnings)
    digest = hashlib.sha256()
    for relative, file_digest in sorted(digests):
        digest.update(f"{relative}\0{file_digest}\n".encode())
    return DesiredState(
        specs={kind: tuple(specs) for kind, specs in collected.specs.items()},
        prune=collected.prune,
        files=tuple(f.display for f in files),
        digest=digest.hexdigest(),
        warnings=tuple(sorted(warnings, key=_warning_order)),
    )


def _send_only(doc: Document) -> set[tuple[int, str]]:
    """(id of an entry, key) of each secret that is only ever sent (see Kind.send_only)."""
    root = doc.root
    found: set[tuple[int, str]] = set()
    if not isinstance(root, PosDict):
        return found
    for kind in kinds():
        entries = root.get(kind.plural) if kind.send_only else None
        if isinstance(entries, PosList):
            for entry in entries:
                if isinstance(entry, PosDict):
                    found.update((id(entry), key) for key in kind.send_only)
    return found


def _warning_order(problem: Problem) -> tuple:
    return (problem.location or Location("", 0, 0), problem.message)


def find_files(
    paths: Sequence[str], problems: list[Problem], warnings: list[Problem] | None = None
) -> list[ManifestFile]:
    """The manifest files named by `paths`, in order; a file reached twice counts once.
    Each other file below a directory (hidden ones aside) is a warning: nothing is
    skipped without a word."""
    skipped: list[str] = []
    found: list[ManifestFile] = []
    seen: set[str] = set()
    if not paths:
        problems.append(Problem(None, "no manifest path given"))
    for given in paths:
        given = os.fspath(given)
        try:
            st = os.stat(given)
        except FileNotFoundError:
            problems.append(Problem(None, f"{given}: no such file or directory"))
            continue
        except OSError as exc:
            problems.append(Problem(None, f"{given}: cannot read: {exc.strerror}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            below = _walk(given, problems, skipped)
            if not below:
                problems.append(Problem(None, f"{given}: no *.yaml or *.yml files in it"))
            candidates = [
                ManifestFile(
                    rel if given in (".", "./") else os.path.join(given, rel),
                    rel,
                    os.path.join(given, rel),
                )
                for rel in below
            ]
        else:
            candidates = [ManifestFile(given, os.path.basename(given), given)]
        for candidate in candidates:
            real = os.path.realpath(candidate.path)
            if real not in seen:
                seen.add(real)
                found.append(candidate)
    if warnings is not None:
        warnings += [_skipped(path) for path in skipped]
    return found


def _skipped(path: str) -> Problem:
    suffix = os.path.splitext(path)[1]
    if suffix.lower() in MANIFEST_SUFFIXES:
        why = f"not loaded: {suffix} is not .yaml or .yml (lower case): rename it to load it"
    else:
        why = "not loaded: only *.yaml and *.yml files in a directory are manifests"
    return Problem(Location(path, 1, 1), why, "warning")


def _walk(top: str, problems: list[Problem], skipped: list[str]) -> list[str]:
    """Relative paths of the manifest files below `top`, sorted; symlinks followed once.
    The other files go to `skipped` (as paths under `top`).

    Hidden files and directories (a name starting with '.') are skipped silently: .git,
    editor and CI folders (and an export's record) are not manifests.
    """
    others: list[str] = []
    found: list[str] = []
    visited: set[tuple[int, int]] = set()
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        directory = os.path.join(top, rel_dir) if rel_dir else top
        try:
            st = os.stat(directory)
            ident = (st.st_dev, st.st_ino)
            if ident in visited:  # a symlink loop, or two links to one directory
                continue
            visited.add(ident)
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            problems.append(Problem(None, f"{directory}: cannot read: {exc.strerror}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                pending.append(rel)
            elif entry.name.endswith(MANIFEST_SUFFIXES):
                found.append(rel)
            else:
                others.append(rel)
    skipped += [rel if top in (".", "./") else os.path.join(top, rel) for rel in sorted(others)]
    return sorted(found)


def _read(file: ManifestFile, problems: list[Problem]) -> bytes | None:
    try:
        return read_bounded(file.path, yamlload.MAX_FILE_BYTES, "a manifest")
    except LocalFileError as exc:
        problems.append(Problem(Location(file.display, 1, 1), exc.reason))
        return None


def _entries_holding(doc: Document, broken: list[tuple[object, object]]) -> Skip:
    """The entries (top-level key, index) that hold the given containers' values."""
    root = doc.root
    # id of a container -> (top-level key, index of the entry holding it; None: the list)
    owner: dict[int, tuple[str, int | None]] = {}
    if isinstance(root, PosDict):
        for key, value in root.items():
            if isinstance(value, PosList):
                owner[id(value)] = (key, None)
                for index, entry in enumerate(value):
                    for node in _containers(entry):
                        owner[id(node)] = (key, index)
            elif isinstance(value, PosDict):
                for node in _containers(value):
                    owner[id(node)] = (key, -1)
    skip: Skip = set()
    for container, key in broken:
        if container is root:
            skip.add((str(key), -1))
            continue
        top, index = owner.get(id(container), ("", -1))
        skip.add((top, key if index is None else index))  # type: ignore[arg-type]
    return skip


def _containers(node: object) -> list[object]:
    out: list[object] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (PosDict, PosList)):
            out.append(current)
            stack.extend(current.values() if isinstance(current, dict) else current)
    return out
