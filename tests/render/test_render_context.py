"""Every rendering names where the plan is for (environment, account, API host) when the
plan carries it, and a plan without it renders as before."""

from __future__ import annotations

import json
from dataclasses import replace

from cincopa_sync.plan import Plan, PlanContext
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.markdown import MARKER, render_markdown
from cincopa_sync.render.text import render_text

STAGING = PlanContext(account="67890", api_host="api.cincopa.com", environment="staging")
NO_ENV = PlanContext(account="12345", api_host="127.0.0.1:8302")


def test_text_names_it_on_the_first_line(rich_plan: Plan) -> None:
    text = render_text(replace(rich_plan, context=STAGING))
    assert text.startswith("Plan for environment staging: account 67890 at api.cincopa.com\n\n")
    assert text.split("\n", 2)[2] == render_text(rich_plan)
    assert render_text(Plan(context=NO_ENV)) == (
        "Plan for account 12345 at 127.0.0.1:8302\n\n"
        "No changes. The account matches the manifests.\n"
    )


def test_json_has_a_context_object(rich_plan: Plan, plan_schema) -> None:
    for context, environment in ((STAGING, "staging"), (NO_ENV, None)):
        document = json.loads(render_json(replace(rich_plan, context=context)))
        assert document["context"] == {
            "environment": environment,
            "account": context.account,
            "api_host": context.api_host,
        }
        assert list(plan_schema.iter_errors(document)) == []
    assert "context" not in json.loads(render_json(rich_plan))
    bad = json.loads(render_json(replace(rich_plan, context=STAGING)))
    del bad["context"]["account"]
    assert not plan_schema.is_valid(bad)


def test_markdown_names_it_under_the_verdict(rich_plan: Plan) -> None:
    lines = render_markdown(replace(rich_plan, context=STAGING)).splitlines()
    assert lines[0] == MARKER and lines[1].startswith("### Plan: ")
    assert lines[3] == "**Environment** `staging` · **Account** `67890` · **API** `api.cincopa.com`"
    odd = PlanContext(account="1`2\n3", api_host="h")
    line = render_markdown(Plan(context=odd)).splitlines()[3]
    assert line == '**Account** ``"1`2\\n3"`` · **API** `h`'  # one line, in a code span
