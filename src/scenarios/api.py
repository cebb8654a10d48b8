"""The Python API: load a scenario, run it, save it, compare runs (scripts and notebooks).

It does what ``scenarios validate``, ``run`` and ``compare`` do, with data frames instead
of files: :func:`run` writes nothing, :meth:`RunResult.save` writes exactly the run
directory of ``scenarios run --out DIR``. Results are identical to the CLI's for the same
config, seed and replications, whatever the number of workers, and ``workers > 1`` works
from a plain script without an ``if __name__ == "__main__":`` guard and from Jupyter
(see :mod:`scenarios.experiment.pool`).

Units: one step is one week; ``steps`` is the horizon in weeks; outcome columns are as in
``summary.parquet`` (counts per replication over the horizon, probabilities in [0, 1]).
The model and its compiled code are imported on the first :func:`run`, not before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.config import ConfigError, ScenarioConfig, apply_overrides, parse_override, validate
from scenarios.config import load_config as _load_config

if TYPE_CHECKING:
    import pandas as pd

    from scenarios.experiment.compare import StoredRun
    from scenarios.experiment.ensemble import Ensemble

__all__ = ["ConfigError", "Overrides", "RunResult", "compare", "load_config", "run"]

# Dotted config overrides, as ``scenarios run --set``: a mapping {"run.steps": 52}, or a
# list of "key=value" strings (the value read as YAML, as on the command line) and/or
# (key, value) pairs.
Overrides = Mapping[str, Any] | Sequence[str | tuple[str, Any]]
PathLike = str | os.PathLike[str]


def _pairs(overrides: Overrides | None) -> list[tuple[str, Any]]:
    """Overrides as (dotted key, value) pairs; ConfigError for a malformed one."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [(str(k), v) for k, v in overrides.items()]
    if isinstance(overrides, str):
        raise ConfigError(f"overrides: expected a list of KEY=VALUE, got the string {overrides!r}")
    pairs = []
    for item in overrides:
        if isinstance(item, str):
            pairs.append(parse_override(item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            pairs.append(item)
        else:
            raise ConfigError(f"overrides: {item!r} is neither KEY=VALUE nor a (key, value) pair")
    return pairs


def load_config(path: PathLike, overrides: Overrides | None = None) -> ScenarioConfig:
    """Read, inherit (``extends:``), override and validate a scenario YAML file.

    ``overrides`` are applied like ``scenarios run --set KEY=VALUE`` (see
    :data:`Overrides`). Raises :class:`ConfigError` with the message the CLI prints.
    """
    return _load_config(Path(path), _pairs(overrides))


def _resolve(
    config_or_path: ScenarioConfig | PathLike,
    overrides: Overrides | None,
    replications: int | None,
    seed: int | None,
    steps: int | None,
) -> tuple[ScenarioConfig, str | None]:
    """The validated config of a run (as ``scenarios run`` builds it) and its source path."""
    pairs = _pairs(overrides)
    for key, value in (
        ("run.replications", replications),
        ("run.seed", seed),
        ("run.steps", steps),
    ):
        if value is not None:  # as the CLI's --replications, --seed, --steps
            pairs.append(parse_override(f"{key}={value}"))
    if isinstance(config_or_path, ScenarioConfig):
        if not pairs:
            return config_or_path, None
        raw = apply_overrides(config_or_path.model_dump(mode="json"), pairs)
        return validate(raw, source=config_or_path.name), None
    return _load_config(Path(config_or_path), pairs), str(config_or_path)


@dataclass
class RunResult:
    """One scenario's replications, in memory.

    ``summary``: one row per replication (``replication``, ``seed``, then one column per
    outcome), equal to the CLI's ``summary.parquet`` read with ``pd.read_parquet``.
    ``timeseries``: one row per replication per week (``replication``, ``step``, ``date``,
    weekly outcomes), equal to ``timeseries.parquet`` read back; None when
    ``run.timeseries`` is false.
    """

    config: ScenarioConfig
    summary: pd.DataFrame
    timeseries: pd.DataFrame | None
    seeds: list[int]  # per-replication seeds (spawned from config.run.seed)
    started: str  # UTC, ISO 8601
    finished: str
    source: str | None = None  # the YAML file it was loaded from, if any
    path: Path | None = field(default=None)  # the run directory, once saved
    ensemble: Ensemble | None = None  # the posterior draws it ran over, if any

    @property
    def label(self) -> str:
        """The scenario's name (its column in comparisons)."""
        return self.config.name

    def save(self, directory: PathLike) -> Path:
        """Write the run directory ``scenarios run --out DIRECTORY`` writes; return its path.

        manifest.json, summary.parquet, timeseries.parquet (unless ``run.timeseries`` is
        false), report.md and plots/: readable by ``scenarios compare`` and experiments.
        ``directory`` must not exist (OutputError); it appears only once complete.
        """
        from scenarios.experiment import store
        from scenarios.experiment.errors import OutputError
        from scenarios.experiment.run import write_run

        target = Path(directory)
        if target.exists():
            raise OutputError(f"{target}: already exists; choose a new directory")
        store.check_writable(target.parent)
        write_run(
            target,
            self.config,
            self.summary,
            self.seeds,
            self.timeseries,
            started=self.started,
            finished=self.finished,
            source=self.source,
            ensemble=self.ensemble,
        )
        self.path = target
        return target


def run(
    config_or_path: ScenarioConfig | PathLike,
    *,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Overrides | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    ensemble: PathLike | None = None,
    per_draw: int | None = None,
) -> RunResult:
    """Run a scenario's replications in memory; write no files.

    Args:
        config_or_path: a scenario YAML path or a config from :func:`load_config`.
        replications: number of replications (overrides ``run.replications``).
        seed: root seed, >= 0 (overrides ``run.seed``).
        steps: horizon in weeks (overrides ``run.steps``).
        overrides: further dotted overrides, as ``--set`` (applied before the three above).
        workers: processes; results do not depend on it.
        progress: called with the number of replications just finished.
        ensemble: a posterior directory of ``scenarios calibrate``: replication i runs
            with the parameters of draw ``i // per_draw`` (``scenarios run --ensemble``);
            the summary gains ``draw`` and ``particle`` columns.
        per_draw: replications per parameter draw, >= 1 (default 2; needs ``ensemble``).

    The result equals ``scenarios run`` with the same config, seed, replications (and
    ensemble). Raises ConfigError for a bad config, override or posterior.
    """
    from scenarios.experiment import store
    from scenarios.experiment.runner import (
        SummaryRows,
        iter_replications,
        step_dates,
        timeseries_block,
    )
    from scenarios.experiment.seeds import replication_seeds

    config, source = _resolve(config_or_path, overrides, replications, seed, steps)
    if workers < 1:
        raise ValueError(f"workers = {workers}: must be at least 1")
    planned = _ensemble(config, source, ensemble, per_draw)
    import pandas as pd

    started = store.now()
    seeds = replication_seeds(config.run.seed, config.run.replications)
    rows = SummaryRows()  # as stream_scenario keeps them: summary.parquet's frame
    blocks: list[pd.DataFrame] = []
    steps_, dates = config.run.steps, step_dates(config)
    varying = planned.parameters() if planned is not None else None
    with closing(iter_replications(config, workers, progress, varying)) as replications_:
        for i, columns, summary in replications_:
            rows.add(i, seeds[i], summary)
            if config.run.timeseries:
                blocks.append(timeseries_block(i, columns, steps_, dates))
    timeseries = None
    if config.run.timeseries:
        timeseries = pd.concat(blocks, ignore_index=True)
        timeseries["date"] = timeseries["date"].astype(_stored_dtype(dates))
    summary = rows.frame() if planned is None else planned.annotate(rows.frame())
    return RunResult(
        config, summary, timeseries, seeds, started, store.now(), source, ensemble=planned
    )


def _ensemble(
    config: ScenarioConfig, source: str | None, directory: PathLike | None, per_draw: int | None
) -> Ensemble | None:
    """The posterior draws a run uses (as ``scenarios run --ensemble``), checked; or None."""
    if directory is None:
        if per_draw is not None:
            raise ConfigError("per_draw needs ensemble (a posterior directory)")
        return None
    from scenarios.experiment.ensemble import (
        DEFAULT_PER_DRAW,
        check_ensemble,
        load_posterior,
        plan_ensemble,
    )

    posterior = load_posterior(Path(directory))
    k = DEFAULT_PER_DRAW if per_draw is None else per_draw
    planned = plan_ensemble(posterior, config.run.seed, config.run.replications, k)
    check_ensemble(planned, config, source)
    return planned


def _stored_dtype(dates: pd.DatetimeIndex) -> Any:
    """The dtype ``pd.read_parquet`` gives these dates (Parquet has no second unit)."""
    import io

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"date": dates[:1]}).to_parquet(buffer, engine="pyarrow")
    return pd.read_parquet(io.BytesIO(buffer.getvalue()), engine="pyarrow")["date"].dtype


