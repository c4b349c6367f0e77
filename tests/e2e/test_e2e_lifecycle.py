"""Rebuilding an environment, end to end against the emulator: assets created from a
source and deleted on request, portals switched off and on, new tags and orphans warned
about, saved plans that refuse when an identity moved.

Every test that applies plans again afterwards and expects "No changes" (or says what is
left and why). The CLI runs in-process against an emulator on a loopback port, with the
client's waits scaled down (CINCOPA_SYNC_TIME_SCALE), so a status read comes 10 ms after
an upload, not 1 s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from support import Served, serving

from cincopa_sync.api.retry import TIME_SCALE_ENV
from cincopa_sync.emulator import UploadRules

NO_CHANGES = "No changes. The account matches the manifests."
SOURCE = "https://media.example.com/clips/autumn-launch.mp4"
SEED: dict[str, Any] = {
    "assets": [
        {"id": "1", "rid": "RID_KEEP0001", "reference_id": "SKU-1", "tags": ["launch"]},
        {"id": "2", "rid": "RID_GONE0002", "reference_id": "SKU-2", "caption": "Old clip"},
        {"id": "3", "rid": "RID_ALSO0003", "tags": ["winter"]},
    ],
    "portals": [
        {"subdomain": "on-now", "name": "On"},
        {"subdomain": "off-now", "name": "Off", "status": "ceased"},
    ],
}
CREATE = f"""\
assets:
  - reference_id: SKU-9
    source: {SOURCE}
    caption: Autumn launch
    tags: [launch]
"""


class Box(Served):
    @property
    def env(self) -> dict[str, str]:
        return {**super().env, TIME_SCALE_ENV: "0.01"}


@pytest.fixture
def open_box() -> Iterator[Callable[..., Box]]:
    """Serves SEED (or `seed`) with these emulator options, for the test's length."""
    with ExitStack() as stack:

        def make(seed: dict[str, Any] = SEED, **options: Any) -> Box:
            served = stack.enter_context(serving(seed, **options))
            return Box(served.emulator, served.url)

        yield make


