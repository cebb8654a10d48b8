"""Run a sweep's sample points on local processes or Dask, streaming results to disk.

Runs (sample point x replication) are grouped into chunks. Each chunk goes to a worker,
which runs it and writes ``parts/chunk-NNNNNN.parquet`` through a temporary name and an
atomic rename, then returns only its chunk number. The driver keeps no results:
memory does not grow with the number of runs. A part file on disk that verifies (readable
Parquet holding exactly its chunk's runs) is the proof that a chunk is done, so
``--resume`` after Ctrl-C, SIGKILL or a lost worker deletes parts that do not verify and
runs only the missing chunks. It refuses if the base config or the model code changed.
The results are identical to an uninterrupted sweep's because every run is determined by
its sample point and seed.

By default the chunks go to a local process pool (``concurrent.futures``), its workers
forked from a fork server that has loaded the model once (``workers.py``): no scheduler,
no nannies, nothing but the runs, so two workers finish a sweep in about half the time of
one (``benchmarks/sweep_vs_ema.py``). ``scheduler`` submits the same chunks to an existing
Dask cluster instead; ``backend="dask"`` runs them on an embedded Dask ``LocalCluster``
(the former default, kept for comparison). Every path writes the same part files.

A run or part that fails on a worker is returned as a :class:`ChunkFailure`, not raised
(no worker traceback on the terminal). The driver then starts no more chunks, waits for
those in flight, marks the manifest ``failed`` with the reason and raises
SweepFailedError (exit code 2): the finished parts are kept for ``--resume``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from scenarios.config import ConfigError, ModelLimitError, ScenarioConfig
from scenarios.experiment import store
from scenarios.experiment.errors import OutputError, SweepFailedError
from scenarios.experiment.pool import worker_context
from scenarios.experiment.processes import stop_workers, watch_driver
from scenarios.experiment.seeds import replication_seeds, replication_sequence
from scenarios.experiment.sweep import (
    EFFECT,
    PointConfigs,
    ResumableSweepManifest,
    SweepSpec,
    contrast_base,
)

if TYPE_CHECKING:
    from scenarios.experiment.ensemble import Ensemble

PARTS = "parts"
DESIGN = "design.parquet"
SECONDS_PER_CHUNK = 2.0
# One run of 260 weeks on one core, with a worker's own work per run (benchmarks/
# run_bench.py: 5.0 ms for the 364 weeks of the baseline; sweep_vs_ema.py: 4.1 ms for a
# run of the shipped sweep, about 4.5 ms per run in a sweep's workers).
SECONDS_PER_RUN_AT_260_WEEKS = 0.0045
# Small sweeps get at least this many chunks per worker: while the last chunks run the
# other workers idle, on average half a chunk each, which costs about
# 1 / (4 x CHUNKS_PER_WORKER) of the workers' time (benchmarks/sweep_bench.py reports the
# utilisation) ...
CHUNKS_PER_WORKER = 16
# ... but chunks stay at least this long, so per-chunk costs (a task round trip and a
# Parquet part, about 6 ms) stay small.
MIN_SECONDS_PER_CHUNK = 0.25
# The last round of chunks (one per worker) is cut in this many (see default_tail).
TAIL_SPLIT = 4
# Embedded workers skip background work a sweep does not use (it has no dashboard): the
# statistical profiler samples the task thread's stack every 10 ms, the event-loop health
# check ticks every 20 ms, the system and memory monitors poll psutil several times a
# second. With Dask's defaults a run costs 10-15% more CPU on a worker than in a plain
# process; with these settings about the same (benchmarks/sweep_bench.py). The nannies
# read the configuration when they start and pass it to their workers (and restarts).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
}
# Embedded workers are forked from a fork server that has imported Dask, the model and
# the model's compiled code once (``workers.start_fork_server``), instead of being spawned as
# fresh interpreters that each import Dask and the CLI, then load the model on their first
# chunk: on the two-core development machine a cluster ready to run took about 2 s instead
# of 4-6 s, and closing it a tenth of a second instead of one to two.
WORKER_START = {"distributed.worker.multiprocessing-method": "forkserver"}


def chunk_name(chunk: int) -> str:
    """File name of a chunk's part."""
    return f"chunk-{chunk:06d}.parquet"


