"""Benchmark `cincopa-sync validate` on hostile and large manifests: the cost of errors.

Each case writes one manifest and runs `cincopa-sync validate` on it as its own process,
as a user would, and prints the wall time, the CPU seconds and peak RSS of the process
(from wait4), the exit code, how many errors it counted and the line that says how many
were left out of the list. Validation must stay linear in the input: 100,000 errors in
under 5 s. See bench/README.md.

    .venv/bin/python bench/validation_bench.py            # every case at its full size
    .venv/bin/python bench/validation_bench.py --scale 0.1
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from run_bench import run_measured


def unknown_top_level(n: int) -> str:
    return "".join(f"key_{i}: 1\n" for i in range(n))


def unknown_keys_in_one_asset(n: int) -> str:
    return "assets:\n  - rid: A1\n" + "".join(f"    key_{i}: 1\n" for i in range(n))


def one_typo_per_asset(n: int) -> str:
    return "assets:\n" + "".join(f"  - rid: R{i:07d}\n    captoin: x\n" for i in range(n))


def one_type_error_per_asset(n: int) -> str:
    return "assets:\n" + "".join(f"  - rid: R{i:07d}\n    caption: {i}\n" for i in range(n))


def numeric_settings(n: int) -> str:
    """Valid: one portal with n numeric settings (each needs its spelling as written)."""
    settings = "".join(f"      s{i}: {i}.50\n" for i in range(n))
    return f"portals:\n  - subdomain: many-settings\n    settings:\n{settings}"


CASES: list[tuple[str, Callable[[int], str], int]] = [
    ("unknown top-level keys", unknown_top_level, 100_000),
    ("unknown keys in one asset", unknown_keys_in_one_asset, 100_000),
    ("an unknown key in each asset", one_typo_per_asset, 100_000),
    ("a type error in each asset", one_type_error_per_asset, 100_000),
    ("numeric portal settings (valid)", numeric_settings, 20_000),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every case's size.")
    args = parser.parse_args()
    command = [sys.executable, "-m", "cincopa_sync", "validate"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CINCOPA_")}
    print(f"{'case':<34} {'n':>8} {'MB':>6} {'wall':>7} {'CPU':>7} {'RSS':>7} exit  errors")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, size in CASES:
            n = max(1, int(size * args.scale))
            path = Path(tmp) / "manifest.yaml"
            path.write_text(make(n), encoding="utf-8")
            mb = path.stat().st_size / 1e6
            run = run_measured([*command, str(path)], env)
            counted = re.search(r"^(\d+) error\(s\)", run.stderr, re.MULTILINE)
            left_out = re.search(r"^\.\.\. and ([\d,]+) more not shown", run.stderr, re.MULTILINE)
            errors = counted.group(1) if counted else "0"
            shown = f" ({left_out.group(1)} left out of the list)" if left_out else ""
            print(
                f"{name:<34} {n:>8,} {mb:>6.1f} {run.wall:>6.2f}s {run.cpu:>6.2f}s "
                f"{run.peak_mb:>5.0f}MB {run.code:>4}  {errors}{shown}"
            )


if __name__ == "__main__":
    main()
