"""A saved plan is trusted as little as Terraform trusts its own: `apply --plan` plans
again from the desired state the file records and sends only the calls it derived, and
only when they are exactly the recorded ones (and the review section shows them). Each
edit below recomputes the checksum, as anyone who can write the file can."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import HOOK_KEY, Served
from saved_plan_helpers import (
    Document,
    apply_saved,
    change,
    load,
    review_change,
    save,
    write,
    writes,
)

KEY = "plan-signing-key-for-tests-0b5e"


@pytest.fixture
def saved(run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path) -> Path:
    return save(run, served, manifest, tmp_path / "plan.json")


def edited(path: Path, edit: Callable[[Document], None]) -> Path:
    document = load(path)
    edit(document)
    return write(path.with_name("edited.json"), document)


def refused(result: Result, served: Served, code: int = 4) -> None:
    assert result.exit_code == code, result.output
    assert served.emulator.writes() == []
    assert "internal error" not in result.output


def test_an_untouched_plan_applies(run: Callable[..., Result], served: Served, saved: Path) -> None:
    result = apply_saved(run, served, saved)
    assert result.exit_code == 0, result.output
    assert "11 applied, 0 failed, 0 skipped" in result.stdout


def test_edited_call_parameters_are_never_sent(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """An edited `portal.set` name (in the changes and the review alike, so they agree)
    was sent as written: apply made the file's calls."""

    chosen = "Chosen by whoever edited the file"

    def edit(document: Document) -> None:
        call = change(document, "portal.keep-me")["calls"][0]
        call["params"] = [[k, chosen if k == "name" else v] for k, v in call["params"]]
        review_change(document, "portal.keep-me")["calls"][0]["params"]["name"] = chosen

    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served)
    assert "portal.keep-me (update): a plan made now makes this change otherwise" in result.stderr


def test_a_secret_reference_cannot_be_moved_into_a_public_field(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """`{"secret": "s1"}` (the webhook key's reference) put into an asset's caption, in its
    call, its desired entry and its review alike, sent the key as the public caption."""

    def edit(document: Document) -> None:
        target = change(document, "asset.RID_A_000001")
        target["calls"][0]["params"] = [
            [k, {"secret": "s1"} if k == "caption" else v] for k, v in target["calls"][0]["params"]
        ]
        spec = document["desired"]["specs"]["asset"][0]
        spec["fields"]["caption"] = {"secret": "s1"}

    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served, code=3)
    assert "desired.specs.asset[0]" in result.stderr
    assert HOOK_KEY not in result.output


def test_an_appended_change_is_never_made(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """A `portal.remove` appended with an empty `observed` ran: exit 0, the portal gone."""

    def edit(document: Document) -> None:
        remove = copy.deepcopy(change(document, "portal.stale"))
        remove["address"] = "portal.keep-me"
        remove["calls"][0]["params"] = [["subdomain", "keep-me"]]
        remove["observed"] = []
        document["changes"].append(remove)
        review = copy.deepcopy(review_change(document, "portal.stale"))
        review["address"] = "portal.keep-me"
        document["review"]["changes"].append(review)

    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served)
    assert "keep-me" in served.emulator.account.portals


def test_emptied_observations_do_not_skip_the_check(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """With every `observed` emptied, a change made by hand since the plan went unseen."""
    served.emulator.account.portals["keep-me"].name = "Edited by hand"

    def edit(document: Document) -> None:
        for item in document["changes"]:
            item["observed"] = []

    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served)


def test_the_changes_must_be_the_ones_the_review_shows(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """Nothing compared the changes with the review section people had read."""

    def edit(document: Document) -> None:
        review_change(document, "portal.keep-me")["fields"][0]["after"] = "What reviewers saw"

    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served)
    assert "not the ones its review section shows" in result.stderr


