"""Property: for random accounts and random manifests over them, one apply converges.

Hypothesis draws a live account (assets with awkward text, tags and reference_ids;
portals, active or ceased; webhooks, some with keys, some Slack) and a manifest over it
(random subsets of fields kept or changed, assets created from a source or deleted with
`absent: true`, portals created / renamed / updated / switched off or on, webhooks
created / updated, prune on or off). The manifest is written as YAML (every string a JSON
scalar) and loaded with load_manifests, so the whole path runs: loader, live read,
planner, applier, against an in-process Emulator (no sockets). Alongside, the test keeps
its own oracle of what must change, computed from the drawn data without the planner.

Checked for every example:
- the plan changes exactly the objects the oracle says, with one write per changed object
  (a rename: one portal.rename, plus one portal.set when something else differs too; a
  portal switched off: portal.cease after any portal.set; a create: the upload, its
  status read, one set_meta), and each set_meta carries exactly the fields that differ
  (a create's: reference_id and every field written);
- the emulator's successful writes are exactly the plan's write calls (in order within a
  change; a created asset's set_meta on the rid its upload made);
- the apply reports everything applied, nothing drifted, and a fresh plan is empty.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from support import FakeTime, reproducible

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import Emulator
from cincopa_sync.engine.apply import apply_plan
from cincopa_sync.engine.diff import PlanOptions, make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.kinds.webhook import webhook_address
from cincopa_sync.manifest import load_manifests
from cincopa_sync.manifest.yamlwrite import writable
from cincopa_sync.plan import Plan
from cincopa_sync.shown import AFTER_UPLOAD

TEXT_FIELDS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
)
EVENTS = (
    "asset.uploaded",
    "asset.updated",
    "asset.deleted",
    "asset.*",
    "gallery.created",
    "gallery.*",
    "account.settings",
    "lead.created",
)
RESERVED_SETTINGS = {"subdomain", "new_subdomain", "name", "visibility", "api_token"}
AWKWARD = (
    "",
    " ",
    "  padded  ",
    "quote \" and ' apostrophe",
    "comma, separated, list",
    "${NOT_A_VARIABLE}",
    "$${ and $$ and $",
    "line\nbreak\r\nand crlf",
    "tab\there",
    "ünïcødé — “quotes” ✓",
    "emoji 🎬🍿",
    "back\\slash \\n",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "0123",
    "22:22",
    "2026-01-01",
    "1e3",
    ".nan",
    "- dash",
    "#not a comment",
    "key: value",
    "[not, a, list]",
    "{not: a map}",
    "&anchor *alias !tag %directive @ `",
    "api_token=nope&rid=x",
    "ls\u2028 bom\ufeff nbsp\xa0",
)
# YAML may not carry these raw, or reads them as line breaks: they go in as escapes.
_NEEDS_ESCAPE = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
}
_NEEDS_ESCAPE |= {chr(c) for c in range(0x80, 0xA0)}


# -- YAML out of Python data, every scalar quoted --------------------------------------


class EnvRef(str):
    """A secret the manifest takes from the environment: compares as its value, dumps as
    `${VAR}` (a manifest may not hold a secret written out)."""

    var: str

    def __new__(cls, value: str, var: str) -> EnvRef:
        ref = super().__new__(cls, value)
        ref.var = var
        return ref


def from_env(scenario: Scenario, value: str, prefix: str) -> EnvRef:
    var = f"{prefix}_{len(scenario.env)}"
    scenario.env[var] = value
    return EnvRef(value, var)


def scalar(value: object) -> str:
    if isinstance(value, EnvRef):
        return json.dumps("${" + value.var + "}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    assert isinstance(value, str)
    text = json.dumps(value.replace("${", "$${"), ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if c in _NEEDS_ESCAPE else c for c in text)


def dump(node: object, indent: str = "") -> list[str]:
    """Block-style YAML: mappings and sequences on their own lines, scalars quoted."""
    lines: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{indent}{scalar(key)}:")
                lines += dump(value, indent + "  ")
            else:
                lines.append(f"{indent}{scalar(key)}: {scalar(value)}")
    else:
        assert isinstance(node, list)
        for item in node:
            if isinstance(item, dict) and item:
                first, *rest = dump(item, indent + "  ")
                lines.append(f"{indent}- {first.lstrip()}")
                lines += rest
            else:
                lines.append(f"{indent}- {scalar(item)}")
    return lines


# -- strategies -----------------------------------------------------------------------

# What a manifest accepts (control characters are refused, see the manifest reference):
# free text may hold tabs and line breaks, one-line values (a URL, a tag) may not.
texts = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=24),
).filter(writable)
line_texts = texts.filter(lambda t: writable(t, one_line=True))
tags = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=10).filter(
    lambda t: "," not in t and t.strip() != "" and writable(t, one_line=True)
) | st.sampled_from(["launch", "cars", "sale", "ünï", "two words", "tag-1", "UPPER"])
subdomain_names = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?\Z")  # + "-N"
setting_keys = st.from_regex(r"\A[a-z][a-z_]{0,7}\Z").filter(lambda k: k not in RESERVED_SETTINGS)
setting_values = st.one_of(texts, st.integers(0, 10_000), st.booleans())
event_sets = st.lists(st.sampled_from(EVENTS), min_size=1, max_size=4)


@dataclass
class Scenario:
    seed: dict[str, Any]
    manifest: dict[str, Any]
    env: dict[str, str]
    resend_secrets: bool
    page_size: int
    # address -> the endpoints of the calls the change must make, in order
    expected: dict[str, list[str]] = field(default_factory=dict)
    # asset address -> the fields its set_meta must carry
    asset_fields: dict[str, set[str]] = field(default_factory=dict)


def _text_of(field: str) -> st.SearchStrategy[str]:
    return line_texts if field == "related_link_url" else texts


CREATE_CALLS = ["asset.upload_from_url", "asset.upload_from_url_get_status", "asset.set_meta"]


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same_tags_spelled_differently(draw: st.DrawFn, live: list[str]) -> list[str]:
    out = []
    for tag in live:
        for _ in range(draw(st.integers(1, 2))):  # duplicates do not matter
            out.append(
                draw(st.sampled_from(["", " ", "  "])) + tag + draw(st.sampled_from(["", " "]))
            )
    return draw(st.permutations(out))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    # -- the live account ------------------------------------------------------------
    rids = draw(
        st.lists(st.from_regex(r"\A[A-Za-z0-9_]{12}\Z"), min_size=2, max_size=5, unique=True)
    )
    ref_pool = ["SKU-1", "SKU-2", " spaced ref ", "ref,with,commas", "ünï-ref"]
    assets = []
    for n, rid in enumerate(rids):
        asset = {
            "id": str(1000 + n),
            "rid": rid,
            "reference_id": draw(st.sampled_from(["", *ref_pool])),
        }
        for name in TEXT_FIELDS:
            asset[name] = draw(_text_of(name))
        asset["tags"] = draw(st.lists(tags, max_size=4))
        if draw(st.booleans()):
            asset["video_thumb_sec"] = draw(st.integers(0, 120))
        if draw(st.booleans()):
            asset["thumb_attached_rid"] = draw(st.sampled_from(rids))
        assets.append(asset)

    names = [f"{draw(subdomain_names)}-{n}" for n in range(12)]  # distinct by their suffix
    live_names, fresh_names = names[: draw(st.integers(0, 3))], names[3:]
    portals = [
        {
            "subdomain": sub,
            "name": draw(texts),
            "visibility": draw(st.sampled_from(["public", "private"])),
            "status": draw(st.sampled_from(["active", "ceased"])),
            "settings": draw(st.dictionaries(setting_keys, texts, max_size=3)),
        }
        for sub in live_names
    ]
    hook_ids = draw(st.lists(st.integers(0, 99), min_size=8, max_size=8, unique=True))
    hooks = []
    for i in hook_ids[: draw(st.integers(0, 3))]:
        slack = draw(st.booleans())
        hooks.append(
            {
                "hook_url": f"https://hooks.slack.com/services/T0/B{i}/s{i}"
                if slack
                else f"https://hooks.example.com/h/{i}?q=a%20b",
                "type": "slack" if slack else "http",
                "events": draw(event_sets),
                "security_key": None if slack or draw(st.booleans()) else f"live-key-{i}",
            }
        )
    seed = {"assets": assets, "portals": portals, "webhooks": hooks}

    scenario = Scenario(seed, {}, {}, draw(st.booleans()), draw(st.sampled_from([1, 1, 2, 500])))
    expected, manifest = scenario.expected, scenario.manifest

    # -- assets: each managed at most once, by rid or by a unique reference_id ---------
    ref_counts: dict[str, int] = {}
    for asset in assets:
        ref_counts[asset["reference_id"]] = ref_counts.get(asset["reference_id"], 0) + 1
    entries = []
    for asset in assets:
        if draw(st.integers(0, 3)) == 0:  # left out: unmanaged
            continue
        by_ref = asset["reference_id"] != "" and ref_counts[asset["reference_id"]] == 1
        by_ref = by_ref and draw(st.booleans())
        entry: dict[str, Any] = (
            {"reference_id": asset["reference_id"]} if by_ref else {"rid": asset["rid"]}
        )
        address = f"asset.ref:{asset['reference_id']}" if by_ref else f"asset.{asset['rid']}"
        if draw(st.integers(0, 5)) == 0:  # deleted on request
            entries.append({**entry, "absent": True})
            expected[address] = ["asset.delete"]
            continue
        if by_ref and draw(st.integers(0, 4)) == 0:  # a source on an existing asset: ignored
            entry["source"] = "https://media.example.com/ignored.mp4"
        changed: set[str] = set()
        for name in (*TEXT_FIELDS, "reference_id", "tags", "video_thumb_sec", "thumb_attached_rid"):
            if name == "reference_id" and by_ref:
                continue
            choice = draw(st.sampled_from(["omit", "same", "new"]))
            if choice == "omit":
                continue
            live_value = asset.get(name)
            if name == "tags":
                value = (
                    _same_tags_spelled_differently(draw, live_value)
                    if choice == "same"
                    else draw(st.lists(tags, max_size=4))
                )
                differs = {t.strip() for t in value} != {t.strip() for t in live_value}
            elif name == "video_thumb_sec":
                value = (
                    live_value
                    if choice == "same" and live_value is not None
                    else draw(st.integers(0, 120))
                )
                differs = value != live_value
            elif name == "thumb_attached_rid":
                value = (
                    (live_value or "") if choice == "same" else draw(st.sampled_from(["", *rids]))
                )
                differs = value != (live_value or "")
            elif name == "reference_id":
                # fresh values only: another entry's identity must stay unique
                value = (
                    live_value
                    if choice == "same"
                    else draw(st.sampled_from(["", f"NEW-{asset['rid']}"]))
                )
                differs = value != live_value
            else:
                value = live_value if choice == "same" else draw(_text_of(name))
                differs = value != live_value
            entry[name] = value
            if differs:
                changed.add(name)
        entries.append(entry)
        if changed:
            expected[address] = ["asset.set_meta"]
            scenario.asset_fields[address] = changed
    for n in range(draw(st.integers(0, 2))):  # created from a source; the source's file name
        ref = f"NEW-{n}-{draw(st.sampled_from(['a', 'ü', 'x y']))}"  # is no live asset's
        entry = {"reference_id": ref, "source": f"https://media.example.com/{n}/new.mp4"}
        for name in draw(st.lists(st.sampled_from([*TEXT_FIELDS, "tags"]), unique=True)):
            entry[name] = draw(st.lists(tags, max_size=3)) if name == "tags" else draw(texts)
        entries.append(entry)
        expected[f"asset.ref:{ref}"] = CREATE_CALLS
        scenario.asset_fields[f"asset.ref:{ref}"] = (set(entry) - {"source"}) | {"reference_id"}
    if draw(st.booleans()):  # absent already: no change
        entries.append({"rid": "NO_SUCH_RID0", "absent": True})
    if entries:
        manifest["assets"] = entries

    # -- portals: kept, changed, renamed, left out; and new ones -----------------------
    prune_portals = draw(st.booleans())
    fresh = iter(fresh_names)
    portal_entries = []
    for portal in portals:
        choice = draw(st.sampled_from(["omit", "keep", "rename"]))
        if choice == "omit":
            if prune_portals:
                expected[f"portal.{portal['subdomain']}"] = ["portal.remove"]
            continue
        entry = {"subdomain": portal["subdomain"]}
        if choice == "rename":
            entry["subdomain"] = next(fresh)
            previously = [portal["subdomain"]]
            if draw(st.booleans()):  # an older name that no longer exists
                previously.insert(0, next(fresh))
            entry["previously"] = previously
        differs = False
        active = draw(st.sampled_from([None, True, False]))
        if active is not None:
            entry["active"] = active
        for key in ("name", "visibility"):
            pick = draw(st.sampled_from(["omit", "same", "new"]))
            if pick != "omit":
                new = draw(texts) if key == "name" else draw(st.sampled_from(["public", "private"]))
                entry[key] = portal[key] if pick == "same" else new
                differs |= entry[key] != portal[key]
        if draw(st.booleans()):
            settings_entry = {}
            for key, value in portal["settings"].items():
                pick = draw(st.sampled_from(["omit", "same", "new"]))
                if pick != "omit":
                    settings_entry[key] = value if pick == "same" else draw(setting_values)
                    differs |= _setting_text(settings_entry[key]) != value
            for key, value in draw(
                st.dictionaries(setting_keys, setting_values, max_size=2)
            ).items():
                if key not in portal["settings"]:
                    settings_entry[key] = value
                    differs = True
            entry["settings"] = settings_entry
        portal_entries.append(entry)
        live_active = portal["status"] == "active"
        sets = differs or (active is True and not live_active)  # portal.set reactivates
        calls = (["portal.rename"] if choice == "rename" else []) + (["portal.set"] if sets else [])
        if active is False and (sets or live_active):  # switched off after any set
            calls.append("portal.cease")
        if calls:
            expected[f"portal.{entry['subdomain']}"] = calls
    for _ in range(draw(st.integers(0, 2))):
        entry = {"subdomain": next(fresh)}
        if draw(st.booleans()):
            entry["name"] = draw(texts)
        if draw(st.booleans()):
            entry["visibility"] = draw(st.sampled_from(["public", "private"]))
        if draw(st.booleans()):
            entry["settings"] = draw(st.dictionaries(setting_keys, setting_values, max_size=3))
        active = draw(st.sampled_from([None, True, False]))
        if active is not None:
            entry["active"] = active
        portal_entries.append(entry)
        expected[f"portal.{entry['subdomain']}"] = ["portal.set"] + (
            ["portal.cease"] if active is False else []
        )
    if portal_entries:
        manifest["portals"] = portal_entries

    # -- webhooks: kept, changed, left out; and new ones -------------------------------
    prune_hooks = draw(st.booleans())
    hook_entries = []
    for hook in hooks:
        slack = hook["type"] == "slack"
        address = webhook_address(hook["hook_url"], secret=slack)
        if draw(st.booleans()):
            if prune_hooks:
                expected[address] = ["webhook.delete"]
            continue
        events = (
            draw(st.permutations(hook["events"] * draw(st.integers(1, 2))))
            if draw(st.booleans())
            else draw(event_sets)
        )
        entry: dict[str, Any] = {"url": hook["hook_url"], "events": events}
        differs = set(events) != set(hook["events"])
        if draw(st.integers(0, 4)) == 0:  # the same URL, now of the other type
            slack = not slack
            address = webhook_address(hook["hook_url"], secret=slack)
            differs = True
        if slack:
            entry["type"] = "slack"
            entry["url"] = from_env(scenario, hook["hook_url"], "SLACK_URL")
        elif draw(st.booleans()):
            key = draw(st.sampled_from(["k", "new key ✓", "key&with=query?chars"]))
            entry["security_key"] = from_env(scenario, key, "HOOK_KEY")
            differs |= hook["security_key"] is None or scenario.resend_secrets
        hook_entries.append(entry)
        if differs:
            expected[address] = ["webhook.set_slack" if slack else "webhook.set"]
    for i in hook_ids[3 : 3 + draw(st.integers(0, 2))]:
        slack = draw(st.booleans())
        url = (
            f"https://hooks.slack.com/services/T1/N{i}/x"
            if slack
            else f"https://new.example.com/{i}"
        )
        entry = {"url": url, "events": draw(event_sets)}
        if slack:
            entry["type"] = "slack"
            entry["url"] = from_env(scenario, url, "SLACK_URL")
        elif draw(st.booleans()):
            entry["security_key"] = from_env(scenario, draw(texts.filter(bool)), "HOOK_KEY")
        hook_entries.append(entry)
        expected[webhook_address(url, secret=slack)] = [
            "webhook.set_slack" if slack else "webhook.set"
        ]
    if hook_entries:
        manifest["webhooks"] = hook_entries

    prune = {}
    if prune_portals or draw(st.booleans()):
        prune["portals"] = prune_portals
    if prune_hooks or draw(st.booleans()):
        prune["webhooks"] = prune_hooks
    if prune:
        manifest["prune"] = prune
    return scenario


# -- the property ---------------------------------------------------------------------


def _sent(call: Any) -> tuple[str, dict[str, str]]:
    return call.endpoint, dict(call.params)


def _planned_writes(plan: Plan) -> list[tuple[str, dict[str, str]]]:
    """The plan's write calls (a create's status reads are reads)."""
    return [_sent(call) for call in plan.calls() if ep.ENDPOINTS[call.endpoint].write]


def _written(emulator: Emulator, seed: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The writes that took effect, a new asset's rid as the plan shows it."""
    known = {a["rid"] for a in seed["assets"]}
    out = []
    for endpoint, params in map(_sent, emulator.writes()):
        if endpoint == "asset.set_meta" and params["rid"] not in known:
            params = {**params, "rid": AFTER_UPLOAD}
        out.append((endpoint, params))
    return out


