"""Every API fault of the contract, injected by the emulator and met through the CLI.

Each run is `cincopa-sync apply` (it reads, plans, checks the token, writes, verifies)
against an emulator on a loopback port, with the client's waits and timeouts scaled by
0.01 (CINCOPA_SYNC_TIME_SCALE). For each fault the test checks, from the emulator's own
call log:
- the run converges (exit 0, then `plan` shows nothing), or stops with the documented
  exit code and a clear message;
- exactly the calls the rules allow were repeated: every extra call over a fault-free run
  is accounted for (a retry of a read or of an idempotent write, a read that checks a
  create whose answer was lost, a create sent again after that read found it absent);
- no create, rename or delete took effect twice.
"""

from __future__ import annotations

import re
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from reliability_helpers import BASELINE, CHANGES, Served, addresses

Run = Callable[..., Result]


BASELINE_WRITES = 11  # the writes of BASELINE: one per change


def apply(run: Run, served: Served, manifest: Path, *extra: str) -> Result:
    return run("apply", manifest, "--auto-approve", *extra, *served.args, env=served.env)


def extra_calls(served: Served) -> dict[str, int]:
    """Calls over (or under) a fault-free run of the same apply, by endpoint."""
    counts = served.counts()
    delta = {e: counts[e] - BASELINE.get(e, 0) for e in {*counts, *BASELINE}}
    return {e: n for e, n in sorted(delta.items()) if n}


def assert_converged(run: Run, served: Served, manifest: Path) -> None:
    served.emulator.set_faults(None)
    again = run("plan", manifest, "--detailed-exitcode", *served.args, env=served.env)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes. The account matches the manifests." in again.stdout


def test_the_baseline_is_one_call_per_need(run: Run, served: Served, manifest: Path) -> None:
    """Without faults: the numbers every other test here counts from."""
    result = apply(run, served, manifest)
    assert result.exit_code == 0, result.stderr
    assert dict(served.counts()) == BASELINE
    assert f"Apply complete: {CHANGES} applied, 0 failed, 0 skipped" in result.stdout
    assert_converged(run, served, manifest)


