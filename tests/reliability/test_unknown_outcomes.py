"""A write whose answer was lost, and that no read could check, is reported `unknown`
("may have taken effect: run plan to see"), never as a plain failure; exit 5. When a
read can check it, it is applied or failed, as the read shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import SLACK_URL, Served

from cincopa_sync.kinds.webhook import webhook_address

SLACK_ADDRESS = webhook_address(SLACK_URL, secret=True)
# (target, the write whose answer is lost, the listing that would tell, whether it acted)
CASES = [
    (SLACK_ADDRESS, "webhook.set_slack=drop-after", "webhook.list", "a hook create"),
    ("portal.fresh", "portal.set=drop-after", "portal.list", "a portal create"),
    ("portal.new-name", "portal.rename=drop-after", "portal.list", "a rename"),
    ("portal.stale", "portal.remove=drop-after", "portal.list", "a delete"),
    ("asset.RID_A_000001", "asset.set_meta=drop-after", "asset.list", "an update"),
]


@pytest.mark.parametrize("target, lost, listing, what", CASES, ids=[c[3] for c in CASES])
def test_a_lost_answer_that_no_read_can_check_is_unknown(
    target: str,
    lost: str,
    listing: str,
    what: str,
    run: Callable[..., Result],
    served: Served,
    manifest: Path,
) -> None:
    """With webhook.set_slack=drop-after and the reads that check it failing, the report
    said `FAILED webhook...: ... gave up after 6 attempts`, yet the hook was made and the
    next plan said "No changes"; the same for a rename, a create and a delete."""
    served.emulator.set_faults(f"{lost}; {listing}#2-999=503")  # #1: the plan's own read
    result = run(
        "apply", manifest, "--auto-approve", "--target", target, *served.args, env=served.env
    )
    assert result.exit_code == 5, result.output
    assert f"  UNKNOWN  {target}: " in result.stdout
    assert "may have taken effect: run plan to see" in result.stdout
    assert "FAILED" not in result.stdout
    assert "1 unknown (may have taken effect)" in result.stdout
    # it had: the plan made now has nothing left for it
    served.emulator.set_faults(None)
    again = run("plan", manifest, "--format", "json", *served.args, env=served.env)
    assert target not in [c["address"] for c in json.loads(again.stdout)["changes"]]


@pytest.mark.parametrize("acted", [True, False], ids=["it acted", "it did not"])
def test_a_lost_answer_that_a_read_can_check_is_settled_by_it(
    acted: bool, run: Callable[..., Result], served: Served, manifest: Path
) -> None:
    """Every attempt of an update lost its answer (or met 503): a read after it tells
    whether it took, so the change is applied or failed, not unknown."""
    served.emulator.set_faults("asset.set_meta=drop-after" if acted else "asset.set_meta=503")
    target = "asset.RID_A_000001"
    result = run(
        "apply", manifest, "--auto-approve", "--target", target, *served.args, env=served.env
    )
    assert "UNKNOWN" not in result.stdout
    if acted:
        assert result.exit_code == 0, result.output
        assert f"  applied  ~ {target}" in result.stdout
    else:
        assert result.exit_code == 5, result.output
        assert f"  FAILED   {target}: " in result.stdout
        assert "reading it back, it did not take effect" in result.stdout