@dataclass(frozen=True)
class ChunkFailure:
    """Why a chunk did not write its part: returned by a worker instead of raising.

    A worker that raised would print Dask's task traceback on the terminal; returning the
    failure lets the driver report it in one message instead.
    """

    chunk: int
    error: str  # one line, bounded
    point: int | None = None  # the sample point whose run failed, if it was a run
    replication: int | None = None
    values: tuple[tuple[str, float], ...] = ()
    # A config or model-limit error: the same point fails the same way on every try.
    deterministic: bool = False

    def describe(self) -> str:
        """``sample point 5 (replication 1; threat.plot_rate=81.5)`` or the chunk."""
        if self.point is None:
            return f"chunk {self.chunk}"
        shown = ", ".join(f"{name}={value:.6g}" for name, value in self.values)
        return f"sample point {self.point} (replication {self.replication}; {shown})"


def _error_text(exc: BaseException, limit: int = 600) -> str:
    """``exc`` in one line of at most ``limit`` characters (its type unless it is ours)."""
    ours = isinstance(exc, (ConfigError, ModelLimitError, OutputError))
    text = " ".join((str(exc) if ours else f"{type(exc).__name__}: {exc}").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_chunk(
    raw_base: dict[str, Any],
    names: list[str],
    values: np.ndarray,
    runs: list[tuple[int, int, int, int]],
    parts_dir: str,
    chunk: int,
    contrast: dict[str, Any] | None = None,
    ensemble: Ensemble | None = None,
) -> int | ChunkFailure:
    """Run one chunk on a worker and write its part file; return the chunk number.

    ``runs`` holds (run, point, replication, seed); ``values[i]`` are the parameter values
    of the i-th run's sample point. A point's config comes from :class:`PointConfigs`
    (kept per worker for the sweep's base), its region geometry is built once per distinct
    region structure (the same for every point unless the sweep varies it). If a run or
    the part fails, no part is written and a :class:`ChunkFailure` is returned instead.

    ``contrast`` (the base config with a sweep's contrast applied): each run also
    simulates the point's contrast arm with the same seed, and its row gains
    ``effect:<column>`` = contrast arm minus base arm for every summary column; the base
    arm's columns are those of the same run without a contrast. ``ensemble``: replication
    r also sets the parameters of its posterior draw (the same in every point, so points
    stay paired), and rows record its ``draw`` and ``particle``.
    """
    from scenarios.model.simulation import run_replication

    extra: tuple[str, ...] = () if ensemble is None else ensemble.posterior.parameters
    varying = None if ensemble is None else ensemble.parameters()
    draws = None if ensemble is None else ensemble.draw_of()
    arms = [_point_configs(raw_base, [*names, *extra])]
    if contrast is not None:
        arms.append(_point_configs(contrast, [*names, *extra]))
    rows = []
    current: dict[int, tuple[tuple[int, int], Any, Any]] = {}  # arm -> (key, geometry, params)
    point: int | None = None
    replication: int | None = None
    point_values: Any = ()
    try:
        for (run, point, replication, seed), point_values in zip(runs, values, strict=True):
            row: dict[str, Any] = {
                "run": run,
                "point": point,
                "replication": replication,
                "seed": seed,
            }
            full = np.asarray(point_values, dtype=float)
            key = (point, -1)
            if varying is not None and draws is not None:
                particle = int(varying.keys[replication])
                key = (point, particle)
                full = np.concatenate([full, varying.points[particle]])
                row.update(draw=int(draws[replication]), particle=particle)
            row.update({f"param:{n}": float(v) for n, v in zip(names, point_values, strict=True)})
            summaries = []
            for a, points in enumerate(arms):
                if a not in current or current[a][0] != key:
                    current[a] = (key, *_compiled(points.config(full)))
                _, cfg, geometry, parameters = current[a]
                _, summary = run_replication(cfg, replication_sequence(seed), geometry, parameters)
                summaries.append(summary)
            row.update(summaries[0])
            if len(summaries) == 2:
                row.update(effects(summaries[0], summaries[1]))
            rows.append(row)
        point = replication = None  # the runs are done: a failure now is the part's
        write_part(rows, Path(parts_dir) / chunk_name(chunk))
    except Exception as exc:
        return ChunkFailure(
            chunk=chunk,
            error=_error_text(exc),
            point=point,
            replication=replication,
            values=tuple(zip(names, map(float, point_values), strict=True))
            if point is not None
            else (),
            deterministic=isinstance(exc, (ConfigError, ModelLimitError)),
        )
    return chunk


def effects(base: dict[str, Any], contrast: dict[str, Any]) -> dict[str, float]:
    """``effect:<column>``: the contrast arm's value minus the base arm's, per numeric column."""
    return {
        f"{EFFECT}{k}": float(contrast[k]) - float(v)
        for k, v in base.items()
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    }


def _compiled(cfg: ScenarioConfig) -> tuple[ScenarioConfig, Any, Any]:
    """A run's config, its region geometry (cached) and its compiled parameters."""
    from scenarios.model.params import compile_parameters

    geometry = _geometry(cfg)
    return cfg, geometry, compile_parameters(cfg, geometry)


# How parts are written: plain. A part is a few dozen rows of some two hundred columns, and
# Parquet's work per column chunk (a compression context, a dictionary, statistics) was
# most of the cost: 9.3 ms for a part of 56 runs with zstd, dictionaries and statistics,
# 3.4 ms without (0.2 of a millisecond per run saved, for parts a few times larger: a
# sweep's parts hold only its summary rows). Nothing reads their statistics.
PART_OPTIONS = {"compression": "none", "use_dictionary": False, "write_statistics": False}


def write_part(rows: list[dict[str, Any]], path: Path) -> None:
    """A chunk's rows as Parquet, through a temporary name and an atomic rename.

    Straight from the rows to Arrow: through pandas a part of two hundred columns costs
    twice as much (pandas' conversion and metadata). Read back, it is the same frame.
    """
    import pyarrow as pa

    # a stray .tmp goes on --resume
    store.write_arrow(pa.Table.from_pylist(rows), path, **PART_OPTIONS)


# Per worker process: the PointConfigs of the last bases seen (Dask scatters a sweep's
# base, and a contrast sweep's contrast base, once, so every chunk of it passes the same
# object; a process pool passes an equal copy with every chunk) and geometries by region
# structure.
_POINTS: list[tuple[dict[str, Any], list[str], PointConfigs]] = []
_POINTS_KEPT = 4
_GEOMETRIES: dict[tuple[Any, ...], Any] = {}


def _point_configs(raw_base: dict[str, Any], names: list[str]) -> PointConfigs:
    """The PointConfigs of ``raw_base`` and ``names``, built once per worker and sweep."""
    for kept, kept_names, points in _POINTS:
        if kept_names == names and (kept is raw_base or kept == raw_base):
            return points
    points = PointConfigs(raw_base, names)
    # holds raw_base: its id stays unique while kept
    _POINTS[:] = [(raw_base, list(names), points), *_POINTS[: _POINTS_KEPT - 1]]
    return points


def _geometry(cfg: ScenarioConfig) -> Any:
    """``build_geometry(cfg)``, cached by everything it reads from the config."""
    from scenarios.model.regions import build_geometry

    key = (
        tuple(cfg.actors),
        tuple(
            (rid, r.country, r.jurisdiction, tuple(r.neighbours), r.position)
            for rid, r in cfg.regions.items()
        ),
    )
    geometry = _GEOMETRIES.get(key)
    if geometry is None:
        if len(_GEOMETRIES) >= 64:
            _GEOMETRIES.clear()
        geometry = _GEOMETRIES[key] = build_geometry(cfg)
    return geometry


def plan_chunks(
    n_runs: int, chunk_size: int, tail_runs: int = 0, tail_size: int = 0
) -> list[range]:
    """Consecutive run ranges of at most ``chunk_size``.

    With ``tail_size``, the last ``tail_runs`` runs are in ranges of at most ``tail_size``.
    """
    head = n_runs - min(tail_runs, n_runs) if tail_size else n_runs
    chunks = [range(s, min(head, s + chunk_size)) for s in range(0, head, chunk_size)]
    chunks += [range(s, min(n_runs, s + tail_size)) for s in range(head, n_runs, tail_size or 1)]
    return chunks


def default_tail(spec: SweepSpec, chunk_size: int, n_runs: int, workers: int) -> dict[str, int]:
    """The manifest's ``tail_runs`` and ``tail_size``: a finer last round of chunks.

    While the last chunks run, workers that have finished theirs idle: on average half a
    chunk each. The last round (a chunk per worker) is cut in :data:`TAIL_SPLIT`, so
    the workers finish closer together. Not with one worker (nothing idles), nor when
    the sweep file sets ``chunk_size``.
    """
    size = chunk_size // TAIL_SPLIT
    if spec.chunk_size is not None or workers < 2 or size < 1 or n_runs <= workers * chunk_size:
        return {"tail_runs": 0, "tail_size": 0}
    return {"tail_runs": workers * chunk_size, "tail_size": size}


def default_chunk_size(spec: SweepSpec, weeks: int, n_runs: int, workers: int) -> int:
    """Runs per chunk: about two seconds of work.

    Smaller, down to a quarter of a second (``MIN_SECONDS_PER_CHUNK``), if that leaves
    fewer than ``CHUNKS_PER_WORKER`` chunks per worker; never fewer chunks than workers.
    ``weeks`` is what one run simulates: spin-up plus recorded steps.
    """
    workers = max(1, workers)
    per_run = SECONDS_PER_RUN_AT_260_WEEKS * max(weeks, 1) / 260
    size = min(
        round(SECONDS_PER_CHUNK / per_run),
        max(
            math.ceil(n_runs / (CHUNKS_PER_WORKER * workers)),
            round(MIN_SECONDS_PER_CHUNK / per_run),
        ),
    )
    size = max(1, min(size, math.ceil(n_runs / workers)))
    return spec.chunk_size or size


def part_problem(path: Path, runs: range) -> str | None:
    """Why a part file is not a finished chunk of ``runs``; None if it is.

    It must be a readable Parquet file whose ``run`` column holds exactly the chunk's runs.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=["run"])
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        return f"not a readable Parquet file ({type(exc).__name__})"
    if table.num_rows != len(runs):
        return f"{table.num_rows} rows instead of {len(runs)}"
    if sorted(table.column("run").to_pylist()) != list(runs):
        return f"not the runs {runs.start}-{runs.stop - 1} of its chunk"
    return None


def done_chunks(
    out: Path, chunks: list[range], report: Callable[[str], None] | None = None
) -> set[int]:
    """Chunks whose part file exists and verifies (:func:`part_problem`).

    A part that does not verify, or whose name is not a chunk of this sweep, is deleted
    (only if strictly inside the parts directory) so that its chunk runs again;
    ``report`` is told about each.
    """
    parts = out / PARTS
    done = set()
    for path in sorted(parts.glob("chunk-*.parquet")):
        number = path.stem.removeprefix("chunk-")
        k = int(number) if number.isdigit() else -1
        if 0 <= k < len(chunks) and path.name == chunk_name(k):
            problem = part_problem(path, chunks[k])
        else:
            problem = "not a chunk of this sweep"
        if problem is None:
            done.add(k)
            continue
        store.remove_file(path, parts)
        if report:
            report(f"{PARTS}/{path.name}: {problem}; deleted, its chunk runs again")
    return done


@contextmanager
def local_pool(workers: int) -> Iterator[Executor]:
    """A process pool of ``workers`` processes forked from the sweep's fork server.

    The fork server (``workers.start_fork_server``, started early by `scenarios sweep`)
    has loaded the model and the sweep report, so a worker is ready as soon as it is
    forked. Workers watch the driver and exit with it (``processes.watch_driver``); on
    an error or Ctrl-C they are stopped at once, dropping the chunks they were running
    (their parts are never half written: a part appears by atomic rename).
    """
    from scenarios.experiment.workers import start_fork_server

    start_fork_server()  # does nothing if `scenarios sweep` started it already
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context(),
        initializer=watch_driver,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        stop_workers(pool)
        raise
    pool.shutdown()


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: on an existing scheduler, or on an embedded LocalCluster."""
    import dask
    from dask.distributed import Client, LocalCluster
    from distributed.utils import get_mp_context

    from scenarios.experiment.dask_workers import WatchDriver
    from scenarios.experiment.workers import start_fork_server

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise OutputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set({**QUIET_WORKERS, **WORKER_START}):
        get_mp_context()  # distributed sets its preload list first, ours replaces it
        start_fork_server(dask=True)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # Workers' own log lines (e.g. a heartbeat that fails while Ctrl-C stops the
            # cluster) would print tracebacks; a failing task reaches the client anyway.
            silence_logs=logging.CRITICAL,
        )
    client = Client(cluster)
    try:
        client.register_plugin(WatchDriver(os.getpid()))
        yield client
    finally:
        client.close()
        cluster.close()


