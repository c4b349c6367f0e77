"""Golden renderings of one rich plan: text (plain and coloured) and JSON, byte for byte.

The plan comes from tests/render/rich/ (manifest + live account, through load_manifests
and the planner) and holds every action, every kind, sensitive values and awkward text.
Regenerate the files in golden/ with `pytest --update-golden` and review the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from jsonschema import Draft202012Validator
from rich_case import GOLDEN, HOOK_KEY, LIVE_SLACK_URL, NEW_HOOK_KEY, SECRETS, SLACK_URL

from cincopa_sync.engine.apply import ApplyReport, Drift, Outcome
from cincopa_sync.plan import Plan, make_plan
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.report import render_report
from cincopa_sync.render.text import render_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _renderings(plan: Plan) -> dict[str, str]:
    return {
        "rich.txt": render_text(plan),
        "rich.color.txt": render_text(plan, color=True),
        "rich.json": render_json(plan),
    }


def test_the_rich_plan_covers_every_action_kind_and_a_secret(rich_plan: Plan) -> None:
    assert rich_plan.summary() == {"create": 3, "update": 4, "rename": 1, "delete": 2}
    assert {c.kind for c in rich_plan.changes} == {"asset", "portal", "webhook"}
    assert any(f.sensitive for c in rich_plan.changes for f in c.fields)
    assert any(c.notes for c in rich_plan.changes)
    assert rich_plan.notes and rich_plan.unmanaged == (("portal", 1),)
    # the rename also updates: two calls in one change, the rename first
    (rename,) = [c for c in rich_plan.changes if c.action == "rename"]
    assert [call.endpoint for call in rename.calls] == ["portal.rename", "portal.set"]


@pytest.mark.parametrize("name", ["rich.txt", "rich.color.txt", "rich.json"])
def test_golden_rendering(name: str, rich_plan: Plan, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / name, _renderings(rich_plan)[name])


def test_golden_json_is_a_valid_plan_document(
    rich_plan: Plan, plan_schema: Draft202012Validator
) -> None:
    document = json.loads(render_json(rich_plan))
    assert [e.message for e in plan_schema.iter_errors(document)] == []
    assert document["summary"] == rich_plan.summary()


def test_secrets_never_appear_in_any_rendering(rich_plan: Plan) -> None:
    # Sanity: the secrets really went into the plan (the calls carry them unmasked) ...
    raw = [
        value for change in rich_plan.changes for call in change.calls for _, value in call.params
    ]
    assert HOOK_KEY in raw and NEW_HOOK_KEY in raw and SLACK_URL in raw and LIVE_SLACK_URL in raw
    # ... and none of them, in any spelling, comes out of a rendering.
    for name, text in _renderings(rich_plan).items():
        for secret in SECRETS:
            for spelling in {
                secret,
                quote(secret, safe=""),
                quote_plus(secret),
                json.dumps(secret),
            }:
                assert spelling not in text, f"{secret!r} leaked into {name}"
        assert "(sensitive" in text


def test_colour_codes_only_with_color(rich_plan: Plan) -> None:
    plain, coloured, as_json = (
        _renderings(rich_plan)[n] for n in ("rich.txt", "rich.color.txt", "rich.json")
    )
    assert "\x1b" not in plain
    assert "\x1b" not in as_json
    assert ANSI.search(coloured)
    for symbol, code in (("+", "32"), ("~", "33"), (">", "36"), ("-", "31")):
        assert f"\x1b[{code}m{symbol}\x1b[0m" in coloured
    # colour adds escape codes and nothing else
    assert ANSI.sub("", coloured) == plain


def test_an_empty_plan_says_so() -> None:
    empty = make_plan([])
    assert render_text(empty) == "No changes. The account matches the manifests.\n"
    assert json.loads(render_json(empty))["summary"] == {
        "create": 0,
        "update": 0,
        "rename": 0,
        "delete": 0,
    }


def test_golden_apply_report(rich_plan: Plan, golden: Callable[[Path, str], None]) -> None:
    changes = list(rich_plan.changes)
    report = ApplyReport(
        outcomes=[
            Outcome(changes[0], "applied"),
            Outcome(changes[1], "failed", "asset.set_meta: asset not found: B7xQ__aaZZ01"),
            *(Outcome(c, "applied") for c in changes[2:-2]),
            *(Outcome(c, "skipped", "a webhook create failed") for c in changes[-2:]),
        ],
        drift=[Drift(changes[0].address, "caption", "Spring", "spring")],
    )
    text = render_report(report)
    golden(GOLDEN / "report.txt", text)
    assert report.exit_code == 5
    for secret in SECRETS:
        assert secret not in text


def test_text_that_reads_like_a_placeholder_is_quoted_so_it_cannot_be_mistaken():
    from cincopa_sync.render.rows import show_value

    assert show_value("(none)") == '"(none)"'
    assert show_value(None) == "(none)"
    assert show_value("(sensitive)") == '"(sensitive)"'
    assert show_value("hunter2", sensitive=True) == "(sensitive)"
    assert show_value("(set)", sensitive=True) == "(set)"
