"""Sweeps from call to return: cost per point, 1 vs 2 workers, and EMA Workbench side by side.

    python benchmarks/sweep_vs_ema.py [--samples 64] [--efficiency-samples 128] [--repeats 3]
                                      [--skip-points] [--skip-efficiency] [--skip-ema]

Issue 9, points 5 and 6 (sweep parts). On the shipped Sobol' sweep
(``configs/sweeps/sharing_trust_sobol.yaml``: 12 parameters around ``trilateral``, 2
replications per point, 104 spin-up + 156 recorded weeks) with Sobol' N changed, prints:

1. the cost of one sample point's config before a run, against one replication: the plain
   path (``point_config``: apply the values to the raw base, validate it all, then
   ``build_geometry`` and ``compile_parameters``) and the sweep's (``PointConfigs`` from
   the base validated once, the geometry built once per region structure, then
   ``compile_parameters``), in milliseconds per point, over the sweep's points;
2. runs per second of ``scenarios sweep`` (the CLI, as a user runs it: a fresh process
   into a fresh ``--out``) with ``--workers 1`` and ``--workers 2`` at N =
   ``--efficiency-samples`` (default 128: 3,584 runs), from call to return: interpreter
   start, reading and checking the sweep, the embedded cluster's start-up, the runs, the
   analysis (indices, plots, report) and the cluster's shut-down; and the parallel
   efficiency rate(2) / (2 rate(1)). Target: >= 0.9. Also the most any sweep could reach
   whose only serial part were the driver's imports (``import_floor``), here and at 2,000
   runs;
3. at N = ``--samples`` (default 64: 896 points x 2 replications = 1,792 runs), seconds
   from call to return of ``scenarios sweep --workers 2`` and of EMA Workbench 3.0's
   ``MultiprocessingEvaluator(n_processes=2).perform_experiments`` on the same runs: the
   same sample points (passed as EMA ``Sample`` objects), the same replication seeds (a
   ``ReplicatorModel`` with one replication per seed), the same model called through the
   project's Python API (``PointConfigs`` and ``run_replication``) and the sweep's six
   outcomes; the ratio EMA / ours, and whether both give the same outcomes run by run.
   EMA's time is that of the evaluator (pool start, experiments, pool shut-down), without
   its interpreter start and imports (shown separately); ours includes everything.
   Target: ours returns first (ratio > 1). Also the same floor: our runs after nothing
   but the driver's imports.

EMA Workbench is not a project dependency. It lives in ``benchmarks/.venv-ema``, which
this script creates the first time: a venv of the same interpreter whose ``.pth`` file
puts the project venv's packages (numpy, numba, pandas...) behind its own, with
``ema_workbench==3.0.0`` installed by pip (only the packages the project venv lacks). By
hand: ``python -m venv benchmarks/.venv-ema``, add that ``.pth`` file, then
``benchmarks/.venv-ema/bin/python -m pip install ema_workbench==3.0.0``. Its side runs in
that interpreter as a subprocess of this script (``--ema-child``).

The machine is shared: each repeat runs every case once, in rotating order, and ratios
are taken within a repeat; the verdicts use their medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "configs" / "sweeps" / "sharing_trust_sobol.yaml"
# The benchmark's replications per point, whatever the shipped file sets (its default
# replications are chosen for noise, docs/ODD.md section 8; the timings here are of 2).
REPLICATIONS = 2
EMA_ENV = ROOT / "benchmarks" / ".venv-ema"
EMA_VERSION = "3.0.0"
TARGET_EFFICIENCY = 0.9


# --------------------------------------------------------------------------------------
# 1. Cost of a point's config
# --------------------------------------------------------------------------------------


def point_costs(samples: int) -> dict[str, float]:
    """Milliseconds per point of each step, before and after, and of one replication."""
    from scenarios.experiment.executor import _geometry
    from scenarios.experiment.seeds import replication_sequence
    from scenarios.experiment.sweep import PointConfigs, load_sweep, point_config
    from scenarios.model.params import compile_parameters
    from scenarios.model.regions import build_geometry
    from scenarios.model.simulation import run_replication

    spec, raw = load_sweep(SWEEP)
    spec = spec.model_copy(update={"samples": samples, "replications": REPLICATIONS})
    design, names = spec.design(), list(spec.parameters)
    plain_configs = [point_config(raw, names, values) for values in design]
    geometry = build_geometry(plain_configs[0])
    points = PointConfigs(raw, names)

    steps = {
        "config before": lambda: [point_config(raw, names, values) for values in design],
        "config after": lambda: [points.config(values) for values in design],
        "geometry before": lambda: [build_geometry(cfg) for cfg in plain_configs],
        "geometry after": lambda: [_geometry(cfg) for cfg in plain_configs],
        "compile": lambda: [compile_parameters(cfg, geometry) for cfg in plain_configs],
    }
    run_replication(plain_configs[0], 0)  # warm-up

    def replications() -> None:
        for i in range(40):
            run_replication(plain_configs[0], replication_sequence(i))

    best: dict[str, float] = {}
    for _ in range(3):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            ms = (time.perf_counter() - start) * 1000 / len(design)
            best[name] = min(best.get(name, ms), ms)
        start = time.perf_counter()
        replications()
        ms = (time.perf_counter() - start) * 1000 / 40
        best["replication"] = min(best.get("replication", ms), ms)
    best["before"] = best["config before"] + best["geometry before"] + best["compile"]
    best["after"] = best["config after"] + best["geometry after"] + best["compile"]
    return {**best, "points": len(design)}


# --------------------------------------------------------------------------------------
# 2-3. The CLI, from call to return
# --------------------------------------------------------------------------------------


def sweep_file(tmp: Path, samples: int) -> Path:
    """The shipped sweep with Sobol' N = ``samples``, its base given by absolute path."""
    lines = []
    for line in SWEEP.read_text().splitlines():
        if line.startswith("base:"):
            line = f"base: {(SWEEP.parent / line.split(':', 1)[1].strip()).resolve()}"
        elif line.startswith("samples:"):
            line = f"samples: {samples}"
        elif line.startswith("replications:"):
            line = f"replications: {REPLICATIONS}"
        lines.append(line)
    path = tmp / f"sweep-{samples}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def env_with_src() -> dict[str, str]:
    """This environment with the project's src on PYTHONPATH (first)."""
    paths = [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
    return {**os.environ, "PYTHONPATH": ":".join(dict.fromkeys(paths))}


def time_cli(spec: Path, workers: int, tmp: Path) -> dict[str, Any]:
    """``scenarios sweep SPEC --workers K`` into a fresh directory: seconds, call to return."""
    out = Path(tempfile.mkdtemp(dir=tmp)) / "sweep"
    log = out.parent / "log.txt"
    cmd = [sys.executable, "-m", "scenarios", "sweep", str(spec)]
    cmd += ["--workers", str(workers), "--out", str(out)]
    with log.open("w") as sink:
        called = time.time()
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env_with_src())
        seconds = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(log.read_text())
        raise SystemExit(f"failed: {' '.join(cmd)}")
    parts = sorted(p.stat().st_mtime - called for p in (out / "parts").glob("*.parquet"))
    return {
        "seconds": seconds,
        "out": out,
        "parts": len(parts),
        # from the files' times: the call until the first part (start-up and one chunk),
        # the parts, and the last part until the return (analysis, report, exit)
        "phases": (parts[0], parts[-1] - parts[0], seconds - parts[-1]),
    }