def execute_sweep(
    spec: SweepSpec,
    raw_base: dict[str, Any],
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    report: Callable[[str], None] | None = None,
    finish: Callable[[Executor | None], object] | None = None,
    backend: Literal["pool", "dask"] = "pool",
    ensemble: Ensemble | None = None,
) -> Path:
    """Run every missing chunk of the sweep into ``out``; ``progress(done, total)`` runs.

    ``out`` is locked meanwhile. Raises OutputError if ``out`` exists without ``resume``,
    if another process is writing it, if it holds another kind of directory, or a sweep
    with another definition, resolved base config or model code. On ``resume`` a part
    counts as done only if it verifies (:func:`done_chunks`); ``report`` is told about
    each part that did not and runs again.

    Without ``scheduler`` the chunks run on a local process pool of ``workers``
    processes (``backend="dask"``: on an embedded Dask ``LocalCluster`` instead); the part
    files are the same either way.

    ``finish(pool)`` is called once the sweep is complete, before the local workers shut
    down (`scenarios sweep` analyses the sweep there): ``pool`` is a ``concurrent.futures``
    executor on those workers, or None if none were started (nothing was left to run) or
    they are an external scheduler's (whose workers may not see this machine's files).

    A sweep with a ``contrast`` runs both arms of every run (see :func:`run_chunk`).
    ``ensemble`` (a posterior's planned draws for the sweep's seed and replications):
    replication r of every point runs with draw r's parameters; the manifest records it,
    and a resume with another ensemble (or none) is refused.
    """
    with store.output_lock(out):
        return _execute_sweep(
            spec,
            raw_base,
            out,
            workers,
            scheduler,
            resume,
            progress,
            report,
            finish,
            backend,
            ensemble,
        )


