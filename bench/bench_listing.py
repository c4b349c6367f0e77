"""What reading a listing costs the client, per listed asset: the live read of a plan
(`read_live`), run again and again in one process against the emulator as its own
process (no latency), the fastest run shown.

A whole `plan` (run_bench.py) also pays for the process start, the imports and the
manifest load, and one run on a shared machine moves by a third from one run to the
next; the fastest of several runs of the read alone is steady enough to compare two
versions of the client. Printed: CPU seconds of the read (every thread of this process),
per listed asset, for the typed decoder and for the json path it falls back to, and the
emulator's CPU for the same reads. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_bench import TOKEN, make_account, start_emulator, stats, write_manifests

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.engine.read import read_live
from cincopa_sync.manifest import load_manifests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--managed", type=int, default=10_000)
    parser.add_argument("--page-cap", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json-too", action="store_true", help="also the json path")
    args = parser.parse_args()
    rng = random.Random(20261126)
    with tempfile.TemporaryDirectory(prefix="cincopa-listing-") as tmp:
        folder = Path(tmp)
        assets = make_account(args.assets, rng)
        (folder / "seed.json").write_text(json.dumps({"assets": assets}))
        write_manifests(assets, args.managed, 0, 0, folder / "manifests", rng)
        del assets
        desired = load_manifests([str(folder / "manifests")], {})
        emulator, base = start_emulator(folder / "seed.json", 0, args.page_cap)
        try:
            paths = [True, False] if args.json_too else [True]
            print(
                f"# listing read: N={args.assets:,} assets, k={args.managed:,} named, "
                f"page cap {args.page_cap:,}, parallelism {args.parallelism}, "
                f"best of {args.repeat}; {os.cpu_count()} cores, load average "
                f"{os.getloadavg()[0]:.2f}"
            )
            for typed in paths:
                _measure(base, desired, typed, args)
        finally:
            emulator.terminate()
            emulator.wait()


def _measure(base: str, desired: object, typed: bool, args: argparse.Namespace) -> None:
    cpu: list[float] = []
    wall: list[float] = []
    served: list[float] = []
    options = {} if typed else {"typed_decoding": False}  # the default: typed where it can
    with CincopaClient(base, TOKEN, **options) as client:
        for _ in range(args.repeat):
            gc.collect()
            stats(base, reset=True)
            started, clock = time.process_time(), time.perf_counter()
            live = read_live(client, desired, parallelism=args.parallelism)  # type: ignore[arg-type]
            cpu.append(time.process_time() - started)
            wall.append(time.perf_counter() - clock)
            served.append(stats(base)["cpu_seconds"])
            assert len(live.of("asset").objects) == args.managed
            del live
    per = min(cpu) / args.assets * 1e6
    print(
        f"{'typed decoder' if typed else 'json path':14s} CPU {min(cpu):.3f} s "
        f"(median {statistics.median(cpu):.3f}), {per:.2f} us per listed asset; "
        f"wall {min(wall):.3f} s; emulator CPU {min(served):.3f} s"
    )


if __name__ == "__main__":
    main()
