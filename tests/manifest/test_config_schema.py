"""schemas/config.schema.json: a valid draft 2020-12 schema, shipped with the package,
describing every key, and accepting the example config."""

from __future__ import annotations

import json

import yaml
from jsonschema import Draft202012Validator
from support import REPO

from cincopa_sync.manifest.config import load_config
from cincopa_sync.resources import schema_path

EXAMPLE = REPO / "examples" / "environments" / "cincopa-sync.yaml"


def schema() -> dict:
    return json.loads(schema_path("config.schema.json").read_text(encoding="utf-8"))


def test_the_schema_is_valid_draft_2020_12() -> None:
    config = schema()
    Draft202012Validator.check_schema(config)
    assert config["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert config["$id"]


def test_every_key_has_a_description() -> None:
    config = schema()
    environment = config["$defs"]["environment"]["properties"]
    described = {**config["properties"], **environment}
    assert sorted(described) == sorted(
        ["version", "environments", "manifests", "account", "api_url", "vars"]
    )
    assert [k for k, sub in described.items() if not sub.get("description")] == []


def test_the_example_config_is_valid_and_loads() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema()).iter_errors(data)) == []
    config = load_config(str(EXAMPLE))
    staging = config.environment("staging")
    assert staging.account == "300001"
    assert staging.layers == (str(EXAMPLE.parent / "base"), str(EXAMPLE.parent / "staging"))
    assert staging.variables["PORTAL"] == "acme-videos-staging"
