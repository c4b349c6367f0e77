"""The live account as manifest files (`cincopa-sync export`).

Reads every asset (the listing, pages fetched concurrently), the portals and the webhooks,
and writes `assets-001.yaml`, `assets-002.yaml`, ... (at most ASSETS_PER_FILE entries
each), `portals.yaml` and `webhooks.yaml`, in a stable order, so that `plan` of the
export against the same account shows no changes. Secrets are written as `${NAME}`
references with a comment naming the variable, never as values.

The output directory must be new, empty, or hold only an earlier export (files with our
names that start with our header); hidden entries (`.git`, `.gitkeep`) are left alone.
Anything else there is refused before a single API call, so an export never overwrites
hand-written manifests. Each file is written atomically; files of an earlier export that
this one no longer needs (fewer asset files) are removed after every write succeeded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cincopa_sync.api.client import DEFAULT_PAGE_SIZE, CincopaClient
from cincopa_sync.errors import InvalidInput
from cincopa_sync.export_entries import Entries, asset_entry, portal_entry, webhook_entries
from cincopa_sync.files import write_atomic
from cincopa_sync.live import read_all_assets
from cincopa_sync.manifest.yamlload import MAX_FILE_BYTES
from cincopa_sync.resources import schema_path

ASSETS_PER_FILE = 5_000
# A file is also closed before it grows past this, whatever its entry count: far below the
# loader's cap even for assets with very long descriptions.
MAX_EXPORT_FILE_BYTES = MAX_FILE_BYTES // 4
HEADER_MARK = "# Written by cincopa-sync export."
_EXPORT_NAME = re.compile(r"(?:assets-\d{3,}|portals|webhooks)\.yaml\Z")
_PRUNE_NOTE = (
    "# prune is not written: an export describes objects. To delete live {kind} that no\n"
    "# manifest names, add `prune: {{{kind}: true}}` yourself (see docs/manifest.md).\n"
)


@dataclass(frozen=True)
class Variable:
    """An environment variable the exported manifests read: set it before `plan`."""

    name: str
    purpose: str  # never the secret itself


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: tuple[Path, ...]
    counts: Mapping[str, int]  # written entries: assets, portals, webhooks
    variables: tuple[Variable, ...] = ()
    skipped: tuple[str, ...] = ()  # live objects a manifest cannot describe, and why
    removed: tuple[Path, ...] = ()  # files of an earlier export no longer needed


@dataclass
class Account:
    """The live account as the client reads it (canonical values), in no particular order."""

    assets: list[dict[str, object]] = field(default_factory=list)
    portals: list[dict[str, object]] = field(default_factory=list)
    webhooks: list[dict[str, object]] = field(default_factory=list)


def export_account(
    client: CincopaClient,
    out_dir: Path,
    *,
    parallelism: int = 8,
    schema: str | None = None,
) -> ExportResult:
    """Read the whole account and write it as manifests into `out_dir`.

    `schema` is what the `# yaml-language-server: $schema=` line points at; by default
    the relative path from `out_dir` to the schema file this installation ships.
    Raises InvalidInput (exit 3) when `out_dir` holds anything but an earlier export.
    """
    check_out_dir(out_dir)  # before any API call: a refusal costs nothing
    account = read_account(client, parallelism=parallelism)
    return write_export(account, out_dir, schema=schema)


def read_account(
    client: CincopaClient, *, parallelism: int = 8, page_size: int = DEFAULT_PAGE_SIZE
) -> Account:
    """Every asset, portal and webhook, from listings that held still while they were
    read (an upload during the export would otherwise drop an asset silently)."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        portals = pool.submit(client.list_portals)
        hooks = pool.submit(client.list_webhooks)
        assets = read_all_assets(client, pool, page_size=page_size)
        return Account(assets, portals.result(), hooks.result())


