"""Benchmark plan and apply against the emulator running as its own process.

Starts `cincopa-sync emulator` seeded with N assets, latency L and page cap P; writes
manifests naming k assets by rid (+ r by reference_id), c of them changed; runs `plan`,
`apply --auto-approve` and `plan` again as a user would (each its own process); prints
calls by endpoint, the lower bound of each read strategy, wall time against the bound,
writes against c, CPU seconds and peak memory of each cincopa-sync process, the emulator's
own service time, and the parsing floor (plain `yaml.load` with CSafeLoader of the same
manifests, in its own process). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TOKEN = "emulator-token"
PER_FILE = 5000
WRITE_ENDPOINTS = {
    "asset.set_meta",
    "portal.set",
    "portal.rename",
    "portal.remove",
    "portal.cease",
    "webhook.set",
    "webhook.set_slack",
    "webhook.delete",
}  # entries per manifest file, as export writes them

# The page sizes of cincopa_sync.api.paging (not imported: this process stays small, see
# main): page 1 asks for DEFAULT_PAGE_SIZE, larger pages up to MAX_PAGE_SIZE when honoured.
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 1000, 10_000

SCENARIOS = {
    "listing": dict(
        assets=100_000, managed=10_000, by_ref=500, changed=1000, page_cap=100, latency_ms=50
    ),
    "lookup": dict(assets=100_000, managed=20, by_ref=0, changed=5, page_cap=100, latency_ms=50),
    "cpu": dict(assets=100_000, managed=100_000, by_ref=0, changed=0, page_cap=100, latency_ms=0),
    # A million entries against a million assets; the server honours pages of 1,000 (the
    # size the client asks for), so the listing is 1,000 calls (--page-cap 100: 10,000).
    "cpu-1m": dict(
        assets=1_000_000, managed=1_000_000, by_ref=0, changed=0, page_cap=1000, latency_ms=0
    ),
}
# The scale scenarios (issue 15): plans only, k=10,000 by rid + 500 by reference_id.
_SCALE = dict(managed=10_000, by_ref=500, changed=1000, latency_ms=50, plan_only=True)
SCENARIOS.update(
    {
        "scale-100k": dict(_SCALE, assets=100_000, page_cap=100),
        "scale-100k-p1000": dict(_SCALE, assets=100_000, page_cap=1000),
        # a server that honours pages of 100,000: the client probes upward for the largest
        "scale-100k-bigpages": dict(_SCALE, assets=100_000, page_cap=100_000),
        "scale-1m": dict(_SCALE, assets=1_000_000, page_cap=100),
        "scale-1m-p1000": dict(_SCALE, assets=1_000_000, page_cap=1000),
        # memory follows the managed set: the peak of a plan over a million assets, L=0
        "scale-1m-memory": dict(_SCALE, assets=1_000_000, page_cap=1000, latency_ms=0),
    }
)


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str


def run_measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run a process to its end; its own CPU and peak RSS come from wait4."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    # communicate() would reap the child before wait4 could read its rusage.
    import threading

    def drain(stream, sink):
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    threads = [
        threading.Thread(target=drain, args=(proc.stdout, out_chunks)),
        threading.Thread(target=drain, args=(proc.stderr, err_chunks)),
    ]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024,
        code=proc.returncode,
        stdout=b"".join(out_chunks).decode(errors="replace"),
        stderr=b"".join(err_chunks).decode(errors="replace"),
    )


def make_account(n: int, rng: random.Random) -> list[dict]:
    return [
        {
            "id": str(100000 + i),
            "rid": f"R{i:07d}x{rng.randrange(36**3):03x}",
            "type": "video",
            "filename": f"video-{i}.mp4",
            "caption": f"Video number {i}",
            "description": f"A description of video {i}, long enough to look real.",
            "long_description": "",
            "related_link_text": "Shop now",
            "related_link_url": f"https://shop.example.com/p/{i}",
            "reference_id": f"SKU-{i}",
            "tags": ["catalog", f"line-{i % 40}"],
            "video_thumb_sec": i % 30,
        }
        for i in range(n)
    ]


def write_manifests(
    assets: list[dict],
    managed: int,
    by_ref: int,
    changed: int,
    out: Path,
    rng: random.Random,
    fmt: str = "yaml",
) -> None:
    """k entries by rid and r by reference_id, about 10 fields each; c captions changed."""
    picked = rng.sample(range(len(assets)), managed + by_ref)
    changed_set = set(rng.sample(picked, min(changed, len(picked))))
    entries = []
    for n, i in enumerate(picked):
        a = assets[i]
        caption = a["caption"] + (" (new)" if i in changed_set else "")
        ident = (
            [f"  - rid: {a['rid']}", f"    reference_id: {a['reference_id']}"]
            if n < managed
            else [f"  - reference_id: {a['reference_id']}"]
        )
        fields = [
            f'    caption: "{caption}"',
            f'    description: "{a["description"]}"',
            '    long_description: ""',
            f'    related_link_text: "{a["related_link_text"]}"',
            f"    related_link_url: {a['related_link_url']}",
            f"    tags: [{', '.join(a['tags'])}]",
            f"    video_thumb_sec: {a['video_thumb_sec']}",
        ]
        entries.append([*ident, *fields])
    out.mkdir(parents=True, exist_ok=True)
    for f, start in enumerate(range(0, len(entries), PER_FILE)):
        lines = ["version: 1", "assets:"]
        for entry in entries[start : start + PER_FILE]:
            lines += entry
        text = "\n".join(lines) + "\n"
        if fmt == "json":  # the same data, as `export --format json` lays it out
            from cincopa_sync.manifest.jsonwrite import manifest_json
            from cincopa_sync.manifest.yamlload import parse_yaml

            (out / f"assets-{f:03d}.json").write_text(manifest_json(parse_yaml(text, "").root))
        else:
            (out / f"assets-{f:03d}.yaml").write_text(text)


def generate(tmpdir: Path, n: int, k: int, r: int, c: int, fmt: str) -> None:
    rng = random.Random(20261126)
    assets = make_account(n, rng)
    (tmpdir / "seed.json").write_text(json.dumps({"assets": assets}))
    write_manifests(assets, k, r, c, tmpdir / "manifests", rng, fmt)


def start_emulator(seed: Path, latency_ms: int, page_cap: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cincopa_sync",
            "emulator",
            "--seed",
            str(seed),
            "--latency-ms",
            str(latency_ms),
            "--page-cap",
            str(page_cap),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if "serving" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line}{proc.stderr.read()}")
    return proc, line.split("serving ", 1)[1].split(" ", 1)[0]


def stats(base: str, reset: bool = False) -> dict:
    url = base.removesuffix("v2/") + "_emulator/stats" + ("?reset=1" if reset else "")
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def yaml_floor(manifests: Path, env: dict[str, str], *, gc_off: bool = False) -> Run:
    # Every file's data is kept, as a plan must hold the whole desired state at once.
    code = (
        "import gc, sys, yaml, pathlib\n"
        + ("gc.disable()\n" if gc_off else "")
        + "kept = [yaml.load(p.read_text(), Loader=yaml.CSafeLoader)\n"
        "        for p in sorted(pathlib.Path(sys.argv[1]).glob('*.yaml'))]\n"
    )
    return run_measured([sys.executable, "-c", code, str(manifests)], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="listing")
    for key in ("assets", "managed", "by_ref", "changed", "page_cap", "latency_ms"):
        parser.add_argument("--" + key.replace("_", "-"), type=int)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="plan-only runs: run the plan N times against the same emulator, show the fastest",
    )
    parser.add_argument(
        "--skip-floor", action="store_true", help="do not measure the plain yaml.load floor"
    )
    parser.add_argument(
        "--phases", action="store_true", help="also run one plan in-process, phase by phase"
    )
    parser.add_argument(
        "--manifest-format",
        choices=["yaml", "json"],
        default="yaml",
        help="write the manifests as YAML (default) or as JSON (as export --format json)",
    )
    parser.add_argument("--generate", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate[0]), *map(int, args.generate[1:5]), args.generate[5])
        return
    cfg = dict(SCENARIOS[args.scenario])
    for key in cfg:
        if getattr(args, key, None) is not None:
            cfg[key] = getattr(args, key)
    skip_apply = args.skip_apply or cfg.get("plan_only", False)
    n, k, r, c = cfg["assets"], cfg["managed"], cfg["by_ref"], cfg["changed"]
    p, lat, par = cfg["page_cap"], cfg["latency_ms"] / 1000, args.parallelism

    with tempfile.TemporaryDirectory(prefix="cincopa-bench-") as tmp:
        tmpdir = Path(tmp)
        seed, manifests = tmpdir / "seed.json", tmpdir / "manifests"
        # Generated in a child: on Linux a process's peak RSS (wait4's ru_maxrss) starts
        # from its parent's at fork, so this process must stay small while it measures.
        fmt = args.manifest_format
        subprocess.run(
            [sys.executable, __file__, "--generate", tmp, *map(str, (n, k, r, c, fmt))],
            check=True,
        )
        size_mb = sum(f.stat().st_size for f in manifests.iterdir()) / 1e6
        emulator, base = start_emulator(seed, cfg["latency_ms"], p)
        env = dict(os.environ, CINCOPA_API_TOKEN=TOKEN, CINCOPA_API_URL=base)
        cli = [sys.executable, "-m", "cincopa_sync"]
        common = ["--parallelism", str(par)]
        results = {}
        try:
            steps = [("plan", ["plan", str(manifests), "--detailed-exitcode", *common])]
            if not skip_apply:
                steps += [
                    ("apply", ["apply", str(manifests), "--auto-approve", *common]),
                    ("plan again", ["plan", str(manifests), "--detailed-exitcode", *common]),
                ]
            repeat = max(1, args.repeat) if skip_apply else 1  # a plan changes nothing
            for name, argv in steps:
                for _ in range(repeat):
                    stats(base, reset=True)
                    load_before = os.getloadavg()[0]
                    run = run_measured(cli + argv, env)
                    if run.code not in (0, 2):
                        print(run.stderr[-3000:], file=sys.stderr)
                        raise SystemExit(f"{name} exited {run.code}")
                    if name not in results or run.wall < results[name][0].wall:
                        results[name] = (run, stats(base), (load_before, os.getloadavg()[0]))
            if args.phases:
                phases = Path(__file__).with_name("phases.py")
                by_phase = run_measured([sys.executable, str(phases), str(manifests), base], env)
                if by_phase.code:
                    raise SystemExit(f"phases exited {by_phase.code}: {by_phase.stderr[-3000:]}")
        finally:
            emulator.terminate()
            emulator.wait()
        floor = floor_no_gc = None
        if not args.skip_floor and args.manifest_format == "yaml":
            floor = yaml_floor(manifests, env)
            # cincopa-sync loads with the cyclic GC paused (its trees hold no cycles); the
            # same trick on the plain load shows the floor without the collector's share.
            floor_no_gc = yaml_floor(manifests, env, gc_off=True)

    # The listing's pages are of the size the server honours of what the client asks
    # (1,000, then up to MAX_PAGE_SIZE while honoured): the bound counts those pages.
    h = p if p < DEFAULT_PAGE_SIZE else min(p, MAX_PAGE_SIZE)
    list_bound = math.ceil(n / h) / par * lat
    lookup_bound = math.ceil((k + r) / par) * lat
    print(f"# cincopa-sync benchmark ({os.cpu_count()} cores)")
    print(
        f"N={n} assets, k={k} by rid + {r} by reference_id, c={c} changed, P={p}, "
        f"L={cfg['latency_ms']} ms, parallelism {par}; "
        f"manifests {size_mb:.1f} MB of {args.manifest_format}"
    )
    print(
        f"bounds: listing ceil(N/H)/C x L = {list_bound:.2f} s (H={h}: the pages honoured); "
        f"lookups ceil(k/C) x L = {lookup_bound:.2f} s"
    )
    if floor and floor_no_gc:
        print(
            f"parsing floor (plain yaml.load, CSafeLoader): CPU {floor.cpu:.2f} s, "
            f"peak {floor.peak_mb:.0f} MB; with the GC paused: CPU {floor_no_gc.cpu:.2f} s"
        )
    if args.phases:
        print("\n## one plan, phase by phase (in-process)")
        print(by_phase.stdout, end="")
    for name, (run, served, load) in results.items():
        calls = served["calls"]
        writes = sum(v for e, v in calls.items() if e in WRITE_ENDPOINTS)
        reads = sum(calls.values()) - writes
        strategy = "listing" if calls.get("asset.list", 0) >= math.ceil(n / h) else "lookups"
        read_bound = list_bound if strategy == "listing" else lookup_bound
        bound = read_bound
        if name == "apply":
            changed_reads = min(math.ceil(c / par), math.ceil(math.ceil(n / h) / par)) * lat
            bound = read_bound + math.ceil(c / par) * lat + changed_reads
        ratio = f"{run.wall / bound:.2f}x" if bound else "n/a"
        print(f"\n## {name}: exit {run.code}")
        print(f"  calls: {json.dumps(calls)}")
        print(f"  reads {reads}, writes {writes} (c={c}); asset read strategy: {strategy}")
        print(f"  wall {run.wall:.2f} s; bound {bound:.2f} s; ratio {ratio}")
        against = ""
        if floor and floor_no_gc:
            against = (
                f" ({run.cpu / floor.cpu:.2f}x the parsing floor, "
                f"{run.cpu / floor_no_gc.cpu:.2f}x with its GC paused; "
                f"peak {run.peak_mb / floor.peak_mb:.2f}x the floor's)"
            )
        print(f"  CPU {run.cpu:.2f} s; peak {run.peak_mb:.0f} MB{against}")
        print(
            f"  emulator CPU {served['cpu_seconds']:.2f} s; service time "
            f"{served['service_seconds']:.2f} s summed over calls (latency excluded), "
            f"max {served['max_service_ms']:.1f} ms per call"
        )
        print(
            f"  load average {load[0]:.2f} before, {load[1]:.2f} after "
            "(2 cores: above 1 another process competed for them)"
        )


if __name__ == "__main__":
    main()
