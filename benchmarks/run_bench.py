"""Speed of one replication: replications per second, and how time grows.

    python benchmarks/run_bench.py [--repeats R] [--replications N]

Prints, on one core (no process pool):
- replications per second for the baseline (5 years of weekly steps, default size);
- seconds per replication at 1x, 2x and 4x the steps (spin-up off, so steps are all),
  and at 1x, 2x and 4x the initial strength (fighters, cells and carrying capacity
  scaled together; the cell split size stays), with the ratio to 1x.

Pattern after Mesa's benchmarks/global_benchmark.py: warm-up first (numba kernels load or
compile), garbage collection disabled while timing, several repeats, best and median shown.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np

from scenarios.config import ScenarioConfig, load_config
from scenarios.model.model import run_replication
from scenarios.model.params import compile_parameters
from scenarios.model.regions import build_geometry

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replications", type=int, default=40)
    args = parser.parse_args()
    reps, repeats = args.replications, args.repeats

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
    ref = None
    for k in (1, 2, 4):
        cfg = load_config(BASELINE, [f"run.steps={k * base.run.steps}", "run.burn_in=0"])
        t = statistics.median(seconds_per_replication(cfg, max(5, reps // k), repeats))
        ref = ref or t
        print(f"  steps x{k} ({k * base.run.steps:5d}): {t * 1000:7.1f} ms   ratio {t / ref:4.2f}")

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
