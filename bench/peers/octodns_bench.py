"""octoDNS planning N records YAML to YAML, measured the way run_bench.py measures us.

    python bench/peers/octodns_bench.py --records 100000

octoDNS is the closest relative of cincopa-sync (YAML in, a plan against a provider,
apply). It is installed into its own virtualenv (created on first use, pinned to one
version so runs compare), never into ours. The scenario matches run_bench's `cpu` one: a
zone of N records in YAML as the desired state, a YAML provider holding exactly the same
records as the target, so the plan finds no changes; `octodns-sync` (plan only, no
--doit) runs as its own process and its CPU seconds and peak RSS come from wait4.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from run_bench import run_measured

OCTODNS = "octodns==1.22.0"
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-octodns"
CONFIG = """\
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {desired}
  live:
    class: octodns.provider.yaml.YamlProvider
    directory: {live}
zones:
  example.com.:
    sources: [config]
    targets: [live]
"""


def ensure_octodns(venv: Path) -> Path:
    """The octodns-sync of its own virtualenv, made and filled on first use."""
    sync = venv / "bin" / "octodns-sync"
    if not sync.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", OCTODNS]
        subprocess.run(pip, check=True)
    return sync


def zone(records: int) -> str:
    """N A records with a TTL and two values each, sorted as octoDNS wants them."""
    names = sorted(f"host-{i:07d}" for i in range(records))
    lines = ["---"]
    for number, name in enumerate(names):
        third, fourth = divmod(number % 62_500, 250)  # 250 x 250 addresses per /16
        lines += [
            f"{name}:",
            "  ttl: 300",
            "  type: A",
            "  values:",
            f"  - 10.{number // 62_500 % 250}.{third}.{fourth + 1}",
            f"  - 10.251.{third}.{fourth + 1}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    sync = ensure_octodns(args.venv)
    with tempfile.TemporaryDirectory(prefix="octodns-bench-") as tmp:
        root = Path(tmp)
        text = zone(args.records)
        for side in ("desired", "live"):
            (root / side).mkdir()
            (root / side / "example.com.yaml").write_text(text)
        config = root / "config.yaml"
        config.write_text(CONFIG.format(desired=root / "desired", live=root / "live"))
        run = run_measured([str(sync), "--config-file", str(config)], dict(os.environ))
    size_mb = len(text.encode()) / 1e6
    print(f"# octoDNS {OCTODNS.split('==')[1]} ({os.cpu_count()} cores)")
    print(f"{args.records} records YAML to YAML (the same on both sides), {size_mb:.1f} MB")
    print(
        f"  exit {run.code}; wall {run.wall:.2f} s; CPU {run.cpu:.2f} s; peak {run.peak_mb:.0f} MB"
    )
    if run.code:
        print(run.stderr[-3000:], file=sys.stderr)
        raise SystemExit(run.code)
    tail = [line for line in run.stderr.splitlines() if "No changes" in line or "changes" in line]
    if tail:
        print(f"  octoDNS says: {tail[-1].strip()}")


if __name__ == "__main__":
    main()