def _stored(item: RunResult | PathLike) -> StoredRun:
    """A run for :func:`scenarios.experiment.compare.compare`: in memory or read from disk."""
    from scenarios.experiment.compare import StoredRun, load_run

    if not isinstance(item, RunResult):
        return load_run(Path(item))
    manifest = {
        "kind": "run",
        "status": "complete",
        "scenario": item.config.name,
        "label": item.label,
        "steps": item.config.run.steps,
        "timeseries": item.timeseries is not None,
        "replication_seeds": item.seeds,
        "config": item.config.model_dump(mode="json"),
    }
    return StoredRun(item.path or Path(item.label), manifest, item.summary, item.timeseries)


def compare(
    results_or_dirs: Sequence[RunResult | PathLike],
    baseline: RunResult | PathLike | int | None = None,
    *,
    outcomes: Sequence[str] | None = None,
    precision: float = 0.1,
    probability_precision: float = 0.05,
) -> pd.DataFrame:
    """Compare runs against a baseline, as ``scenarios compare``: one tidy table.

    Args:
        results_or_dirs: RunResult objects and/or run directories, mixed freely.
        baseline: which is the reference: a position in ``results_or_dirs``, one of its
            items, a run's label (scenario name), or a run directory (added first if not
            in the list, as ``compare --baseline``). Default: the first.
        outcomes: summary columns to compare (default: the CLI's selection).
        precision: wanted 95% CI half-width of a mean, relative to it.
        probability_precision: wanted 95% CI half-width of a probability (absolute).

    Returns a DataFrame with columns scenario, outcome, statistic (mean, median,
    probability, difference, relative_change), value, ci_low, ci_high, method, n,
    variance_reduction; the same rows as the CLI's ``comparison.csv``. ``attrs`` holds
    ``baseline`` (its label), ``paired`` (label -> common random numbers with the
    baseline?) and ``warnings`` (precision warnings, one line each).
    """
    from scenarios.experiment.compare import compare as _compare

    items: list[RunResult | PathLike] = list(results_or_dirs)
    runs = [_stored(item) for item in items]
    index = _baseline_index(items, runs, baseline)
    labels = [run.label for run in runs]
    for k, (run, item) in enumerate(zip(runs, items, strict=True)):
        if isinstance(item, RunResult) and item.path is None and labels.count(run.label) > 1:
            run.path = Path(f"{run.label}-{k + 1}")  # check_comparable labels runs by path
    cmp = _compare(
        runs, runs[index], list(outcomes) if outcomes else None, precision, probability_precision
    )
    table = cmp.table
    table.attrs = {
        "baseline": cmp.baseline.label,
        "paired": dict(cmp.paired),
        "warnings": [w.message() for w in cmp.warnings],
    }
    return table


