"""The account changing under a plan's reads is the account's doing, never the user's
mistake: a portal this account creates or renames between `portal.list` and
`portal.check` is read again, or the run stops as a changed account (exit 1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from reliability_helpers import Served
from support import TOKEN


def create_portal(served: Served, subdomain: str, name: str) -> None:
    """What another run against this account does: portal.set of a new subdomain."""
    params = {"api_token": TOKEN, "subdomain": subdomain, "name": name}
    served.emulator.handle("POST", "/v2/portal.set.json", params)


def test_a_portal_this_account_creates_during_the_read_is_not_taken_by_another_account(
    run: Callable[..., Result], served: Served, manifest: Path
) -> None:
    """With `fresh` created by this account between portal.list and portal.check, `plan`
    said `portal subdomain 'fresh' is taken by another account`, exit 3."""

    def race(endpoint: str, params: dict[str, str]) -> None:
        checked = endpoint == "portal.check" and params.get("subdomain") == "fresh"
        if checked and "fresh" not in served.emulator.account.portals:
            create_portal(served, "fresh", "Made meanwhile")

    served.emulator.on_request = race
    result = run("plan", manifest, "--format", "json", *served.args, env=served.env)
    assert result.exit_code == 0, result.stderr
    fresh = [c for c in json.loads(result.stdout)["changes"] if c["address"] == "portal.fresh"]
    assert [c["action"] for c in fresh] == ["update"]  # it exists now: updated, not created
    assert fresh[0]["fields"][0] == {
        "field": "name",
        "before": "Made meanwhile",
        "after": "Fresh portal",
        "sensitive": False,
    }


def test_a_portal_taken_by_another_account_is_still_reported_as_such(
    run: Callable[..., Result], served: Served, manifest: Path
) -> None:
    served.emulator.account.foreign_subdomains.add("fresh")
    result = run("plan", manifest, *served.args, env=served.env)
    assert result.exit_code == 3, result.output
    assert "portal subdomain 'fresh' is taken by another account" in result.stderr


def test_portals_that_keep_appearing_stop_the_run_as_a_changed_account(
    run: Callable[..., Result], served: Served, tmp_path: Path
) -> None:
    """Each portal.check round, this account creates one more of the names the plan would
    create: after three rounds the run stops, exit 1, as a listing that did not hold still."""
    names = ["race-a", "race-b", "race-c"]
    path = tmp_path / "m.yaml"
    path.write_text("portals:\n" + "".join(f"  - subdomain: {n}\n" for n in names))
    lock = threading.RLock()  # create_portal's own request comes back through race
    made_since_listing: list[str] = []

    def race(endpoint: str, params: dict[str, str]) -> None:
        with lock:
            if endpoint == "portal.list":
                made_since_listing.clear()
            missing = [n for n in names if n not in served.emulator.account.portals]
            if endpoint == "portal.check" and missing and not made_since_listing:
                made_since_listing.append(missing[0])
                create_portal(served, missing[0], "meanwhile")

    served.emulator.on_request = race
    result = run("plan", path, *served.args, env=served.env)
    assert result.exit_code == 1, result.output
    assert "portal.list: portal 'race-c' appeared while the account was read" in result.stderr
    assert "taken by another account" not in result.stderr
