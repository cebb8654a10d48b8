"""`scenarios run`: replications -> run directory (data, manifest, plots, report)."""

from __future__ import annotations

from pathlib import Path

from scenarios.config import ScenarioConfig
from scenarios.experiment import store
from scenarios.experiment.compare import territories
from scenarios.experiment.runner import Progress, RunResult, run_scenario
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
) -> tuple[RunResult, list[Row]]:
    """Run every replication and write the run directory atomically."""
    started = store.now()
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
            "versions": store.package_versions(),
            "model_fingerprint": store.model_fingerprint(),
            "git_commit": store.git_commit(),
            "started": started,
        }
        store.write_json(manifest, staging / store.MANIFEST)
        result = run_scenario(config, workers=workers, progress=progress)
        store.write_parquet(result.summary, staging / store.SUMMARY)
        store.write_parquet(result.timeseries, staging / store.TIMESERIES)
        threat = config.threat.name
        figures = plots.draw_all(result.summary, result.timeseries, staging / "plots", threat)
        rows = core_trust_pairs(key_outcomes(result.summary, threat, territories(config)))
        report = run_report(config, rows, figures, manifest)
        store.write_atomic(staging / "report.md", report.encode())
        files = [store.SUMMARY, store.TIMESERIES, "report.md", *(f"plots/{n}" for n in figures)]
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
    return result, rows