def write_export(account: Account, out_dir: Path, *, schema: str | None = None) -> ExportResult:
    """Write the manifests of `account` into `out_dir` (see the module's rules)."""
    earlier = check_out_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"{out_dir}: cannot create: {exc.strerror}") from None
    schema_line = f"# yaml-language-server: $schema={schema or default_schema_ref(out_dir)}\n"
    skipped: list[str] = []

    assets = Entries()
    for asset in sorted(account.assets, key=lambda a: str(a["rid"])):
        assets.add(asset_entry(asset), skipped)
    portals = Entries()
    for portal in sorted(account.portals, key=lambda p: str(p["subdomain"])):
        portals.add(portal_entry(portal), skipped)
    hooks, variables = webhook_entries(account.webhooks, skipped)

    texts: dict[str, str] = {}
    chunks = list(_asset_chunks(assets.texts))
    width = max(3, len(str(len(chunks))))
    first = 0
    for number, chunk in enumerate(chunks, start=1):
        span = f"{first + 1:,} to {first + len(chunk):,}" if chunk else "none"
        texts[f"assets-{number:0{width}d}.yaml"] = _file(
            schema_line,
            f"# Assets {span} of {len(assets.texts):,}, by rid. Every managed field is written;\n"
            "# remove a field's line to stop managing it (assets are never created or deleted).\n",
            "assets",
            chunk,
        )
        first += len(chunk)
    texts["portals.yaml"] = _file(
        schema_line, _PRUNE_NOTE.format(kind="portals"), "portals", portals.texts
    )
    texts["webhooks.yaml"] = _file(
        schema_line, _PRUNE_NOTE.format(kind="webhooks"), "webhooks", hooks.texts
    )

    written = []
    for name, text in texts.items():
        _write_atomic(out_dir / name, text)
        written.append(out_dir / name)
    removed = [path for path in earlier if path.name not in texts]
    for path in removed:
        path.unlink(missing_ok=True)
    return ExportResult(
        out_dir=out_dir,
        files=tuple(written),
        counts={
            "assets": len(assets.texts),
            "portals": len(portals.texts),
            "webhooks": len(hooks.texts),
        },
        variables=tuple(Variable(name, purpose) for name, purpose in variables),
        skipped=tuple(skipped),
        removed=tuple(removed),
    )


# -- the output directory -------------------------------------------------------------


def check_out_dir(out_dir: Path) -> list[Path]:
    """The files of an earlier export in `out_dir` (to be replaced); InvalidInput when it
    holds anything else (hidden entries aside) or is not a directory."""
    if not out_dir.exists():
        if out_dir.is_symlink():
            raise InvalidInput(f"{out_dir}: a dangling symbolic link, not a directory")
        return []
    if not out_dir.is_dir():
        raise InvalidInput(f"{out_dir}: not a directory")
    earlier, foreign = [], []
    for entry in sorted(os.scandir(out_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_file(follow_symlinks=False) and _is_export_file(path):
            earlier.append(path)
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
    return earlier


def _is_export_file(path: Path) -> bool:
    if not _EXPORT_NAME.match(path.name):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return any(line.startswith(HEADER_MARK) for line in head.splitlines()[:3])


def default_schema_ref(out_dir: Path) -> str:
    """The schema this installation ships, relative to `out_dir` (how editors resolve it)."""
    target = schema_path("manifest.schema.json").resolve()
    try:
        return Path(os.path.relpath(target, out_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return target.as_uri()


# -- files ------------------------------------------------------------------------------


def _asset_chunks(texts: list[str]) -> Iterable[list[str]]:
    """Entries in files of at most ASSETS_PER_FILE entries and MAX_EXPORT_FILE_BYTES; at
    least one file, so an account without assets still says so."""
    chunk: list[str] = []
    size = 0
    for text in texts:
        grown = size + len(text.encode("utf-8"))
        if chunk and (len(chunk) == ASSETS_PER_FILE or grown > MAX_EXPORT_FILE_BYTES):
            yield chunk
            chunk, grown = [], len(text.encode("utf-8"))
        chunk.append(text)
        size = grown
    yield chunk


def _file(schema_line: str, notes: str, key: str, entries: list[str]) -> str:
    head = (
        schema_line
        + HEADER_MARK
        + " Exporting again into this directory rewrites it.\n"
        + notes
        + "version: 1\n"
    )
    if not entries:
        return head + f"{key}: []\n"
    return head + f"{key}:\n" + "".join(entries)


def _write_atomic(path: Path, text: str) -> None:
    write_atomic(path, text, mode=0o644)  # manifests hold no secret and are shared
