"""Hypothesis: an edit of a saved plan, anywhere in it, either is refused (exit 3 or 4)
with nothing written, or changes nothing: apply then makes exactly the writes of the
untouched plan. Never another exit code (no "internal error"), never another write.

The edits: a value replaced (by null, booleans, numbers, text, lists, objects, a secret
reference, a tagged value), a key or an item removed, a key added, an item repeated; the
checksum made to match again most of the time (as anyone who can write the file can),
or left as it was. The plan is of the reliability account, whose prune stays under the
delete threshold, so `allow_deletes` changes nothing there.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, event, given
from hypothesis import strategies as st
from reliability_helpers import MANIFEST, SEED, Served
from saved_plan_helpers import apply_saved, load, save, write, writes
from support import invoke, reproducible

from cincopa_sync.emulator import Emulator
from cincopa_sync.emulator.server import EmulatorServer

Path_ = tuple[object, ...]

REPLACEMENTS = [
    None,
    True,
    False,
    0,
    -1,
    7,
    1.5,
    "",
    "x",
    "s1",
    "portal",
    "portal.remove",
    "asset.set_meta",
    [],
    [["subdomain", "keep-me"]],
    {},
    {"secret": "s1"},
    {"secret": "s2"},
    {"secret": "s99"},
    {"tuple": []},
    {"dict": {}},
    {"from": "live", "kind": "portal", "digest": "0" * 64},
]


def paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every place in the document (the root excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def parent_of(document: Any, path: Path_) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    return node


@st.composite
def edits(draw: st.DrawFn, document: dict[str, Any]) -> tuple[dict[str, Any], bool, str]:
    """An edited copy of the document, whether its checksum was fixed, and what was done."""
    edited = copy.deepcopy(document)
    places = list(paths(edited))
    path = draw(st.sampled_from(places))
    parent, last = parent_of(edited, path), path[-1]
    how = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add", "repeat"]))
    if how == "replace":
        value = draw(st.sampled_from(REPLACEMENTS))
        parent[last] = copy.deepcopy(value)  # type: ignore[index]
        done = f"{path} = {value!r}"
    elif how == "remove":
        del parent[last]  # type: ignore[arg-type]
        done = f"del {path}"
    elif how == "add" and isinstance(parent, dict):
        parent["extra"] = draw(st.sampled_from(REPLACEMENTS))
        done = f"{path[:-1]} + extra"
    elif isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))  # type: ignore[arg-type]
        done = f"{path} repeated"
    else:
        parent[last] = copy.deepcopy(parent[last])  # type: ignore[index]
        done = f"{path} unchanged"
    fix = draw(st.booleans()) or draw(st.booleans())  # three times in four
    return edited, fix, done + ("" if fix else " (checksum left)")


def fresh(server: EmulatorServer) -> Served:
    emulator = Emulator(json.loads(json.dumps(SEED)))
    server.httpd.emulator = emulator
    return Served(emulator, server.base_url)


@pytest.fixture(scope="module")
def plan_and_writes(
    tmp_path_factory: pytest.TempPathFactory, server: EmulatorServer
) -> tuple[dict[str, Any], Counter[str], Path, EmulatorServer]:
    """The untouched plan's document and the writes its apply makes, once."""
    work = tmp_path_factory.mktemp("fuzz")
    manifest = work / "manifests" / "account.yaml"
    manifest.parent.mkdir()
    manifest.write_text(MANIFEST, encoding="utf-8")
    path = save(invoke, fresh(server), manifest, work / "plan.json")
    served = fresh(server)
    result = apply_saved(invoke, served, path)
    assert result.exit_code == 0, result.output
    return load(path), writes(served), work, server


@reproducible(200, HealthCheck.function_scoped_fixture)
@given(data=st.data())
def test_every_edit_is_refused_with_nothing_written_or_changes_nothing(
    data: st.DataObject,
    plan_and_writes: tuple[dict[str, Any], Counter[str], Path, EmulatorServer],
    run: Callable[..., Result],
) -> None:
    document, untouched_writes, work, server = plan_and_writes
    edited, fix, done = data.draw(edits(document))
    path = work / "edited.json"
    if fix:
        write(path, edited)
    else:
        path.write_text(json.dumps(edited, indent=2, ensure_ascii=False) + "\n")
    served = fresh(server)
    result = apply_saved(run, served, path)
    event(f"exit {result.exit_code}")
    if result.exit_code in (3, 4):
        assert served.emulator.writes() == [], done
    else:
        assert result.exit_code == 0, (done, result.exit_code, result.output)
        assert writes(served) == untouched_writes, done  # the edit changed nothing
    assert "internal error" not in result.output, (done, result.output)