def _execute_sweep(
    spec: SweepSpec,
    raw_base: dict[str, Any],
    out: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
    progress: Callable[[int, int], None] | None,
    report: Callable[[str], None] | None = None,
    finish: Callable[[Executor | None], object] | None = None,
    backend: Literal["pool", "dask"] = "pool",
    ensemble: Ensemble | None = None,
) -> Path:
    from scenarios.experiment.ensemble import recorded_ensemble, same_ensemble

    if ensemble is not None and ensemble.replications != spec.replications:
        raise ValueError(
            f"ensemble planned for {ensemble.replications} replications, the sweep has "
            f"{spec.replications}"
        )
    design = spec.design()
    names = list(spec.parameters)
    n_points, reps = len(design), spec.replications
    n_runs = n_points * reps
    seeds = replication_seeds(spec.seed, reps)
    run_cfg = raw_base.get("run", {})
    weeks = int(run_cfg.get("burn_in", 26)) + int(run_cfg.get("steps", 260))
    contrast = contrast_base(spec, raw_base)
    manifest_path = out / store.MANIFEST
    base_hash = base_digest(raw_base)
    if out.exists() and any(out.iterdir()):
        if not resume:
            raise OutputError(f"{out}: already exists; pass --resume to finish it")
        if not manifest_path.exists():
            raise OutputError(f"{out}: not a sweep directory (no {store.MANIFEST})")
        store.check_kind(out, "sweep")
        manifest = store.read_manifest(out)
        store.manifest_fields(resumable_manifest(type(spec)), manifest, out)
        if manifest.get("spec_hash") != spec.digest():
            raise OutputError(
                f"{out}: holds a different sweep (its definition changed); "
                "use a new --out or restore the original sweep file"
            )
        _check_same_model(out, manifest, base_hash)
        if not same_ensemble(recorded_ensemble(manifest), ensemble):
            recorded = recorded_ensemble(manifest)
            was = f"posterior {recorded.get('directory')}" if recorded else "no ensemble"
            now = f"posterior {ensemble.posterior.directory}" if ensemble else "no ensemble"
            raise OutputError(
                f"{out}: cannot resume: it was started over {was}, this run is over {now} "
                "(or its draws differ); use the same --ensemble, or a new --out"
            )
        chunk_size = int(manifest["chunk_size"])
        # sweeps started before the finer last round have neither key: one chunk size
        tail = {key: int(manifest.get(key, 0)) for key in ("tail_runs", "tail_size")}
    else:
        if resume and not out.exists():
            raise OutputError(f"{out}: nothing to resume (directory does not exist)")
        chunk_size = default_chunk_size(spec, weeks * spec.arms(), n_runs, workers)
        tail = default_tail(spec, chunk_size, n_runs, workers)
        manifest = {
            "kind": "sweep",
            "status": "running",
            "sweep": spec.name,
            "spec": spec.identity(),
            "spec_hash": spec.digest(),
            "base_config": raw_base,
            "base_config_hash": base_hash,
            "points": n_points,
            "replications": reps,
            "runs": n_runs,
            "chunk_size": chunk_size,
            **tail,
            "replication_seeds": seeds,
            "versions": store.package_versions(),
            "model_fingerprint": store.model_fingerprint(),
            "git_commit": store.git_commit(),
            "started": store.now(),
        }
        if ensemble is not None:
            manifest["ensemble"] = ensemble.record()
        frame = pd.DataFrame(design, columns=[f"param:{n}" for n in names])
        frame.insert(0, "point", np.arange(n_points))
        _start_sweep_directory(out, frame, manifest)
    for stray in (out / PARTS).glob(".*.tmp"):
        store.remove_file(stray, out / PARTS)  # a chunk killed while writing
    chunks = plan_chunks(n_runs, chunk_size, **tail)
    finished = done_chunks(out, chunks, report)
    todo = [k for k in range(len(chunks)) if k not in finished]
    done_runs = sum(len(chunks[k]) for k in finished)
    if progress:
        progress(done_runs, n_runs)
    if todo:
        manifest["status"] = "running"
        manifest.pop("error", None)
        store.write_json(manifest, manifest_path)
        with _workers(workers, scheduler, backend, raw_base, contrast) as (pool, n_workers, bases):
            done_runs, failures = _submit(
                pool,
                n_workers,
                bases,
                ensemble,
                todo,
                chunks,
                design,
                names,
                seeds,
                out,
                done_runs,
                n_runs,
                progress,
            )
            if not failures:
                _complete(out, chunks, manifest, report)
                if finish is not None:
                    finish(None if scheduler else pool)
                return out
        message = _failure_message(out, failures, done_runs, n_runs)
        manifest.update(status="failed", error=message, failed=store.now())
        store.write_json(manifest, manifest_path)
        raise SweepFailedError(message)
    _complete(out, chunks, manifest, report)
    if finish is not None:
        finish(None)
    return out


