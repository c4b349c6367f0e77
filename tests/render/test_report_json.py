"""The statuses of the JSON apply report, from the engine's outcomes and read-back."""

from __future__ import annotations

from cincopa_sync.engine.apply import ApplyReport, Drift, Outcome
from cincopa_sync.plan import Change, make_plan
from cincopa_sync.render.report_json import report_to_dict


def _change(address: str) -> Change:
    return Change(address, "portal", "update", (), ())


PLAN = make_plan([_change("portal.a"), _change("portal.b"), _change("portal.c")])


def _statuses(report: ApplyReport, **kw: object) -> dict[str, tuple[str, str | None]]:
    document = report_to_dict(PLAN, report, exit_code=5, **kw)  # type: ignore[arg-type]
    return {c["address"]: (c["status"], c["message"]) for c in document["changes"]}


def test_a_field_that_did_not_take_is_not_verified_and_says_which() -> None:
    a, b, c = PLAN.changes
    report = ApplyReport(
        [Outcome(a, "applied"), Outcome(b, "applied"), Outcome(c, "failed", "nope")],
        drift=[Drift("portal.b", "name", "New", "Old")],
    )
    statuses = _statuses(report)
    assert statuses["portal.a"] == ("applied", None)
    assert statuses["portal.b"][0] == "not_verified"
    assert 'name is "Old", expected "New"' in str(statuses["portal.b"][1])
    assert statuses["portal.c"] == ("failed", "nope")


def test_no_read_back_means_not_verified_and_no_outcome_means_skipped() -> None:
    a, b, _ = PLAN.changes
    unread = ApplyReport([Outcome(a, "applied")], unverified="asset.list: HTTP 503")
    statuses = _statuses(unread)
    assert statuses["portal.a"][0] == "not_verified" and "HTTP 503" in str(statuses["portal.a"][1])
    assert statuses["portal.b"] == ("skipped", "not started")
    interrupted = ApplyReport([Outcome(a, "applied"), Outcome(b, "skipped", "interrupted")])
    interrupted.interrupted = True
    assert _statuses(interrupted)["portal.a"][0] == "not_verified"
    document = report_to_dict(PLAN, None, exit_code=4, error="stale")
    assert document["summary"]["skipped"] == 3
    assert {c["message"] for c in document["changes"]} == {"not started: stale"}
