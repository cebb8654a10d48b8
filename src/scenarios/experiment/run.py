"""`scenarios run`: replications -> run directory (data, manifest, plots, report).

The weekly series are streamed to ``timeseries.parquet`` as replications finish and the
figures read them back one column at a time, so memory does not grow with the number of
replications beyond their summary rows (:func:`scenarios.experiment.runner.stream_scenario`).
"""

from __future__ import annotations

from pathlib import Path

from scenarios.config import ScenarioConfig
from scenarios.experiment import store
from scenarios.experiment.compare import territories
from scenarios.experiment.runner import Progress, StreamedRun, stream_scenario
from scenarios.report import plots
from scenarios.report.run_report import run_report
from scenarios.report.tables import Row, core_trust_pairs, key_outcomes


def execute_run(
    config: ScenarioConfig,
    run_dir: Path,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    source: str | None = None,
    label: str | None = None,
) -> tuple[StreamedRun, list[Row]]:
    """Run every replication and write the run directory atomically.

    Returns the run (its summary; its timeseries as the path of ``timeseries.parquet`` in
    ``run_dir``, None if ``run.timeseries`` is false) and the key-outcome table.
    """
    started = store.now()
    keep_timeseries = config.run.timeseries
    with store.staged_directory(run_dir) as staging:
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
            "timeseries": keep_timeseries,
            "versions": store.package_versions(),
            "model_fingerprint": store.model_fingerprint(),
            "git_commit": store.git_commit(),
            "started": started,
        }
        store.write_json(manifest, staging / store.MANIFEST)
        timeseries = staging / store.TIMESERIES if keep_timeseries else None
        result = stream_scenario(config, timeseries, workers=workers, progress=progress)
        store.write_parquet(result.summary, staging / store.SUMMARY)
        threat = config.threat.name
        figures = plots.draw_all(result.summary, timeseries, staging / "plots", threat)
        rows = core_trust_pairs(key_outcomes(result.summary, threat, territories(config)))
        report = run_report(config, rows, figures, manifest)
        store.write_atomic(staging / "report.md", report.encode())
        data = [store.SUMMARY, store.TIMESERIES] if keep_timeseries else [store.SUMMARY]
        files = [*data, "report.md", *(f"plots/{n}" for n in figures)]
        manifest.update(
            status="complete",
            finished=store.now(),
            replication_seeds=result.seeds,
            config=config.model_dump(mode="json"),
            files=files,
            # what an experiment checks before it reuses this run (store.verify_files)
            **{store.HASHES: store.file_hashes(staging, files)},
        )
        store.write_json(manifest, staging / store.MANIFEST)
    result.timeseries_path = run_dir / store.TIMESERIES if keep_timeseries else None
    return result, rows
