"""First contact with an API that may differ from the contract: doctor, every command on
each contract variant of the emulator, the HTTP log, and the one place to adapt.

Every test that applies plans again and expects no changes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from support import EXAMPLES, TOKEN, Served, serving

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api import shapes
from cincopa_sync.api.endpoints import ListShape

NO_CHANGES = "No changes. The account matches the manifests.\n"
SLACK = "https://hooks.slack.com/services/T0/B0/firstcontactsecret"
ENV = {"CINCOPA_API_TOKEN": TOKEN, "SLACK_WEBHOOK_URL": SLACK, "CINCOPA_HOOK_KEY": "k-1st"}
ENDPOINT_LINES = ("ping:", "asset.list:", "asset.get_tags:", "portal.list:", "webhook.list:")


@pytest.fixture
def variant_of(demo_seed: dict[str, Any]) -> Callable[[str | None], Iterator[Served]]:
    def make(variant: str | None) -> Iterator[Served]:
        return serving(demo_seed, variant=variant)

    return make


def _endpoint_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(ENDPOINT_LINES)]


# -- doctor ---------------------------------------------------------------------------------


def test_doctor_passes_against_a_faithful_api(run: Callable[..., Result], served: Served) -> None:
    result = run("doctor", *served.args, env=served.env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _endpoint_lines(result.stdout) == [f"{name} ok" for name in ENDPOINT_LINES]
    out = result.stdout
    assert "Account 100001 (video-team@acme.example)" in out
    assert "Token permissions: asset.* portal.* webhook.*" in out
    assert "  portals: plan and export read them; apply writes them" in out
    assert "the server honours 100 items per page (1000 asked)" in out  # the page cap
    assert out.rstrip().endswith("answers as expected (5 checked).")
    assert served.writes() == []
    sent = {c.endpoint: c.params for c in served.emulator.calls}
    assert set(sent) == {"ping", "asset.list", "asset.get_tags", "portal.list", "webhook.list"}
    assert sent["asset.list"]["details"].split(",") == list(ep.ASSET_META_PARAMS)


def test_doctor_names_what_a_read_only_token_allows(
    run: Callable[..., Result], served: Served
) -> None:
    result = run("doctor", *served.args, env={"CINCOPA_API_TOKEN": "emulator-readonly"})
    assert result.exit_code == 0, result.stdout
    assert "Token permissions: asset.read portal.read webhook.read" in result.stdout
    assert (
        "  webhooks: plan and export read them; apply may not write them "
        "(it needs webhook.* or webhook.write)"
    ) in result.stdout


def test_doctor_skips_what_the_token_may_not_read_and_says_so(
    run: Callable[..., Result], demo_seed: dict[str, Any]
) -> None:
    seed = {**demo_seed, "tokens": {"narrow": "|asset.*|portal.read|"}}
    with serving(seed) as box:
        result = run("doctor", *box.args, env={"CINCOPA_API_TOKEN": "narrow"})
    assert result.exit_code == 0, result.stdout
    assert "webhook.list: skipped" in result.stdout
    assert "not checked: the token may not call it (needs webhook.* or webhook.read" in (
        result.stdout
    )
    assert "webhooks: plan and export cannot read them (they need webhook.* or webhook.read)" in (
        result.stdout
    )
    assert "webhook.list" not in box.counts()


def test_doctor_fails_and_names_endpoint_and_key_on_a_changed_shape(
    run: Callable[..., Result], variant_of: Callable[[str | None], Iterator[Served]]
) -> None:
    with variant_of("portals-key") as box:
        result = run("doctor", *box.args, env=box.env)
        assert box.writes() == []
    assert result.exit_code == 1
    lines = _endpoint_lines(result.stdout)
    assert lines == [
        "ping: ok",
        "asset.list: ok",
        "asset.get_tags: ok",
        "portal.list: $.portals: missing, expected a list of portals "
        "(portals cannot be planned, applied or exported)",
        "webhook.list: ok",
    ]
    assert "1 of 5 endpoints did not answer as expected (portal.list)" in result.stdout
    assert "--http-log" in result.stdout  # how to report it
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variant", "line"),
    [
        (
            "tags-array",
            "asset.list: $.items[0].tags: expected one string of comma-separated tags such as "
            '",launch,cars," ("" for none), got a list (and 35 more of the 36 items deviate) '
            "(assets cannot be planned, applied or exported)",
        ),
        (
            "no-items-data",
            "asset.list: $.items_data: missing, expected the paging of the listing: page, "
            "items_per_page, items_count, pages_count (assets cannot be planned, applied or "
            "exported)",
        ),
    ],
)
def test_doctor_reports_the_other_breaking_variants(
    variant: str,
    line: str,
    run: Callable[..., Result],
    variant_of: Callable[[str | None], Iterator[Served]],
) -> None:
    with variant_of(variant) as box:
        result = run("doctor", *box.args, env=box.env)
    assert result.exit_code == 1
    assert line in _endpoint_lines(result.stdout)
    assert sum(not line.endswith(" ok") for line in _endpoint_lines(result.stdout)) == 1


def test_doctor_with_a_token_the_api_refuses_is_exit_1_with_no_traceback(
    run: Callable[..., Result], served: Served
) -> None:
    result = run("doctor", *served.args, env={"CINCOPA_API_TOKEN": "tok-unknown-1234"})
    assert result.exit_code == 1
    assert "error: ping (HTTP 403): the API refused the token" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


# -- every command on each variant -----------------------------------------------------------

# variant -> the endpoint the demo plan stops at, or None when the variant is harmless
BREAKS = {
    "portals-key": "portal.list",
    "tags-array": "asset.list",
    "no-items-data": "asset.list",
    "numbers-as-strings": None,
}


def _same_plan(json_text: str, expected_text: str) -> bool:
    """Two json plans alike but for the API host (each emulator has its own port)."""
    plan, expected = json.loads(json_text), json.loads(expected_text)
    for document in (plan, expected):
        document["context"].pop("api_host")
    return plan == expected


@pytest.mark.parametrize("variant", sorted(BREAKS))
def test_every_command_on_each_variant_tolerates_or_refuses_without_writing(
    variant: str,
    run: Callable[..., Result],
    variant_of: Callable[[str | None], Iterator[Served]],
    tmp_path: Path,
) -> None:
    stops_at = BREAKS[variant]
    with variant_of(None) as faithful:
        expected = run("plan", EXAMPLES, "--format", "json", *faithful.args, env=ENV)
    assert expected.exit_code == 0
    with variant_of(variant) as box:
        args, outcomes = box.args, {}
        for command in (
            ["plan", EXAMPLES, "--format", "json"],
            ["apply", EXAMPLES, "--auto-approve"],
            ["export", "--out", tmp_path / "export"],
            ["ping"],
            ["doctor"],
        ):
            outcomes[command[0]] = run(*command, *args, env=ENV)
        if stops_at is None:
            again = run("plan", EXAMPLES, "--detailed-exitcode", *args, env=ENV)
            assert again.exit_code == 0 and NO_CHANGES in again.stdout, again.stdout
        else:
            assert box.writes() == []
    assert outcomes["ping"].exit_code == 0
    for name, result in outcomes.items():
        assert "Traceback" not in result.stderr, (name, result.stderr)
    if stops_at is None:  # tolerated: the same plan as against the faithful API
        assert _same_plan(outcomes["plan"].stdout, expected.stdout)
        assert {n: r.exit_code for n, r in outcomes.items()} == dict.fromkeys(outcomes, 0)
        return
    for name in ("plan", "apply", "export"):
        result = outcomes[name]
        assert result.exit_code == 1, (name, result.stdout, result.stderr)
        assert f"error: {stops_at}: the answer does not have the shape" in result.stderr
        assert "run `cincopa-sync doctor`" in result.stderr
    assert outcomes["plan"].stdout == ""
    assert outcomes["doctor"].exit_code == 1


def test_a_variant_is_harmless_to_a_plan_that_does_not_read_what_it_changes(
    run: Callable[..., Result],
    variant_of: Callable[[str | None], Iterator[Served]],
    tmp_path: Path,
) -> None:
    shutil.copy(EXAMPLES / "assets.yaml", tmp_path / "assets.yaml")
    with variant_of("portals-key") as box:
        result = run("plan", tmp_path, "--detailed-exitcode", *box.args, env=ENV)
        assert "portal.list" not in box.counts()
    assert result.exit_code == 2, result.stderr
    assert "asset." in result.stdout


def test_plan_on_a_changed_shape_exits_1_naming_portal_list_and_writes_nothing(
    run: Callable[..., Result], variant_of: Callable[[str | None], Iterator[Served]]
) -> None:
    with variant_of("portals-key") as box:
        planned = run("plan", EXAMPLES, *box.args, env=ENV)
        applied = run("apply", EXAMPLES, "--auto-approve", *box.args, env=ENV)
        assert box.writes() == []
    for result in (planned, applied):
        assert result.exit_code == 1
        assert result.stderr.startswith(
            "error: portal.list: the answer does not have the shape cincopa-sync relies on: "
            "$.portals: missing, expected a list of portals."
        ), result.stderr
        assert "Traceback" not in result.stderr
    assert planned.stdout == "" and "Plan:" not in applied.stdout


# -- the HTTP log ------------------------------------------------------------------------------


def test_http_log_writes_parseable_json_lines_without_the_token(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    log = tmp_path / "http.jsonl"
    env = {**ENV, "CINCOPA_API_TOKEN": "emulator-token\n"}  # as pasted, line break and all
    for command in (["doctor"], ["apply", EXAMPLES, "--auto-approve"]):
        result = run(*command, "--http-log", log, *served.args, env=env)
        assert result.exit_code == 0, result.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == sum(served.counts().values())
    assert {r["endpoint"] for r in records} >= {"ping", "asset.list", "webhook.set_slack"}
    text = log.read_text(encoding="utf-8")
    assert "emulator-token" not in text and "firstcontactsecret" not in text and "k-1st" not in text
    slack = next(r for r in records if r["endpoint"] == "webhook.set_slack")
    assert slack["params"]["hook_url"] == "(sensitive)" and slack["status"] == 200
    again = run("plan", EXAMPLES, "--detailed-exitcode", *served.args, env=env)
    assert again.exit_code == 0 and NO_CHANGES in again.stdout


# -- one place to adapt ---------------------------------------------------------------------


def test_the_endpoint_table_and_a_schema_file_are_all_it_takes_to_adapt(
    run: Callable[..., Result],
    variant_of: Callable[[str | None], Iterator[Served]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The real API lists portals under `items`: the fix is portal.list's row in the
    endpoint table (where its items are) and its schema file. Nothing else changes."""
    with variant_of(None) as faithful:
        expected = run("plan", EXAMPLES, "--format", "json", *faithful.args, env=ENV)
    assert expected.exit_code == 0
    with variant_of("portals-key") as box:
        before = run("plan", EXAMPLES, *box.args, env=ENV)
        assert before.exit_code == 1

        # the change a maintainer would make: the schema file ...
        adapted = tmp_path / "api"
        shutil.copytree(shapes.SCHEMA_DIR, adapted)
        schema_file = adapted / f"{ep.PORTAL_LIST}.json"
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        schema["properties"]["items"] = schema["properties"].pop("portals")
        schema["required"] = ["success", "items"]
        schema_file.write_text(json.dumps(schema), encoding="utf-8")
        monkeypatch.setattr(shapes, "SCHEMA_DIR", adapted)
        # ... and the endpoint table's row for the list
        monkeypatch.setitem(ep.LISTS, ep.PORTAL_LIST, ListShape("items", ep.PORTAL_SUBDOMAIN))

        after = run("plan", EXAMPLES, "--format", "json", *box.args, env=ENV)
        assert after.exit_code == 0, after.stderr
        assert _same_plan(after.stdout, expected.stdout)
        applied = run("apply", EXAMPLES, "--auto-approve", *box.args, env=ENV)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        again = run("plan", EXAMPLES, "--detailed-exitcode", *box.args, env=ENV)
        assert again.exit_code == 0 and NO_CHANGES in again.stdout, again.stdout
        doctor = run("doctor", *box.args, env=ENV)
        assert doctor.exit_code == 0, doctor.stdout
