"""export never loses edits, and the schema reference it writes works once committed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result
from jsonschema import Draft202012Validator
from support import Served

Run = Callable[..., Result]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_export_again_refuses_after_an_edit_then_force_overwrites(
    run: Run, served: Served, tmp_path: Path
) -> None:
    out = tmp_path / "manifests"
    first = run("export", "--out", out, *served.args, env=served.env)
    assert first.exit_code == 0, first.stderr
    exported = _snapshot(out)

    # What a user does next: a new portal with an earlier name, prune on, a file removed.
    portals = out / "portals.yaml"
    portals.write_text(
        portals.read_text(encoding="utf-8")
        + '  - subdomain: "acme-new"\n    previously: ["acme-old"]\n    name: "New"\n'
        + "prune:\n  portals: true\n",
        encoding="utf-8",
    )
    (out / "webhooks.yaml").unlink()
    edited = _snapshot(out)
    calls_before = sum(served.counts().values())

    again = run("export", "--out", out, *served.args, env=served.env)
    assert again.exit_code == 4, again.stdout + again.stderr
    assert "portals.yaml (changed)" in again.stderr
    assert "webhooks.yaml (deleted)" in again.stderr
    assert "assets-001.yaml" not in again.stderr  # not edited: not named
    assert "--force" in again.stderr
    assert _snapshot(out) == edited  # nothing written
    assert sum(served.counts().values()) == calls_before  # refused before any API call

    forced = run("export", "--out", out, "--force", *served.args, env=served.env)
    assert forced.exit_code == 0, forced.stderr
    assert _snapshot(out) == exported
    # and the forced export is recorded: the next one goes through again
    assert run("export", "--out", out, *served.args, env=served.env).exit_code == 0


def test_the_schema_reference_works_once_committed_elsewhere(
    run: Run, served: Served, tmp_path: Path
) -> None:
    out = tmp_path / "work" / "manifests"
    result = run("export", "--out", out, *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    # Committed and cloned: the directory moves, the virtualenv stays behind.
    clone = tmp_path / "clone" / "cincopa"
    shutil.copytree(out, clone)
    shutil.rmtree(tmp_path / "work")

    printed = run("schema")
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    Draft202012Validator.check_schema(schema)
    files = sorted(clone.glob("*.yaml"))
    assert len(files) == 3
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        ref = first.removeprefix("# yaml-language-server: $schema=")
        assert ref != first and not Path(ref).is_absolute()
        assert "site-packages" not in ref and ".venv" not in ref and ".." not in ref
        target = path.parent / ref
        assert json.loads(target.read_text(encoding="utf-8")) == schema
        # and it describes the file that points at it
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert list(Draft202012Validator(schema).iter_errors(document)) == []

    written = tmp_path / "schemas" / "manifest.schema.json"
    (tmp_path / "schemas").mkdir()
    assert run("schema", "--out", written).exit_code == 0
    assert json.loads(written.read_text(encoding="utf-8")) == schema
