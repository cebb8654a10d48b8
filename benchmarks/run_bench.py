"""Speed of one replication: replications per second, and how time grows.

    python benchmarks/run_bench.py [--repeats R] [--replications N] [--before REV] [--cli]

Prints, on one core (no process pool):
- replications per second for the baseline (5 years of weekly steps, default size),
  model only (``run_replication`` in a loop);
- with ``--before REV``: the same measurement for the model at git revision REV (checked
  out in a temporary worktree), run side by side in alternating child processes, and the
  ratio (the machine is shared: absolute times are noisy, ratios much less);
- with ``--cli``: end to end through ``scenarios run --workers 1`` (writing the run
  directory), start-up excluded: the time of -n 420 minus that of -n 20, over 400;
- seconds per replication at 1x, 2x and 4x the steps (spin-up off, so steps are all),
  and at 1x, 2x and 4x the initial strength (fighters, cells and carrying capacity
  scaled together; the cell split size stays), with the ratio to 1x.

Pattern after Mesa's benchmarks/global_benchmark.py: warm-up first (numba kernels load or
compile), garbage collection disabled while timing, several repeats, best and median shown.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scenarios.config import ScenarioConfig, load_config
from scenarios.model.params import compile_parameters
from scenarios.model.regions import build_geometry

try:
    from scenarios.model.simulation import run_replication
except ImportError:  # a --before revision older than model/simulation.py
    from scenarios.model.model import run_replication  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"


def seconds_per_replication(cfg: ScenarioConfig, replications: int, repeats: int) -> list[float]:
    """Wall-clock seconds per replication, one value per repeat."""
    geometry = build_geometry(cfg)
    parameters = compile_parameters(cfg, geometry)
    run_replication(cfg, 0, geometry, parameters)  # warm-up
    out = []
    for r in range(repeats):
        gc.disable()
        start = time.perf_counter()
        for i in range(replications):
            seed = np.random.SeedSequence(r, spawn_key=(i,))
            run_replication(cfg, seed, geometry, parameters)
        out.append((time.perf_counter() - start) / replications)
        gc.enable()
        gc.collect()
    return out


def plot_weeks(cfg: ScenarioConfig, replications: int = 5) -> float:
    """Live plots summed over the weeks of a replication, averaged over a few."""
    return float(
        np.mean([run_replication(cfg, seed)[0]["live_plots"].sum() for seed in range(replications)])
    )


def child_seconds(tree: Path, replications: int) -> float:
    """Seconds per baseline replication of the model in source tree ``tree`` (a child)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import runpy; "
        "m = runpy.run_path(sys.argv[2]); "
        "cfg = m['load_config'](sys.argv[3]); "
        "print(min(m['seconds_per_replication'](cfg, int(sys.argv[4]), 2)))"
    )
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tree / "src"), __file__, str(BASELINE), str(replications)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.split()[-1])


def compare_with(rev: str, replications: int, rounds: int) -> None:
    """The baseline's speed here and at git revision ``rev``, alternating, and the ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
            check=True,
            capture_output=True,
        )
        try:
            child_seconds(tree, 2)  # compile the old kernels once, untimed
            now, before = [], []
            for _ in range(rounds):
                before.append(child_seconds(tree, replications))
                now.append(child_seconds(ROOT, replications))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )
    b, n = statistics.median(before), statistics.median(now)
    print(f"side by side with {rev} ({rounds} alternating rounds, median of best-of-2):")
    print(f"  {rev}: {b * 1000:7.1f} ms per replication ({1 / b:6.1f}/s)")
    print(f"  now: {n * 1000:7.1f} ms per replication ({1 / n:6.1f}/s)   speed-up x{b / n:.2f}")


def cli_rate() -> None:
    """Replications per second end to end through ``scenarios run --workers 1``."""

    def seconds(n: int) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "scenarios",
                    "run",
                    str(BASELINE),
                    "-n",
                    str(n),
                    "--workers",
                    "1",
                    "--out",
                    str(Path(tmp) / "run"),
                ],
                check=True,
                capture_output=True,
            )
            return time.perf_counter() - start

    seconds(2)  # warm caches
    # The start-up and the report vary by a few tenths of a second from run to run: the
    # best of three alternating runs of each size, 400 replications apart.
    times: dict[int, list[float]] = {20: [], 420: []}
    for _ in range(3):
        for n in times:
            times[n].append(seconds(n))
    small, large = min(times[20]), min(times[420])
    rate = 400 / (large - small)
    print("end to end: scenarios run --workers 1 (start-up excluded: -n 420 minus -n 20)")
    print(f"  {rate:.1f} replications/s (best of 3: {small:.2f} s for 20, {large:.2f} s for 420)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--before", metavar="REV", help="also time the model at this revision")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --before")
    parser.add_argument("--cli", action="store_true", help="also time `scenarios run` end to end")
    args = parser.parse_args()
    reps, repeats = args.replications, args.repeats
    if args.before:
        compare_with(args.before, reps, args.rounds)
    if args.cli:
        cli_rate()

    base = load_config(BASELINE)
    times = seconds_per_replication(base, reps, repeats)
    best, median = min(times), statistics.median(times)
    print(
        f"baseline: {base.run.steps} weekly steps (+{base.run.burn_in} spin-up), "
        f"{base.threat.fighters} fighters, {base.threat.cells} cells, one core"
    )
    print(
        f"  {1 / best:.1f} replications/s best, {1 / median:.1f} median "
        f"({median * 1000:.1f} ms per replication, {repeats} x {reps} replications)"
    )

    print("time vs steps (seconds per replication; ratio to 1x; linear = 2.0 and 4.0):")
    print("  (and per live plot-week: the baseline's live plots grow over a long run, by 12%")
    print("  on average over 20 years against the first 5, so time per week grows with them)")
    ref = ref_work = None
    for k in (1, 2, 4):
        cfg = load_config(BASELINE, [f"run.steps={k * base.run.steps}", "run.burn_in=0"])
        t = statistics.median(seconds_per_replication(cfg, max(5, reps // k), repeats))
        work = plot_weeks(cfg)
        ref, ref_work = ref or t, ref_work or t / work
        print(
            f"  steps x{k} ({k * base.run.steps:5d}): {t * 1000:7.1f} ms   ratio {t / ref:4.2f}"
            f"   per live plot-week {t / work * 1e9:6.0f} ns, ratio {t / work / ref_work:4.2f}"
        )

    print("time vs initial strength (fighters, cells and carrying capacity scaled together):")
    ref = None
    for k in (1, 2, 4):
        cfg = load_config(
            BASELINE,
            [
                f"threat.fighters={k * base.threat.fighters}",
                f"threat.cells={k * base.threat.cells}",
                f"threat.carrying_capacity={k * base.threat.carrying_capacity}",
            ],
        )
        t = statistics.median(seconds_per_replication(cfg, max(5, reps // k), repeats))
        ref = ref or t
        print(
            f"  strength x{k} ({k * base.threat.fighters:6d} fighters): {t * 1000:7.1f} ms"
            f"   ratio {t / ref:4.2f}"
        )


if __name__ == "__main__":
    main()