@reproducible(50)
@given(scenarios())
def test_one_apply_converges_with_exactly_the_planned_writes(scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_text(
            "\n".join(dump(scenario.manifest or {"version": 1})) + "\n", encoding="utf-8"
        )
        desired = load_manifests([str(path)], scenario.env)

    emulator = Emulator(scenario.seed)
    with CincopaClient(
        "http://emulator.test/v2/", "emulator-token", transport=emulator.transport()
    ) as client:
        live = read_live(client, desired, page_size=scenario.page_size)
        plan = make_plan_for(desired, live, PlanOptions(resend_secrets=scenario.resend_secrets))

        # the plan changes exactly what the oracle says, with the fewest calls
        assert {c.address: [call.endpoint for call in c.calls] for c in plan.changes} == (
            scenario.expected
        )
        for change in plan.changes:
            if change.kind == "asset" and change.action != "delete":
                sent = {k for k, _ in change.calls[-1].params} - {"rid"}
                assert sent == scenario.asset_fields[change.address]

        for change in plan.changes:
            event(f"{change.action} {change.kind}")
        event(f"assets read by {live.of('asset').read}")

        emulator.clear_log()
        fake = FakeTime()
        report = apply_plan(client, plan, parallelism=4, clock=fake.clock, sleep=fake.sleep)
        assert [
            (o.change.address, o.message) for o in report.outcomes if o.status != "applied"
        ] == []
        assert report.drift == []
        assert report.exit_code == 0

        # the writes are the plan's calls: same multiset, plan order within a change
        writes = _written(emulator, scenario.seed)
        assert sorted(map(json.dumps, writes)) == sorted(map(json.dumps, _planned_writes(plan)))
        for change in plan.changes:
            mine = [_sent(c) for c in change.calls if ep.ENDPOINTS[c.endpoint].write]
            if len(mine) > 1:
                positions = [writes.index(call) for call in mine]
                assert positions == sorted(positions)
        assert not [c for c in emulator.calls if c.kind == "write" and not c.success]

        again = make_plan_for(desired, read_live(client, desired, page_size=scenario.page_size))
        assert again.changes == ()


def test_the_yaml_writer_round_trips_awkward_text() -> None:
    """The property above is only as good as the manifests it writes: every awkward string
    must come back from load_manifests exactly as drawn."""
    entries = [{"rid": f"r{i:011d}", "caption": text} for i, text in enumerate(AWKWARD)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text("\n".join(dump({"assets": entries})) + "\n", encoding="utf-8")
        desired = load_manifests([str(path)], {})
    assert [a.fields["caption"] for a in desired.of("asset")] == list(AWKWARD)


# -- the same under network faults ------------------------------------------------------

FAULTS = (
    "asset.set_meta#1=drop-after",
    "asset.set_meta#2=503",
    "portal.set#1=drop-after",
    "portal.set#1=503",
    "portal.rename#1=drop-after",
    "portal.remove#1=drop-after",
    "webhook.set#1=drop-after",
    "webhook.set#1=truncate",
    "webhook.set_slack#1=502",
    "webhook.delete#1=drop-after",
    "asset.list#2=not-json",
    "portal.list#1=html",
    "asset.delete#1=drop-after",
    "asset.upload_from_url#1=429",
    "asset.upload_from_url_get_status#1=503",
    "portal.cease#1=503",
    "*=429:1@0.2",
    "*=refuse@0.1",
)


@reproducible(40)
@given(scenarios(), st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3, unique=True))
def test_one_apply_converges_through_faults(scenario: Scenario, faults: list[str]) -> None:
    """Lost answers, 5xx, 429 and refused connections during the apply: every change still
    applies, a create whose answer was lost is not made twice, and a fresh plan is empty."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_text("\n".join(dump(scenario.manifest or {"version": 1})) + "\n", "utf-8")
        desired = load_manifests([str(path)], scenario.env)

    emulator = Emulator(scenario.seed)
    with CincopaClient(
        "http://emulator.test/v2/",
        "emulator-token",
        transport=emulator.transport(),
        sleep=lambda _seconds: None,  # backoff and Retry-After waits cost nothing here
    ) as client:
        live = read_live(client, desired, page_size=scenario.page_size)
        plan = make_plan_for(desired, live, PlanOptions(resend_secrets=scenario.resend_secrets))
        emulator.clear_log()
        emulator.set_faults("; ".join(faults), fault_seed=7)
        fake = FakeTime()
        report = apply_plan(client, plan, parallelism=4, clock=fake.clock, sleep=fake.sleep)
        failed = [(o.change.address, o.message) for o in report.outcomes if o.status != "applied"]
        assert failed == []
        assert report.drift == []

        writes = _written(emulator, scenario.seed)
        for call in plan.calls():  # every write acted; a create or rename exactly once
            if not ep.ENDPOINTS[call.endpoint].write:
                continue
            made = writes.count(_sent(call))
            assert made >= 1
            if call.endpoint in ("portal.rename",) or any(
                c.creates and c.calls[0] is call for c in plan.changes
            ):
                assert made == 1, f"{call.endpoint} made {made} times"
        assert {json.dumps(w) for w in writes} == {json.dumps(w) for w in _planned_writes(plan)}

        emulator.set_faults(None)
        again = make_plan_for(desired, read_live(client, desired, page_size=scenario.page_size))
        assert again.changes == ()
