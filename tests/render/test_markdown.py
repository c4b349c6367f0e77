"""The Markdown rendering for pull requests: golden files, the size cap, escaping, secrets.

Golden files in golden/*.md regenerate with `pytest --update-golden`; review the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from rich_case import GOLDEN
from rich_case import SECRETS as RICH_SECRETS

from cincopa_sync.api import endpoints as ep
from cincopa_sync.errors import Location
from cincopa_sync.kinds.webhook import webhook_address
from cincopa_sync.plan import Change, FieldChange, Plan, make_plan
from cincopa_sync.render.markdown import MARKER, MAX_VALUE_CHARS, render_markdown
from cincopa_sync.render.rows import call_text

BIG_SLACK = "https://hooks.slack.com/services/T0BIG/B0BIG/bigSlackCanary"
SECRETS = (*RICH_SECRETS, "bigSlackCanary", "big-key-CANARY")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
CUT = re.compile(r"\*\*… ([\d,]+) more changes? \((.*)\) not shown\*\*")


AWKWARD = ("pipe | in it", "tick ` and ```fence```", "<b>html</b> & <script>", "two\nlines", "#1")


def _asset_update(i: int) -> Change:
    before, after = f"Caption {i}", f"{AWKWARD[i % len(AWKWARD)]} {i}"
    return Change(
        f"asset.R{i:06d}",
        "asset",
        "update",
        (FieldChange("caption", before, after),),
        (ep.asset_set_meta(f"R{i:06d}", {"caption": after}),),
        Location("assets.yaml", 3 + 2 * i, 5),
    )


def _portal(i: int, action: str) -> Change:
    sub, old = f"portal-{i:03d}", f"old-{i:03d}"
    if action == "delete":
        return Change(
            f"portal.{old}",
            "portal",
            "delete",
            (FieldChange("subdomain", old, None),),
            (ep.portal_remove(old),),
            notes=("no manifest names it and prune.portals is on",),
        )
    if action == "rename":
        return Change(
            f"portal.{sub}",
            "portal",
            "rename",
            (FieldChange("subdomain", old, sub),),
            (ep.portal_rename(old, sub),),
            Location("portals.yaml", 3 + 3 * i, 5),
        )
    return Change(
        f"portal.{sub}",
        "portal",
        "create",
        (FieldChange("subdomain", None, sub), FieldChange("name", None, f"Portal {i}")),
        (ep.portal_set(sub, {"name": f"Portal {i}"}),),
        Location("portals.yaml", 3 + 3 * i, 5),
        creates=True,
    )


def _webhook(i: int) -> Change:
    slack = i % 2 == 0
    url = f"{BIG_SLACK}{i}" if slack else f"https://hooks.example.com/h{i}"
    fields = [
        FieldChange("url", None, "(sensitive)" if slack else url, sensitive=slack),
        FieldChange("events", None, ("asset.uploaded",)),
    ]
    if not slack:
        fields.append(FieldChange("security_key", None, "(sensitive)", sensitive=True))
    return Change(
        webhook_address(url, secret=slack),
        "webhook",
        "create",
        tuple(fields),
        (ep.webhook_set(url, ["asset.uploaded"], f"big-key-CANARY-{i}", slack=slack),),
        Location("webhooks.yaml", 3 + 3 * i, 5),
        creates=True,
    )


def big_plan(n_assets: int = 4_880) -> Plan:
    """With the default, 5,000 changes of every kind and action, awkward text and secrets,
    built directly so the test is quick and the golden file stable."""
    changes = [_asset_update(i) for i in range(n_assets)]
    changes += [_portal(i, "create") for i in range(40)]
    changes += [_portal(40 + i, "rename") for i in range(5)]
    changes += [_portal(50 + i, "delete") for i in range(25)]
    changes += [_webhook(i) for i in range(50)]
    return make_plan(
        changes,
        {"portal": 2},
        notes=("a note about | pipes and <tags>",),
        live_counts={"portal": 32},
    )


def _outside_code(text: str) -> str:
    """The text with fenced blocks and code spans taken out: what Markdown interprets."""
    text = re.sub(r"^(`{3,})text\n.*?^\1$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "", text)


def _assert_well_formed(text: str) -> None:
    """Fences close, sections close, and every table row has exactly its columns."""
    fence: str | None = None
    for line in text.splitlines():
        if fence is None and re.match(r"^`{3,}text$", line):
            fence = line[: -len("text")]
            continue
        if fence is not None:
            if line == fence:
                fence = None
            continue
        if line.startswith("|"):
            columns = len(UNESCAPED_PIPE.findall(line)) - 1
            assert columns in (3, 5), f"broken table row: {line!r}"
        assert "\n" not in line
    assert fence is None, "a code fence is never closed"
    assert text.count("<details>") == text.count("</details>")


# -- golden files -------------------------------------------------------------------


def test_golden_empty_plan(golden: Callable[[Path, str], None]) -> None:
    text = render_markdown(make_plan([]))
    golden(GOLDEN / "empty.md", text)
    assert "No changes" in text and "<details>" not in text


def test_golden_rich_plan(rich_plan: Plan, golden: Callable[[Path, str], None]) -> None:
    assert rich_plan.summary() == {"create": 3, "update": 4, "rename": 1, "delete": 2}
    text = render_markdown(rich_plan)
    golden(GOLDEN / "rich.md", text)
    _assert_well_formed(text)


def test_golden_5000_change_plan_stays_under_the_cap_and_says_what_was_cut(
    golden: Callable[[Path, str], None],
) -> None:
    plan = big_plan()
    assert len(plan.changes) == 5_000
    text = render_markdown(plan)
    golden(GOLDEN / "large.md", text)
    assert len(text) <= 65_000
    _assert_well_formed(text)

    shown = re.findall(r"^\*\*`[-+~>]` \w+ `([^`]+)`\*\*", text, re.MULTILINE)
    last = text.rstrip("\n").splitlines()[-1]
    match = CUT.search(last)
    assert match, f"the last line does not say what was cut: {last!r}"
    hidden = int(match.group(1).replace(",", ""))
    assert hidden == 5_000 - len(shown) and hidden > 0
    # The breakdown adds up, and names only what really was left out.
    parts = dict(
        (p.split(" ", 1)[1].rstrip("s"), int(p.split(" ", 1)[0].replace(",", "")))
        for p in match.group(2).split(", ")
    )
    assert sum(parts.values()) == hidden
    assert set(parts) == {"asset update"}  # deletes, renames, creates first
    assert f"{4_880 - hidden:,} of 4,880 shown" in text
    # every delete is shown: they matter most to a reviewer
    assert all(f"portal.old-{50 + i:03d}" in shown for i in range(25))


# -- the cap ------------------------------------------------------------------------


def test_nothing_is_cut_from_a_plan_that_fits(rich_plan: Plan) -> None:
    text = render_markdown(rich_plan)
    assert "not shown" not in text
    for change in rich_plan.changes:
        assert change.address in text
        for i in range(len(change.calls)):
            assert call_text(change, i) in text
    medium = big_plan(n_assets=100)
    text = render_markdown(medium)
    assert "not shown" not in text and "shown)" not in text
    assert text.count("**`") == len(medium.changes)


@pytest.mark.parametrize("limit", [2_000, 3_000, 10_000, 40_000])
def test_any_limit_is_kept(limit: int) -> None:
    text = render_markdown(big_plan(n_assets=500), limit=limit)
    assert len(text) <= limit
    assert CUT.search(text.rstrip("\n").splitlines()[-1])
    _assert_well_formed(text)


def test_a_tiny_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        render_markdown(make_plan([]), limit=100)


def test_a_huge_value_is_clipped_and_says_so() -> None:
    huge = "x" * 50_000
    change = Change(
        "asset.R1",
        "asset",
        "update",
        (FieldChange("long_description", "", huge),),
        (ep.asset_set_meta("R1", {"long_description": huge}),),
    )
    text = render_markdown(make_plan([change]))
    assert len(text) < 10_000
    (row,) = [line for line in text.splitlines() if line.startswith("| `long_description`")]
    # the shown value (quotes included) is cut at MAX_VALUE_CHARS, saying by how much
    assert '`"' + "x" * (MAX_VALUE_CHARS - 1) + "… (+49,002 characters)`" in row
    assert "not shown" not in text


# -- escaping and secrets -------------------------------------------------------------


@pytest.mark.parametrize("value", [*AWKWARD, "`leading tick", " both spaces ", "a\\|b"])
def test_awkward_values_stay_in_their_cell(value: str) -> None:
    address = f"asset.ref:{value}"
    change = Change(
        address,
        "asset",
        "update",
        (FieldChange("caption", "old", value),),
        (ep.asset_set_meta("R1", {"caption": value}),),
    )
    text = render_markdown(make_plan([change]))
    _assert_well_formed(text)
    (row,) = [line for line in text.splitlines() if line.startswith("| `caption`")]
    cells = UNESCAPED_PIPE.split(row)[1:-1]
    assert len(cells) == 3
    shown = json.dumps(value, ensure_ascii=False)
    # GFM unescapes `\|` in a cell, then the code span shows its content verbatim.
    after = cells[2].strip().replace("\\|", "|")
    ticks = re.match(r"`+", after).group()
    assert after.endswith(ticks)
    inner = after[len(ticks) : -len(ticks)]
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    assert inner == shown
    # Outside code, no raw HTML or Markdown from the value.
    assert "<b>" not in _outside_code(text) and "<script>" not in _outside_code(text)


def test_a_value_with_a_line_break_never_breaks_a_line() -> None:
    change = Change(
        "asset.ref:two\nlines",
        "asset",
        "update",
        (FieldChange("caption", "a\nb", "c\r\nd"),),
        (ep.asset_set_meta("R1", {"caption": "c\r\nd"}),),
        Location("odd\nname.yaml", 1, 1),
    )
    text = render_markdown(make_plan([change]))
    assert '`"asset.ref:two\\nlines"`' in text
    assert '`"odd\\nname.yaml:1:1"`' in text
    assert "\nlines" not in text and "\nd" not in text


@pytest.mark.parametrize("which", ["rich", "big"])
def test_secrets_never_appear(which: str, rich_plan: Plan) -> None:
    plan = rich_plan if which == "rich" else big_plan()
    raw = [value for c in plan.changes for call in c.calls for _, value in call.params]
    assert any(s in v for s in SECRETS for v in raw)  # they really are in the plan
    for limit in (65_000, 5_000):
        text = render_markdown(plan, limit=limit)
        for secret in SECRETS:
            for spelling in {secret, quote(secret, safe=""), quote_plus(secret)}:
                assert spelling not in text, f"{secret!r} leaked"
    assert "(sensitive" in render_markdown(plan)


def test_the_marker_lets_ci_find_its_comment(rich_plan: Plan) -> None:
    assert render_markdown(rich_plan).startswith(MARKER + "\n")
    assert MARKER.startswith("<!--") and MARKER.endswith("-->")
