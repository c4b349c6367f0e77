"""The bad-input catalog: one folder per rule under cases/, run with both parsers.

Each folder holds the manifest(s), an optional env.txt (NAME=value lines) and
expected.txt: the exact `file:line:col: message` lines a load reports (the warnings,
for a case that loads). Regenerate with `pytest --update-golden` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _env(case: Path) -> dict[str, str]:
    env_file = case / "env.txt"
    if not env_file.exists():
        return {}
    pairs = (line.partition("=") for line in env_file.read_text().splitlines() if line)
    return {name: value for name, _, value in pairs}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name: str, parser: str, in_dir, problems_of, update_golden: bool) -> None:
    case = CASES / name
    in_dir(case)
    # The case's own files are not manifests (and are said so): leave those lines out.
    own = ("expected.txt:", "env.txt:")
    actual = [line for line in problems_of(["."], _env(case)) if not line.startswith(own)]
    expected_file = case / "expected.txt"
    if update_golden:
        expected_file.write_text("".join(line + "\n" for line in actual), encoding="utf-8")
        return
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert actual == expected
    assert actual, "a case must report something"


def test_every_case_has_its_expectation() -> None:
    assert len(CASE_NAMES) >= 30
    for name in CASE_NAMES:
        assert (CASES / name / "expected.txt").is_file(), name
