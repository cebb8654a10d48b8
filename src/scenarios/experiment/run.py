"""`scenarios run`: replications -> run directory (data, manifest, plots, report).

The weekly series are streamed to ``timeseries.parquet`` as replications finish and the
figures read them back one column at a time, so memory does not grow with the number of
replications beyond their summary rows (:func:`scenarios.experiment.runner.stream_scenario`).

:func:`write_run` writes the same run directory from a run kept in memory (the Python
API's ``RunResult.save``); both share :func:`run_manifest` and :func:`finish_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scenarios.config import ScenarioConfig
from scenarios.experiment import store
from scenarios.experiment.compare import territories
from scenarios.experiment.runner import (
    Progress,
    StreamedRun,
    TimeseriesWriter,
    stream_scenario,
)
from scenarios.report import plots
from scenarios.report.run_report import run_report
from scenarios.report.tables import Row, core_trust_pairs, key_outcomes, variance_shares

if TYPE_CHECKING:
    from scenarios.experiment.ensemble import Ensemble


def run_manifest(
    config: ScenarioConfig,
    *,
    started: str,
    source: str | None,
    label: str | None,
    ensemble: Ensemble | None = None,
) -> dict[str, Any]:
    """The manifest of a run being written (status "running").

    A run over a posterior ensemble records it under ``ensemble`` (see
    :meth:`scenarios.experiment.ensemble.Ensemble.record`); other runs have no such key.
    """
    manifest = {
        "kind": "run",
        "status": "running",
        "scenario": config.name,
        "label": label or config.name,
        "source": source,
        "config_hash": config.digest(),
        "root_seed": config.run.seed,
        "replications": config.run.replications,
        "steps": config.run.steps,
        "timeseries": config.run.timeseries,
        "versions": store.package_versions(),
        "model_fingerprint": store.model_fingerprint(),
        "git_commit": store.git_commit(),
        "started": started,
    }
    if ensemble is not None:
        manifest["ensemble"] = ensemble.record()
    return manifest


def finish_run(
    staging: Path,
    config: ScenarioConfig,
    manifest: dict[str, Any],
    summary: pd.DataFrame,
    seeds: list[int],
    timeseries: Path | None,
    finished: str | None = None,
) -> list[Row]:
    """Write summary, figures, report and the complete manifest into ``staging``.

    ``timeseries`` is the already written ``timeseries.parquet`` in ``staging`` (None if
    the run keeps none). Returns the key-outcome table.
    """
    store.write_parquet(summary, staging / store.SUMMARY)
    threat = config.threat.name
    figures = plots.draw_all(summary, timeseries, staging / "plots", threat)
    rows = core_trust_pairs(key_outcomes(summary, threat, territories(config)))
    shares = variance_shares(summary, rows) if "ensemble" in manifest else None
    report = run_report(config, rows, figures, manifest, shares)
    store.write_atomic(staging / "report.md", report.encode())
    data = [store.SUMMARY, store.TIMESERIES] if timeseries is not None else [store.SUMMARY]
    files = [*data, "report.md", *(f"plots/{n}" for n in figures)]
    manifest.update(
        status="complete",
        finished=finished or store.now(),
        replication_seeds=seeds,
        config=config.model_dump(mode="json"),
        files=files,
        # what an experiment checks before it reuses this run (store.verify_files)
        **{store.HASHES: store.file_hashes(staging, files)},
    )
    store.write_json(manifest, staging / store.MANIFEST)
    return rows


def execute_run(
    config: ScenarioConfig,
    run_dir: Path,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    source: str | None = None,
    label: str | None = None,
    ensemble: Ensemble | None = None,
) -> tuple[StreamedRun, list[Row]]:
    """Run every replication and write the run directory atomically.

    Returns the run (its summary; its timeseries as the path of ``timeseries.parquet`` in
    ``run_dir``, None if ``run.timeseries`` is false) and the key-outcome table. With an
    ``ensemble`` (checked against ``config`` beforehand: ``check_ensemble``), replication
    i runs with its draw's parameters and summary.parquet says which draw and particle.
    """
    started = store.now()
    keep_timeseries = config.run.timeseries
    with store.staged_directory(run_dir) as staging:
        manifest = run_manifest(
            config, started=started, source=source, label=label, ensemble=ensemble
        )
        store.write_json(manifest, staging / store.MANIFEST)
        timeseries = staging / store.TIMESERIES if keep_timeseries else None
        varying = ensemble.parameters() if ensemble is not None else None
        result = stream_scenario(
            config, timeseries, workers=workers, progress=progress, varying=varying
        )
        if ensemble is not None:
            result.summary = ensemble.annotate(result.summary)
        rows = finish_run(staging, config, manifest, result.summary, result.seeds, timeseries)
    result.timeseries_path = run_dir / store.TIMESERIES if keep_timeseries else None
    return result, rows


def write_timeseries(path: Path, config: ScenarioConfig, timeseries: pd.DataFrame) -> None:
    """Write an in-memory timeseries frame as ``execute_run`` streams it (same file).

    ``timeseries`` is :func:`scenarios.experiment.runner.run_scenario`'s frame: ``steps``
    rows per replication, replications in order 0, 1, 2, ...
    """
    steps = config.run.steps
    names = [c for c in timeseries.columns if c not in ("replication", "step", "date")]
    arrays = {name: timeseries[name].to_numpy() for name in names}
    replications = timeseries["replication"].to_numpy()
    writer = TimeseriesWriter(path, config)
    try:
        for start in range(0, len(timeseries), steps):
            i = int(replications[start])
            if not np.all(replications[start : start + steps] == i):
                raise ValueError(f"timeseries: replication {i} does not have {steps} rows")
            writer.add(i, {name: arrays[name][start : start + steps] for name in names})
        writer.close()
    except OSError as exc:
        if store.disk_full_code(exc):
            raise store.disk_full_error(exc, path) from None
        raise
    finally:
        writer.abort()  # no-op once closed


def write_run(
    run_dir: Path,
    config: ScenarioConfig,
    summary: pd.DataFrame,
    seeds: list[int],
    timeseries: pd.DataFrame | None,
    *,
    started: str,
    finished: str,
    source: str | None = None,
    label: str | None = None,
    ensemble: Ensemble | None = None,
) -> list[Row]:
    """Write a run kept in memory as the run directory ``execute_run`` writes.

    The directory appears atomically, only once complete; an existing one is refused
    (OutputError). ``timeseries`` is written only if ``config.run.timeseries`` is true.
    A run over a posterior ``ensemble`` (its summary annotated with draws) records it.
    """
    with store.staged_directory(run_dir) as staging:
        manifest = run_manifest(
            config, started=started, source=source, label=label, ensemble=ensemble
        )
        store.write_json(manifest, staging / store.MANIFEST)
        path = None
        if config.run.timeseries:
            if timeseries is None:
                raise ValueError("run.timeseries is true but the run kept no timeseries")
            path = staging / store.TIMESERIES
            write_timeseries(path, config, timeseries)
        return finish_run(staging, config, manifest, summary, seeds, path, finished)
