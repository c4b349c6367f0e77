"""The README's promises, as a user on a fresh clone would run them (real processes)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cincopa_sync.manifest import load_manifests
from cincopa_sync.manifest.model import DesiredState

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"
DEMO_SEED = REPO / "examples" / "emulator" / "demo-account.json"

README_FIRST = "cincopa-sync plan examples/manifests --emulator"


def expected_summary(desired: DesiredState, seed: dict[str, Any]) -> tuple[dict[str, int], dict]:
    """An independent count of what the demo account lacks, read from the seed file itself
    (not through the client or the planner): per action, and the unmanaged per kind."""
    assets = seed["assets"]
    counts = {"create": 0, "update": 0, "rename": 0, "delete": 0}

    def live_value(asset: dict, field: str) -> object:
        if field == "tags":
            return {t.strip() for t in asset.get("tags", [])}
        value = asset.get(field)
        return value if value is not None or field == "video_thumb_sec" else ""

    for spec in desired.of("asset"):
        found = [a for a in assets if a.get(spec.by) == spec.ident]
        if not found and spec.source:  # missing, with a source: uploaded
            counts["create"] += 1
            continue
        (asset,) = found
        if any(
            live_value(asset, f) != (set(v) if f == "tags" else v) for f, v in spec.fields.items()
        ):
            counts["update"] += 1

    portals = {p["subdomain"]: p for p in seed["portals"]}
    accounted = set()
    for spec in desired.of("portal"):
        old = [name for name in spec.previously if name in portals]
        if spec.subdomain in portals:
            accounted.add(spec.subdomain)
            live = portals[spec.subdomain]
            differs = any(
                live.get(k) != spec.fields[k] for k in ("name", "visibility") if k in spec.fields
            )
            settings = spec.fields.get("settings", {})
            differs |= any(str(live["settings"].get(k)) != v for k, v in settings.items())
            counts["update"] += differs
        elif old:
            accounted.add(old[0])
            counts["rename"] += 1
        else:
            counts["create"] += 1

    hooks = {h["hook_url"]: h for h in seed["webhooks"]}
    for spec in desired.of("webhook"):
        live = hooks.get(spec.url)
        if live is None:
            counts["create"] += 1
        elif (
            set(live["events"]) != spec.events
            or live.get("type", "http") != spec.type
            or (spec.security_key and not live.get("security_key"))
        ):
            counts["update"] += 1
    unmanaged = {
        "portal": len(set(portals) - accounted),
        "webhook": len(set(hooks) - {s.url for s in desired.of("webhook")}),
    }
    assert not desired.prunes("portal") and not desired.prunes("webhook")  # so no deletes
    return counts, {k: n for k, n in unmanaged.items() if n}


def _summary_line(counts: dict[str, int]) -> str:
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['rename']} to rename, {counts['delete']} to delete."
    )


def test_the_readme_still_gives_the_first_command() -> None:
    assert README_FIRST in (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_first_command_prints_the_expected_plan(
    run_process: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    seed = json.loads(DEMO_SEED.read_text(encoding="utf-8"))
    counts, unmanaged = expected_summary(load_manifests([str(EXAMPLES)], {}), seed)
    # The README's own description of the demo: 4 assets, an asset to create from its
    # source, a portal name, a rename, a webhook missing an event, a Slack hook to create,
    # an unmanaged portal.
    assert counts == {"create": 2, "update": 6, "rename": 1, "delete": 0}
    assert unmanaged == {"portal": 1}

    done = run_process(*README_FIRST.split()[1:])
    assert done.returncode == 0, done.stderr
    assert _summary_line(counts) + "\n" in done.stdout
    assert "Left alone: 1 portal that no manifest names (prune is off for them).\n" in done.stdout
    assert done.stdout.count("\n  ~ ") + done.stdout.startswith("  ~ ") == counts["update"]
    assert done.stdout.count("  + ") == counts["create"]
    assert done.stdout.count("  > portal.acme-training") == 1
    assert "  + asset.ref:SKU-1030  (examples/manifests/assets.yaml:" in done.stdout
    assert "call asset.set_meta(rid=(after upload), " in done.stdout
    assert "demo-key-not-secret" not in done.stdout + done.stderr
    assert "/services/T0000/B0000/demo" not in done.stdout + done.stderr


def test_validate_the_examples(run: Callable) -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    data = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in files]
    total = {k: sum(len(d.get(k, [])) for d in data) for k in ("assets", "portals", "webhooks")}
    result = run("validate", EXAMPLES)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"valid: {len(files)} file(s), {total['assets']} asset(s), "
        f"{total['portals']} portal(s), {total['webhooks']} webhook(s)\n"
    )
    assert result.stderr == ""


def test_apply_then_plan_in_real_processes(
    run_process: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    state = tmp_path / "demo.json"
    common = ["examples/manifests", "--emulator", "--emulator-state", state]
    before = run_process("plan", *common, "--detailed-exitcode")
    assert before.returncode == 2, before.stderr
    assert not state.exists()  # a plan writes nothing, not even the emulator's state

    applied = run_process("apply", *common, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert re.search(
        r"Apply complete: 9 applied, 0 failed, 0 skipped; every change verified", applied.stdout
    )
    assert state.stat().st_mode & 0o777 == 0o600  # it holds the tokens

    after = run_process("plan", *common, "--detailed-exitcode")
    assert after.returncode == 0, after.stderr
    assert "No changes. The account matches the manifests." in after.stdout


def test_usage_error_in_a_real_process_exits_3(
    run_process: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    done = run_process("plan", "examples/manifests", "--format", "yaml")
    assert done.returncode == 3
    assert "Invalid value for '--format'" in done.stderr
    assert done.stdout == ""


def test_apply_without_a_terminal_refuses_in_a_real_process(
    run_process: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    state = tmp_path / "demo.json"
    done = run_process("apply", "examples/manifests", "--emulator", "--emulator-state", state)
    assert done.returncode == 4
    assert "no terminal to confirm on" in done.stderr
    assert not state.exists()  # nothing was written
