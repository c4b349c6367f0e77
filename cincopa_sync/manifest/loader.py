"""Manifest paths in, one desired state out, or every problem of every file at once.

Stages per file: find, read (size cap before reading), decode, parse (strict YAML, or
strict JSON for `*.json`), interpolate, validate against the schema. A file with parse
problems is not checked further (its tree cannot be trusted); an entry with an
interpolation or schema problem is left out of the semantic checks, so one mistake is
reported once, not again as a follow-up. Then the semantic checks and the model, across
all files. With overlays, each layer is loaded so on its own, then the layers merge in
order (layers.py).

JSON files are first read the fast way (`jsonload.parse_json_fast`: positions only down to
each entry's start). Those positions are all a model holds, so the result stands when the
load reports nothing at all; any problem or warning and the whole load runs again with
every position, so that each message names its exact place.
"""

from __future__ import annotations

import gc
import hashlib
import os
import stat
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence

from cincopa_sync.errors import InvalidInput, Location, Problem
from cincopa_sync.files import LocalFileError, read_bounded
from cincopa_sync.kinds import kinds
from cincopa_sync.manifest import jsonload, yamlload
from cincopa_sync.manifest.interpolate import interpolate, template_names
from cincopa_sync.manifest.layers import merge_layers, secrets_from_variables
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.manifest.schema import validate
from cincopa_sync.manifest.semantic import Builder, Skip
from cincopa_sync.manifest.yamlload import Document, PosDict, PosList, decode, parse_yaml
from cincopa_sync.shown import Unresolved

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
JSON_SUFFIX = ".json"


class ManifestFile:
    __slots__ = ("display", "path", "relative")

    def __init__(self, display: str, relative: str, path: str) -> None:
        self.display = display  # as the user gave it, joined with the part below it
        self.relative = relative  # for the digest: independent of where the run starts
        self.path = path


def load_manifests(
    paths: Sequence[str],
    env: Mapping[str, str],
    *,
    overlays: Sequence[Sequence[str]] = (),
    variables: Mapping[str, str] | None = None,
    on_secret: Callable[[str], None] | None = None,
) -> DesiredState:
    """Load, check and merge the manifests under `paths` (files or directories), then the
    layers in `overlays` on top of them, in order (see layers.py).

    `${NAME}` takes `variables` first, then `env`; a secret may come from `env` only.
    Raises InvalidInput listing every problem of every file (warnings included) when
    anything is wrong; otherwise the desired state, with its warnings. `on_secret` hears
    of every secret the manifests hold (a value at a secret key, and the value of every
    variable used at one) as soon as each file is read, before any problem is reported:
    a secret variable also used at the wrong key must be masked in that key's message.
    """
    # The load allocates millions of small acyclic objects; the cyclic collector would
    # rescan the growing tree again and again (about half the CPU of a large load).
    collecting = gc.isenabled()
    gc.disable()
    layers = [paths, *overlays]
    secret = on_secret or (lambda _v: None)
    try:
        try:
            return _load(layers, env, variables or {}, secret, fast=True)
        except _Inexact:
            return _load(layers, env, variables or {}, secret, fast=False)
    finally:
        if collecting:
            gc.enable()


class _Inexact(Exception):
    """A load that read files the fast way has something to report: load exactly."""


def _load(
    layers: Sequence[Sequence[str]],
    env: Mapping[str, str],
    variables: Mapping[str, str],
    on_secret: Callable[[str], None],
    *,
    fast: bool,
) -> DesiredState:
    problems: list[Problem] = []
    warnings: list[Problem] = []  # the files' own: interpolation, the kinds' checks
    skipped: list[Problem] = []  # files a directory holds that are not manifests
    inexact = False
    lookup: Mapping[str, str] = ChainMap(dict(variables), env) if variables else env  # type: ignore[arg-type]
    layered = len(layers) > 1
    builders: list[Builder] = []
    every_file: list[ManifestFile] = []
    digests: list[tuple[int, str, str]] = []
    layer_of: dict[str, int] = {}  # real path -> the layer that read it
    for number, paths in enumerate(layers):
        files = _only_once(find_files(paths, problems, skipped), number, layer_of, problems)
        builder = Builder(record_keys=layered)
        for file in files:
            file_digest, exact = _load_file(
                file, lookup, env, builder, problems, warnings, on_secret, fast=fast
            )
            inexact = inexact or not exact
            if file_digest is not None:
                digests.append((number, file.relative, file_digest))
        builder.finish()
        builders.append(builder)
        every_file += files
    if layered:
        collected, origins = merge_layers(builders)
    else:
        collected, origins = builders[0].out, {}
    problems.extend(collected.problems)
    if variables:
        problems += secrets_from_variables(builders, variables)
    warnings += collected.warnings
    if inexact and (problems or warnings):  # a skipped file is named without a position
        raise _Inexact
    warnings = skipped + warnings
    if problems:
        raise InvalidInput(problems + warnings)
    digest = hashlib.sha256()
    for number, relative, file_digest in sorted(digests):
        layer = f"layer {number}\0" if number else ""  # one layer: as without layers
        digest.update(f"{layer}{relative}\0{file_digest}\n".encode())
    for name, value in sorted(variables.items()):
        digest.update(f"var\0{name}\0{value}\n".encode())
    return DesiredState(
        specs={kind: tuple(specs) for kind, specs in collected.specs.items()},
        prune=collected.prune,
        files=tuple(f.display for f in every_file),
        digest=digest.hexdigest(),
        warnings=tuple(sorted(warnings, key=_warning_order)),
        layers=len(layers),
        origins=origins,
    )