def _same(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name the same directory."""
    return Path(a).resolve() == Path(b).resolve()


def _baseline_index(
    items: list[RunResult | PathLike],
    runs: list[StoredRun],
    baseline: RunResult | PathLike | int | None,
) -> int:
    """Where the baseline is in ``runs``; one not among them is loaded and put first."""
    from scenarios.experiment.errors import CompareError

    if baseline is None:
        return 0
    if isinstance(baseline, int) and not isinstance(baseline, bool):
        if not -len(runs) <= baseline < len(runs):
            raise CompareError(f"baseline = {baseline}: there are {len(runs)} runs")
        return baseline % len(runs)
    if isinstance(baseline, RunResult):
        for k, item in enumerate(items):
            if item is baseline:
                return k
        for k, item in enumerate(items):  # its saved directory
            saved = baseline.path
            if saved is not None and not isinstance(item, RunResult) and _same(item, saved):
                return k
    else:
        if isinstance(baseline, str):  # a run's label first
            for k, run in enumerate(runs):
                if run.label == baseline:
                    return k
        path = Path(baseline)
        for k, item in enumerate(items):
            if not isinstance(item, RunResult) and _same(item, path):
                return k
        if not path.is_dir():
            raise CompareError(
                f"baseline = {str(baseline)!r}: neither a run's label nor a run directory"
            )
    items.insert(0, baseline)  # as `compare --baseline DIR` with DIR not in the list
    runs.insert(0, _stored(baseline))
    return 0
