"""Files shipped with the package: the JSON Schemas (the API's response shapes in
schemas/api/ among them) and the emulator's demo account.

They live at the top of the repository (schemas/, examples/emulator/) and are installed
as the packages cincopa_sync.schemas and cincopa_sync.demo (see pyproject.toml). Running
from a source checkout without installing finds them in the checkout instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_IN_CHECKOUT = {
    "cincopa_sync.schemas": Path(__file__).resolve().parent.parent / "schemas",
    "cincopa_sync.demo": Path(__file__).resolve().parent.parent / "examples" / "emulator",
}


def _path(package: str, name: str, *, folder: bool = False) -> Path:
    try:
        candidate = resources.files(package).joinpath(name)
        if candidate.is_dir() if folder else candidate.is_file():
            return Path(str(candidate))
    except ModuleNotFoundError:
        pass
    return _IN_CHECKOUT[package] / name


def schema_path(name: str) -> Path:
    """schemas/<name>, e.g. "manifest.schema.json"."""
    return _path("cincopa_sync.schemas", name)


# The schemas `cincopa-sync schema NAME` writes: NAME -> what it describes.
SCHEMAS = {
    "manifest": "the manifest files",
    "plan": "plan --format json",
    "apply-report": "apply --report FILE",
}


def schema_text(name: str) -> str:
    """The text of schemas/<name>.schema.json, one of SCHEMAS."""
    if name not in SCHEMAS:
        raise KeyError(name)
    return schema_path(f"{name}.schema.json").read_text(encoding="utf-8")


def api_schema_dir() -> Path:
    """schemas/api/: the shape of each answer the client reads, one file per endpoint."""
    return _path("cincopa_sync.schemas", "api", folder=True)


def demo_account_path() -> Path:
    return _path("cincopa_sync.demo", "demo-account.json")
