"""Hostile manifests through `cincopa-sync plan`: each is refused with exit 3 and the place
of the problem, before a single API call (the emulator's log stays empty), in well under a
second (a safety bound on the CLI's own wall time, not a benchmark).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import Served
from support import REPO

from cincopa_sync import files
from cincopa_sync.engine.export import MAX_EXPORT_FILE_BYTES
from cincopa_sync.kinds import get
from cincopa_sync.manifest import yamlload


def billion_laughs(path: Path) -> Path:
    lines = ['l0: &l0 "lol"']
    for n in range(1, 10):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    path.write_text("\n".join(lines) + "\nassets: []\n", encoding="utf-8")
    return path


def over_the_cap(path: Path) -> Path:
    with open(path, "wb") as handle:  # sparse: the size is there, the bytes are not
        handle.write(b"assets: []\n")
        handle.truncate(yamlload.MAX_FILE_BYTES + 1)
    return path


def deep(path: Path) -> Path:
    path.write_text("assets: " + "[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    return path


def symlink_loop(path: Path) -> Path:
    root = path.parent / "loop"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.yaml").write_text("assets: []\n", encoding="utf-8")
    os.symlink("..", root / "sub" / "up")  # a directory loop: followed once
    os.symlink("b.yaml", root / "a.yaml")  # a file loop: cannot be read
    os.symlink("a.yaml", root / "b.yaml")
    return root


def not_utf8(path: Path) -> Path:
    path.write_bytes("assets:\n  - rid: A1\n    caption: Café\n".encode("latin-1"))
    return path


def api_settings(path: Path) -> Path:
    path.write_text(
        "api_url: https://attacker.example/v2/\n"
        "token: stolen\n"
        "api_token: stolen\n"
        "portals:\n"
        "  - subdomain: acme\n"
        "    settings: {api_token: stolen}\n",
        encoding="utf-8",
    )
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "billion laughs": (billion_laughs, r"bad\.yaml:1:5: anchors .*are not allowed"),
    "over the size cap": (
        over_the_cap,
        r"bad\.yaml:1:1: file is larger than the 64 MiB limit for a manifest",
    ),
    "deep nesting": (deep, r"bad\.yaml:1:40: nesting is deeper than 32 levels"),
    "symlink loop": (symlink_loop, r"loop/a\.yaml:1:1: cannot read: Too many levels of symbolic"),
    "not UTF-8": (not_utf8, r"bad\.yaml:3:17: invalid UTF-8 byte 0xe9"),
    "api base and token": (api_settings, r"bad\.yaml:1:1: unknown top-level key 'api_url'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_manifest_exit_3_with_a_place_no_call_fast(
    case: str, run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    make, expected = CASES[case]
    target = make(tmp_path / "bad.yaml")
    result = run("plan", target, *served.args, env=served.env)
    assert result.exit_code == 3, result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert result.stderr.rstrip().endswith("nothing was planned or applied")
    assert result.stdout == ""
    assert served.emulator.calls == []
    assert result.elapsed < 1.0  # type: ignore[attr-defined]


def test_every_api_setting_in_a_manifest_is_named(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    result = run("plan", api_settings(tmp_path / "bad.yaml"), *served.args, env=served.env)
    assert result.exit_code == 3
    places = re.findall(r"bad\.yaml:(\d+:\d+): (.*)", result.stderr)
    assert places == [
        ("1:1", "unknown top-level key 'api_url'"),
        ("2:1", "unknown top-level key 'token'"),
        ("3:1", "unknown top-level key 'api_token'"),
        ("6:16", "settings.api_token is not allowed"),
    ]
    assert served.emulator.calls == []


def test_an_unreadable_file(
    run: Callable[..., Result], served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("assets: []\n", encoding="utf-8")
    if os.geteuid() == 0:  # root reads a chmod 000 file: make opening it fail as it would
        real_open = os.open

        def refuse(file: str, *args: object, **kwargs: object) -> int:
            if os.fspath(file) == str(path):
                raise PermissionError(13, "Permission denied", file)
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(files.os, "open", refuse)
    else:
        path.chmod(0)
    result = run("plan", path, *served.args, env=served.env)
    assert result.exit_code == 3
    assert f"{path}:1:1: cannot read: Permission denied" in result.stderr
    assert served.emulator.calls == []
    assert result.elapsed < 1.0  # type: ignore[attr-defined]


def test_a_manifest_cannot_read_the_api_token(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("assets:\n  - rid: RID_A_000001\n    caption: ${CINCOPA_API_TOKEN}\n")
    result = run("plan", path, "--format", "markdown", *served.args, env=served.env)
    assert served.token not in result.stdout + result.stderr
    assert result.exit_code == 3
    assert re.search(r"bad\.yaml:3:14: .*CINCOPA_API_TOKEN", result.stderr)
    assert served.emulator.calls == []


def test_the_size_cap_is_documented_and_far_above_what_export_writes() -> None:
    cap = yamlload.MAX_FILE_BYTES
    assert cap == 64 * 1024 * 1024
    manifest_doc = (REPO / "docs" / "manifest.md").read_text(encoding="utf-8")
    assert "a file larger than 64 MiB is refused before it is read" in manifest_doc
    # export starts a new file after 5,000 entries (about 2 MB) or a quarter of the cap
    assert get("asset").export_per_file == 5_000 and cap >= MAX_EXPORT_FILE_BYTES * 4
