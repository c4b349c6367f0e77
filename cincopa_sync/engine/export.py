"""The live account as manifest files (`cincopa-sync export`).

Reads every object of every kind (listings that held still), and writes one file per kind
(`portals.yaml`), or numbered files for a kind with many objects (`assets-001.yaml`, ...,
each at most the kind's entries per file and MAX_EXPORT_FILE_BYTES), in a stable order,
so that `plan` of the export against the same account shows no changes. The entries are
the kinds' own (`Kind.export_entries`); secrets are written as `${NAME}` references with a
comment naming the variable, never as values. With `fmt="json"` each file is written
as JSON (`assets-001.json`, ...), one entry a line: the same data, read back from the
YAML text by the strict loader's own parser, without the comments (JSON has none).

An export records what it wrote: `.cincopa-sync/export.json` in the output directory holds
the sha256 of every file, and `.cincopa-sync/manifest.schema.json` the schema the files'
`yaml-language-server` line points at (a relative path that still works once committed).
Exporting again refuses (exit 4, nothing written, before a single API call) when a file it
wrote was edited or deleted since, or when files of an earlier export have no record,
unless `force`. Anything else in the directory (hidden entries aside) is refused (exit 3):
an export never overwrites hand-written manifests. Each file is written atomically; files
of an earlier export that this one no longer needs (fewer asset files) are removed after
every write succeeded; the record is written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cincopa_sync import __version__
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.paging import DEFAULT_PAGE_SIZE
from cincopa_sync.engine.read import reader_for
from cincopa_sync.errors import InvalidInput, Refused
from cincopa_sync.files import write_atomic
from cincopa_sync.kinds import kinds
from cincopa_sync.kinds.base import ExportSink, Kind, LiveObject
from cincopa_sync.manifest.jsonwrite import manifest_json
from cincopa_sync.manifest.yamlload import MAX_FILE_BYTES, parse_yaml
from cincopa_sync.resources import schema_text

# A file is also closed before it grows past this, whatever its entry count: far below the
# loader's cap even for assets with very long descriptions.
MAX_EXPORT_FILE_BYTES = MAX_FILE_BYTES // 4
HEADER_MARK = "# Written by cincopa-sync export."


@dataclass(frozen=True)
class Variable:
    """An environment variable the exported manifests read: set it before `plan`."""

    name: str
    purpose: str  # never the secret itself


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: tuple[Path, ...]
    counts: Mapping[str, int]  # written entries by kind
    variables: tuple[Variable, ...] = ()
    skipped: tuple[str, ...] = ()  # live objects a manifest cannot describe, and why
    removed: tuple[Path, ...] = ()  # files of an earlier export no longer needed


@dataclass
class Account:
    """The live account, every object of every kind (canonical values), by kind name."""

    objects: dict[str, list[LiveObject]] = field(default_factory=dict)


def export_account(
    client: CincopaClient,
    out_dir: Path,
    *,
    parallelism: int = 8,
    schema: str | None = None,
    portable: bool = True,
    fmt: str = "yaml",
    force: bool = False,
) -> ExportResult:
    """Read the whole account and write it as manifests into `out_dir`.

    `schema` is what the `# yaml-language-server: $schema=` line points at; by default
    the copy of the schema the export writes beside the files. `portable`: objects
    identified by what another account can have too where a kind can (an asset by its
    reference_id when no other asset has it), else by their own ids. Raises InvalidInput
    (exit 3) when `out_dir` holds anything but an earlier export, Refused (exit 4) when
    files of an earlier export were edited since (unless `force`).
    """
    check_out_dir(out_dir, force=force)  # before any API call: a refusal costs nothing
    account = read_account(client, parallelism=parallelism)
    return write_export(account, out_dir, schema=schema, portable=portable, fmt=fmt, force=force)


def read_account(
    client: CincopaClient, *, parallelism: int = 8, page_size: int = DEFAULT_PAGE_SIZE
) -> Account:
    """Every object of every kind, from listings that held still while they were read
    (an upload during the export would otherwise drop an asset silently)."""
    every = kinds()
    with (
        reader_for(client, parallelism, page_size) as reader,
        ThreadPoolExecutor(max_workers=len(every)) as per_kind,
    ):
        futures = {k.name: per_kind.submit(k.export_read, reader) for k in every}
        return Account({name: future.result() for name, future in futures.items()})


def write_export(
    account: Account,
    out_dir: Path,
    *,
    schema: str | None = None,
    portable: bool = True,
    fmt: str = "yaml",
    force: bool = False,
) -> ExportResult:
    """Write the manifests of `account` into `out_dir` (see the module's rules)."""
    earlier = check_out_dir(out_dir, force=force)
    try:
        (out_dir / RECORD_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"{out_dir}: cannot create: {exc.strerror}") from None
    if schema is None:
        write_atomic(out_dir / SCHEMA_COPY, schema_text("manifest"), mode=0o644)
    schema_line = f"# yaml-language-server: $schema={schema or SCHEMA_COPY}\n"
    sink = ExportSink()
    texts: dict[str, str] = {}
    counts: dict[str, int] = {}
    for kind in kinds():
        entries = kind.export_entries(account.objects.get(kind.name, []), sink, portable=portable)
        counts[kind.name] = len(entries)
        texts.update(_files_of(kind, entries, schema_line))
    if fmt == "json":
        texts = {_json_name(name): _as_json(name, text) for name, text in texts.items()}
    written = []
    for name, text in texts.items():
        write_atomic(out_dir / name, text, mode=0o644)  # manifests hold no secret: shared
        written.append(out_dir / name)
    removed = [path for path in earlier if path.name not in texts]
    for path in removed:
        path.unlink(missing_ok=True)
    _write_record(out_dir, texts)
    return ExportResult(
        out_dir=out_dir,
        files=tuple(written),
        counts=counts,
        variables=tuple(Variable(name, purpose) for name, purpose in sink.variables),
        skipped=tuple(sink.skipped),
        removed=tuple(removed),
    )


def _files_of(kind: Kind, entries: list[str], schema_line: str) -> dict[str, str]:
    if kind.export_per_file is None:
        return {
            f"{kind.plural}.yaml": _file(
                schema_line, kind.export_note("", len(entries)), kind.plural, entries
            )
        }
    chunks = list(_chunks(entries, kind.export_per_file))
    width = max(3, len(str(len(chunks))))
    files, first = {}, 0
    for number, chunk in enumerate(chunks, start=1):
        span = f"{first + 1:,} to {first + len(chunk):,}" if chunk else "none"
        note = kind.export_note(span, len(entries))
        files[f"{kind.plural}-{number:0{width}d}.yaml"] = _file(
            schema_line, note, kind.plural, chunk
        )
        first += len(chunk)
    return files


# -- the output directory -------------------------------------------------------------


def _export_name() -> re.Pattern[str]:
    names = "|".join(
        re.escape(k.plural) + (r"-\d{3,}" if k.export_per_file is not None else "") for k in kinds()
    )
    return re.compile(rf"(?:{names})\.(?:yaml|json)\Z")


def check_out_dir(out_dir: Path, *, force: bool = False) -> list[Path]:
    """The files of an earlier export in `out_dir` (to be replaced). InvalidInput when it
    holds anything else (hidden entries aside) or is not a directory; Refused when files
    of the earlier export were edited or deleted since it wrote them, or it kept no
    record of them (unless `force`)."""
    if not out_dir.exists():
        if out_dir.is_symlink():
            raise InvalidInput(f"{out_dir}: a dangling symbolic link, not a directory")
        return []
    if not out_dir.is_dir():
        raise InvalidInput(f"{out_dir}: not a directory")
    recorded = _read_record(out_dir)
    ours = _export_name()
    earlier, foreign, edited = [], [], []
    for entry in sorted(os.scandir(out_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        is_file = entry.is_file(follow_symlinks=False)
        if is_file and entry.name in recorded:
            earlier.append(path)
            if _digest(path) != recorded[entry.name]:
                edited.append(f"{entry.name} (changed)")
        elif is_file and ours.match(path.name) and _has_header(path):
            earlier.append(path)
            edited.append(f"{entry.name} (no record of what export wrote)")
        else:
            foreign.append(entry.name)
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise InvalidInput(
            f"{out_dir} holds files an export did not write ({shown}): export into a new or "
            "empty directory, or one that holds only an earlier export"
        )
    present = {path.name for path in earlier}
    edited += [f"{name} (deleted)" for name in sorted(recorded) if name not in present]
    if edited and not force:
        raise Refused(
            f"{out_dir}: files of the earlier export were edited since it wrote them: "
            f"{', '.join(edited)}; nothing was written. Export into a new directory, or "
            "give --force to overwrite the edits"
        )
    return earlier


def _has_header(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return any(line.startswith(HEADER_MARK) for line in head.splitlines()[:3])


# -- the record of what an export wrote ---------------------------------------------------

RECORD_DIR = ".cincopa-sync"
RECORD = f"{RECORD_DIR}/export.json"
SCHEMA_COPY = f"{RECORD_DIR}/manifest.schema.json"
_RECORD_FORMAT = "cincopa-sync export record"


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_record(out_dir: Path) -> dict[str, str]:
    """File name -> sha256 of what the last export wrote; {} when there is no record."""
    path = out_dir / RECORD
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("format") != _RECORD_FORMAT:
            raise ValueError("not a record")
        files = record["files"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise ValueError("bad files")
        return dict(files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            f"{path}: damaged; it records what an earlier export wrote: restore it from "
            "version control, or export into a new directory"
        ) from None


def _write_record(out_dir: Path, texts: Mapping[str, str]) -> None:
    record = {
        "format": _RECORD_FORMAT,
        "format_version": 1,
        "tool_version": __version__,
        "files": {
            name: hashlib.sha256(text.encode("utf-8")).hexdigest()
            for name, text in sorted(texts.items())
        },
    }
    write_atomic(out_dir / RECORD, json.dumps(record, indent=2) + "\n", mode=0o644)


# -- files ------------------------------------------------------------------------------


def _chunks(texts: list[str], per_file: int) -> Iterable[list[str]]:
    """Entries in files of at most `per_file` entries and MAX_EXPORT_FILE_BYTES; at least
    one file, so an account without any still says so."""
    chunk: list[str] = []
    size = 0
    for text in texts:
        grown = size + len(text.encode("utf-8"))
        if chunk and (len(chunk) == per_file or grown > MAX_EXPORT_FILE_BYTES):
            yield chunk
            chunk, grown = [], len(text.encode("utf-8"))
        chunk.append(text)
        size = grown
    yield chunk


def _json_name(name: str) -> str:
    return name.removesuffix(".yaml") + ".json"


def _as_json(name: str, text: str) -> str:
    """A file's YAML text as JSON: parsed by the loader's parser, so the values are
    exactly those the YAML form gives (variables and `$${` as written)."""
    doc = parse_yaml(text, name)
    if doc.problems:  # what export writes always reads back: a bug, not an input error
        raise AssertionError(f"export wrote YAML it cannot read: {doc.problems[0]}")
    return manifest_json(doc.root)


def _file(schema_line: str, notes: str, key: str, entries: list[str]) -> str:
    head = (
        schema_line
        + HEADER_MARK
        + " Exporting again refuses to overwrite edits (see .cincopa-sync/).\n"
        + notes
        + "version: 1\n"
    )
    if not entries:
        return head + f"{key}: []\n"
    return head + f"{key}:\n" + "".join(entries)
