"""ABC-SMC calibration with pyABC: seeded, resumable, on the sweeps' executors.

The sequential Monte Carlo is pyABC's (``ABCSMC``: proposals from a multivariate normal
kernel fitted to the last population and widened by ``budget.kernel_scaling``, epsilon
from a weighted quantile of its distances). What we add:

- **Keyed random numbers.** pyABC's samplers draw fresh entropy in every task; ours
  (:class:`KeyedMappingSampler`) seeds task ``i`` of generation ``t`` from
  ``(seed, t, i)``. Each task samples until it accepts one particle, so the population
  is the same whatever the number of workers, or the order in which tasks finish.
- **One generation per call.** Every generation starts from the database alone (pyABC's
  ``load``): an uninterrupted calibration and one resumed after a kill go through the
  same code from the same stored population, so they give the same posterior.
  pyABC writes a generation to its SQLite database in one transaction when it is
  complete: a kill loses at most the generation in progress.
- **Executors.** One worker runs in this process; more run on the same embedded Dask
  cluster as sweeps, or on ``--scheduler``.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.calibrate.spec import CalibrationSpec
from scenarios.calibrate.targets import BandDistance, Statistics
from scenarios.config import ConfigError
from scenarios.experiment import store


class CalibrationError(ConfigError):
    """A calibration that cannot give a posterior with its settings (exit code 2)."""


Mapper = Callable[[Callable[[Any], Any], list[Any]], list[Any]]
Report = Callable[[str], None]
Progress = Callable[[int, int], None]  # (items done, items) of the current batch

# Streams of keyed seeds: (root seed, stream, generation or draw, index).
ABC_TASKS, MAIN, POSTERIOR_PREDICTIVE, PRIOR_PREDICTIVE = 0, 1, 2, 3
DATABASE = "abc.db"
MANIFEST = "manifest.json"


def keyed_seed(*key: int) -> int:
    """A 32-bit seed from integers (numpy's global generator takes no more)."""
    return int(np.random.SeedSequence([k + 1 for k in key]).generate_state(1)[0])


def model_seed() -> int:
    """A replication seed drawn from numpy's global generator (seeded per task)."""
    return int(np.random.randint(0, 2**62, dtype=np.int64))


# --------------------------------------------------------------------------------------
# The simulation of one particle (runs on workers)
# --------------------------------------------------------------------------------------

_POINTS: dict[str, Any] = {}  # per process: PointConfigs and geometry by base digest


@dataclass
class Simulator:
    """One replication of the scenario at a parameter point -> the targets' statistics.

    Picklable (sent to workers); the validated base and the region geometry are built
    once per process and base.
    """

    raw_base: dict[str, Any]
    names: list[str]
    spec: CalibrationSpec
    digest: str

    def _prepared(self) -> tuple[Any, Any, Statistics]:
        cached = _POINTS.get(self.digest)
        if cached is None:
            from scenarios.experiment.sweep import PointConfigs
            from scenarios.model.regions import build_geometry

            points = PointConfigs(self.raw_base, self.names)
            base = points.config(np.array([p.quantile(0.5) for p in self.spec.parameters.values()]))
            cached = (points, build_geometry(base), Statistics(self.spec.targets, base))
            _POINTS.clear()
            _POINTS[self.digest] = cached
        return cached

    def __call__(self, values: np.ndarray, seed: int) -> dict[str, float]:
        """The statistics of one replication with seed ``seed`` at parameter ``values``."""
        from scenarios.experiment.seeds import replication_sequence
        from scenarios.model.params import compile_parameters
        from scenarios.model.simulation import run_replication

        points, geometry, statistics = self._prepared()
        config = points.config(values)
        parameters = compile_parameters(config, geometry)
        weekly, summary = run_replication(config, replication_sequence(seed), geometry, parameters)
        return statistics.of(weekly, summary)


@dataclass
class AbcModel:
    """pyABC's model: a parameter dict -> statistics, with a seed from the task's stream."""

    simulator: Simulator

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        """The statistics of one replication at ``parameters`` (dotted path -> value)."""
        values = np.array([parameters[n] for n in self.simulator.names], dtype=float)
        return self.simulator(values, model_seed())


def simulate_many(
    simulator: Simulator, batch: list[tuple[np.ndarray, int]]
) -> list[dict[str, float]]:
    """Statistics of a batch of (values, seed) (a predictive chunk on a worker)."""
    return [simulator(values, seed) for values, seed in batch]


# --------------------------------------------------------------------------------------
# pyABC wiring
# --------------------------------------------------------------------------------------


def keyed_sampler(map_: Mapper, seed: int) -> Any:
    """A pyABC MappingSampler whose tasks are seeded by (seed, generation, task)."""
    from pyabc.sampler import MappingSampler

    class KeyedMappingSampler(MappingSampler):  # type: ignore[misc]
        """Task i of generation t samples until it accepts one particle, seeded (seed, t, i).

        A task gives up after ``max_tries`` simulations, ten times its share of pyABC's
        evaluation budget of the generation (``population / min_acceptance_rate``): at
        an acceptance rate of ``min_acceptance_rate`` a task exceeds it with probability
        about e^-10. A generation short of particles is not ok, and the calibration
        stops there; one that completes below the rate stops it after (``stop_reason``).
        The limit travels with each task (a worker's copy of the sampler keeps only what
        pyABC pickles).
        """

        def map_function(self, simulate_one: Any, max_tries: float, key: int) -> Any:
            simulate_one = self.unpickle(simulate_one)
            np.random.seed(key)
            random.seed(key)
            sample = self._create_empty_sample()
            tries = 0
            while tries < max_tries:
                new = simulate_one()
                tries += 1
                sample.append(new)
                if new.accepted:
                    break
            return sample, tries

        def sample_until_n_accepted(
            self, n: int, simulate_one: Any, t: int, *, max_eval: float = math.inf, **_: Any
        ) -> Any:
            max_tries = math.ceil(10 * max_eval / n) if math.isfinite(max_eval) else math.inf
            task = functools.partial(self.map_function, self.pickle(simulate_one), max_tries)
            keys = [keyed_seed(seed, ABC_TASKS, t + 1, i) for i in range(n)]
            results = list(self.map_(task, keys))
            sample = self._create_empty_sample()
            for part, _tries in results:
                sample += part
            self.nr_evaluations_ = sum(tries for _part, tries in results)
            sample.ok = sample.n_accepted >= n
            return sample

    return KeyedMappingSampler(map_=map_)


def _priors(spec: CalibrationSpec) -> Any:
    import pyabc

    return pyabc.Distribution(
        **{name: pyabc.RV("uniform", p.low, p.high - p.low) for name, p in spec.parameters.items()}
    )


def _abcsmc(spec: CalibrationSpec, simulator: Simulator, map_: Mapper) -> Any:
    import pyabc

    return pyabc.ABCSMC(
        models=AbcModel(simulator),
        parameter_priors=_priors(spec),
        distance_function=BandDistance(spec.targets),
        population_size=spec.budget.population,
        sampler=keyed_sampler(map_, spec.seed),
        eps=pyabc.QuantileEpsilon(alpha=spec.budget.quantile, weighted=True),
        transitions=pyabc.MultivariateNormalTransition(scaling=spec.budget.kernel_scaling),
    )


def _db_url(out: Path) -> str:
    return f"sqlite:///{(out / DATABASE).resolve()}"


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------


@contextmanager
def mapper(workers: int, scheduler: str | None, progress: Progress | None) -> Iterator[Mapper]:
    """``map_(f, items)`` in item order: in this process, or on a Dask cluster.

    ``progress(done, total)`` hears of every item finished (in any order).
    """
    tell = progress or (lambda _done, _total: None)
    if workers <= 1 and not scheduler:

        def map_here(f: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            out = []
            for item in items:
                out.append(f(item))
                tell(len(out), len(items))
            return out

        yield map_here
        return
    from dask.distributed import as_completed

    from scenarios.experiment.executor import dask_client

    with dask_client(workers, scheduler) as client:

        def map_(f: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            futures = client.map(f, items, pure=False)
            for done, _ in enumerate(as_completed(futures), start=1):
                tell(done, len(items))
            return client.gather(futures)

        yield map_


# --------------------------------------------------------------------------------------
# The calibration
# --------------------------------------------------------------------------------------


@dataclass
class Generation:
    """One row of history.csv."""

    generation: int
    epsilon: float
    acceptance_rate: float
    ess: float
    particles: int
    simulations: int
    total_simulations: int
    seconds: float


def read_history(out: Path, manifest: dict[str, Any]) -> tuple[list[Generation], Any]:
    """The generations stored in ``out/abc.db`` (empty if none) and pyABC's History.

    A generation's seconds are those measured while it ran (the manifest's
    ``generation_seconds``), else the time since the previous one ended.
    """
    import pyabc

    if not (out / DATABASE).exists():
        return [], None
    history = pyabc.History(_db_url(out), _id=1, create=False)
    rows = []
    populations = history.get_all_populations()
    populations = populations[populations.t >= 0].sort_values("t")
    start = pd.Timestamp(history.get_abc().start_time)
    total = 0
    for row in populations.itertuples():
        _, w = history.get_distribution(m=0, t=int(row.t))
        total += int(row.samples)
        end = pd.Timestamp(row.population_end_time)
        rows.append(
            Generation(
                generation=int(row.t),
                epsilon=float(row.epsilon),
                acceptance_rate=int(row.particles) / max(1, int(row.samples)),
                ess=float(1.0 / np.sum(np.square(w))),
                particles=int(row.particles),
                simulations=int(row.samples),
                total_simulations=total,
                seconds=float(
                    manifest.get("generation_seconds", {}).get(
                        str(int(row.t)), max(0.0, (end - start).total_seconds())
                    )
                ),
            )
        )
        start = end
    return rows, history


def stop_reason(spec: CalibrationSpec, generations: list[Generation]) -> str | None:
    """Why no further generation should run, or None."""
    if not generations:
        return None
    b, last = spec.budget, generations[-1]
    if len(generations) >= b.max_generations:
        return f"reached max_generations ({b.max_generations})"
    if last.epsilon <= b.minimum_epsilon:
        return f"epsilon {last.epsilon:.3g} reached minimum_epsilon ({b.minimum_epsilon:g})"
    if last.acceptance_rate < b.min_acceptance_rate:
        return (
            f"acceptance rate {last.acceptance_rate:.2%} fell below min_acceptance_rate "
            f"({b.min_acceptance_rate:.2%})"
        )
    if last.total_simulations >= b.max_simulations:
        return f"spent max_simulations ({last.total_simulations:,} >= {b.max_simulations:,})"
    return None


def posterior_frame(spec: CalibrationSpec, history: Any) -> pd.DataFrame:
    """The last generation: ``particle, weight`` and a column per parameter (dotted path)."""
    params, w = history.get_distribution(m=0, t=history.max_t)
    frame = pd.DataFrame({"particle": np.arange(len(w), dtype=np.int64), "weight": w / w.sum()})
    for name in spec.parameters:
        frame[name] = params[name].to_numpy(dtype=float)
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    store.write_atomic(path, frame.to_csv(index=False).encode())


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    store.write_json(manifest, out / MANIFEST)


def targets_frame(spec: CalibrationSpec) -> pd.DataFrame:
    """targets.csv: one row per target with the record's band and the distance scale."""
    return pd.DataFrame(
        [
            {
                "name": name,
                "label": t.label,
                "unit": t.unit,
                "observed": t.value,
                "low": t.limits[0],
                "high": t.limits[1],
                "scale": t.scale,
                "weight": t.weight,
                "fact": t.fact,
                "source": t.source,
                "note": t.note,
            }
            for name, t in spec.targets.items()
        ]
    )


def manifest_of(spec: CalibrationSpec, command: str) -> dict[str, Any]:
    """The manifest of a new calibration (status ``running`` until it completes)."""
    return {
        "kind": "calibration",
        "name": spec.name,
        "scenario": spec.scenario,
        "seed": spec.seed,
        "spec_hash": spec.digest(),
        "status": "running",
        "command": command,
        "seconds": 0.0,
        "stopped_because": "",
        "parameters": {
            name: {
                "distribution": p.distribution,
                "low": p.low,
                "high": p.high,
                "label": p.label,
            }
            for name, p in spec.parameters.items()
        },
        "targets": list(spec.targets),
        "budget": spec.budget.model_dump(),
    }


def prepare_directory(
    out: Path, spec: CalibrationSpec, resume: bool, command: str
) -> dict[str, Any]:
    """Create ``out`` (or check it for --resume) and return its manifest."""

    def mismatch(manifest: dict[str, Any]) -> str | None:
        if manifest.get("spec_hash") != spec.digest():
            return (
                "was calibrated from a different calibration file (its scenario, parameters, "
                "targets, seed, population, quantile or kernel differ; only the stopping "
                "rules may change); use another --out"
            )
        return None

    manifest = store.open_resumable(out, "calibration", "a calibration", resume, mismatch)
    if manifest is not None:
        manifest["status"] = "running"
        manifest["budget"] = spec.budget.model_dump()
        return manifest
    manifest = manifest_of(spec, command)
    _write_manifest(out, manifest)
    return manifest


def run_calibration(
    spec: CalibrationSpec,
    raw_base: dict[str, Any],
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    command: str = "",
    report: Report | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Calibrate; write ``out`` (see the module and ``docs/ODD.md``); return the manifest.

    ``report`` hears one line per stage and generation; ``progress(done, total)`` of each
    particle accepted (or predictive chunk run) within a stage.
    """
    say = report or (lambda _text: None)
    import pyabc  # noqa: F401  (its import sets its logger to INFO: quieten it after)

    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyABC's per-generation lines: ours
    manifest = prepare_directory(out, spec, resume, command)
    started = time.perf_counter() - float(manifest.get("seconds", 0.0))
    simulator = Simulator(raw_base, list(spec.parameters), spec, spec.digest())
    _write_csv(targets_frame(spec), out / "targets.csv")
    with mapper(workers, scheduler, progress) as map_:
        generations, history = read_history(out, manifest)
        if history is None:
            abc = _abcsmc(spec, simulator, map_)
            observed = {name: t.value for name, t in spec.targets.items()}
            abc.new(_db_url(out), observed)
        if generations:
            say(f"resuming after generation {generations[-1].generation}")
        while (reason := stop_reason(spec, generations)) is None:
            t = len(generations)
            say(f"generation {t}: sampling {spec.budget.population} particles ...")
            abc = _abcsmc(spec, simulator, map_)
            abc.load(_db_url(out), 1)
            np.random.seed(keyed_seed(spec.seed, MAIN, t))
            began = time.perf_counter()
            abc.run(max_nr_populations=1, min_acceptance_rate=spec.budget.min_acceptance_rate)
            seconds = manifest.setdefault("generation_seconds", {})
            seconds[str(t)] = round(time.perf_counter() - began, 2)
            _write_manifest(out, manifest)
            generations, history = read_history(out, manifest)
            if len(generations) <= t:
                reason = (
                    f"generation {t} could not accept {spec.budget.population} particles within "
                    f"10/{spec.budget.min_acceptance_rate:g} tries each (min_acceptance_rate)"
                )
                break
            g = generations[-1]
            say(
                f"generation {g.generation}: epsilon {g.epsilon:.3g}, acceptance "
                f"{g.acceptance_rate:.1%}, ESS {g.ess:.0f}, {g.simulations:,} runs "
                f"({g.total_simulations:,} in all), {g.seconds:.1f} s"
            )
            _write_csv(pd.DataFrame([g.__dict__ for g in generations]), out / "history.csv")
            store.write_parquet(posterior_frame(spec, history), out / "posterior.parquet")
        manifest["stopped_because"] = reason
        say(f"stopped: {reason}")
        if not generations:
            manifest["status"] = "failed"
            _write_manifest(out, manifest)
            raise CalibrationError(
                f"no generation completed: {reason}. Lower budget.min_acceptance_rate, or "
                "widen the targets' bands or scales; then start again with a new --out"
            )
        _write_csv(pd.DataFrame([g.__dict__ for g in generations]), out / "history.csv")
        posterior = posterior_frame(spec, history)
        store.write_parquet(posterior, out / "posterior.parquet")
        say(f"posterior predictive: {spec.budget.predictive_draws} runs ...")
        for path, frame in predictive_frames(spec, simulator, posterior, map_):
            store.write_parquet(frame, path(out))
    manifest["status"] = "complete"
    manifest["seconds"] = round(time.perf_counter() - started, 1)
    manifest["generations"] = len(generations)
    manifest["simulations"] = generations[-1].total_simulations if generations else 0
    _write_manifest(out, manifest)
    return manifest


def _chunked(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def predictive_frames(
    spec: CalibrationSpec, simulator: Simulator, posterior: pd.DataFrame, map_: Mapper
) -> Iterable[tuple[Callable[[Path], Path], pd.DataFrame]]:
    """Posterior predictive (particles resampled by weight) and prior predictive runs.

    Draw i of each uses the seed keyed by (seed, stream, i): the same draws whatever the
    workers.
    """
    n = spec.budget.predictive_draws
    names = list(spec.parameters)
    rng = np.random.default_rng(keyed_seed(spec.seed, POSTERIOR_PREDICTIVE, 0))
    weights = posterior["weight"].to_numpy(float)
    particles = rng.choice(len(posterior), size=n, p=weights / weights.sum())
    values = posterior[names].to_numpy(float)[particles]
    prior_rng = np.random.default_rng(keyed_seed(spec.seed, PRIOR_PREDICTIVE, 0))
    u = prior_rng.random((n, len(names)))
    prior_values = np.column_stack(
        [p.quantile(u[:, j]) for j, p in enumerate(spec.parameters.values())]
    )
    for stream, draws, file, extra in (
        (POSTERIOR_PREDICTIVE, values, "predictive.parquet", {"particle": particles}),
        (PRIOR_PREDICTIVE, prior_values, "prior_predictive.parquet", {}),
    ):
        batch = [(draws[i], keyed_seed(spec.seed, stream, 1, i)) for i in range(n)]
        chunks = _chunked(batch, 25)
        stats = [
            s for part in map_(functools.partial(simulate_many, simulator), chunks) for s in part
        ]
        frame = pd.DataFrame({"draw": np.arange(n, dtype=np.int64), **extra})
        for target in spec.targets:
            frame[target] = [s[target] for s in stats]
        yield (lambda out, file=file: out / file), frame
