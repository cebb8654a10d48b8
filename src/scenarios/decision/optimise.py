"""The best sharing policies for an exposure budget: multi-objective search with NSGA-II.

An optimisation file (``configs/optimise/*.yaml``) names a scenario, the levers (config
paths with bounds: sharing policies, compartmentalisation), the objectives (outcomes to
minimise or maximise, averaged over replications) and the constraints (an outcome's mean
at most or at least a bound, e.g. the exposure of US material). pymoo's NSGA-II (seeded)
proposes candidates; each generation's candidates run as a sweep over given points
(:class:`PointsSpec`: streamed, resumable, on Dask), every candidate with the same
replication seeds, so candidates are compared on common random numbers. After each
generation the algorithm's state is saved; ``--resume`` continues from the last one.
At the end the feasible non-dominated candidates (the Pareto front) run again with fresh
seeds and more replications, to show how much of the front was fitted to the noise of
the search's replications.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarios.config import (
    ConfigError,
    ScenarioConfig,
    load_named_scenario,
    path_exists,
    read_yaml,
    validate_spec,
)
from scenarios.decision.points import PointsSpec
from scenarios.experiment.ensemble import Posterior
from scenarios.experiment.sweep import PointConfigs, SweepParameter
from scenarios.names import NAME_RULE, PlainName

Evaluate = Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]]
CHECKPOINT = "checkpoint.pkl"
EVALUATIONS = "evaluations.csv"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Lever(_Spec):
    """A policy lever: a config path the search sets within bounds."""

    bounds: tuple[float, float] = Field(description="[low, high] of the lever.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds {list(self.bounds)}: low must be below high")
        return self


class Constraint(_Spec):
    """An outcome's mean over replications must stay within a bound."""

    max: float | None = Field(None, description="Upper bound of the outcome's mean.")
    min: float | None = Field(None, description="Lower bound of the outcome's mean.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.max is None) == (self.min is None):
            raise ValueError("give exactly one of max and min")
        return self


class OptimiseSpec(_Spec):
    """A policy search (YAML, unknown keys rejected)."""

    name: PlainName = Field(description=f"Search id (output folder name): {NAME_RULE}.")
    description: str = Field("", description="What is searched for.")
    scenario: str = Field(description="Scenario config (path relative to this file).")
    levers: dict[str, Lever] = Field(description="Dotted config path -> bounds.")
    objectives: dict[PlainName, Literal["min", "max"]] = Field(
        description="summary.parquet outcome -> min or max (of its mean over replications)."
    )
    constraints: dict[PlainName, Constraint] = Field(
        default_factory=dict, description="Outcome -> bound on its mean."
    )
    replications: int = Field(10, ge=1, le=10_000, description="Replications per candidate.")
    seed: int = Field(20240322, ge=0, description="Root seed of the search and its runs.")
    steps: int | None = Field(None, ge=1, le=5200, description="Override run.steps (weeks).")
    population: int = Field(16, ge=4, le=10_000, description="Candidates per generation.")
    generations: int = Field(8, ge=1, le=1000, description="Generations of NSGA-II.")
    reevaluate: int = Field(
        50, ge=2, le=100_000, description="Fresh replications per candidate of the final front."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.levers:
            raise ValueError("levers: name at least one lever")
        if not 1 <= len(self.objectives) <= 3:
            raise ValueError("objectives: name one to three")
        return self


def load_optimise(path: Path) -> tuple[OptimiseSpec, dict[str, Any], ScenarioConfig]:
    """Read and check a policy search; ConfigError (exit 2) before anything runs."""
    from scenarios.config import apply_overrides
    from scenarios.experiment.experiment import check_outcomes, outcome_columns

    raw = read_yaml(path, "optimisation")
    spec = validate_spec(OptimiseSpec, raw, str(path))
    source = str(path)
    raw_base = load_named_scenario(path, spec.scenario)
    overrides: list[tuple[str, Any]] = [("run.seed", spec.seed)]
    if spec.steps is not None:
        overrides.append(("run.steps", spec.steps))
    raw_base = apply_overrides(raw_base, overrides)
    for name in spec.levers:
        if not path_exists(ScenarioConfig, name.split(".")):
            raise ConfigError(f"levers.{name}: not a config path", source=source)
    points = PointConfigs(raw_base, list(spec.levers))
    config = None
    for end in (0, 1):
        values = np.array([lever.bounds[end] for lever in spec.levers.values()])
        try:
            config = points.config(values)
        except ConfigError as exc:
            raise ConfigError(
                f"levers: the {'low' if end == 0 else 'high'} bounds are not a valid config "
                f"({exc})",
                source=source,
            ) from None
    assert config is not None
    columns = outcome_columns(config)
    check_outcomes([*spec.objectives, *spec.constraints], columns, source)
    return spec, raw_base, config


def generation_spec(
    spec: OptimiseSpec, base: str, x: np.ndarray, seed: int, reps: int
) -> PointsSpec:
    """The sweep of one generation's candidates ``x`` (rows), ``reps`` replications each."""
    return PointsSpec(
        name=spec.name,
        description=spec.description,
        base=base,
        method="grid",
        samples=2,
        replications=reps,
        seed=seed,
        parameters={
            path: SweepParameter(bounds=lever.bounds) for path, lever in spec.levers.items()
        },
        outcomes=[*spec.objectives, *spec.constraints],
        points=np.asarray(x, dtype=float).tolist(),
    )


def objectives_and_constraints(
    spec: OptimiseSpec, means: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """F (minimised) and G (<= 0 feasible) for pymoo, from each candidate's outcome means."""
    f = np.column_stack(
        [
            (1 if sense == "min" else -1) * means[o].to_numpy()
            for o, sense in spec.objectives.items()
        ]
    )
    g = [
        means[o].to_numpy() - c.max if c.max is not None else c.min - means[o].to_numpy()  # type: ignore[operator]
        for o, c in spec.constraints.items()
    ]
    return f, (np.column_stack(g) if g else np.zeros((len(means), 0)))


def nsga2(
    n_var: int,
    bounds: tuple[np.ndarray, np.ndarray],
    n_obj: int,
    n_constr: int,
    evaluate: Evaluate,
    *,
    population: int,
    generations: int,
    seed: int,
    checkpoint: Path | None = None,
    report: Callable[[str], None] | None = None,
) -> Any:
    """Run NSGA-II (pymoo, ask and tell) and return pymoo's final algorithm object.

    ``evaluate(generation, X)`` returns (F, G) for the rows of X: F minimised, G <= 0
    feasible. With ``checkpoint`` the algorithm is saved after each generation and a
    saved one is continued: the result equals that of an uninterrupted search.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.core.termination import NoTermination
    from pymoo.problems.static import StaticProblem

    problem = Problem(n_var=n_var, n_obj=n_obj, n_ieq_constr=n_constr, xl=bounds[0], xu=bounds[1])
    if checkpoint is not None and checkpoint.exists():
        with checkpoint.open("rb") as f:
            algorithm, done = pickle.load(f)
    else:
        algorithm, done = NSGA2(pop_size=population), 0
        algorithm.setup(problem, termination=NoTermination(), seed=seed, verbose=False)
    for generation in range(done, generations):
        pop = algorithm.ask()
        f, g = evaluate(generation, pop.get("X"))
        Evaluator().eval(StaticProblem(problem, F=f, G=g), pop)
        algorithm.tell(infills=pop)
        if checkpoint is not None:
            tmp = checkpoint.with_name(checkpoint.name + ".tmp")
            with tmp.open("wb") as out:
                pickle.dump((algorithm, generation + 1), out)
            tmp.replace(checkpoint)
        if report:
            feasible = int((g <= 0).all(axis=1).sum()) if g.size else len(f)
            report(
                f"generation {generation + 1}/{generations}: {len(f)} candidates, "
                f"{feasible} feasible"
            )
    return algorithm


def pareto_front(f: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Indices of the feasible rows of F (minimised) that no other feasible row dominates."""
    idx = np.flatnonzero(feasible)
    keep = []
    for i in idx:
        dominated = np.any(np.all(f[idx] <= f[i], axis=1) & np.any(f[idx] < f[i], axis=1))
        if not dominated:
            keep.append(i)
    return np.array(keep, dtype=int)


# --------------------------------------------------------------------------------------
# The search on the model: each generation a sweep over its candidates
# --------------------------------------------------------------------------------------


def _means(directory: Path, outcomes: list[str], n: int) -> pd.DataFrame:
    """Each candidate's (point's) outcome means over its replications."""
    from scenarios.experiment.executor import read_results

    results = read_results(directory)
    return results.groupby("point")[outcomes].mean().reindex(range(n))


def _prepare(
    out: Path, spec: OptimiseSpec, resume: bool, ensemble: dict[str, Any] | None = None
) -> dict[str, Any]:
    from scenarios.experiment import store

    identity = spec.model_dump(mode="json")

    def mismatch(manifest: dict[str, Any]) -> str | None:
        if manifest.get("spec") != identity:
            return "holds a search from another optimisation file; use another --out"
        if manifest.get("ensemble") != ensemble:
            was = (manifest.get("ensemble") or {}).get("directory", "no ensemble")
            now = (ensemble or {}).get("directory", "no ensemble")
            return (
                f"holds a search over {was}, this one is over {now} (or with other draws "
                "per replication); use the same --ensemble and --per-draw, or another --out"
            )
        return None

    resumed = store.open_resumable(out, "optimisation", "a policy search", resume, mismatch)
    if resumed is not None:
        return resumed
    manifest = {"kind": "optimisation", "name": spec.name, "spec": identity, "status": "running"}
    if ensemble is not None:
        manifest["ensemble"] = ensemble
    store.write_json(manifest, out / store.MANIFEST)
    return manifest


def run_optimisation(
    spec: OptimiseSpec,
    raw_base: dict[str, Any],
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    report: Callable[[str], None] | None = None,
    posterior: Posterior | None = None,
    per_draw: int = 1,
) -> pd.DataFrame:
    """Search, re-evaluate the front on fresh seeds, write ``out``; return pareto.csv's frame.

    With ``posterior`` every candidate runs over its draws (``per_draw`` replications
    each), planned from the seed and replications of the sweep it runs in: replication r
    has the same draw in every candidate of the search, and fresh draws (with the fresh
    seeds) in the re-evaluation.
    """
    from scenarios.experiment import store
    from scenarios.experiment.ensemble import plan_ensemble
    from scenarios.experiment.executor import execute_sweep

    identity = (
        None
        if posterior is None
        else {
            "directory": str(posterior.directory),
            "posterior_sha256": posterior.digest,
            "replications_per_draw": per_draw,
        }
    )
    manifest = _prepare(out, spec, resume, identity)
    names = list(spec.levers)
    outcomes = [*spec.objectives, *spec.constraints]
    evaluations: list[pd.DataFrame] = []

    def run_points(directory: Path, x: np.ndarray, seed: int, reps: int) -> pd.DataFrame:
        gspec = generation_spec(spec, spec.scenario, x, seed, reps)
        directory.parent.mkdir(parents=True, exist_ok=True)
        resume_here = directory.exists() and any(directory.iterdir())
        ensemble = None if posterior is None else plan_ensemble(posterior, seed, reps, per_draw)
        execute_sweep(
            gspec,
            raw_base,
            directory,
            workers=workers,
            scheduler=scheduler,
            resume=resume_here,
            ensemble=ensemble,
        )
        return _means(directory, outcomes, len(x))

    def record(
        generation: int, x: np.ndarray, means: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep a generation's candidates and their means; return its F and G."""
        f, g = objectives_and_constraints(spec, means)
        frame = pd.DataFrame(x, columns=names)
        frame.insert(0, "candidate", [f"g{generation}c{i}" for i in range(len(x))])
        frame.insert(0, "generation", generation)
        for o in outcomes:
            frame[o] = means[o].to_numpy()
        frame["feasible"] = (g <= 0).all(axis=1) if g.size else True
        evaluations.append(frame)
        return f, g

    def evaluate(generation: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        directory = out / "generations" / f"gen-{generation:03d}"
        return record(generation, x, run_points(directory, x, spec.seed, spec.replications))

    checkpoint = out / CHECKPOINT
    if checkpoint.exists():  # generations done before: their evaluations, from their sweeps
        with checkpoint.open("rb") as fh:
            _, done = pickle.load(fh)
        for generation in range(done):
            directory = out / "generations" / f"gen-{generation:03d}"
            design = pd.read_parquet(directory / "design.parquet")
            x = design[[f"param:{n}" for n in names]].to_numpy()
            record(generation, x, _means(directory, outcomes, len(x)))
    lows = np.array([lever.bounds[0] for lever in spec.levers.values()])
    highs = np.array([lever.bounds[1] for lever in spec.levers.values()])
    nsga2(
        len(names),
        (lows, highs),
        len(spec.objectives),
        len(spec.constraints),
        evaluate,
        population=spec.population,
        generations=spec.generations,
        seed=spec.seed,
        checkpoint=checkpoint,
        report=report,
    )
    table = pd.concat(evaluations, ignore_index=True)
    store.write_atomic(out / EVALUATIONS, table.to_csv(index=False).encode())
    f, _ = objectives_and_constraints(spec, table)
    front = table.iloc[pareto_front(f, table["feasible"].to_numpy(bool))].copy()
    front = front.sort_values(next(iter(spec.objectives))).reset_index(drop=True)
    front.insert(0, "policy", [f"P{i + 1}" for i in range(len(front))])
    if len(front):
        if report:
            report(
                f"re-evaluating the {len(front)} policies of the front on {spec.reevaluate} "
                "fresh replications"
            )
        fresh = run_points(
            out / "reevaluation", front[names].to_numpy(), spec.seed + 1, spec.reevaluate
        )
        for o in outcomes:
            front[f"{o}__fresh"] = fresh[o].to_numpy()
        _, g_fresh = objectives_and_constraints(spec, fresh)
        front["feasible__fresh"] = (g_fresh <= 0).all(axis=1) if g_fresh.size else True
    store.write_atomic(out / "pareto.csv", front.to_csv(index=False).encode())
    manifest["status"] = "complete"
    store.write_json(manifest, out / store.MANIFEST)
    return front