def resumable_manifest(kind: type[SweepSpec]) -> type[ResumableSweepManifest]:
    """The manifest model of a resumable sweep whose ``spec`` is a ``kind``.

    A sweep over given points (links' coalitions, a search's generation) records its
    points and more in ``spec``, which plain :class:`SweepSpec` refuses as unknown keys.
    """
    if kind is SweepSpec:
        return ResumableSweepManifest
    from pydantic import create_model

    return create_model(  # type: ignore[call-overload,no-any-return]
        f"Resumable{kind.__name__}Manifest", __base__=ResumableSweepManifest, spec=(kind, ...)
    )


def _complete(
    out: Path,
    chunks: list[range],
    manifest: dict[str, Any],
    report: Callable[[str], None] | None,
) -> None:
    """Check that every chunk has a valid part, then mark the sweep complete."""
    missing = len(chunks) - len(done_chunks(out, chunks, report))
    if missing:
        raise OutputError(f"{out}: {missing} chunks did not write a valid part; run --resume")
    manifest.update(status="complete", finished=store.now(), chunks=len(chunks))
    store.write_json(manifest, out / store.MANIFEST)


def _start_sweep_directory(out: Path, design: pd.DataFrame, manifest: dict[str, Any]) -> None:
    """Create a new sweep directory: parts/, the design, then the manifest.

    If any of it cannot be written (a full disk, say), what was created is removed again,
    so that the same command can simply be run again (an ``out`` left without a manifest
    could be neither resumed nor started afresh).
    """
    created = not out.exists()
    try:
        (out / PARTS).mkdir(parents=True, exist_ok=True)
        store.write_parquet(design, out / DESIGN)
        store.write_json(manifest, out / store.MANIFEST)
    except BaseException:
        with suppress(OSError):
            if created and out.is_dir() and not out.is_symlink():
                store.remove_tree(out, out.parent)
            else:
                for name in (store.MANIFEST, DESIGN):
                    store.remove_file(out / name, out)
                if (out / PARTS).is_dir():
                    store.remove_tree(out / PARTS, out)
        raise


