"""Property: through faults that pass and faults that do not, repeated applies converge.

Hypothesis draws an account and a manifest (the strategy of test_property_convergence)
and a fault schedule mixing transient faults (5xx, 429, lost answers, refused
connections, garbled bodies) with failures for good (`success: false`, 5xx until the
retries run out) and random 503s on the writes. The loop a user would run: plan, apply,
plan again while anything remains (at most ROUNDS times). Checked:

- it converges: the last plan is empty, within ROUNDS applies;
- every apply that failed said so: exit 5 with each failure listed, and the next plan
  holds exactly the changes that were not applied (less those whose failure said an
  answer was lost, so it may have taken effect: a later plan is the judge);
- no object is written more often than its changes need, counted from the emulator's
  log of writes that took effect: a create, rename or delete takes effect exactly once
  over all rounds (an upload: once more for each earlier create whose set_meta failed
  after it, which the report said, naming the asset to adopt); an update takes effect
  once, plus once more for each earlier write whose answer was lost (`drop-after`,
  `truncate`: the client cannot know it acted);
- the final account equals the manifest on every field the manifest owns, compared by an
  oracle that reads the emulator's state and the drawn manifest, not the planner (so a
  planner that forgot a field would not pass by also forgetting it here); keys by their
  sha256, which is all the emulator keeps; unmanaged objects are left alone unless prune.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from support import FakeTime, reproducible
from test_property_convergence import TEXT_FIELDS, Scenario, dump, scenarios

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import WRITES, Emulator
from cincopa_sync.engine.apply import apply_plan
from cincopa_sync.engine.diff import PlanOptions, make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.manifest import load_manifests
from cincopa_sync.shown import AFTER_UPLOAD

ROUNDS = 4
LOST = {"drop-after", "truncate"}  # the write acted, the client did not see it
TRANSIENT = (
    "asset.set_meta#1=drop-after",
    "asset.set_meta#2=503",
    "portal.set#1=drop-after",
    "portal.set#2=truncate",
    "portal.rename#1=drop-after",
    "portal.remove#1=truncate",
    "webhook.set#1=drop-after",
    "webhook.set_slack#1=truncate",
    "webhook.delete#1=drop-after",
    "asset.list#2=not-json",
    "portal.list#2=html",
    "webhook.list#2=refuse",
    "*=429:1@0.2",
)
FOR_GOOD = (  # the first occurrences fail whatever the client does; later ones pass
    "asset.set_meta#1=fail:rejected",
    "asset.set_meta#1-6=503",
    "portal.set#1=fail:rejected",
    "portal.set#1-6=502",
    "portal.rename#1=fail:name taken",
    "portal.remove#1=fail:in use",
    "webhook.set#1=fail:unreachable",
    "webhook.set_slack#1-6=500",
    "webhook.delete#1=fail:locked",
    "asset.set_meta=503@0.4",
    "portal.set=503@0.3",
    "webhook.set*=fail:flaky@0.2",
)
ID_PARAM = {"asset": "rid", "portal": "subdomain", "webhook": "hook_url"}
ORPHANED = "was uploaded, but its set_meta failed"


def _key(endpoint: str, params: dict[str, str], known: set[str] | None = None) -> tuple[str, str]:
    """A write by what it names; a set_meta of a rid no seed had as the plan shows it."""
    if endpoint == "asset.upload_from_url":
        return endpoint, params["input"]
    value = params.get(ID_PARAM[endpoint.split(".")[0]], "")
    if known is not None and endpoint == "asset.set_meta" and value not in known:
        value = AFTER_UPLOAD
    return endpoint, value


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _state_holds_the_manifest(
    scenario: Scenario, account: dict[str, Any], written: set[str]
) -> None:
    """The oracle: the emulator's account against the drawn manifest, field by field.
    `written`: the URLs of the hooks some write took effect on."""
    manifest = scenario.manifest
    assets = {a["rid"]: a for a in account["assets"]}
    for entry in manifest.get("assets", []):
        if entry.get("absent"):
            assert entry.get("rid") not in assets
            assert entry.get("reference_id") not in {a["reference_id"] for a in assets.values()}
            continue
        if "rid" in entry:
            live = assets[entry["rid"]]
        else:
            (live,) = [a for a in assets.values() if a["reference_id"] == entry["reference_id"]]
        if "source" in entry and entry["reference_id"].startswith("NEW-"):
            assert live["filename"] == "new.mp4"  # the one its upload made
        for name in (*TEXT_FIELDS, "reference_id"):
            if name in entry:
                assert live[name] == entry[name], (name, live[name], entry[name])
        if "tags" in entry:
            assert set(live["tags"]) == {t.strip() for t in entry["tags"]}
        if "video_thumb_sec" in entry:
            assert live.get("video_thumb_sec") == entry["video_thumb_sec"]
        if "thumb_attached_rid" in entry:
            assert (live.get("thumb_attached_rid") or "") == entry["thumb_attached_rid"]
    portals = {p["subdomain"]: p for p in account["portals"]}
    named = set()
    for entry in manifest.get("portals", []):
        named.add(entry["subdomain"])
        live = portals[entry["subdomain"]]
        for name in ("name", "visibility"):
            if name in entry:
                assert live[name] == entry[name]
        for key, value in entry.get("settings", {}).items():
            assert live["settings"][key] == _setting_text(value)
        if "active" in entry:
            assert live["status"] == ("active" if entry["active"] else "ceased")
        for old in entry.get("previously", []):
            assert old not in portals  # renamed, not copied
    seeded = {p["subdomain"] for p in scenario.seed["portals"]}
    renamed_from = {o for e in manifest.get("portals", []) for o in e.get("previously", [])}
    left = seeded - named - renamed_from
    prune = manifest.get("prune", {})
    assert (left & set(portals)) == (set() if prune.get("portals") else left)
    hooks = {h["hook_url"]: h for h in account["webhooks"]}
    for entry in manifest.get("webhooks", []):
        live = hooks[entry["url"]]
        assert live["type"] == entry.get("type", "http")
        assert set(live["events"]) == set(entry["events"])
        if "security_key" not in entry:
            continue
        # a key cannot be read back, so one on both sides is not compared and not sent
        # unless the hook is written anyway: then the manifest's key goes with it
        if entry["url"] in written:
            key = entry["security_key"]  # an EnvRef: the value the environment gives
        else:
            (seeded,) = [h for h in scenario.seed["webhooks"] if h["hook_url"] == entry["url"]]
            key = seeded["security_key"]
        assert live["security_key_sha256"] == hashlib.sha256(key.encode()).hexdigest()
    unnamed = {h["hook_url"] for h in scenario.seed["webhooks"]} - {
        e["url"] for e in manifest.get("webhooks", [])
    }
    assert (unnamed & set(hooks)) == (set() if prune.get("webhooks") else unnamed)


@reproducible(40)
@given(
    scenarios(),
    st.lists(st.sampled_from(TRANSIENT), max_size=3, unique=True),
    st.lists(st.sampled_from(FOR_GOOD), min_size=1, max_size=3, unique=True),
    st.integers(0, 2**16),
)
def test_repeated_applies_converge_with_no_needless_write(
    scenario: Scenario, transient: list[str], for_good: list[str], fault_seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_text("\n".join(dump(scenario.manifest or {"version": 1})) + "\n", "utf-8")
        desired = load_manifests([str(path)], scenario.env)

    emulator = Emulator(scenario.seed)
    # --resend-secrets writes every hook with a key on every run (key rotation), so its
    # plans never empty; test_property_convergence covers it
    options = PlanOptions(resend_secrets=False)
    with CincopaClient(
        "http://emulator.test/v2/",
        "emulator-token",
        transport=emulator.transport(),
        sleep=lambda _seconds: None,
    ) as client:
        live = read_live(client, desired, page_size=scenario.page_size)
        first = make_plan_for(desired, live, options)
        once = {  # the keys of calls that must take effect exactly once
            _key(call.endpoint, dict(call.params))
            for change in first.changes
            for n, call in enumerate(change.calls)
            if (change.creates and n == 0)
            or call.endpoint in ("portal.rename", "portal.remove", "webhook.delete", "asset.delete")
        }
        planned = {_key(c.endpoint, dict(c.params)) for c in first.calls() if c.endpoint in WRITES}
        orphaned: Counter[tuple[str, str]] = Counter()  # uploads whose set_meta then failed
        emulator.set_faults("; ".join(transient + for_good), fault_seed=fault_seed)
        plan, rounds = first, 0
        while not plan.empty:
            rounds += 1
            assert rounds <= ROUNDS, [c.address for c in plan.changes]
            fake = FakeTime()
            report = apply_plan(client, plan, parallelism=4, clock=fake.clock, sleep=fake.sleep)
            not_done = {o.change.address: o for o in report.outcomes if o.status != "applied"}
            for o in not_done.values():
                if ORPHANED in o.message:
                    orphaned[_key(ep.ASSET_UPLOAD, dict(o.change.calls[0].params))] += 1
            if not_done:
                assert report.exit_code == 5
                assert all(o.message for o in not_done.values())
            else:
                assert report.exit_code == 0 and report.drift == []
            plan = make_plan_for(
                desired, read_live(client, desired, page_size=scenario.page_size), options
            )
            # the next plan holds exactly what this apply did not do, but for a failure
            # that said it may have taken effect (an answer was lost): then it may be done
            remains = {c.address for c in plan.changes}
            assert remains <= set(not_done), remains - set(not_done)
            for address in set(not_done) - remains:
                assert "may have taken effect" in not_done[address].message or (
                    "may or may not have taken effect" in not_done[address].message
                ), (address, not_done[address].message)
        event(f"converged in {rounds} apply(s)")

    known = {a["rid"] for a in scenario.seed["assets"]}
    writes = [c for c in emulator.calls if c.kind == "write" and c.acted and c.success]
    effective = Counter(_key(c.endpoint, c.params, known) for c in writes)
    lost = Counter(_key(c.endpoint, c.params, known) for c in writes if c.fault in LOST)
    assert set(effective) <= planned  # nothing written that the first plan did not name
    for key, count in effective.items():
        if key in once:
            assert count == 1 + orphaned[key], f"{key} took effect {count} times"
        elif key == (ep.ASSET_SET_META, AFTER_UPLOAD):  # one per create, plus lost answers
            creates = sum(1 for c in first.changes if c.kind == "asset" and c.creates)
            assert count - lost[key] <= creates, f"{key}: {count} writes, {lost[key]} lost"
        else:
            assert count - lost[key] <= 1, f"{key}: {count} writes, {lost[key]} answers lost"
    assert set(effective) == planned  # and everything named was written
    hooks_written = {c.params["hook_url"] for c in writes if c.endpoint.startswith("webhook.")}
    _state_holds_the_manifest(scenario, emulator.to_json(), hooks_written)