def run_seconds(run: dict[str, Any]) -> float:
    """Seconds of a sweep's runs, estimated from its files' times: the span from the first
    part to the last, plus one average part for the chunk before the first."""
    _, span, _ = run["phases"]
    return span * run["parts"] / max(1, run["parts"] - 1)


def phase_line(run: dict[str, Any]) -> str:
    """Where a sweep's seconds went, from its files' times (see :func:`time_cli`)."""
    first, runs, last = run["phases"]
    return (
        f"call to first part {first:.2f} s (start-up and a chunk), parts {runs:.2f} s, "
        f"last part to return {last:.2f} s (analysis, report, exit)"
    )


# What a sweep's driver imports before it can hand out a chunk: the CLI, and SALib with
# SciPy's statistics (the design is drawn by SALib; the indices are computed with it).
DRIVER_IMPORTS = "import scenarios.cli, SALib.sample.sobol, SALib.analyze.sobol"


def import_floor(repeats: int = 3) -> float:
    """Seconds for a fresh interpreter to import :data:`DRIVER_IMPORTS`, best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", DRIVER_IMPORTS], check=True, env=env_with_src())
        best = min(best, time.perf_counter() - start)
    return best


def efficiency_bound(floor: float, compute: float) -> float:
    """Parallel efficiency of a sweep whose only serial part is ``floor`` seconds.

    ``compute``: seconds of runs on one worker. With 1 worker a sweep takes floor +
    compute, with 2 floor + compute / 2, so rate(2) / (2 rate(1)) = (floor + compute) /
    (2 floor + compute): the most any sweep can reach that must import the driver's
    libraries before its first run, with no worker start-up and no analysis at all.
    """
    return (floor + compute) / (2 * floor + compute)


def ensure_ema_env() -> Path:
    """benchmarks/.venv-ema/bin/python with ema_workbench installed (created once)."""
    python = EMA_ENV / "bin" / "python"
    check = [str(python), "-c", "import ema_workbench as e; print(e.__version__)"]
    if python.exists():
        found = subprocess.run(check, capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip() == EMA_VERSION:
            return python
    print(f"creating {EMA_ENV.relative_to(ROOT)} with ema_workbench {EMA_VERSION} (once)")
    subprocess.run([sys.executable, "-m", "venv", str(EMA_ENV)], check=True)
    ours = sysconfig.get_paths()["purelib"]
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    theirs = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    (Path(theirs) / "zz_project_venv.pth").write_text(ours + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"ema_workbench=={EMA_VERSION}"], check=True
    )
    return python


def time_ema(python: Path, samples: int, tmp: Path) -> dict[str, Any]:
    """Run the EMA side in its own interpreter; its timings and outcomes."""
    result = Path(tempfile.mkdtemp(dir=tmp)) / "ema.json"
    cmd = [str(python), "-W", "ignore", __file__, "--ema-child", str(samples), str(result)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env_with_src(), check=False)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return {**json.loads(result.read_text()), "process": seconds}


def ema_child(samples: int, result: Path) -> None:
    """In EMA's venv: the sweep's runs through MultiprocessingEvaluator(n_processes=2)."""
    begin = time.perf_counter()
    from ema_workbench import (
        ArrayOutcome,
        MultiprocessingEvaluator,
        RealParameter,
        ReplicatorModel,
        Sample,
    )

    from scenarios.experiment.seeds import replication_seeds

    spec, _ = ema_sweep(samples)
    design = spec.design()
    seeds = replication_seeds(spec.seed, spec.replications)
    model = ReplicatorModel("scenarios", function=ema_model)
    model.uncertainties = [
        RealParameter(f"x{j}", *p.bounds) for j, p in enumerate(spec.parameters.values())
    ]
    model.outcomes = [ArrayOutcome(o) for o in spec.outcomes]
    model.replications = [{"seed": s} for s in seeds]
    scenarios = [Sample(**{f"x{j}": float(v) for j, v in enumerate(row)}) for row in design]
    imported = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        _, outcomes = evaluator.perform_experiments(scenarios=scenarios)
    seconds = time.perf_counter() - imported
    result.write_text(
        json.dumps(
            {
                "evaluator": seconds,
                "setup": imported - begin,
                "outcomes": {k: np.asarray(v).tolist() for k, v in outcomes.items()},
            }
        )
    )


_EMA: dict[int, Any] = {}


def ema_sweep(samples: int) -> tuple[Any, Any]:
    """The sweep at N = ``samples`` and its PointConfigs (per process, built once)."""
    if samples not in _EMA:
        from scenarios.experiment.sweep import PointConfigs, load_sweep

        spec, raw = load_sweep(SWEEP)
        spec = spec.model_copy(update={"samples": samples, "replications": REPLICATIONS})
        _EMA.clear()
        _EMA[samples] = (spec, PointConfigs(raw, list(spec.parameters)))
    return _EMA[samples]


def ema_model(seed: int, **x: float) -> dict[str, float]:
    """The EMA model function: one replication of one sample point, its outcomes."""
    from scenarios.experiment.seeds import replication_sequence
    from scenarios.model.simulation import run_replication

    ((spec, points),) = _EMA.values()
    values = np.array([x[f"x{j}"] for j in range(len(spec.parameters))])
    _, summary = run_replication(points.config(values), replication_sequence(seed))
    return {o: summary[o] for o in spec.outcomes}


def same_outcomes(out: Path, ema: dict[str, Any], outcomes: list[str]) -> bool:
    """Whether EMA's outcomes equal the sweep's, run by run."""
    from scenarios.experiment.executor import read_results

    frame = read_results(out, ["point", "replication", *outcomes])
    for name in outcomes:
        theirs = np.asarray(ema["outcomes"][name], dtype=float)
        ours = np.full(theirs.shape, np.nan)
        ours[frame["point"], frame["replication"]] = frame[name]
        if not np.array_equal(ours, theirs):
            return False
    return True


# --------------------------------------------------------------------------------------


def per_repeat(values: list[float]) -> str:
    shown = ", ".join(f"{v:.2f}" for v in values)
    return f"{statistics.median(values):.2f} (per repeat {shown})"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=64, help="Sobol' N against EMA")
    parser.add_argument(
        "--efficiency-samples", type=int, default=128, help="Sobol' N for 1 vs 2 workers"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-points", action="store_true", help="skip part 1")
    parser.add_argument("--skip-efficiency", action="store_true", help="skip part 2")
    parser.add_argument("--skip-ema", action="store_true", help="skip part 3")
    parser.add_argument("--ema-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--replications-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ema_child:
        ema_child(int(args.ema_child[0]), Path(args.ema_child[1]))
        return
    if args.replications_child:
        replications_child(args.replications_child)
        return

    from scenarios.experiment.sweep import load_sweep

    spec, raw = load_sweep(SWEEP)
    spec = spec.model_copy(update={"replications": REPLICATIONS})
    run = raw["run"]
    per_point = spec.replications
    print(
        f"sweep: {SWEEP.name} (Sobol', {len(spec.parameters)} parameters, {per_point} "
        f"replications per point, {run['burn_in']} spin-up + {run['steps']} weeks); "
        f"{os.cpu_count()} CPUs; load average {load()}"
    )

    if not args.skip_points:
        cost = point_costs(16)
        rep = cost["replication"]
        print(
            f"\n1. config of one sample point before its runs, ms per point (best of 3, over "
            f"{cost['points']} points; one replication: {rep:.2f} ms)"
        )
        for label, key, how in (
            (
                "before",
                "before",
                "point_config (the raw base with the values, all "
                "validated), build_geometry, compile_parameters",
            ),
            (
                "after",
                "after",
                "PointConfigs (the base validated once), the geometry "
                "built once, compile_parameters",
            ),
        ):
            print(f"  {label}: {cost[key]:.3f} ms ({cost[key] / rep:.1%} of a replication): {how}")
        print(
            f"    config {cost['config before']:.3f} -> {cost['config after']:.3f} ms, "
            f"geometry {cost['geometry before']:.3f} -> {cost['geometry after']:.3f} ms, "
            f"compile_parameters (model code, unchanged) {cost['compile']:.3f} ms; "
            f"x{cost['before'] / cost['after']:.1f} less in all"
        )

    python = None if args.skip_ema else ensure_ema_env()
    with tempfile.TemporaryDirectory(prefix="sweep-vs-ema-") as name:
        tmp = Path(name)
        if not args.skip_efficiency:
            efficiency(tmp, args.efficiency_samples, args.repeats, spec)
        if python is not None:
            against_ema(tmp, python, args.samples, args.repeats, spec)
    print(f"\nload average after: {load()}")


def replications_child(n: int) -> None:
    """Time ``n`` replications of the trilateral base in this process (after a warm-up)."""
    from scenarios.config import load_config
    from scenarios.model.simulation import run_replication

    config = load_config(ROOT / "configs" / "trilateral.yaml", [("run.steps", 156)])
    run_replication(config, 0)
    start = time.perf_counter()
    for i in range(n):
        run_replication(config, i + 1)
    print(json.dumps({"seconds": time.perf_counter() - start}))


def ceiling(n: int = 150) -> float:
    """The machine's own parallel efficiency now: n replications in 1, then in 2 processes.

    Plain processes, no Dask: what two workers can get from this (shared) machine at
    best. Each process loads the model first, untimed.
    """

    def makespan(processes: int) -> float:
        cmd = [sys.executable, __file__, "--replications-child", str(n)]
        procs = [
            subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env_with_src())
            for _ in range(processes)
        ]
        outs = [p.communicate()[0] for p in procs]
        return max(json.loads(o.strip().splitlines()[-1])["seconds"] for o in outs)

    one = makespan(1)
    return one / makespan(2)  # each of 2 processes did the work of 1: efficiency = t1 / t2


def efficiency(tmp: Path, samples: int, repeats: int, spec: Any) -> None:
    path = sweep_file(tmp, samples)
    n_runs = spec.model_copy(update={"samples": samples}).n_points() * spec.replications
    times: dict[int, list[float]] = {1: [], 2: []}
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    machine: list[float] = []
    for r in range(repeats):
        machine.append(ceiling())
        for workers in (1, 2) if r % 2 == 0 else (2, 1):
            runs[workers].append(time_cli(path, workers, tmp))
            times[workers].append(runs[workers][-1]["seconds"])
    print(
        f"\n2. scenarios sweep (CLI) at N={samples}: {n_runs} runs, call to return "
        "(start-up, runs, analysis, shut-down), best of the repeats"
    )
    for workers, ts in times.items():
        print(
            f"  --workers {workers}: {n_runs / min(ts):6.1f} runs/s ({min(ts):.1f} s; "
            f"per repeat {', '.join(f'{t:.1f}' for t in ts)} s)"
        )
        print(f"    best: {phase_line(min(runs[workers], key=lambda run: run['seconds']))}")
    eff = [a / (2 * b) for a, b in zip(times[1], times[2], strict=True)]
    print(
        f"  parallel efficiency rate(2) / (2 rate(1)): {per_repeat(eff)}  target >= "
        f"{TARGET_EFFICIENCY}: {verdict(statistics.median(eff) >= TARGET_EFFICIENCY)}"
    )
    print(
        f"  the machine's ceiling at the time (replications in 2 plain processes vs 1, no "
        f"Dask, no start-up): {per_repeat(machine)}; sweep efficiency / ceiling: "
        f"{per_repeat([e / c for e, c in zip(eff, machine, strict=True)])}"
    )
    compute = run_seconds(min(runs[1], key=lambda run: run["seconds"]))
    floor = import_floor()
    per_run = compute / n_runs
    print(
        f"  floor: a fresh interpreter imports what the driver needs before its first chunk "
        f"in {floor:.2f} s ({DRIVER_IMPORTS!r}); with that as the only serial part and "
        f"{per_run * 1000:.2f} ms of runs per run on one worker, the efficiency could reach "
        f"at most {efficiency_bound(floor, compute):.3f} at {n_runs} runs, "
        f"{efficiency_bound(floor, per_run * 2000):.3f} at 2,000 runs"
    )


def against_ema(tmp: Path, python: Path, samples: int, repeats: int, spec: Any) -> None:
    path = sweep_file(tmp, samples)
    n_points = spec.model_copy(update={"samples": samples}).n_points()
    n_runs = n_points * spec.replications
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    time_ema(python, 2, tmp)  # EMA's venv: first imports compile bytecode
    machine = []
    for r in range(repeats):
        machine.append(ceiling())
        for case in ("ours", "ema") if r % 2 == 0 else ("ema", "ours"):
            if case == "ours":
                ours.append(time_cli(path, 2, tmp))
            else:
                theirs.append(time_ema(python, samples, tmp))
    same = same_outcomes(ours[0]["out"], theirs[0], list(spec.outcomes))
    print(
        f"\n3. {n_points} points x {spec.replications} replications = {n_runs} runs (N="
        f"{samples}), 2 processes each, best of {repeats}"
    )
    best = min(t["seconds"] for t in ours)
    print(
        f"  scenarios sweep --workers 2 (CLI, call to return, analysis included): {best:.1f} s"
        f" ({n_runs / best:.1f} runs/s)"
    )
    print(f"    best: {phase_line(min(ours, key=lambda run: run['seconds']))}")
    ema_best = min(t["evaluator"] for t in theirs)
    setup = min(t["setup"] for t in theirs)
    process = min(t["process"] for t in theirs)
    print(
        f"  EMA Workbench {EMA_VERSION} MultiprocessingEvaluator(n_processes=2)"
        f".perform_experiments: {ema_best:.1f} s ({n_runs / ema_best:.1f} runs/s); its "
        f"imports and set-up before it {setup:.1f} s, whole process {process:.1f} s"
    )
    ratio = [t["evaluator"] / o["seconds"] for o, t in zip(ours, theirs, strict=True)]
    print(
        f"  EMA evaluator / our CLI (> 1: ours returns first): {per_repeat(ratio)}  target > 1: "
        f"{verdict(statistics.median(ratio) > 1)}"
    )
    whole = [t["process"] / o["seconds"] for o, t in zip(ours, theirs, strict=True)]
    print(f"  EMA whole process / our CLI: {per_repeat(whole)}")
    runs = run_seconds(min(ours, key=lambda run: run["seconds"]))
    floor = import_floor()
    print(
        f"  floor: our runs ({runs:.1f} s) after nothing but the driver's imports "
        f"({floor:.2f} s, as in 2.), no worker start-up, no analysis: {floor + runs:.1f} s "
        f"against EMA's evaluator {ema_best:.1f} s"
    )
    print(f"  same outcomes run by run: {'yes' if same else 'NO'}")
    print(f"  the machine's ceiling at the time (as in 2.): {per_repeat(machine)}")


if __name__ == "__main__":
    main()
