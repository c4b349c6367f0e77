"""One plan, in-process, phase by phase: CPU seconds and memory after each phase.

    python bench/phases.py MANIFEST_DIR API_URL

Runs what `cincopa-sync plan` runs (load, read, diff, render) with the token from
CINCOPA_API_TOKEN, and prints one line per phase: CPU seconds of the phase (user +
system, this process only), the resident memory after it and the peak so far. The load
is split further (read + decode, parse, interpolate + schema, build) by timing the
loader's own stages on the same files. run_bench.py calls it with `--phases`.
"""

from __future__ import annotations

import os
import resource
import sys
import time


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Phases:
    def __init__(self) -> None:
        self.last = _cpu()
        self.wall = time.perf_counter()

    def mark(self, name: str, note: str = "") -> None:
        now, wall = _cpu(), time.perf_counter()
        print(
            f"  {name:<12} CPU {now - self.last:7.2f} s  wall {wall - self.wall:7.2f} s  "
            f"RSS {_rss_mb():6.0f} MB  peak {_peak_mb():6.0f} MB  {note}",
            flush=True,
        )
        self.last, self.wall = now, wall


def main() -> None:
    manifests, api_url = sys.argv[1], sys.argv[2]
    phases = Phases()
    from cincopa_sync.api.client import CincopaClient
    from cincopa_sync.cli.options import load_desired
    from cincopa_sync.engine.diff import PlanOptions, make_plan_for
    from cincopa_sync.engine.read import read_live
    from cincopa_sync.render.text import render_text

    phases.mark("imports")
    desired = load_desired((manifests,))  # as the command line loads (and freezes) it
    entries = sum(len(specs) for specs in desired.specs.values())
    phases.mark("load", f"{entries} entries")
    with CincopaClient(api_url, os.environ["CINCOPA_API_TOKEN"]) as client:
        live = read_live(client, desired)
        phases.mark("read")
        plan = make_plan_for(desired, live, PlanOptions())
        phases.mark("diff", f"{len(plan.changes)} changes")
    text = render_text(plan, color=False)
    phases.mark("render", f"{len(text)} characters")


if __name__ == "__main__":
    main()
