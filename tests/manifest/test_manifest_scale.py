"""Validation is linear in the input, errors included, and the error list is capped.

Timing would make a flaky test (the figures are in bench/validation_bench.py): instead
every mapping of the parsed tree counts the keys anything walks over, and the count must
grow with the input, not with its square.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from cincopa_sync.errors import SHOWN_PROBLEMS, InvalidInput
from cincopa_sync.manifest import load_manifests, yamlload


class CountingDict(yamlload.PosDict):
    """A PosDict that counts every key any loop over it visits."""

    __slots__ = ()
    visited = 0

    def __iter__(self) -> Iterator[str]:
        for key in super().__iter__():
            CountingDict.visited += 1
            yield key


def keys_walked(path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many mapping keys loading `path` walked over, every walk counted."""
    monkeypatch.setattr(yamlload, "PosDict", CountingDict)
    CountingDict.visited = 0
    with contextlib.suppress(InvalidInput):
        load_manifests([str(path)], {})
    return CountingDict.visited


CASES: dict[str, Callable[[int], str]] = {
    "unknown top-level keys": lambda n: "".join(f"key_{i}: 1\n" for i in range(n)),
    "unknown keys in one asset": lambda n: (
        "assets:\n  - rid: A1\n" + "".join(f"    key_{i}: 1\n" for i in range(n))
    ),
    "numeric portal settings": lambda n: (
        "portals:\n  - subdomain: p\n    settings:\n"
        + "".join(f"      s{i}: {i}.5\n" for i in range(n))
    ),
    "duplicate keys": lambda n: (
        "assets:\n  - rid: A1\n" + "".join(f"    key_{i}: 1\n    key_{i}: 2\n" for i in range(n))
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_work_of_validation_grows_linearly(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cincopa-sync validate top.yaml, 10k unknown top-level keys: 5 s, 20k: 16 s, 40k:
    56 s; 40k unknown keys inside one asset: 52 s; a valid portal with 20k numeric
    settings: 14 s. Each position lookup scanned its mapping (yamlload._index_of), so
    n keys cost n * n / 2 steps: 2,000 of them 2 million, against 10 * n now."""
    walked = {}
    for n in (500, 2000):
        path = tmp_path / f"{n}.yaml"
        path.write_text(CASES[case](n), encoding="utf-8")
        walked[n] = keys_walked(path, monkeypatch)
    assert walked[2000] <= 10 * 2000, walked
    assert walked[2000] <= 5 * walked[500] + 100, walked  # 4 times the input, not 16


def test_the_error_list_is_capped_and_says_how_many_were_left_out(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """With 100,000 errors, every one used to be printed: the first real mistake was
    buried under 100,000 lines."""
    path = tmp_path / "typos.yaml"
    path.write_text("".join(f"key_{i:04d}: 1\n" for i in range(1000)), encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == SHOWN_PROBLEMS + 2
    assert lines[0] == f"{path}:1:1: unknown top-level key 'key_0000'"
    assert lines[SHOWN_PROBLEMS - 1].endswith(f"'key_{SHOWN_PROBLEMS - 1:04d}'")
    assert (
        lines[-2] == f"... and {1000 - SHOWN_PROBLEMS:,} more not shown (fix these, then run again)"
    )
    assert lines[-1] == "1000 error(s) in 1 file(s); nothing was planned or applied"
