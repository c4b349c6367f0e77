"""Layers (overlays): how a later layer's entries merge into an earlier layer's, and where a
change of a merged object says it comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import live_from_json

from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.errors import InvalidInput, Location
from cincopa_sync.manifest import load_manifests
from cincopa_sync.manifest.model import DesiredState

LIVE = {
    "assets": [
        {"rid": "R1", "caption": "Old", "description": "Same", "tags": ",a,b,"},
        {"rid": "R2", "caption": "Two", "reference_id": "SKU-2", "tags": ""},
    ],
    "portals": [
        {
            "subdomain": "acme",
            "name": "Acme",
            "visibility": "public",
            "settings": {"theme": "dark", "color": "red"},
        },
        {"subdomain": "old-name", "name": "Renamed", "visibility": "public", "settings": {}},
        {"subdomain": "extra", "name": "Extra", "visibility": "public", "settings": {}},
    ],
    "webhooks": [
        {"hook_url": "https://hooks.example.com/a", "events": "asset.uploaded", "type": "http"},
        {"hook_url": "https://hooks.example.com/extra", "events": "asset.uploaded"},
    ],
}


class Layers:
    """Writes layers as files under a temporary directory and loads them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, layer: str, text: str, name: str = "m.yaml") -> str:
        directory = self.root / layer
        directory.mkdir(exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
        return str(directory)

    def load(self, *layers: str, env: dict[str, str] | None = None, **kw) -> DesiredState:
        return load_manifests([layers[0]], env or {}, overlays=[[p] for p in layers[1:]], **kw)

    def problems(self, *layers: str, **kw) -> list[str]:
        with pytest.raises(InvalidInput) as caught:
            self.load(*layers, **kw)
        return [str(p) for p in caught.value.problems]


@pytest.fixture
def layers(tmp_path: Path) -> Layers:
    return Layers(tmp_path)


def one(desired: DesiredState, kind: str):
    (spec,) = desired.of(kind)
    return spec


def plan_of(desired: DesiredState):
    return make_plan_for(desired, live_from_json(LIVE))


def test_a_later_layer_replaces_what_it_writes_and_keeps_the_rest(layers: Layers) -> None:
    base = layers.write("base", "assets:\n  - rid: R1\n    caption: Base\n    description: D\n")
    top = layers.write("top", "assets:\n  - rid: R1\n    caption: Top\n")
    spec = one(layers.load(base, top), "asset")
    assert dict(spec.fields) == {"caption": "Top", "description": "D"}


def test_tags_and_events_are_replaced_as_a_whole(layers: Layers) -> None:
    base = layers.write(
        "base",
        "assets:\n  - rid: R1\n    tags: [a, b]\n"
        "webhooks:\n  - url: https://hooks.example.com/a\n"
        "    events: [asset.uploaded, asset.updated]\n",
    )
    top = layers.write(
        "top",
        "assets:\n  - rid: R1\n    tags: [c]\n"
        "webhooks:\n  - url: https://hooks.example.com/a\n    events: [asset.deleted]\n",
    )
    desired = layers.load(base, top)
    assert one(desired, "asset").fields["tags"] == frozenset({"c"})
    assert one(desired, "webhook").events == frozenset({"asset.deleted"})
    cleared = layers.write("clear", "assets:\n  - rid: R1\n    tags: []\n")
    assert one(layers.load(base, cleared), "asset").fields["tags"] == frozenset()


def test_settings_merge_key_by_key(layers: Layers) -> None:
    base = layers.write(
        "base", "portals:\n  - subdomain: acme\n    name: Acme\n    settings: {theme: dark, a: 1}\n"
    )
    top = layers.write("top", "portals:\n  - subdomain: acme\n    settings: {theme: light, b: x}\n")
    spec = one(layers.load(base, top), "portal")
    assert dict(spec.fields["settings"]) == {"theme": "light", "a": "1", "b": "x"}
    assert spec.fields["name"] == "Acme"


def test_previously_is_kept_unless_the_later_layer_writes_it(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n    previously: [old-name]\n")
    silent = layers.write("silent", "portals:\n  - subdomain: acme\n    name: X\n")
    cleared = layers.write("cleared", "portals:\n  - subdomain: acme\n    previously: []\n")
    assert one(layers.load(base, silent), "portal").previously == ("old-name",)
    assert one(layers.load(base, cleared), "portal").previously == ()


def test_a_webhook_keeps_its_type_and_key_unless_a_later_layer_writes_them(
    layers: Layers,
) -> None:
    base = layers.write(
        "base",
        "webhooks:\n  - url: ${SLACK}\n    type: slack\n    events: [asset.*]\n"
        "  - url: https://hooks.example.com/a\n    events: [asset.uploaded]\n"
        "    security_key: ${KEY}\n",
    )
    top = layers.write(
        "top",
        "webhooks:\n  - url: ${SLACK}\n    events: [asset.uploaded]\n"
        "  - url: https://hooks.example.com/a\n    events: [asset.updated]\n",
    )
    env = {"SLACK": "https://hooks.slack.com/services/T/B/x", "KEY": "k-1"}
    slack, keyed = layers.load(base, top, env=env).of("webhook")
    assert (slack.type, slack.events) == ("slack", frozenset({"asset.uploaded"}))
    assert slack.secrets() == ((env["SLACK"], "${SLACK}"),)
    assert keyed.security_key == "k-1" and keyed.secrets() == (("k-1", "${KEY}"),)
    assert keyed.events == frozenset({"asset.updated"})


def test_an_entry_that_matches_nothing_earlier_adds_an_object(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n  - subdomain: zeta\n")
    top = layers.write("top", "portals:\n  - subdomain: beta\n  - subdomain: acme\n")
    assert [s.subdomain for s in layers.load(base, top).of("portal")] == ["acme", "zeta", "beta"]


def test_prune_keys_override_per_kind(layers: Layers) -> None:
    base = layers.write("base", "prune: {portals: true, webhooks: true}\n")
    top = layers.write("top", "prune: {webhooks: false}\n")
    desired = layers.load(base, top)
    assert (desired.prunes("portal"), desired.prunes("webhook")) == (True, False)
    assert layers.load(top, base).prunes("webhook") is True


def test_a_duplicate_within_one_layer_is_still_an_error(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n")
    top = layers.write("top", "portals:\n  - subdomain: acme\n  - subdomain: acme\n")
    problems = layers.problems(base, top)
    assert problems == [
        f"{top}/m.yaml:3:16: portal subdomain acme is declared twice: here and at {top}/m.yaml:2:16"
    ]


def test_prune_may_differ_between_layers_but_not_within_one(layers: Layers) -> None:
    base = layers.write("base", "prune: {portals: true}\n")
    layers.write("top", "prune: {portals: false}\n", name="a.yaml")
    top = layers.write("top", "prune: {portals: true}\n", name="b.yaml")
    assert layers.problems(base, top) == [
        f"{top}/b.yaml:1:18: prune.portals is true here but false at {top}/a.yaml:1:18"
    ]


def test_merged_names_stay_unique_across_portals(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n  - subdomain: beta\n")
    top = layers.write("top", "portals:\n  - subdomain: beta\n    previously: [acme]\n")
    assert layers.problems(base, top) == [
        f"{top}/m.yaml:2:5: portal name acme is declared twice: here and at {base}/m.yaml:2:5 "
        "once the layers are merged"
    ]


def test_a_slack_webhook_with_a_key_after_the_merge_is_an_error(layers: Layers) -> None:
    base = layers.write(
        "base", "webhooks:\n  - url: ${U}\n    events: [asset.*]\n    security_key: ${K}\n"
    )
    top = layers.write("top", "webhooks:\n  - url: ${U}\n    type: slack\n    events: [asset.*]\n")
    env = {"U": "https://hooks.slack.com/services/T/B/x", "K": "k"}
    (problem,) = layers.problems(base, top, env=env)
    assert problem.startswith(f"{top}/m.yaml:2:5: security_key is not used by slack webhooks")


def test_a_file_in_two_layers_is_an_error(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n")
    inner = layers.root / "base" / "inner"
    inner.mkdir()
    (inner / "n.yaml").write_text("portals:\n  - subdomain: beta\n")
    assert layers.problems(base, str(inner)) == [
        f"{inner}/n.yaml: is in layer 1 and in layer 2: a file may belong to one layer only"
    ]


def test_a_change_is_placed_at_the_latest_entry_that_wrote_a_differing_field(
    layers: Layers,
) -> None:
    base = layers.write(
        "base",
        "assets:\n  - rid: R1\n    caption: New\n    description: Same\n"
        "portals:\n  - subdomain: acme\n    name: Acme Two\n    settings: {theme: light}\n",
    )
    top = layers.write(
        "top",
        "assets:\n  - rid: R1\n    description: Same\n"
        "portals:\n  - subdomain: acme\n    settings: {color: blue}\n",
    )
    changes = {c.address: c for c in plan_of(layers.load(base, top)).changes}
    # The overlay wrote the asset's description, which does not differ: the base's caption does.
    assert changes["asset.R1"].location == Location(f"{base}/m.yaml", 2, 5)
    # The portal's name and settings.theme come from the base, settings.color from the overlay.
    assert changes["portal.acme"].location == Location(f"{top}/m.yaml", 5, 5)
    name_only = layers.write("name", "portals:\n  - subdomain: acme\n    name: Acme Two\n")
    plain_base = layers.write(
        "plain", "portals:\n  - subdomain: acme\n    settings: {theme: light}\n"
    )
    (change,) = plan_of(layers.load(plain_base, name_only)).changes
    assert change.location == Location(f"{name_only}/m.yaml", 2, 5)
    (change,) = plan_of(layers.load(name_only, plain_base)).changes
    assert change.location == Location(f"{plain_base}/m.yaml", 2, 5)


def test_a_setting_key_is_placed_at_the_layer_that_wrote_it(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n    settings: {theme: light}\n")
    top = layers.write("top", "portals:\n  - subdomain: acme\n    settings: {color: red}\n")
    (change,) = plan_of(layers.load(base, top)).changes
    assert [(f.field, f.after) for f in change.fields] == [("settings", {"theme": "light"})]
    assert change.location == Location(f"{base}/m.yaml", 2, 5)


def test_a_create_and_a_rename_are_placed_at_the_latest_entry_naming_them(
    layers: Layers,
) -> None:
    base = layers.write(
        "base",
        "portals:\n  - subdomain: fresh\n    name: Fresh\n"
        "  - subdomain: renamed\n    previously: [old-name]\n",
    )
    top = layers.write(
        "top", "portals:\n  - subdomain: renamed\n    name: Renamed\n  - subdomain: fresh\n"
    )
    changes = {c.address: c for c in plan_of(layers.load(base, top)).changes}
    assert changes["portal.fresh"].action == "create"
    assert changes["portal.fresh"].location == Location(f"{top}/m.yaml", 4, 5)
    assert changes["portal.renamed"].action == "rename"
    assert changes["portal.renamed"].location == Location(f"{top}/m.yaml", 2, 5)


def test_one_layer_has_no_origins_and_the_digest_of_before(layers: Layers, tmp_path) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n    name: X\n")
    alone = load_manifests([base], {})
    assert alone.origins == {} and alone.layers == 1
    top = layers.write("top", "portals:\n  - subdomain: acme\n    name: X\n")
    both = layers.load(base, top)
    assert set(both.origins) == {"portal.acme"} and both.layers == 2
    assert both.digest != alone.digest
    assert both.files == (f"{base}/m.yaml", f"{top}/m.yaml")


def test_vars_beat_the_process_environment_but_never_feed_a_secret(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: ${PORTAL}\n    name: ${NAME}\n")
    desired = layers.load(base, env={"PORTAL": "from-env", "NAME": "N"}, variables={"PORTAL": "v"})
    assert [(s.subdomain, s.fields["name"]) for s in desired.of("portal")] == [("v", "N")]
    hooks = layers.write(
        "hooks",
        "webhooks:\n  - url: https://hooks.example.com/a\n    events: [asset.*]\n"
        "    security_key: ${KEY}\n",
    )
    (problem,) = layers.problems(hooks, env={"KEY": "from-env"}, variables={"KEY": "in-config"})
    assert problem.startswith(f"{hooks}/m.yaml:2:5: a secret of this entry reads KEY, which")
    assert "in-config" not in problem and "from-env" not in problem


def test_absent_in_a_later_layer_deletes_the_asset_whatever_earlier_layers_wrote(
    layers: Layers,
) -> None:
    base = layers.write("base", "assets:\n  - rid: R1\n    caption: Base\n    tags: [a]\n")
    gone = layers.write("gone", "assets:\n  - rid: R1\n    absent: true\n")
    spec = one(layers.load(base, gone), "asset")
    assert (spec.absent, dict(spec.fields)) == (True, {})
    (change,) = plan_of(layers.load(base, gone)).changes
    assert (change.address, change.action) == ("asset.R1", "delete")
    assert change.location == Location(f"{gone}/m.yaml", 2, 5)
    # absent: false in a later layer keeps it, with what that layer writes
    kept = layers.write("kept", "assets:\n  - rid: R1\n    absent: false\n    caption: Kept\n")
    spec = one(layers.load(base, gone, kept), "asset")
    assert (spec.absent, dict(spec.fields)) == (False, {"caption": "Kept"})
    # fields in a later layer for an asset an earlier one deletes: which is meant?
    later = layers.write("later", "assets:\n  - rid: R1\n    caption: Again\n")
    assert layers.problems(base, gone, later) == [
        f"{later}/m.yaml:2:5: asset.R1 is absent: true in an earlier layer, but this layer "
        "writes caption: write absent: false here to keep the asset"
    ]


def test_a_source_stays_unless_a_later_layer_writes_one(layers: Layers) -> None:
    base = layers.write(
        "base",
        "assets:\n  - reference_id: NEW-1\n    source: https://media.example.com/new-1.mp4\n"
        "    caption: Base\n",
    )
    top = layers.write("top", "assets:\n  - reference_id: NEW-1\n    caption: Top\n")
    spec = one(layers.load(base, top), "asset")
    assert (spec.source, dict(spec.fields)) == (
        "https://media.example.com/new-1.mp4",
        {"caption": "Top"},
    )
    (change,) = plan_of(layers.load(base, top)).changes
    assert change.action == "create" and change.location == Location(f"{top}/m.yaml", 2, 5)
    other = layers.write(
        "other", "assets:\n  - reference_id: NEW-1\n    source: https://media.example.com/b.mp4\n"
    )
    assert one(layers.load(base, other), "asset").source == "https://media.example.com/b.mp4"


def test_a_portals_active_state_is_a_field_like_the_others(layers: Layers) -> None:
    base = layers.write("base", "portals:\n  - subdomain: acme\n    name: Acme\n")
    off = layers.write("off", "portals:\n  - subdomain: acme\n    active: false\n")
    spec = one(layers.load(base, off), "portal")
    assert dict(spec.fields) == {"name": "Acme", "active": False}