@pytest.mark.parametrize(
    "edit, says",
    [
        (lambda d: change(d, "portal.fresh").update(kind="gallery"), "'gallery' is not a kind"),
        (
            lambda d: change(d, "portal.fresh")["calls"][0].update(endpoint="portal.nuke"),
            "'portal.nuke' is not an endpoint",
        ),
        (
            lambda d: change(d, "portal.fresh").update(action="explode"),
            "'explode' is not an action",
        ),
        (lambda d: d.update(secrets=[]), "secrets: not the type"),
        (
            lambda d: change(d, "portal.fresh")["calls"][0]["params"].append(
                ["x", {"secret": "s9"}]
            ),
            "secret reference 's9' is not in secrets",
        ),
        (lambda d: d["desired"]["specs"].update(portal="x"), "desired.specs.portal: not a list"),
        (lambda d: d.update(live_counts={"portal": "many"}), "live_counts.portal: not a count"),
        (lambda d: d.update(allow_deletes="yes"), "allow_deletes: not the type"),
        (lambda d: d["secrets"]["s1"].update(template=[["env", "CINCOPA_API_TOKEN"]]), "may read"),
        (lambda d: d.pop("desired"), "desired: missing"),
    ],
    ids=[
        "bogus kind",
        "bogus endpoint",
        "bogus action",
        "secrets as a list",
        "unknown secret reference",
        "specs not a list",
        "a count not a number",
        "allow_deletes as text",
        "a template reading the token",
        "no desired state",
    ],
)
def test_every_malformed_file_is_invalid_input(
    edit: Callable[[Document], object],
    says: str,
    run: Callable[..., Result],
    served: Served,
    saved: Path,
) -> None:
    """A bogus kind, endpoint or action, `secrets` as a list or an unknown secret
    reference gave "internal error", exit 1."""
    result = apply_saved(run, served, edited(saved, edit))
    refused(result, served, code=3)
    assert "the saved plan is damaged" in result.stderr and says in result.stderr


# -- signing ----------------------------------------------------------------------------


def test_a_signed_plan_applies_with_its_key(
    run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path
) -> None:
    path = save(run, served, manifest, tmp_path / "signed.json", CINCOPA_SYNC_PLAN_KEY=KEY)
    assert "signature" in load(path)
    result = apply_saved(run, served, path, CINCOPA_SYNC_PLAN_KEY=KEY)
    assert result.exit_code == 0, result.output
    assert KEY not in result.output


@pytest.mark.parametrize("how", ["unsigned", "another key", "edited after signing"])
def test_with_a_key_only_a_plan_signed_with_it_is_applied(
    how: str, run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path
) -> None:
    signing = {} if how == "unsigned" else {"CINCOPA_SYNC_PLAN_KEY": KEY}
    path = save(run, served, manifest, tmp_path / "plan.json", **signing)
    if how == "edited after signing":
        path = edited(path, lambda d: d.update(allow_deletes=True))
    key = "another-key-entirely-77" if how == "another key" else KEY
    result = apply_saved(run, served, path, CINCOPA_SYNC_PLAN_KEY=key)
    refused(result, served)
    said = "is not signed" if how == "unsigned" else "signature does not match"
    assert said in result.stderr
    assert KEY not in result.output and key not in result.output


def test_a_signed_plan_without_the_key_is_checked_all_the_same(
    run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path
) -> None:
    path = save(run, served, manifest, tmp_path / "signed.json", CINCOPA_SYNC_PLAN_KEY=KEY)
    result = apply_saved(run, served, path)
    assert result.exit_code == 0, result.output
    assert "is signed, but CINCOPA_SYNC_PLAN_KEY is not set" in result.stderr
    assert sum(writes(served).values()) == 11


# -- found by a hostile review after the first version ---------------------------------


def test_public_text_equal_to_a_secrets_stand_in_stays_text(
    run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path
) -> None:
    """A description reading `${CINCOPA_HOOK_KEY}` (written `$${...}`), planned with the
    key unset: a signed, untouched plan was refused ("not the ones its review section
    shows"), and with the review re-rendered apply wrote the key into the description."""
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(
        text.replace("description: described", 'description: "$${CINCOPA_HOOK_KEY}"')
    )
    path = tmp_path / "p.json"
    unset = {**served.env, "CINCOPA_HOOK_KEY": None, "CINCOPA_SYNC_PLAN_KEY": KEY}
    planned = run("plan", manifest, "--out", path, *served.args, env=unset)
    assert planned.exit_code == 0, planned.stderr
    result = apply_saved(run, served, path, CINCOPA_SYNC_PLAN_KEY=KEY)
    assert result.exit_code == 0, result.output
    sent = [(e, p) for e, p in served.writes() if HOOK_KEY in p.values()]
    assert [(e, [k for k, v in p.items() if v == HOOK_KEY]) for e, p in sent] == [
        ("webhook.set", ["security_key"])
    ]
    described = [p for e, p in served.writes() if p.get("rid") == "RID_B_000002"]
    assert described == [{"rid": "RID_B_000002", "description": "${CINCOPA_HOOK_KEY}"}]


