"""The environments config, `cincopa-sync.yaml`: one repository, several accounts.

It is read as strictly as a manifest (the same YAML loader: positions, duplicate keys,
anchors and tags refused...), checked against `schemas/config.schema.json`, then for what a
schema cannot say (the manifest paths exist, an API base without a query, no variable
that only the process environment may hold). Every problem is reported at once, as
`file:line:col: message`. Nothing in it is interpolated: it says what the values are.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cincopa_sync.errors import InvalidInput, Location, Problem
from cincopa_sync.files import LocalFileError, read_bounded
from cincopa_sync.manifest.interpolate import FORBIDDEN
from cincopa_sync.manifest.schema import describe
from cincopa_sync.manifest.yamlload import (
    Document,
    PosDict,
    PosList,
    decode,
    parse_yaml,
    position_of,
)
from cincopa_sync.resources import schema_path

CONFIG_NAME = "cincopa-sync.yaml"
MAX_CONFIG_BYTES = 1024 * 1024  # a config names a few environments: far below this
ENVIRONMENTS = "environments"
MANIFESTS, ACCOUNT, API_URL, VARS = "manifests", "account", "api_url", "vars"


@dataclass(frozen=True)
class Environment:
    """One environment of the config."""

    name: str
    layers: tuple[
        str, ...
    ]  # the manifest paths, the base first, as the current directory sees them
    account: str  # the accid the token must open
    api_url: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    config: str = CONFIG_NAME  # the config file it comes from, as given


@dataclass(frozen=True)
class Config:
    path: str
    environments: Mapping[str, Environment]

    def environment(self, name: str) -> Environment:
        """The environment called `name`, or InvalidInput (exit 3) listing the names."""
        found = self.environments.get(name)
        if found is not None:
            return found
        names = sorted(self.environments)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidInput(
            f"{self.path}: no environment {name!r}{hint}; its environments are: {', '.join(names)}"
        )


def load_config(path: str | None = None) -> Config:
    """The config at `path`, or `cincopa-sync.yaml` in the current directory; InvalidInput
    listing every problem when it is missing or wrong."""
    given = path or CONFIG_NAME
    if path is None and not os.path.exists(CONFIG_NAME):
        raise InvalidInput(
            f"--env needs the environments config: there is no {CONFIG_NAME} in the current "
            "directory (give --config FILE)"
        )
    problems: list[Problem] = []
    try:
        data = read_bounded(given, MAX_CONFIG_BYTES, "the environments config")
    except LocalFileError as exc:
        raise InvalidInput([Problem(Location(given, 1, 1), exc.reason)]) from None
    text, problem = decode(data, given)
    if problem is not None:
        raise InvalidInput([problem])
    doc = parse_yaml(text, given)
    if doc.problems:
        raise InvalidInput(doc.problems)
    problems += _not_interpolated(doc)
    for error in _validator().iter_errors({} if doc.root is None else doc.root):
        problems += _describe(error, doc)
    config = _build(doc, given, problems)  # its own checks, on what the schema let through
    if problems:
        raise InvalidInput(problems)
    return config


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(schema_path("config.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=None)


def _describe(error: ValidationError, doc: Document) -> list[Problem]:
    path = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # a bad name: point at the key
        what = "environment" if path == (ENVIRONMENTS,) else "variable"
        rule = error.schema.get("description", "")
        where = position_of(doc, (*path, error.instance), key=True)
        return [Problem(where, f"{what} name {error.instance!r} is not valid: it must be {rule}")]
    if error.validator == "minProperties":
        return [Problem(position_of(doc, path), "environments must name at least one environment")]
    if path[-1:] == (API_URL,) and error.validator == "pattern":  # never echo a URL
        return [Problem(position_of(doc, path), f"{API_URL} must be an http:// or https:// URL")]
    problems = describe(error, doc, ())
    if not path:  # the messages of the manifest loader say "the manifest"
        problems = [
            Problem(p.location, p.message.replace("the manifest", "the config")) for p in problems
        ]
    return problems


def _not_interpolated(doc: Document) -> list[Problem]:
    return [
        Problem(
            doc.location(spot),
            "the config is not interpolated: write the value itself, not a ${...} reference",
        )
        for container, key, spot in doc.dollars
        if "${" in container[key].replace("$${", "")  # type: ignore[index]
    ]


def _build(doc: Document, given: str, problems: list[Problem]) -> Config:
    """The environments, checking what the schema cannot; an entry of the wrong shape (the
    schema said so already) is passed over."""
    base = os.path.dirname(given)
    environments: dict[str, Environment] = {}
    found = doc.root.get(ENVIRONMENTS) if isinstance(doc.root, PosDict) else None
    for name, entry in (found or {}).items() if isinstance(found, PosDict) else ():
        if not isinstance(entry, PosDict):
            continue
        items = entry.get(MANIFESTS)
        layers = _layers(doc, base, items, problems) if isinstance(items, PosList) else []
        api_url = entry.get(API_URL)
        if isinstance(api_url, str):
            _check_api_url(doc, entry, api_url, problems)
        variables = entry.get(VARS)
        variables = variables if isinstance(variables, PosDict) else PosDict()
        for var in variables:
            if var in FORBIDDEN:
                problems.append(
                    Problem(
                        doc.location(variables.key_spot(var)),
                        f"{var} cannot be a var: the token comes from the process environment only",
                    )
                )
        account = entry.get(ACCOUNT)
        environments[name] = Environment(
            name, tuple(layers), str(account), api_url, dict(variables), given
        )
    return Config(given, environments)


def _layers(doc: Document, base: str, items: PosList, problems: list[Problem]) -> list[str]:
    """The layers as paths from the current directory; each must exist, once."""
    seen: dict[str, int] = {}
    layers = []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            continue
        where = doc.location(items.spots[index])
        path = os.path.normpath(os.path.join(base, item))
        first = seen.setdefault(path, index)
        if first != index:
            problems.append(Problem(where, f"manifests[{index}] {item!r} is listed twice"))
        elif not os.path.exists(path):
            problems.append(Problem(where, f"manifests[{index}] {path}: no such file or directory"))
        layers.append(path)
    return layers


def _check_api_url(doc: Document, entry: PosDict, url: str, problems: list[Problem]) -> None:
    parts = urlsplit(url)
    where = doc.location(entry.value_spot(API_URL))
    if not parts.hostname:
        problems.append(Problem(where, "api_url must have a host"))
    elif parts.query or parts.fragment:
        problems.append(
            Problem(
                where,
                "api_url must not have a query string (the token comes from CINCOPA_API_TOKEN)",
            )
        )