@pytest.fixture
def box(open_box: Callable[..., Box]) -> Box:
    return open_box()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def make(text: str, name: str = "m.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


def cli(run: Callable[..., Result], box: Box, *args: object) -> Result:
    return run(*args, *box.args, env=box.env)


def apply(run: Callable[..., Result], box: Box, manifest: Path, *extra: object) -> Result:
    return cli(run, box, "apply", manifest, "--auto-approve", *extra)


def assert_converged(run: Callable[..., Result], box: Box, manifest: Path) -> None:
    again = cli(run, box, "plan", manifest, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert NO_CHANGES in again.stdout


def assets_named(box: Box, reference_id: str) -> list[Any]:
    return box.emulator.account.assets_with_reference(reference_id)


def uploaded(box: Box) -> list[Any]:
    """The assets an upload of SOURCE made."""
    return [a for a in box.emulator.account.iter_assets() if a.filename == "autumn-launch.mp4"]


# -- create ---------------------------------------------------------------------------------


def test_a_create_uploads_names_the_asset_verifies_it_and_converges(run, box, write) -> None:
    manifest = write(CREATE)
    plan = cli(run, box, "plan", manifest)
    assert "  + asset.ref:SKU-9" in plan.stdout
    assert "call asset.set_meta(rid=(after upload), caption=" in plan.stdout
    box.emulator.clear_log()

    result = apply(run, box, manifest)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "applied  + asset.ref:SKU-9" in result.stdout
    assert "every change verified by reading it back" in result.stdout
    (made,) = assets_named(box, "SKU-9")
    assert (made.filename, made.caption, made.tags) == (
        "autumn-launch.mp4",
        "Autumn launch",
        ["launch"],
    )
    writes = box.writes()
    assert writes == [
        ("asset.upload_from_url", {"input": SOURCE}),
        (
            "asset.set_meta",
            {
                "rid": made.rid,
                "caption": "Autumn launch",
                "reference_id": "SKU-9",
                "tags": "launch",
            },
        ),
    ]
    # the status read came between the two; the new asset was read back after them
    endpoints = [c.endpoint for c in box.emulator.calls]
    assert endpoints.index("asset.upload_from_url_get_status") < endpoints.index("asset.set_meta")
    assert "asset.list" in endpoints[endpoints.index("asset.set_meta") :]
    assert_converged(run, box, manifest)


def test_a_source_on_an_existing_asset_is_not_compared(run, box, write) -> None:
    manifest = write("assets:\n  - reference_id: SKU-1\n    source: https://m.example.com/x.mp4\n")
    assert_converged(run, box, manifest)
    assert box.writes() == []


def test_a_failed_upload_fails_its_change_and_writes_nothing_else(run, open_box, write) -> None:
    box = open_box(uploads=UploadRules(failing=("*autumn*",)))
    manifest = write(CREATE)
    result = apply(run, box, manifest)
    assert result.exit_code == 5, result.stdout + result.stderr
    assert (
        "  FAILED   asset.ref:SKU-9: the upload failed (the source could not be fetched); "
        "nothing was written for it"
    ) in result.stdout
    assert [e for e, _ in box.writes()] == ["asset.upload_from_url"]
    assert assets_named(box, "SKU-9") == [] and len(box.emulator.account) == 3
    again = cli(run, box, "plan", manifest, "--detailed-exitcode")
    assert again.exit_code == 2 and "  + asset.ref:SKU-9" in again.stdout  # still to do
    box = open_box(box.emulator.to_json())  # the source can be fetched again
    assert apply(run, box, manifest).exit_code == 0
    assert_converged(run, box, manifest)


def test_a_lost_upload_answer_is_not_sent_again_then_the_orphan_is_adopted(
    run, open_box, write
) -> None:
    # the emulator acts, then drops the connection; the upload completes on its own
    box = open_box(uploads=UploadRules(after_ms=0), faults="asset.upload_from_url#1=drop-after")
    manifest = write(CREATE)
    result = apply(run, box, manifest)
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "  UNKNOWN  asset.ref:SKU-9: asset.upload_from_url: " in result.stdout
    assert "The upload was not sent again: that could make a second asset." in result.stdout
    assert "named 'autumn-launch.mp4' and says how to adopt it" in result.stdout
    assert "1 unknown (may have taken effect)" in result.stdout
    assert len(box.emulator.calls_to("asset.upload_from_url")) == 1
    assert box.emulator.calls_to("asset.set_meta") == []

    box.emulator.set_faults(None)
    plan = cli(run, box, "plan", manifest)  # the upload went through meanwhile
    (orphan,) = uploaded(box)
    assert f"asset {orphan.rid} has no reference_id and the filename 'autumn-launch.mp4'" in (
        plan.stderr + plan.stdout
    )
    assert f"replace `source:` with `rid: {orphan.rid}` and keep `reference_id: SKU-9`" in (
        plan.stdout
    )
    adopted = write(CREATE.replace(f"    source: {SOURCE}\n", "").replace(
        "  - reference_id: SKU-9\n", f"  - rid: {orphan.rid}\n    reference_id: SKU-9\n"
    ))  # fmt: skip
    result = apply(run, box, adopted)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [a.rid for a in assets_named(box, "SKU-9")] == [orphan.rid]  # no second asset
    assert_converged(run, box, manifest)  # the original manifest finds it by reference_id
    assert uploaded(box) == [orphan]


def test_an_upload_that_outlasts_the_timeout_is_aborted(run, open_box, write) -> None:
    box = open_box(uploads=UploadRules(after_reads=10_000))
    result = apply(run, box, write(CREATE), "--upload-timeout", "0.05s")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert re.search(
        r"FAILED   asset\.ref:SKU-9: the upload did not complete within --upload-timeout "
        r"\(0\.05 s\): aborted it \(asset\.upload_from_url_abort\), no asset was made",
        result.stdout,
    )
    assert len(box.emulator.calls_to("asset.upload_from_url_abort")) == 1
    assert assets_named(box, "SKU-9") == [] and len(box.emulator.account) == 3


@pytest.mark.parametrize("bad", ["0", "-5m", "soon", "5d"])
def test_a_bad_upload_timeout_is_a_usage_error(run, box, write, bad: str) -> None:
    result = apply(run, box, write(CREATE), "--upload-timeout", bad)
    assert result.exit_code == 3
    assert "--upload-timeout" in result.stderr
    assert box.emulator.calls == []


# -- orphans and new tags in every format --------------------------------------------------


def _warnings_in_every_format(run, box: Box, manifest: Path, needle: str) -> None:
    text = cli(run, box, "plan", manifest)
    assert text.exit_code == 0, text.stderr
    assert any(
        line.startswith("Warning: ") and needle in line for line in text.stdout.splitlines()
    ), text.stdout
    doc = json.loads(cli(run, box, "plan", manifest, "--format", "json").stdout)
    (warning,) = [w for w in doc["warnings"] if needle in w]
    assert re.match(rf"{re.escape(str(manifest))}:\d+:\d+: ", warning), warning
    markdown = cli(run, box, "plan", manifest, "--format", "markdown").stdout
    assert "> [!WARNING]\n" in markdown, markdown  # the warnings' GitHub alert block
    assert any(
        line.startswith("> ") and needle in line.replace("\\", "")  # unescaped
        for line in markdown.splitlines()
    ), markdown


def test_the_orphan_warning_is_in_every_format(run, box, write) -> None:
    box.emulator.add_asset(rid="ORPHAN000001", filename="autumn-launch.mp4")
    manifest = write(CREATE)
    _warnings_in_every_format(run, box, manifest, "asset ORPHAN000001 has no reference_id")


def test_the_orphan_is_found_by_search_when_assets_are_looked_up(run, open_box, write) -> None:
    """Lookups instead of the listing (a big account, one named asset): one search."""
    box = open_box(page_cap=1)
    for n in range(20):
        box.emulator.add_asset(rid=f"FILLER{n:06d}", reference_id=f"F-{n}")
    box.emulator.add_asset(rid="ORPHAN000001", filename="autumn-launch.mp4")
    box.emulator.add_asset(rid="NAMED0000001", filename="autumn-launch.mp4", reference_id="X")
    manifest = write(CREATE)
    plan = cli(run, box, "plan", manifest)
    assert "asset ORPHAN000001 has no reference_id" in plan.stdout
    assert "NAMED0000001" not in plan.stdout
    searches = [c.params for c in box.emulator.calls_to("asset.list") if "search" in c.params]
    assert {p["search"] for p in searches} == {"autumn-launch.mp4"}  # its 2 pages
    assert len(box.emulator.calls_to("asset.list")) < 10  # not the listing of 20+ pages


def test_a_new_tag_is_warned_about_in_every_format(run, box, write) -> None:
    manifest = write("assets:\n  - rid: RID_KEEP0001\n    tags: [launch, wintr]\n")
    _warnings_in_every_format(
        run, box, manifest, "tag 'wintr' is new: no asset carries it yet (did you mean 'winter'?)"
    )
    assert box.counts()["asset.get_tags"] == 3  # once per plan
    assert apply(run, box, manifest).exit_code == 0  # a warning does not stop anything
    assert_converged(run, box, manifest)
    quiet = cli(run, box, "plan", manifest)
    assert "is new" not in quiet.stdout  # it is an account tag now


def test_a_manifest_without_tags_does_not_read_the_tag_cloud(run, box, write) -> None:
    cli(run, box, "plan", write("assets:\n  - rid: RID_KEEP0001\n    caption: x\n"))
    assert box.counts().get("asset.get_tags", 0) == 0


# -- delete -----------------------------------------------------------------------------------


def test_absent_deletes_and_an_absent_asset_is_no_change(run, box, write) -> None:
    manifest = write(
        "assets:\n"
        "  - reference_id: SKU-2\n    absent: true\n"
        "  - rid: NOT_THERE001\n    absent: true\n"
        "  - reference_id: SKU-404\n    absent: true\n"
    )
    plan = cli(run, box, "plan", manifest)
    assert "Plan: 0 to create, 0 to update, 0 to rename, 1 to delete." in plan.stdout
    assert "  - asset.ref:SKU-2" in plan.stdout and 'caption "Old clip"' in plan.stdout
    result = apply(run, box, manifest)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert box.writes() == [("asset.delete", {"rid": "RID_GONE0002"})]
    assert "RID_GONE0002" not in box.emulator.account.assets_by_rid
    assert len(box.emulator.account) == 2  # the others are never deleted for not being named
    assert_converged(run, box, manifest)


def test_deleting_most_assets_needs_allow_deletes(run, open_box, write) -> None:
    box = open_box({"assets": [{"rid": f"DEL{n:09d}"} for n in range(6)]})
    manifest = write(
        "assets:\n" + "".join(f"  - rid: DEL{n:09d}\n    absent: true\n" for n in range(4))
    )
    plan = cli(run, box, "plan", manifest)
    assert "the plan deletes 4 of 6 live assets" in plan.stdout + plan.stderr
    refused = apply(run, box, manifest)
    assert refused.exit_code == 4
    assert "apply refuses without --allow-deletes" in refused.stderr
    assert box.writes() == []
    done = apply(run, box, manifest, "--allow-deletes")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert sorted(p["rid"] for _, p in box.writes()) == [f"DEL{n:09d}" for n in range(4)]
    assert_converged(run, box, manifest)
    every = write(
        "assets:\n" + "".join(f"  - rid: DEL{n:09d}\n    absent: true\n" for n in range(6)),
        "all.yaml",
    )
    assert apply(run, box, every).exit_code == 0  # the 2 left: not more than 3
    assert len(box.emulator.account) == 0


def test_a_lost_delete_answer_is_checked_by_reading(run, open_box, write) -> None:
    box = open_box(faults="asset.delete#1=drop-after")
    manifest = write("assets:\n  - rid: RID_GONE0002\n    absent: true\n")
    result = apply(run, box, manifest)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(box.emulator.calls_to("asset.delete")) == 1
    box.emulator.set_faults(None)
    assert_converged(run, box, manifest)


# -- portal state -----------------------------------------------------------------------------


def test_cease_then_reactivate(run, box, write) -> None:
    off = write("portals:\n  - subdomain: on-now\n    active: false\n    name: Now off\n")
    plan = cli(run, box, "plan", off)
    assert "      active: true -> false" in plan.stdout
    result = apply(run, box, off)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert box.writes() == [
        ("portal.set", {"subdomain": "on-now", "name": "Now off"}),
        ("portal.cease", {"subdomain": "on-now"}),
    ]
    assert box.emulator.account.portals["on-now"].status == "ceased"
    assert_converged(run, box, off)

    box.emulator.clear_log()
    on = write("portals:\n  - subdomain: on-now\n    active: true\n  - subdomain: off-now\n")
    plan = cli(run, box, "plan", on)
    assert "      active: false -> true" in plan.stdout
    assert apply(run, box, on).exit_code == 0
    assert box.writes() == [("portal.set", {"subdomain": "on-now"})]
    assert box.emulator.account.portals["on-now"].status == "active"
    assert box.emulator.account.portals["off-now"].status == "ceased"  # not managed
    assert_converged(run, box, on)


# -- saved plans: identities that moved ------------------------------------------------------


def save(run, box: Box, manifest: Path, path: Path) -> None:
    result = cli(run, box, "plan", manifest, "--out", path)
    assert result.exit_code == 0, result.stderr


def test_a_saved_create_is_refused_when_the_asset_appeared_since(run, box, write, tmp_path):
    path = tmp_path / "plan.json"
    save(run, box, write(CREATE), path)
    box.emulator.add_asset(rid="SOMEONE00001", reference_id="SKU-9")
    box.emulator.clear_log()
    result = cli(run, box, "apply", "--plan", path)
    assert result.exit_code == 4
    assert "asset.ref:SKU-9: appeared since the plan was made (the plan saw none)" in result.stderr
    assert box.writes() == []


@pytest.mark.parametrize("how", ["a second asset got it", "it moved to another asset"])
def test_a_saved_update_is_refused_when_its_reference_id_resolves_elsewhere(
    run, box, write, tmp_path, how: str
) -> None:
    path = tmp_path / "plan.json"
    save(run, box, write("assets:\n  - reference_id: SKU-1\n    caption: New caption\n"), path)
    if how == "it moved to another asset":
        box.emulator.account.assets_by_rid["RID_KEEP0001"].reference_id = ""
    box.emulator.account.assets_by_rid["RID_ALSO0003"].reference_id = "SKU-1"
    box.emulator.clear_log()
    result = cli(run, box, "apply", "--plan", path)
    assert result.exit_code == 4, result.stdout + result.stderr
    now = '["RID_ALSO0003"]' if how == "it moved to another asset" else (
        '["RID_ALSO0003", "RID_KEEP0001"]'
    )  # fmt: skip
    assert f'asset.ref:SKU-1: resolves_to is now {now} (the plan saw ["RID_KEEP0001"])' in (
        result.stderr
    )
    assert box.writes() == []


def test_an_untouched_saved_plan_creates_deletes_and_ceases(run, box, write, tmp_path) -> None:
    manifest = write(
        CREATE + "  - rid: RID_GONE0002\n    absent: true\n"
        "portals:\n  - subdomain: on-now\n    active: false\n"
    )
    path = tmp_path / "plan.json"
    save(run, box, manifest, path)
    result = cli(run, box, "apply", "--plan", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "3 applied, 0 failed, 0 skipped" in result.stdout
    assert sorted(e for e, _ in box.writes()) == [
        "asset.delete",
        "asset.set_meta",
        "asset.upload_from_url",
        "portal.cease",
    ]
    assert_converged(run, box, manifest)


# -- bad input for every new key: exit 3, a location, no call --------------------------------


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            "assets:\n  - rid: RID_KEEP0001\n    source: https://m.example.com/a.mp4\n",
            "m.yaml:3:5: source needs reference_id as the identity",
        ),
        (
            "assets:\n  - reference_id: SKU-9\n    source: media.example.com/a.mp4\n",
            "m.yaml:3:13: source must be an http:// or https:// URL",
        ),
        ("assets:\n  - reference_id: SKU-9\n    source: [a]\n", "m.yaml:3:13: source must be"),
        (
            "assets:\n  - rid: RID_KEEP0001\n    absent: true\n    caption: x\n",
            "m.yaml:4:5: caption is not allowed beside absent: true",
        ),
        ("assets:\n  - rid: RID_KEEP0001\n    absent: yes\n", "m.yaml:3:13: absent must be"),
        ("portals:\n  - subdomain: on-now\n    active: off\n", "m.yaml:3:13: active must be"),
        (
            "assets:\n  - rid: RID_KEEP0001\n    reference_id: SKU-9\n"
            "  - reference_id: SKU-9\n    source: https://m.example.com/a.mp4\n",
            "m.yaml:4:5: reference_id 'SKU-9' is to be created here",
        ),
    ],
)
def test_bad_input_for_a_new_key_is_exit_3_with_its_place(
    run, box, write, tmp_path, manifest: str, message: str
) -> None:
    path = write(manifest)
    for command in (["validate", path], ["plan", path, *box.args], ["apply", path, *box.args]):
        result = run(*command, env=box.env)
        if "is to be created here" in message and command[0] == "validate":
            assert result.exit_code == 0  # known only against the account
            continue
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert f"{tmp_path}/{message}" in result.stderr
    if "is to be created here" not in message:
        assert box.emulator.calls == []  # refused before any call
    assert box.writes() == []