def test_a_swap_of_secret_stand_ins_touches_only_secret_params() -> None:
    from cincopa_sync.api.endpoints import Call
    from cincopa_sync.engine.staleness import _sending
    from cincopa_sync.plan import Change

    call = Call(
        "webhook.set", (("hook_url", "${K}"), ("security_key", "${K}")), frozenset({"security_key"})
    )
    change = Change("webhook.x", "webhook", "update", (), (call,))
    sent = _sending(change, {"${K}": "the-key"})
    assert sent.calls[0].params == (("hook_url", "${K}"), ("security_key", "the-key"))


def _key_ref(document: Document) -> str:
    return next(ref for ref, s in document["secrets"].items() if "CINCOPA_HOOK_KEY" in str(s))


def _new_hook(document: Document) -> Document:
    return next(
        s
        for s in document["desired"]["specs"]["webhook"]
        if s["url"] == "https://hooks.example.com/new"
    )


def _bool_in_observation(document: Document) -> None:
    observed = change(document, "portal.keep-me")["observed"][0]["fields"]["tuple"]
    observed[0]["tuple"][1] = {"tuple": [True]}


@pytest.mark.parametrize(
    "edit, says",
    [
        (
            lambda d: _new_hook(d).update(url={"secret": _key_ref(d)}),
            "a secret reference where no secret goes",
        ),
        (lambda d: [d.pop(k) for k in ("account", "api_host", "environment")], "missing"),
        (_bool_in_observation, "a value this version does not write"),
    ],
    ids=[
        "a key's reference in a public field",
        "no account",
        "a set where a value goes",
    ],
)
def test_what_a_hostile_review_found_is_invalid_input(
    edit: Callable[[Document], object],
    says: str,
    run: Callable[..., Result],
    served: Served,
    saved: Path,
) -> None:
    """Each gave "internal error" (exit 1), sent a key as a public URL, or skipped the
    account check (applied to another account, exit 0)."""
    path = edited(saved, edit)
    result = apply_saved(run, served, path)
    if says.startswith("a value"):  # read as an observation that moved, or as damage
        refused(result, served, code=4 if "is stale" in result.stderr else 3)
    else:
        refused(result, served, code=3)
        assert says in result.stderr
    shown = run("show", path)  # shows what reviewers saw, or says the file is damaged
    assert shown.exit_code in (0, 3) and "internal error" not in shown.output


def test_a_signature_in_other_characters_is_refused(
    run: Callable[..., Result], served: Served, manifest: Path, tmp_path: Path
) -> None:
    path = save(run, served, manifest, tmp_path / "signed.json", CINCOPA_SYNC_PLAN_KEY=KEY)
    path = edited(path, lambda d: d.update(signature="é" * 64))
    result = apply_saved(run, served, path, CINCOPA_SYNC_PLAN_KEY=KEY)
    refused(result, served)
    assert "signature does not match" in result.stderr


def test_nesting_past_what_the_reader_can_follow_is_invalid_input(
    run: Callable[..., Result], served: Served, saved: Path
) -> None:
    """A plan nested 100,000 deep raised RecursionError: "internal error", exit 1."""
    document = load(saved)
    head = {"format": document["format"], "format_version": document["format_version"]}
    deep = saved.with_name("deep.json")
    deep.write_text(json.dumps(head)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for result in (apply_saved(run, served, deep), run("show", deep)):
        assert result.exit_code == 3, result.output
        assert "the saved plan is damaged" in result.stderr and "RecursionError" in result.stderr
    assert served.emulator.writes() == []
