"""`show PLANFILE`: a saved plan rendered exactly as `plan` rendered it, with no API call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import EXAMPLES, Served


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_renders_the_saved_plan_as_plan_did_without_calling_the_api(
    run: Callable[..., Result], served: Served, tmp_path: Path, fmt: str
) -> None:
    # A warning (an unknown event) and a --target, so both must survive the file.
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for source in EXAMPLES.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        text = text.replace("gallery.created]", "gallery.creatd]")
        (manifests / source.name).write_text(text, encoding="utf-8")
    saved = tmp_path / "plan.json"
    args = ["plan", manifests, "--target", "asset.*", "--target", "webhook.*", *served.args]
    planned = run(*args, "--format", fmt, "--out", saved, env=served.env)
    assert planned.exit_code == 0, planned.stderr
    assert "gallery.creatd" in planned.stdout and "left" in planned.stdout
    calls = sum(served.counts().values())

    shown = run("show", saved, "--format", fmt)  # no token, no API URL: nothing to call
    assert shown.exit_code == 0, shown.stderr
    assert sum(served.counts().values()) == calls
    if fmt == "text":
        first, rest = shown.stdout.split("\n", 1)
        assert first == f"Saved plan {saved}, made against {served.url.rstrip('/')}/."
        assert rest == planned.stdout
    else:
        assert shown.stdout == planned.stdout


def test_show_of_a_damaged_file_is_invalid_input(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"format": "cincopa-sync saved plan"', encoding="utf-8")
    result = run("show", broken)
    assert result.exit_code == 3
    assert "not a saved plan" in result.stderr