def _load_file(
    file: ManifestFile,
    lookup: Mapping[str, str],
    env: Mapping[str, str],
    builder: Builder,
    problems: list[Problem],
    warnings: list[Problem],
    on_secret: Callable[[str], None],
    *,
    fast: bool,
) -> tuple[str | None, bool]:
    """Read, parse, interpolate (names from `lookup`), validate and build one file; its
    digest (None when it could not be read) and whether its positions are exact. Every
    secret it holds goes to `on_secret` before any problem can be reported (secrets come
    from `env` only)."""
    data = _read(file, problems)
    if data is None:
        return None, True
    file_digest = hashlib.sha256(data).hexdigest()
    text, problem = decode(data, file.display)
    del data
    if problem is not None:
        problems.append(problem)
        return file_digest, True
    doc = _parse(text, file, fast=fast)
    del text
    if doc.problems:
        problems.extend(doc.problems)
        return file_digest, doc.exact
    broken = interpolate(doc, lookup, _send_only(doc))
    for secret in _secrets_of(doc, env):
        on_secret(secret)
    skip = _entries_holding(doc, broken) if broken else set()
    skip |= validate(doc)
    problems.extend(doc.problems)
    warnings.extend(doc.warnings)
    builder.document(doc, skip)  # then the tree goes: one file's tree alive at a time
    return file_digest, doc.exact


def _parse(text: str, file: ManifestFile, *, fast: bool) -> Document:
    if not file.path.endswith(JSON_SUFFIX):
        return parse_yaml(text, file.display)
    doc = jsonload.parse_json_fast(text, file.display) if fast else None
    return doc if doc is not None else jsonload.parse_json(text, file.display)


def _only_once(
    files: list[ManifestFile], number: int, layer_of: dict[str, int], problems: list[Problem]
) -> list[ManifestFile]:
    """The files of one layer, less those an earlier layer read: a file belongs to one
    layer (a base directory holding an overlay's directory would merge it twice)."""
    kept = []
    for file in files:
        real = os.path.realpath(file.path)
        first = layer_of.setdefault(real, number)
        if first == number:
            kept.append(file)
        else:
            problems.append(
                Problem(
                    None,
                    f"{file.display}: is in layer {first + 1} and in layer {number + 1}: "
                    "a file may belong to one layer only",
                )
            )
    return kept


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
                problems.append(Problem(None, f"{given}: no *.yaml, *.yml or *.json files in it"))
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
        why = f"not loaded: {suffix} is not {'/'.join(MANIFEST_SUFFIXES)} (lower case): rename it"
    else:
        why = "not loaded: only *.yaml, *.yml and *.json files in a directory are manifests"
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


def _secrets_of(doc: Document, env: Mapping[str, str]) -> list[str]:
    """The values at the keys each kind calls secret, and the values of the variables
    those values were written with."""
    root = doc.root
    if not isinstance(root, PosDict):
        return []
    found: list[str] = []
    for kind in kinds():
        entries = root.get(kind.plural)
        for entry in entries if isinstance(entries, PosList) else ():
            if not isinstance(entry, PosDict):
                continue
            for key in kind.secret_keys(entry):
                value = entry.get(key)
                if not isinstance(value, str) or isinstance(value, Unresolved):
                    continue  # an Unresolved is the text as written: no secret in it
                written = doc.templates.get(entry.value_spot(key))
                if written is not None or "${" not in value:  # not left unexpanded
                    found.append(value)
                found += [env.get(name, "") for name in template_names(written or value)]
    return [value for value in found if value]


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