# (fault spec, extra calls by endpoint over the baseline). Every one of these converges.
# The apply runs with --parallelism 1, so the calls come in plan order: the create of an
# endpoint shared with an update (portal.fresh, webhook .../new) is its call #1, the
# update (portal.keep-me, webhook .../update) call #2.
CONVERGING = {
    # -- reads: retried, whatever the fault (429s: see the Retry-After test below) ---------
    "500 on a read": ("asset.list#1=500", {"asset.list": 1}),
    "502 on a read": ("portal.list#1=502", {"portal.list": 1}),
    "503 on a read": ("webhook.list#1=503", {"webhook.list": 1}),
    "504 on a read": ("portal.check#1=504", {"portal.check": 1}),
    "503 three times on ping": ("ping#1-3=503", {"ping": 3}),
    "read connection closed before the answer": ("portal.list#1=refuse", {"portal.list": 1}),
    "read timeout": ("webhook.list#1=slow:1000", {"webhook.list": 1}),
    "read dropped after acting": ("asset.list#1=drop-after", {"asset.list": 1}),
    "read body truncated": ("asset.list#1=truncate", {"asset.list": 1}),
    "read HTML error page": ("asset.list#1=html", {"asset.list": 1}),
    "read HTML instead of JSON": ("asset.list#1=not-json", {"asset.list": 1}),
    # -- idempotent writes: retried --------------------------------------------------------
    "set_meta 503": ("asset.set_meta#1=503", {"asset.set_meta": 1}),
    "set_meta acted, answer dropped": ("asset.set_meta#1=drop-after", {"asset.set_meta": 1}),
    "set_meta read timeout": ("asset.set_meta#2=slow:1000", {"asset.set_meta": 1}),
    "set_meta 429 twice": ("asset.set_meta#1,2=429:1", {"asset.set_meta": 2}),
    "portal.set update dropped": ("portal.set#2=drop-after", {"portal.set": 1}),
    "portal.set update 500": ("portal.set#2=500", {"portal.set": 1}),
    "webhook.set update dropped": ("webhook.set#2=drop-after", {"webhook.set": 1}),
    # -- creates: a fault after which the server acted leaves the create checked by one
    # read and never sent again; one before it acted, a read that finds it absent, then
    # the one resend; a 429 is refused before acting, so it is sent again at once ---------
    "portal.set create acted, answer dropped": ("portal.set#1=drop-after", {"portal.list": 1}),
    "portal.set create acted, body truncated": ("portal.set#1=truncate", {"portal.list": 1}),
    "portal.set create acted, answer too slow": ("portal.set#1=slow:1000", {"portal.list": 1}),
    "portal.set create dropped unsent": ("portal.set#1=drop", {"portal.set": 1, "portal.list": 1}),
    "portal.set create 500": ("portal.set#1=500", {"portal.set": 1, "portal.list": 1}),
    "portal.set create HTML 502": ("portal.set#1=html", {"portal.set": 1, "portal.list": 1}),
    "portal.set create not JSON": ("portal.set#1=not-json", {"portal.set": 1, "portal.list": 1}),
    "portal.set create 429": ("portal.set#1=429", {"portal.set": 1}),
    "webhook.set create acted, answer dropped": ("webhook.set#1=drop-after", {"webhook.list": 1}),
    "webhook.set create 503": ("webhook.set#1=503", {"webhook.set": 1, "webhook.list": 1}),
    "slack create, connection closed": (
        "webhook.set_slack#1=refuse",
        {"webhook.set_slack": 1, "webhook.list": 1},
    ),
    "slack create acted, body truncated": ("webhook.set_slack#1=truncate", {"webhook.list": 1}),
    # -- renames and deletes: checked by reading, like creates ------------------------------
    "rename acted, answer dropped": ("portal.rename#1=drop-after", {"portal.list": 1}),
    "rename 503": ("portal.rename#1=503", {"portal.rename": 1, "portal.list": 1}),
    "portal.remove acted, answer dropped": ("portal.remove#1=drop-after", {"portal.list": 1}),
    "webhook.delete acted, answer lost": ("webhook.delete#1=truncate", {"webhook.list": 1}),
    "webhook.delete 502": ("webhook.delete#1=502", {"webhook.delete": 1, "webhook.list": 1}),
}


@pytest.mark.parametrize("name", sorted(CONVERGING))
def test_a_transient_fault_is_retried_and_the_apply_converges(
    name: str, run: Run, served: Served, manifest: Path
) -> None:
    spec, extra = CONVERGING[name]
    served.emulator.set_faults(spec)
    result = apply(run, served, manifest, "--parallelism", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Apply complete: {CHANGES} applied, 0 failed, 0 skipped" in result.stdout
    assert extra_calls(served) == extra
    assert any(c.fault for c in served.emulator.calls), "the fault never fired"
    served.assert_nothing_made_twice()
    assert_converged(run, served, manifest)


@pytest.mark.parametrize(
    ("spec", "least", "most"),
    [
        ("asset.list#1=429:5", 0.045, 0.5),  # Retry-After 5 s, scaled: 50 ms
        ("asset.list#1=429-date:5", 0.035, 0.5),  # an HTTP date 4-5 s ahead (1 s resolution)
        ("asset.list#1=429", 0.0, 0.04),  # no Retry-After: the first backoff, at most 5 ms
    ],
)
def test_429_is_retried_honouring_retry_after_in_seconds_and_as_a_date(
    spec: str, least: float, most: float, run: Run, served: Served, manifest: Path
) -> None:
    served.emulator.set_faults(spec)
    result = apply(run, served, manifest)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert extra_calls(served) == {"asset.list": 1}
    first, second = [t for t, endpoint in served.started if endpoint == "asset.list"][:2]
    assert least <= second - first <= most
    assert_converged(run, served, manifest)


# -- faults that do not go away: a clear stop, the documented exit code -------------------


def test_a_read_that_keeps_failing_stops_the_run_with_exit_1(
    run: Run, served: Served, manifest: Path
) -> None:
    served.emulator.set_faults("asset.list=503")
    result = apply(run, served, manifest)
    assert result.exit_code == 1
    assert re.search(
        r"^error: asset\.list: server error \(HTTP 503\); gave up after 6 attempt\(s\) in "
        r"\d+\.\d s$",
        result.stderr,
        re.M,
    ), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert served.counts()["asset.list"] == 6  # max_attempts, no more
    # ping came first (which account the plan is for); no write, no second ping
    assert served.emulator.writes() == [] and served.counts()["ping"] == 1
    assert result.stdout == ""  # no plan is shown from a read that failed


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    run: Run, served: Served, manifest: Path
) -> None:
    served.emulator.set_faults("asset.list=429:500")  # 5 s scaled, the budget is 1.2 s
    result = apply(run, served, manifest)
    assert result.exit_code == 1
    assert "error: asset.list: rate limited (HTTP 429); it asked to wait 5 s, beyond the 1 s" in (
        result.stderr
    )
    assert served.counts()["asset.list"] == 1
    assert result.elapsed < 2  # type: ignore[attr-defined]


