"""The planner, case by case, as data: tests/planner/cases/<case>/.

Each case folder holds `manifest.yaml` (loaded with load_manifests, so the whole desired
path is exercised), `live.json` (the account in API shape), an optional `options.json`
(`env`, `resend_secrets`, `targets`, and `secrets`: texts no rendering may contain) and
the expected outcome: `expected.json` (plan_to_dict of the plan) or `expected_error.txt`
(the InvalidInput lines, paths relative to the case folder). `--update-golden` rewrites
the expected files from what the planner does now: review the diff before committing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from cincopa_sync.engine.diff import PlanOptions, make_plan_for
from cincopa_sync.engine.read import LiveState
from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest import load_manifests
from cincopa_sync.plan import Plan
from cincopa_sync.render.json_format import plan_to_dict, render_json
from cincopa_sync.render.text import render_text

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "manifest.yaml").is_file())
EXPECTED = "expected.json"
EXPECTED_ERROR = "expected_error.txt"


def _options(case_dir: Path) -> dict:
    path = case_dir / "options.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _live_data(case_dir: Path) -> dict:
    return json.loads((case_dir / "live.json").read_text(encoding="utf-8"))


def _plan_case(
    case_dir: Path, make_live: Callable[[dict], LiveState], live_data: dict | None = None
) -> Plan:
    """The case's plan; the caller has chdir-ed into case_dir so locations are relative."""
    options = _options(case_dir)
    desired = load_manifests(["manifest.yaml"], options.get("env", {}))
    live = make_live(live_data if live_data is not None else _live_data(case_dir))
    plan = make_plan_for(desired, live, PlanOptions(resend_secrets=options.get("resend_secrets")))
    return plan.targeted(options.get("targets", ()))


def _outcome(case_dir: Path, make_live: Callable[[dict], LiveState], **kw: object) -> str:
    """The plan as JSON text, or "ERROR\\n" + the error lines: one string to compare."""
    try:
        plan = _plan_case(case_dir, make_live, **kw)  # type: ignore[arg-type]
    except InvalidInput as exc:
        return "ERROR\n" + _relative(str(exc), case_dir)
    return render_json(plan)


def _relative(text: str, case_dir: Path) -> str:
    return text.replace(str(case_dir) + "/", "")


@pytest.fixture
def in_case(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    def enter(case: str) -> Path:
        case_dir = CASES_DIR / case
        monkeypatch.chdir(case_dir)
        return case_dir

    return enter


@pytest.mark.parametrize("case", CASES)
def test_planner_case(
    case: str,
    in_case: Callable[[str], Path],
    make_live: Callable[[dict], LiveState],
    update_golden: bool,
) -> None:
    case_dir = in_case(case)
    expected_plan, expected_error = case_dir / EXPECTED, case_dir / EXPECTED_ERROR
    try:
        plan = _plan_case(case_dir, make_live)
    except InvalidInput as exc:
        actual_error = _relative(str(exc), case_dir) + "\n"
        if update_golden:
            expected_plan.unlink(missing_ok=True)
            expected_error.write_text(actual_error, encoding="utf-8")
            return
        assert not expected_plan.exists(), f"{case}: expected a plan, got:\n{actual_error}"
        assert actual_error == expected_error.read_text(encoding="utf-8")
        return
    actual = plan_to_dict(plan)
    if update_golden:
        expected_error.unlink(missing_ok=True)
        expected_plan.write_text(render_json(plan), encoding="utf-8")
        return
    assert not expected_error.exists(), f"{case}: expected an error, got a plan"
    assert actual == json.loads(expected_plan.read_text(encoding="utf-8"))


def test_every_case_has_exactly_one_expectation() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        present = [n for n in (EXPECTED, EXPECTED_ERROR) if (CASES_DIR / case / n).exists()]
        assert len(present) == 1, f"{case}: {present or 'no expected file'}"


@pytest.mark.parametrize("case", [c for c in CASES if (CASES_DIR / c / EXPECTED).exists()])
def test_expected_plans_validate_against_the_schema(
    case: str, plan_schema: Draft202012Validator
) -> None:
    document = json.loads((CASES_DIR / case / EXPECTED).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in plan_schema.iter_errors(document)]
    assert errors == []


def test_the_schema_rejects_what_it_should(plan_schema: Draft202012Validator) -> None:
    """A validator that accepts anything would make the test above pass for nothing."""
    good = json.loads((CASES_DIR / "portal-rename-plus-update" / EXPECTED).read_text())
    assert plan_schema.is_valid(good)
    for bad in (
        {**good, "summary": {**good["summary"], "create": -1}},
        {**good, "changes": [{**good["changes"][0], "action": "replace"}]},
        {
            **good,
            "changes": [{**good["changes"][0], "calls": [{"endpoint": "x", "params": {"n": 1}}]}],
        },
        {**good, "unmanaged": {"gallery": 2}},
        {k: v for k, v in good.items() if k != "notes"},
    ):
        assert not plan_schema.is_valid(bad)


def _secrets(case: str) -> list[str]:
    options = _options(CASES_DIR / case)
    return [*options.get("env", {}).values(), *options.get("secrets", [])]


@pytest.mark.parametrize("case", [c for c in CASES if _secrets(c)])
def test_secrets_never_in_a_rendering(
    case: str, in_case: Callable[[str], Path], make_live: Callable[[dict], LiveState]
) -> None:
    case_dir = in_case(case)
    secrets = _secrets(case)
    try:
        plan = _plan_case(case_dir, make_live)
    except InvalidInput as exc:
        texts = [str(exc)]
    else:
        texts = [render_json(plan), render_text(plan), render_text(plan, color=True)]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# -- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_same_inputs_give_byte_identical_output(
    case: str, in_case: Callable[[str], Path], make_live: Callable[[dict], LiveState]
) -> None:
    case_dir = in_case(case)
    first = _outcome(case_dir, make_live)
    second = _outcome(case_dir, make_live)
    assert first == second
    assert first.startswith(("ERROR\n", "{"))


@pytest.mark.parametrize("case", CASES)
def test_order_of_live_items_does_not_matter(
    case: str, in_case: Callable[[str], Path], make_live: Callable[[dict], LiveState]
) -> None:
    case_dir = in_case(case)
    data = _live_data(case_dir)
    baseline = _outcome(case_dir, make_live, live_data=data)
    rng = random.Random(f"shuffle:{case}")
    for _ in range(5):
        shuffled = {k: list(v) if isinstance(v, list) else v for k, v in data.items()}
        for items in shuffled.values():
            if isinstance(items, list):
                rng.shuffle(items)
        if "checks" in data:  # a dict: rebuild it in another insertion order
            keys = list(data["checks"])
            rng.shuffle(keys)
            shuffled["checks"] = {k: data["checks"][k] for k in keys}
        assert _outcome(case_dir, make_live, live_data=shuffled) == baseline