def base_digest(raw_base: dict[str, Any]) -> str:
    """Digest of the resolved base config (:meth:`ScenarioConfig.digest`)."""
    from scenarios.config import validate

    return validate(raw_base).digest()


def _check_same_model(out: Path, manifest: dict[str, Any], base_hash: str) -> None:
    """Refuse (OutputError) to resume a sweep whose base config or model code changed.

    Otherwise parts from two models would be mixed in one sweep. A manifest written before
    ``base_config_hash`` existed is checked through the base config it recorded.
    """
    recorded = manifest.get("base_config_hash")
    if recorded is None and isinstance(manifest.get("base_config"), dict):
        try:
            recorded = base_digest(manifest["base_config"])
        except ConfigError:
            recorded = None
    changed = []
    if recorded != base_hash:
        changed.append(
            "the resolved base config changed (digest "
            f"{str(recorded)[:12]} when it started, {base_hash[:12]} now)"
        )
    fingerprint = store.model_fingerprint()
    if manifest.get("model_fingerprint") != fingerprint:
        changed.append(
            "the model code changed (fingerprint "
            f"{str(manifest.get('model_fingerprint'))[:12]} when it started, "
            f"{fingerprint[:12]} now)"
        )
    if changed:
        raise OutputError(
            f"{out}: cannot resume: {' and '.join(changed)}; resuming would mix runs of two "
            "models in one sweep. Start the sweep again with a new --out (or restore the "
            "original base config and model code)"
        )