def test_a_connect_error_is_retried_then_exit_1(run: Run, served: Served, manifest: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = served.env
    url = f"http://127.0.0.1:{port}/v2/"
    result = run("plan", manifest, "--api-url", url, "--verbose", env=env)
    assert result.exit_code == 1
    # ping is the first call of a plan
    assert re.search(
        rf"^error: ping: cannot connect to 127\.0\.0\.1:{port} \(", result.stderr, re.M
    )
    assert "gave up after 6 attempt(s)" in result.stderr
    retries = re.findall(r"cannot connect .*; retry (\d) in", result.stderr)
    assert "5" in retries and "6" not in retries  # five retries after the first attempt
    assert result.elapsed < 3  # type: ignore[attr-defined]


def test_success_false_on_a_read_is_not_retried(run: Run, served: Served, manifest: Path) -> None:
    served.emulator.set_faults("webhook.list=fail:the webhook service is down")
    result = apply(run, served, manifest)
    assert result.exit_code == 1
    assert result.stderr.endswith("error: webhook.list: the webhook service is down\n")
    assert served.counts()["webhook.list"] == 1
    assert served.emulator.writes() == []


def _finish_and_check(
    run: Run, served: Served, manifest: Path, plan_of: Callable, remaining: list[str]
) -> None:
    """After a partial apply: a plan shows exactly what remains, an apply finishes it,
    and across both applies nothing was made twice."""
    assert sorted(addresses(plan_of(served, manifest))) == sorted(remaining)
    finished = apply(run, served, manifest)
    assert finished.exit_code == 0, finished.stdout + finished.stderr
    assert f"Apply complete: {len(remaining)} applied" in finished.stdout
    served.assert_nothing_made_twice()
    assert_converged(run, served, manifest)


ASSETS = ["asset.RID_A_000001", "asset.RID_C_000003", "asset.ref:SKU-B"]


def test_success_false_on_a_write_is_not_retried_and_the_rest_applies(
    run: Run, served: Served, manifest: Path, plan_of: Callable
) -> None:
    served.emulator.set_faults("asset.set_meta=fail:caption rejected by policy")
    result = apply(run, served, manifest)
    assert result.exit_code == 5
    for address in ASSETS:
        assert f"  FAILED   {address}: asset.set_meta: caption rejected by policy" in result.stdout
    assert f"Apply complete: {CHANGES - 3} applied, 3 failed, 0 skipped" in result.stdout
    assert "Run `plan` again to see exactly what remains." in result.stdout
    assert extra_calls(served) == {"asset.list": -1}  # nothing retried; no asset to verify
    _finish_and_check(run, served, manifest, plan_of, ASSETS)


def test_a_write_that_keeps_failing_is_retried_within_its_budget_then_reported(
    run: Run, served: Served, manifest: Path, plan_of: Callable
) -> None:
    served.emulator.set_faults("portal.set=503")
    result = apply(run, served, manifest)
    assert result.exit_code == 5
    assert re.search(
        r"FAILED   portal\.keep-me: portal\.set: server error \(HTTP 503\); gave up after 6",
        result.stdout,
    )
    # the create is never blindly repeated: each time a read showed it absent first
    assert re.search(
        r"FAILED   portal\.fresh: portal\.set: server error \(HTTP 503\); the call may or may not",
        result.stdout,
    )
    # the prune of an unrelated portal does not depend on them: it goes ahead (only a
    # webhook delete waits for a webhook create, which may be its replacement)
    assert "applied  - portal.stale" in result.stdout
    assert served.counts()["portal.set"] == 6 + 3  # the update: 6 attempts; the create: 3 sends
    assert served.counts()["portal.remove"] == 1
    assert f"{CHANGES - 2} applied, 2 failed, 0 skipped" in result.stdout
    _finish_and_check(run, served, manifest, plan_of, ["portal.fresh", "portal.keep-me"])


def test_a_bad_token_gets_403_once_at_the_first_call_and_exit_1(
    run: Run, served: Served, manifest: Path
) -> None:
    served.token = "not-a-token-of-this-account"
    result = apply(run, served, manifest)
    assert result.exit_code == 1
    assert "the API refused the token (unknown, expired or revoked)" in result.stderr
    assert "not-a-token-of-this-account" not in result.stderr
    # ping, the first call of every plan, met 403 once (not retried), and nothing followed
    assert dict(served.counts()) == {"ping": 1}
    assert served.emulator.writes() == []


def test_a_token_without_a_read_permission_stops_planning(
    run: Run, served: Served, manifest: Path
) -> None:
    served.emulator.account.tokens["assets-and-portals"] = "|asset.*|portal.*|"
    served.token = "assets-and-portals"
    result = apply(run, served, manifest)
    assert result.exit_code == 1
    assert "error: webhook.list (HTTP 403): the token is valid but may not call webhook.list" in (
        result.stderr
    )
    assert served.counts()["webhook.list"] == 1
    assert served.emulator.writes() == []


def test_a_permission_lost_during_apply_fails_those_writes_once_each(
    run: Run, served: Served, manifest: Path, plan_of: Callable
) -> None:
    """The token passed apply's permission check, then lost asset writes (an admin edited
    it): each set_meta gets 403 once, is not retried, and the rest applies."""
    tokens = served.emulator.account.tokens
    previous = served.emulator.on_request

    def revoke(endpoint: str, params: dict[str, str]) -> None:
        previous(endpoint, params)
        if endpoint == "asset.set_meta":
            tokens["emulator-token"] = "|asset.read|portal.*|webhook.*|"

    served.emulator.on_request = revoke
    result = apply(run, served, manifest)
    assert result.exit_code == 5
    for address in ASSETS:
        assert f"FAILED   {address}: asset.set_meta (HTTP 403): the token is valid but may not" in (
            result.stdout
        )
    assert served.counts()["asset.set_meta"] == 3
    served.emulator.on_request = previous
    tokens["emulator-token"] = "|asset.*|portal.*|webhook.*|"
    _finish_and_check(run, served, manifest, plan_of, ASSETS)


def test_every_fault_kind_is_covered() -> None:
    """The fault language's kinds and codes all appear above (a new one needs a test)."""
    from cincopa_sync.emulator.faults import SIMPLE_KINDS, STATUS_CODES

    specs = [spec for spec, _ in CONVERGING.values()]
    specs += ["asset.list#1=429:5", "asset.list#1=429-date:5", "asset.list#1=429"]
    specs += ["asset.list=503", "asset.list=429:500", "webhook.list=fail:x", "portal.set=503"]
    used = Counter()
    for spec in specs:
        fault = spec.split("=", 1)[1]
        used[fault.split(":", 1)[0].split("-date", 1)[0]] += 1
    expected = {*map(str, STATUS_CODES), *SIMPLE_KINDS, "fail", "slow"}
    assert expected <= set(used), expected - set(used)
    assert any("-date:" in s for s in specs) and any(re.search(r"=429:\d", s) for s in specs)


def test_a_read_back_that_fails_after_the_writes_still_reports_them(
    run: Run, served: Served, manifest: Path, plan_of: Callable
) -> None:
    served.emulator.set_faults("asset.list#2-99=503")  # #1 plans, #2 on: the read-back
    result = apply(run, served, manifest)
    assert len(served.emulator.writes()) == BASELINE_WRITES
    assert result.exit_code == 5, result.stderr
    assert f"{CHANGES} applied" in result.stdout
    assert "Run `plan` again to see exactly what remains." in result.stdout
    assert addresses(plan_of(served, manifest)) == []
