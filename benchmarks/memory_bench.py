"""Peak memory of `scenarios run` against the number of replications.

    python benchmarks/memory_bench.py [--quick] [-n 100 -n 500 ...] [--workers W]
                                      [--no-timeseries] [--config configs/baseline.yaml]

For each N, runs ``scenarios run CONFIG -n N --workers W --out TMP`` in a fresh
subprocess and prints its peak resident memory (the RSS high-water mark the kernel
reports for the child when it exits, ``os.wait4``; with ``--workers`` > 1 the figure is
the largest of the driver and its worker processes, not their sum), the wall-clock time
and the size of the files written. Start-up (imports, numba cache loading) is included:
it is what a user's ``scenarios run`` costs. The run directories are deleted afterwards.

Default N: 100, 500, 1000, 2000 (``--quick``: 20, 100, 200). Target (issue 9): 2,000
replications of the baseline peak under 600 MB, and peak memory does not grow with N.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
DEFAULT_NS = (100, 500, 1000, 2000)
QUICK_NS = (20, 100, 200)
TARGET_MB = 600


def measure(config: Path, n: int, workers: int, extra: list[str], tmp: Path) -> dict[str, float]:
    """Peak RSS (MB), seconds and output size (MB) of one ``scenarios run`` subprocess."""
    out = tmp / f"run-{n}"
    command = [
        sys.executable,
        "-m",
        "scenarios",
        "run",
        str(config),
        "-n",
        str(n),
        "--workers",
        str(workers),
        "--out",
        str(out),
        *extra,
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"N={n}: `{' '.join(command)}` failed ({child.returncode}):\n{stderr}")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out)
    return {
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "seconds": seconds,
        "output_mb": size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, action="append", help="Replications (repeatable).")
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_NS}.")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--config", type=Path, default=BASELINE)
    parser.add_argument(
        "--no-timeseries", action="store_true", help="Pass --no-timeseries to `scenarios run`."
    )
    args = parser.parse_args()
    ns = args.n or (QUICK_NS if args.quick else DEFAULT_NS)
    extra = ["--no-timeseries"] if args.no_timeseries else []
    print(
        f"scenarios run {args.config.name} --workers {args.workers} {' '.join(extra)}".rstrip()
        + f"  (peak RSS of the process; target < {TARGET_MB} MB at N=2000)"
    )
    print(f"{'N':>6} {'peak MB':>9} {'seconds':>9} {'output MB':>10}")
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        for n in ns:
            row = measure(args.config, n, args.workers, extra, Path(tmp))
            print(f"{n:>6} {row['peak_mb']:>9.0f} {row['seconds']:>9.1f} {row['output_mb']:>10.1f}")


if __name__ == "__main__":
    main()
