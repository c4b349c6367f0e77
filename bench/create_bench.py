"""Benchmark creates: c assets made from a source URL, against the emulator as its own
process (latency L per call, each upload processing U seconds), with --parallelism C.

Runs `plan`, `apply --auto-approve` and `plan` again as a user would (each its own
process) and prints the wall time of the apply against the bound
ceil(c/C) x 3 x L + U (an upload, one status read once it is done and one set_meta per
create, C at a time, plus the processing time once), calls by endpoint, status reads per
create, uploads and set_meta against c, CPU seconds and peak memory. A create that held
its slot while it waited would take about c/C x U instead. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from run_bench import TOKEN, run_measured, stats


def write_inputs(folder: Path, existing: int, creates: int) -> Path:
    seed = {
        "assets": [
            {"rid": f"HAVE{i:08d}", "reference_id": f"HAVE-{i}", "tags": ["catalog"]}
            for i in range(existing)
        ]
    }
    (folder / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    lines = ["version: 1", "assets:"]
    for i in range(creates):
        lines += [
            f"  - reference_id: NEW-{i:05d}",
            f"    source: https://media.example.com/bench/new-{i:05d}.mp4",
            f'    caption: "New video {i}"',
            "    tags: [catalog]",
        ]
    manifests = folder / "manifests"
    manifests.mkdir()
    (manifests / "creates.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifests


def start_emulator(seed: Path, latency_ms: int, upload_ms: int) -> tuple[subprocess.Popen, str]:
    argv = [sys.executable, "-m", "cincopa_sync", "emulator", "--seed", str(seed)]
    argv += ["--latency-ms", str(latency_ms), "--upload-ms", str(upload_ms)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "serving" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line}{proc.stderr.read()}")
    return proc, line.split("serving ", 1)[1].split(" ", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--upload-ms", type=int, default=5000)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    c, par = args.creates, args.parallelism
    lat, upload = args.latency_ms / 1000, args.upload_ms / 1000

    with tempfile.TemporaryDirectory(prefix="cincopa-bench-creates-") as tmp:
        folder = Path(tmp)
        manifests = write_inputs(folder, args.existing, c)
        emulator, base = start_emulator(folder / "seed.json", args.latency_ms, args.upload_ms)
        env = dict(os.environ, CINCOPA_API_TOKEN=TOKEN, CINCOPA_API_URL=base)
        cli = [sys.executable, "-m", "cincopa_sync"]
        common = ["--parallelism", str(par)]
        steps = [
            ("plan", ["plan", str(manifests), "--detailed-exitcode", *common], 2),
            ("apply", ["apply", str(manifests), "--auto-approve", *common], 0),
            ("plan again", ["plan", str(manifests), "--detailed-exitcode", *common], 0),
        ]
        results = {}
        try:
            for name, argv, expected in steps:
                stats(base, reset=True)
                run = run_measured(cli + argv, env)
                results[name] = (run, stats(base))
                if run.code != expected:
                    print(run.stdout[-2000:], run.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"{name} exited {run.code}, not {expected}")
        finally:
            emulator.terminate()
            emulator.wait()

    bound = math.ceil(c / par) * 3 * lat + upload
    print(f"# cincopa-sync benchmark: creates ({os.cpu_count()} cores)")
    print(
        f"c={c} creates from a source, {args.existing} assets live, L={args.latency_ms} ms, "
        f"U={args.upload_ms / 1000:g} s per upload, parallelism {par}"
    )
    serial = c / par * upload
    print(f"bound ceil(c/C) x 3 x L + U = {bound:.2f} s; serial waiting: c/C x U = {serial:.0f} s")
    for name, (run, served) in results.items():
        calls = served["calls"]
        print(f"\n## {name}: exit {run.code}")
        print(f"  calls: {json.dumps(dict(sorted(calls.items())))}")
        print(f"  wall {run.wall:.2f} s; CPU {run.cpu:.2f} s; peak {run.peak_mb:.0f} MB")
        if name == "apply":
            uploads = calls.get("asset.upload_from_url", 0)
            metas = calls.get("asset.set_meta", 0)
            reads = calls.get("asset.upload_from_url_get_status", 0)
            print(f"  ratio to the bound {run.wall / bound:.2f}x (target 1.5x)")
            print(f"  uploads {uploads}, set_meta {metas} (c={c})")
            print(f"  status reads per create {reads / c:.2f}")
        if name == "plan again":
            verdict = "No changes" in run.stdout
            print(f"  re-plan: {'no changes' if verdict else 'CHANGES LEFT'}")
        print(
            f"  emulator service time {served['service_seconds']:.2f} s in total, "
            f"max {served['max_service_ms']:.1f} ms per call"
        )


if __name__ == "__main__":
    main()
