"""`export --identity`: auto (the default) keys an asset by its reference_id when no other
asset has it, so the files describe the same assets in another account (where rids differ);
rid keys every asset by rid. Either way, a plan of the export shows no changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import serving

Run = Callable[..., Result]


def asset(rid: str, ref: str, caption: str) -> dict[str, str]:
    return {"rid": rid, "reference_id": ref, "caption": caption, "tags": ",launch,"}


# Unique, shared and missing reference_ids.
SEED = {
    "assets": [
        asset("RID00000001a", "SKU-1", "Unique one"),
        asset("RID00000002b", "SKU-2", "Unique two"),
        asset("RID00000003c", "SHARED", "Shared A"),
        asset("RID00000004d", "SHARED", "Shared B"),
        asset("RID00000005e", "", "No reference"),
    ]
}
# The same assets in another account: other rids, the same reference_ids and captions.
COPY = {"assets": [{**a, "rid": "COPY" + a["rid"][4:]} for a in SEED["assets"]]}


def export(run: Run, served, out: Path, *extra: str) -> str:
    result = run("export", "--out", out, *extra, *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    return (out / "assets-001.yaml").read_text(encoding="utf-8")


def plan(run: Run, served, out: Path) -> Result:
    return run("plan", out, "--detailed-exitcode", *served.args, env=served.env)


def test_auto_keys_an_asset_by_a_reference_id_no_other_asset_has(run: Run, tmp_path: Path) -> None:
    with serving(SEED) as served:
        text = export(run, served, tmp_path / "out")
        again = plan(run, served, tmp_path / "out")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    identities = [line.strip() for line in text.splitlines() if line.startswith("  - ")]
    assert identities == [
        '- reference_id: "SKU-1"',
        '- reference_id: "SKU-2"',
        '- rid: "RID00000003c"',  # SHARED twice: a reference_id that names two assets
        '- rid: "RID00000004d"',
        '- rid: "RID00000005e"',  # none
    ]
    shared = text[text.index('- rid: "RID00000003c"') :]
    assert 'reference_id: "SHARED"' in shared.split("\n  - ")[0]  # kept as a managed field


@pytest.mark.parametrize("identity", ["auto", "rid"])
def test_the_export_of_one_account_planned_against_a_copy(
    run: Run, tmp_path: Path, identity: str
) -> None:
    """auto: the unique reference_ids find their assets in the copy; only the assets keyed
    by rid cannot be found there. rid: none can."""
    with serving(SEED) as served:
        export(run, served, tmp_path / "out", "--identity", identity)
    with serving(COPY) as copy:
        result = plan(run, copy, tmp_path / "out")
    assert result.exit_code == 3
    missing = sorted(line.split("no asset has rid ")[1] for line in result.stderr.splitlines()
                     if "no asset has rid" in line)  # fmt: skip
    keyed_by_rid = ["RID00000003c", "RID00000004d", "RID00000005e"]
    if identity == "rid":
        keyed_by_rid = ["RID00000001a", "RID00000002b", *keyed_by_rid]
    assert missing == [f"'{rid}'" for rid in keyed_by_rid]
    assert "reference_id" not in result.stderr  # SKU-1 and SKU-2 (auto) resolved


def test_rid_keys_every_asset_by_rid_and_plans_no_changes(run: Run, tmp_path: Path) -> None:
    with serving(SEED) as served:
        text = export(run, served, tmp_path / "out", "--identity", "rid")
        again = plan(run, served, tmp_path / "out")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("  - ")] == [
        "  - rid"
    ] * 5
