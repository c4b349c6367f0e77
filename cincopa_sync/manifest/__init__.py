"""Manifests: strict YAML with positions, interpolation, schema and semantic checks, the model.

The one entry point is `load_manifests(paths, env)`.
"""

from cincopa_sync.manifest.loader import load_manifests
from cincopa_sync.manifest.schema import SCHEMA_PATH, load_schema
from cincopa_sync.manifest.yamlload import MAX_DEPTH, MAX_FILE_BYTES, position_of

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "SCHEMA_PATH",
    "load_manifests",
    "load_schema",
    "position_of",
]
