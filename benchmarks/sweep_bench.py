"""Sweep execution at scale: throughput, parallel efficiency, batch_run, driver memory.

    python benchmarks/sweep_bench.py [--quick] [--samples N] [--repeats R] [--skip-memory]

Issue 4, point 5. On the same model and the same sample points
(``configs/sweeps/sharing_trust_sobol.yaml`` with Sobol' N reduced to ``--samples``, steps
and spin-up as in the file), prints:

1. runs per second of ``execute_sweep`` with 1 and 2 workers (each into a fresh temporary
   directory; on the local process pool, or with ``--backend dask`` an embedded Dask
   ``LocalCluster``), from call to return and excluding the workers' start-up and
   shut-down (timed from the moment the pool or Dask client is ready to the last chunk
   landing), the parallel efficiency rate(2) / (2 * rate(1)), the workers' utilisation in
   the chunk phase (from Dask's task stream; Dask only), and the machine's own ceiling:
   the same runs through ``run_chunk`` in 1 and in 2 independent processes, without Dask;
2. runs per second of ``mesa.batch_run`` with ``number_processes=2`` on the same runs
   (``BatchModel`` below adapts the model: one factorial parameter, the sample point index,
   and the replication seeds as ``rng``), the ratio ours / batch_run, and whether both
   produced the same outcomes run by run;
3. peak resident memory of the driver process calling ``execute_sweep`` with 2 workers at
   about 1,000 and 10,000 runs, each in a fresh subprocess, on a short horizon (26 weeks,
   no spin-up) to keep the large case to a minute or so.

The embedded workers' fork server (``scenarios/experiment/workers.py``) is started by the
first sweep of this process and reused by the later ones, so only the first timing pays
for loading the model in it: for call-to-return figures of a fresh `scenarios sweep`, use
``benchmarks/sweep_vs_ema.py``.

Each repeat times every case of parts 1-2 once, in rotating order; ratios are taken within
a repeat (the machine's speed drifts between minutes when it is shared) and the verdict
uses their median. Targets: efficiency >= 0.85; our throughput >= batch_run's;
memory(10k) / memory(1k) <= 1.10.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from scenarios.experiment import executor, store
from scenarios.experiment.seeds import replication_seeds
from scenarios.experiment.sweep import SweepSpec, load_sweep, point_config
from scenarios.model.model import ScenarioModel
from scenarios.model.outcomes import summarise

SWEEP = Path(__file__).resolve().parents[1] / "configs" / "sweeps" / "sharing_trust_sobol.yaml"
# Replications per point unless given: the benchmark's, not the shipped file's (chosen
# for noise, docs/ODD.md section 8).
REPLICATIONS = 2
OUTCOMES = ("attacks_successful", "fatalities")
SHORT_STEPS = 26  # memory runs: half a year, no spin-up
TARGET_EFFICIENCY = 0.85
TARGET_MEMORY_RATIO = 1.10
BACKEND = "pool"  # execute_sweep's local executor (--backend dask: an embedded LocalCluster)


# --------------------------------------------------------------------------------------
# The sweep, rebuilt lazily in every process (batch_run spawns its workers)
# --------------------------------------------------------------------------------------


@functools.cache
def sweep(samples: int, replications: int | None = None) -> tuple[SweepSpec, dict[str, Any]]:
    """The benchmark sweep: the file's, with Sobol' N and replications (default 2) replaced."""
    spec, raw_base = load_sweep(SWEEP)
    update: dict[str, Any] = {"samples": samples, "replications": replications or REPLICATIONS}
    return spec.model_copy(update=update), raw_base


@functools.cache
def design(samples: int) -> tuple[np.ndarray, list[str]]:
    """Sample points and parameter names of ``sweep(samples)``."""
    spec, _ = sweep(samples)
    return spec.design(), list(spec.parameters)


def _summary(model: BatchModel) -> dict[str, float]:
    if model.summary is None:
        model.summary = summarise(model.recorder, model.config.threat.home_country)
    return model.summary


def _attacks(model: BatchModel) -> float:
    return _summary(model)["attacks_successful"]


def _fatalities(model: BatchModel) -> float:
    return _summary(model)["fatalities"]


class BatchModel(ScenarioModel):
    """ScenarioModel as ``mesa.batch_run`` wants it: keyword parameters, ``rng=``, a DataCollector.

    ``point`` indexes the sweep's design (batch_run only does full factorials, so the design
    is one factorial parameter); ``rng`` is a replication seed, used exactly as the sweep
    executor uses it. Like ``run_replication``, a run is spin-up plus recorded weeks and one
    summary at the end (taken by the DataCollector's reporters).
    """

    def __init__(self, point: int = 0, samples: int = 32, rng: Any = None) -> None:
        _, raw_base = sweep(samples)
        values, names = design(samples)
        config = point_config(raw_base, names, values[point])
        super().__init__(config, np.random.SeedSequence(rng))
        self.summary: dict[str, float] | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={"attacks_successful": _attacks, "fatalities": _fatalities}
        )

    def step(self) -> None:
        """One week; after the last recorded week, collect the outcomes and stop."""
        super().step()
        if self.week >= self.config.run.steps:
            self.datacollector.collect(self)
            self.running = False


# --------------------------------------------------------------------------------------
# Timing execute_sweep
# --------------------------------------------------------------------------------------


class Clock:
    """Time stamps of one execute_sweep call (client ready, last chunk landed)."""

    def __init__(self) -> None:
        self.ready = 0.0
        self.closing = 0.0
        self.last = 0.0
        self.stream: list[dict[str, Any]] = []

    def progress(self, done: int, total: int) -> None:
        self.last = time.perf_counter()


_CLOCK = Clock()
_dask_client = executor.dask_client
_local_pool = executor.local_pool


@contextlib.contextmanager
def _timed_pool(workers: int) -> Iterator[Any]:
    """executor.local_pool, noting when the pool is up and when shut-down starts."""
    with _local_pool(workers) as pool:
        _CLOCK.ready = time.perf_counter()
        _CLOCK.stream = []  # no task stream: utilisation is Dask's only
        try:
            yield pool
        finally:
            _CLOCK.closing = time.perf_counter()


@contextlib.contextmanager
def _timed_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """executor.dask_client, noting when the cluster is up and when shut-down starts.

    Also records Dask's task stream (when each chunk ran on which worker).
    """
    from dask.distributed import get_task_stream

    with _dask_client(workers, scheduler) as client:
        _CLOCK.ready = time.perf_counter()
        try:
            with get_task_stream(client) as stream:
                yield client
            _CLOCK.stream = stream.data
        finally:
            _CLOCK.closing = time.perf_counter()


def utilisation(stream: list[dict[str, Any]]) -> dict[str, float]:
    """Worker utilisation during the chunk phase, from Dask's task stream.

    ``busy`` is the share of (workers x span from first chunk start to last chunk end)
    spent computing chunks; ``tail`` the idle worker-seconds after a worker's last chunk
    while another still ran; ``gaps`` the idle worker-seconds between a worker's chunks
    (dispatch overhead). Both losses are the executor's; slower chunks (a busy machine)
    are not.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for task in stream:
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                spans.setdefault(task["worker"], []).append((ss["start"], ss["stop"]))
    if not spans:
        return {"busy": float("nan"), "tail": 0.0, "gaps": 0.0, "chunk_s": 0.0}
    first = min(a for iv in spans.values() for a, _ in iv)
    last = max(b for iv in spans.values() for _, b in iv)
    busy = sum(b - a for iv in spans.values() for a, b in iv)
    n_chunks = sum(len(iv) for iv in spans.values())
    ends = [max(b for _, b in iv) for iv in spans.values()]
    starts = [min(a for a, _ in iv) for iv in spans.values()]
    gaps = sum(e - s for s, e in zip(starts, ends, strict=True)) - busy
    return {
        "busy": busy / (len(spans) * (last - first)),
        "tail": sum(last - e for e in ends),
        "gaps": gaps,
        "chunk_s": busy / n_chunks,
    }


def time_sweep(
    spec: SweepSpec, raw_base: dict[str, Any], workers: int, tmp: Path
) -> dict[str, float]:
    """Run the sweep into a fresh directory; seconds in total and per phase."""
    out = Path(tempfile.mkdtemp(dir=tmp)) / "sweep"
    executor.dask_client = _timed_client
    executor.local_pool = _timed_pool
    try:
        start = time.perf_counter()
        executor.execute_sweep(
            spec, raw_base, out, workers=workers, progress=_CLOCK.progress, backend=BACKEND
        )
        end = time.perf_counter()
    finally:
        executor.dask_client = _dask_client
        executor.local_pool = _local_pool
    return {
        "total": end - start,
        "startup": _CLOCK.ready - start,
        "work": _CLOCK.last - _CLOCK.ready,
        "shutdown": end - _CLOCK.closing,
        "out": str(out),
        **utilisation(_CLOCK.stream),
    }


def sweep_outcomes(out: Path) -> dict[tuple[int, int], tuple[float, float]]:
    """(point, seed) -> outcomes of a finished sweep."""
    frame = executor.read_results(out)
    return {
        (int(r.point), int(r.seed)): (float(r.attacks_successful), float(r.fatalities))
        for r in frame.itertuples()
    }


def time_batch_run(samples: int, seeds: list[int], processes: int) -> tuple[float, list[dict]]:
    """mesa.batch_run over every sample point and replication seed."""
    n_points = len(design(samples)[0])
    _, raw_base = sweep(samples)
    max_steps = raw_base["run"]["burn_in"] + raw_base["run"]["steps"]
    start = time.perf_counter()
    results = mesa.batch_run(
        BatchModel,
        parameters={"point": list(range(n_points)), "samples": samples},
        rng=seeds,
        number_processes=processes,
        max_steps=max_steps,
        data_collection_period=-1,
        display_progress=False,
    )
    return time.perf_counter() - start, results


def loop_child(samples: int, start: int, stop: int) -> None:
    """Runs ``start:stop`` of the sweep through ``run_chunk`` in this process, no Dask."""
    spec, raw_base = sweep(samples)
    values, names = design(samples)
    seeds = replication_seeds(spec.seed, spec.replications)
    reps = spec.replications
    runs = [(j, j // reps, j % reps, seeds[j % reps]) for j in range(start, stop)]
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        executor.run_chunk(raw_base, names, values[:1], runs[:1], tmp, 999_999)  # warm-up
        begin = time.perf_counter()
        executor.run_chunk(raw_base, names, values[[r[1] for r in runs]], runs, tmp, 0)
        print(json.dumps({"seconds": time.perf_counter() - begin}))


def time_loops(samples: int, n_runs: int, processes: int) -> float:
    """Makespan of ``processes`` independent plain loops splitting the runs (no Dask)."""
    bounds = np.linspace(0, n_runs, processes + 1).round().astype(int)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--loop-child", str(samples), str(a), str(b)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for a, b in itertools.pairwise(bounds)
    ]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit("loop child failed")
    return max(json.loads(o.strip().splitlines()[-1])["seconds"] for o in outs)


# --------------------------------------------------------------------------------------
# Driver memory (one subprocess per size)
# --------------------------------------------------------------------------------------


def _vm_hwm_kb() -> int | None:
    """This process's own peak RSS (Linux ``VmHWM``), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def memory_child(samples: int, replications: int) -> None:
    """Run a short-horizon sweep with 2 workers; print the driver's peak RSS as JSON."""
    spec, raw_base = sweep(samples, replications)
    spec = spec.model_copy(update={"steps": SHORT_STEPS})
    raw_base = copy.deepcopy(raw_base)
    raw_base["run"]["steps"] = SHORT_STEPS
    raw_base["run"]["burn_in"] = 0
    before = {"maxrss_before": _maxrss_kb(), "hwm_before": _vm_hwm_kb()}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        t = time_sweep(spec, raw_base, 2, Path(tmp))
        chunks = len(list((Path(t["out"]) / executor.PARTS).glob("chunk-*.parquet")))
    runs = spec.n_points() * spec.replications
    peak = {"maxrss": _maxrss_kb(), "hwm": _vm_hwm_kb()}
    print(json.dumps({"runs": runs, "chunks": chunks, **before, **peak, **t}))


def _maxrss_kb() -> int:
    """ru_maxrss of this process (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_memory(samples: int, replications: int) -> dict[str, Any]:
    """Run ``memory_child`` in a fresh interpreter and parse its JSON line."""
    cmd = [sys.executable, __file__, "--memory-child", str(samples), str(replications)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"memory child failed: {' '.join(cmd)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    # Another Dask cluster on this machine holds the default port of the scheduler's HTTP
    # routes; ours then takes a free port (still on 127.0.0.1) and says so: not news here.
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--samples", type=int, help="Sobol' N for parts 1-2 (default 32)")
    parser.add_argument(
        "--repeats", type=int, help="timings per case, best kept (default 3, 1 with --quick)"
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip part 3")
    parser.add_argument(
        "--backend", choices=["pool", "dask"], default="pool", help="local executor of part 1"
    )
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--loop-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.loop_child:
        loop_child(*args.loop_child)
        return

    global BACKEND
    BACKEND = args.backend
    samples = args.samples or (4 if args.quick else 32)
    repeats = args.repeats or (1 if args.quick else 3)
    spec, raw_base = sweep(samples)
    n_points = spec.n_points()
    seeds = replication_seeds(spec.seed, spec.replications)
    n_runs = n_points * spec.replications
    run = raw_base["run"]
    print(
        f"sweep: {SWEEP.name}, Sobol' N={samples}: {n_points} points x "
        f"{spec.replications} replications = {n_runs} runs of {run['burn_in']} spin-up + "
        f"{run['steps']} recorded weeks; {os.cpu_count()} CPUs; load average {_load()}"
    )
    print(
        f"{repeats} repeat(s); each times every case once, in rotating order, so that the "
        "ratios of one repeat share the machine's conditions (shown per repeat, verdict on "
        "their median)"
    )

    sweeps: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    loops: dict[int, list[float]] = {1: [], 2: []}
    batch: list[float] = []
    results: list[dict] = []
    cases = ["sweep1", "sweep2", "batch", "loop1", "loop2"]
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        for r in range(repeats):
            for case in cases[r % len(cases) :] + cases[: r % len(cases)]:
                k = int(case[-1]) if case != "batch" else 2
                if case.startswith("sweep"):
                    sweeps[k].append(time_sweep(spec, raw_base, k, Path(tmp)))
                elif case.startswith("loop"):
                    loops[k].append(time_loops(samples, n_runs, k))
                else:
                    seconds, results = time_batch_run(samples, seeds, 2)
                    batch.append(seconds)
        out2 = Path(sweeps[2][0]["out"])
        chunk_size = json.loads((out2 / store.MANIFEST).read_text())["chunk_size"]
        ours = sweep_outcomes(out2)

    def per_repeat(values: list[float]) -> str:
        shown = ", ".join(f"{v:.2f}" for v in values)
        return f"{statistics.median(values):.2f} (per repeat {shown})"

    print(f"\n1. execute_sweep (local {BACKEND}), best of the repeats")
    for k, ts in sweeps.items():
        best = min(ts, key=lambda t: t["total"])
        print(
            f"  {k} worker(s): {n_runs / best['total']:5.1f} runs/s call to return "
            f"({best['total']:.1f} s: start-up {best['startup']:.1f} s, chunks "
            f"{best['work']:.1f} s, shut-down {best['shutdown']:.1f} s); "
            f"{n_runs / min(t['work'] for t in ts):5.1f} runs/s excluding start-up/shut-down"
        )
    util = ", ".join(f"{t['busy']:.2f} (tail {t['tail']:.1f} s)" for t in sweeps[2])
    print(
        f"  chunks at 2 workers: {chunk_size} runs, {sweeps[2][0]['chunk_s']:.1f} s each; "
        f"worker utilisation in the chunk phase per repeat: {util}"
    )
    eff_total = [a["total"] / (2 * b["total"]) for a, b in zip(*sweeps.values(), strict=True)]
    eff_work = [a["work"] / (2 * b["work"]) for a, b in zip(*sweeps.values(), strict=True)]
    ceiling = [a / (2 * b) for a, b in zip(*loops.values(), strict=True)]
    e_tot, e_work = statistics.median(eff_total), statistics.median(eff_work)
    print(
        f"  parallel efficiency rate(2)/(2 rate(1)), call to return: {per_repeat(eff_total)}"
        f"  target >= {TARGET_EFFICIENCY}: {verdict(e_tot >= TARGET_EFFICIENCY)}"
    )
    print(
        f"  parallel efficiency excluding start-up/shut-down: {per_repeat(eff_work)}"
        f"  target >= {TARGET_EFFICIENCY}: {verdict(e_work >= TARGET_EFFICIENCY)}"
    )
    print(
        f"  machine ceiling, no Dask (run_chunk in 1 vs 2 independent processes, warmed up, "
        f"best {n_runs / min(loops[1]):.1f} vs {n_runs / min(loops[2]):.1f} runs/s): "
        f"efficiency {per_repeat(ceiling)}"
    )

    print("\n2. mesa.batch_run(number_processes=2) on the same runs")
    theirs = {
        (int(r["point"]), int(r["iteration"])): (
            float(r["attacks_successful"]),
            float(r["fatalities"]),
        )
        for r in results
    }
    same = len(theirs) == len(ours) and all(
        theirs[(point, seeds.index(seed))] == value for (point, seed), value in ours.items()
    )
    print(
        f"  batch_run: {n_runs / min(batch):5.1f} runs/s best ({min(batch):.1f} s call to "
        f"return, {len(results)} result rows); same outcomes as execute_sweep run by run: "
        f"{'yes' if same else 'NO'}"
    )
    vs_total = [b / t["total"] for b, t in zip(batch, sweeps[2], strict=True)]
    vs_work = [b / t["work"] for b, t in zip(batch, sweeps[2], strict=True)]
    r_tot, r_work = statistics.median(vs_total), statistics.median(vs_work)
    print(
        f"  ours (2 workers) / batch_run, call to return: {per_repeat(vs_total)}"
        f"  target >= 1.00: {verdict(r_tot >= 1.0)}"
    )
    print(
        f"  ours excluding our start-up/shut-down / batch_run call to return: "
        f"{per_repeat(vs_work)}  target >= 1.00: {verdict(r_work >= 1.0)}"
    )

    if args.skip_memory:
        print(f"\nload average after: {_load()}")
        return
    sizes = [(2, 2), (8, 3)] if args.quick else [(32, 2), (256, 3)]
    print(
        f"\n3. driver peak RSS (ru_maxrss of the process calling execute_sweep, 2 workers, "
        f"fresh subprocess each; horizon shortened to {SHORT_STEPS} weeks, no spin-up)"
    )
    rows = [measure_memory(s, reps) for s, reps in sizes]
    for m in rows:
        hwm = f"VmHWM {m['hwm'] / 1024:.1f} MiB, " if m["hwm"] else ""
        before = f"VmHWM {m['hwm_before'] / 1024:.1f}" if m["hwm_before"] else ""
        print(
            f"  {m['runs']:6d} runs ({m['chunks']} chunks, {m['total']:.1f} s): peak "
            f"ru_maxrss {m['maxrss'] / 1024:.1f} MiB, {hwm}"
            f"(after imports, before the sweep: ru_maxrss {m['maxrss_before'] / 1024:.1f}, "
            f"{before} MiB)"
        )
    # On Linux ru_maxrss starts at the parent's RSS (the high-water mark survives fork and
    # exec), so it can hide the child's own peak; VmHWM is the child's own.
    key = "hwm" if all(m["hwm"] for m in rows) else "maxrss"
    ratio = rows[1][key] / rows[0][key]
    print(
        f"  ratio large/small ({'VmHWM' if key == 'hwm' else 'ru_maxrss'}): {ratio:.3f} "
        f"(target <= {TARGET_MEMORY_RATIO}: {verdict(ratio <= TARGET_MEMORY_RATIO)}); "
        f"ru_maxrss ratio {rows[1]['maxrss'] / rows[0]['maxrss']:.3f}"
    )
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