@contextmanager
def _workers(
    workers: int,
    scheduler: str | None,
    backend: str,
    raw_base: dict[str, Any],
    contrast: dict[str, Any] | None = None,
) -> Iterator[tuple[Executor, int, tuple[Any, Any]]]:
    """(executor, number of its workers, the base and contrast configs as tasks take them).

    Dask gets the base (and a contrast sweep's contrast base) once per worker (scattered;
    chunks then pass a reference); a process pool gets a copy with each chunk (a few
    kilobytes), which its workers recognise as the base they have already validated
    (:func:`_point_configs`).
    """
    if scheduler is None and backend == "pool":
        with local_pool(workers) as pool:
            yield pool, workers, (raw_base, contrast)
        return
    with dask_client(workers, scheduler) as client:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        # Each config scattered as one object: a dict passed as such would be scattered
        # value by value under its own keys ("run", "sharing", ...), and the contrast's
        # sections would then collide with the base's (same key, first data kept).
        base = client.scatter([raw_base], broadcast=True)[0]
        arm = None if contrast is None else client.scatter([contrast], broadcast=True)[0]
        yield client.get_executor(pure=False), n_workers, (base, arm)


def _submit(
    pool: Executor,
    n_workers: int,
    bases: tuple[Any, Any],
    ensemble: Ensemble | None,
    todo: list[int],
    chunks: list[range],
    design: np.ndarray,
    names: list[str],
    seeds: list[int],
    out: Path,
    done_runs: int,
    n_runs: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, list[ChunkFailure]]:
    """Keep a bounded number of chunks in flight; count runs as parts land.

    After the first failure no more chunks are started; those in flight are waited for
    (their parts are kept). Returns the runs done and the failures.
    """
    reps = len(seeds)
    pending = iter(todo)
    submitted: dict[Future[Any], int] = {}  # future -> chunk
    failures: list[ChunkFailure] = []

    def submit(k: int) -> None:
        runs = [(j, j // reps, j % reps, seeds[j % reps]) for j in chunks[k]]
        values = design[[j // reps for j in chunks[k]]]
        future = pool.submit(
            run_chunk, bases[0], names, values, runs, str(out / PARTS), k, bases[1], ensemble
        )
        submitted[future] = k

    for k in _take(pending, 3 * n_workers):
        submit(k)
    while submitted:
        finished, _ = wait(submitted, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=submitted.__getitem__):
            chunk = submitted.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # the task never ran to the end: its worker died, say
                result = ChunkFailure(chunk=chunk, error=_error_text(exc))
            if isinstance(result, ChunkFailure):
                failures.append(result)
                continue
            done_runs += len(chunks[result])
            if progress:
                progress(done_runs, n_runs)
            if not failures:
                for nxt in _take(pending, 1):
                    submit(nxt)
    return done_runs, failures


def _failure_message(out: Path, failures: list[ChunkFailure], done_runs: int, n_runs: int) -> str:
    """One paragraph: what failed, what is kept, and what to do next."""
    first = min(failures, key=lambda f: f.chunk)
    others = f" ({len(failures) - 1} more chunks failed too)" if len(failures) > 1 else ""
    head = (
        f"sweep {out}: stopped: the run of {first.describe()} failed: {first.error}{others}. "
        f"{done_runs:,} of {n_runs:,} runs are finished and kept"
    )
    if first.deterministic:
        return (
            f"{head}; this point fails the same way on every try, so narrow the parameter "
            "ranges in the sweep file (or change its base config) and start it with a new --out"
        )
    return f"{head}; once the cause is fixed, finish the sweep with --resume --out {out}"


def _take(it: Iterator[int], n: int) -> list[int]:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


def read_results(out: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished run of a sweep, sorted by run index.

    With ``columns``, only ``run`` and those of them the parts have (the analysis reads a
    few outcomes of the two hundred columns: a fraction of the time).
    """
    parts = sorted((out / PARTS).glob("chunk-*.parquet"))
    if not parts:
        return pd.DataFrame()
    if columns is not None:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(parts[0]).names)
        columns = [c for c in dict.fromkeys(["run", *columns]) if c in present]
    frame = pd.concat([pd.read_parquet(p, columns=columns) for p in parts], ignore_index=True)
    return frame.sort_values("run", ignore_index=True)
