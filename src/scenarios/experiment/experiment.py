"""Experiments: several scenarios, common random numbers, one comparison.

An experiment file (``experiments/*.yaml``) names the scenario configs to compare, which
one is the baseline, the replications and root seed they all share (so replication i of
every scenario uses the same seed streams), the outcomes of interest and the precision
wanted. Each scenario's run directory is reused when its manifest shows the same
resolved config, seeds, package version and model source and its data files still have
the SHA-256 hashes the manifest recorded; otherwise it is (re-)run.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scenarios import __version__
from scenarios.config import ConfigError, ScenarioConfig, load_config, read_yaml, validate_spec
from scenarios.experiment import store
from scenarios.experiment.seeds import replication_seeds
from scenarios.model.outcomes import summary_columns
from scenarios.names import NAME_RULE, PlainName, is_plain_name

if TYPE_CHECKING:
    from scenarios.experiment.ensemble import Ensemble


class ExperimentSpec(BaseModel):
    """An experiment definition (YAML, unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: PlainName = Field(description=f"Experiment id (output folder name): {NAME_RULE}.")
    description: str = Field("", description="What question the experiment answers.")
    scenarios: dict[str, str] = Field(
        description="Label -> scenario config path (relative to the experiment file); each "
        f"label names its run folder: {NAME_RULE}."
    )
    baseline: PlainName = Field(description="Label of the scenario the others are compared with.")
    replications: int = Field(200, ge=2, le=1_000_000, description="Replications per scenario.")
    seed: int = Field(20240322, ge=0, description="Root seed shared by every scenario.")
    steps: int | None = Field(None, ge=1, le=5200, description="Override run.steps (weeks).")
    outcomes: list[str] | None = Field(
        None, description="summary.parquet columns to compare (default: the key outcomes)."
    )
    precision: float = Field(
        0.1, gt=0, le=10, description="Wanted 95% CI half-width of a mean, relative to it."
    )
    probability_precision: float = Field(
        0.05, gt=0, le=1, description="Wanted 95% CI half-width of a probability (absolute)."
    )
    ensemble: str | None = Field(
        None,
        description="Posterior directory written by `scenarios calibrate` (relative to the "
        "experiment file): replication i of every scenario runs with parameter draw "
        "i // replications_per_draw, the same draw in every scenario.",
    )
    replications_per_draw: int = Field(
        2,
        ge=1,
        le=10_000,
        description="With ensemble: replications per parameter draw (at least 2 to separate "
        "parameter from chance variance).",
    )

    @field_validator("scenarios")
    @classmethod
    def _plain_labels(cls, scenarios: dict[str, str]) -> dict[str, str]:
        for label in scenarios:
            if not is_plain_name(label):
                raise ValueError(f"label {label!r} is not a plain name; {NAME_RULE}")
        return scenarios

    @model_validator(mode="after")
    def _baseline_named(self) -> Self:
        if len(self.scenarios) < 2:
            raise ValueError("scenarios: an experiment compares at least two scenarios")
        if self.ensemble is None and "replications_per_draw" in self.model_fields_set:
            raise ValueError("replications_per_draw: applies only with ensemble: (a posterior)")
        if self.baseline not in self.scenarios:
            raise ValueError(
                f"baseline: {self.baseline!r} is not one of the scenarios "
                f"({', '.join(self.scenarios)})"
            )
        return self


def load_experiment(path: Path) -> tuple[ExperimentSpec, dict[str, ScenarioConfig]]:
    """Read and validate an experiment and every config it names (with its overrides)."""
    raw = read_yaml(path, "experiment")
    spec = validate_spec(ExperimentSpec, raw, str(path))
    configs = {}
    for label, rel in spec.scenarios.items():
        overrides = [f"run.replications={spec.replications}", f"run.seed={spec.seed}"]
        if spec.steps is not None:
            overrides.append(f"run.steps={spec.steps}")
        cfg_path = (path.parent / rel).resolve()
        try:
            configs[label] = load_config(cfg_path, overrides)
        except ConfigError as exc:
            raise ConfigError(f"scenarios.{label}: {exc}", source=str(path)) from None
    check_comparable_configs(configs, spec.baseline, str(path))
    if spec.outcomes is not None:
        check_outcomes(spec.outcomes, outcome_columns(configs[spec.baseline]), str(path))
    return spec, configs


def load_experiment_ensemble(
    spec: ExperimentSpec, path: Path, configs: dict[str, ScenarioConfig]
) -> Ensemble | None:
    """The experiment's posterior ensemble, checked against every scenario (None if none).

    The draws depend on the shared root seed and replications only, so every scenario
    gets the same parameter set at the same replication index. ConfigError (exit 2) for a
    posterior that cannot be used or values a scenario does not allow.
    """
    if spec.ensemble is None:
        return None
    from scenarios.experiment.ensemble import check_ensemble, load_posterior, plan_ensemble

    try:
        posterior = load_posterior(path.parent / spec.ensemble)
    except ConfigError as exc:
        raise ConfigError(f"ensemble: {exc}", source=str(path)) from None
    ensemble = plan_ensemble(posterior, spec.seed, spec.replications, spec.replications_per_draw)
    for label, config in configs.items():
        try:
            check_ensemble(ensemble, config)
        except ConfigError as exc:
            raise ConfigError(f"scenarios.{label}: {exc}", source=str(path)) from None
    return ensemble


def outcome_columns(config: ScenarioConfig) -> list[str]:
    """The summary.parquet outcome columns a run of ``config`` will have, without a run.

    From the outcome naming rules as coded in :func:`scenarios.model.outcomes.summarise`,
    applied to an all-zero recording of the config's steps, countries and actors.
    """
    countries = tuple(dict.fromkeys(r.country for r in config.regions.values()))
    return summary_columns(
        config.run.steps, countries, tuple(config.actors), config.threat.home_country
    )


def check_outcomes(outcomes: Iterable[str], columns: list[str], source: str) -> None:
    """Refuse an outcome that is not one of ``columns``, suggesting close matches."""
    known = set(columns)
    for i, outcome in enumerate(outcomes):
        if outcome in known:
            continue
        close = difflib.get_close_matches(outcome, columns, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "e.g. " + ", ".join(columns[:5])
        raise ConfigError(
            f"outcomes[{i}]: {outcome!r} is not an outcome of the model ({hint}); outcomes "
            "are summary.parquet columns",
            source=source,
        )


def check_comparable_configs(
    configs: dict[str, ScenarioConfig], baseline: str, source: str
) -> None:
    """Refuse scenarios `compare` would refuse after the runs: other horizons, starts, outcomes."""
    base = configs[baseline]
    columns = set(outcome_columns(base))
    for label, config in configs.items():
        if config.run.steps != base.run.steps:
            raise ConfigError(
                f"scenarios.{label}: run.steps is {config.run.steps} weeks, the baseline "
                f"{baseline!r} has {base.run.steps}; compared scenarios need equal horizons "
                "(set steps: in the experiment)",
                source=source,
            )
        if config.run.start != base.run.start:
            raise ConfigError(
                f"scenarios.{label}: run.start is {config.run.start}, the baseline "
                f"{baseline!r} starts {base.run.start}; compared scenarios need equal starts",
                source=source,
            )
        other = set(outcome_columns(config))
        if other != columns:
            differ = sorted(other ^ columns)[:5]
            raise ConfigError(
                f"scenarios.{label}: its outcomes differ from the baseline {baseline!r}'s "
                f"(regions, countries or actors differ: {', '.join(differ)})",
                source=source,
            )


def reuse_problem(
    run_dir: Path, config: ScenarioConfig, ensemble: Ensemble | None = None
) -> str | None:
    """Why the run in ``run_dir`` cannot be reused for ``config``; None if it can.

    Reusable: a finished run of the same resolved config, seeds, package version and model
    code, over the same posterior ensemble (posterior.parquet's hash, draws and
    replications per draw) or none, whose files still have the SHA-256 hashes its
    manifest recorded when it was written (a run without recorded hashes cannot be
    verified and is not reused).
    """
    from scenarios.experiment.ensemble import recorded_ensemble, same_ensemble

    if not (run_dir / store.MANIFEST).exists():
        return "no finished run"
    try:
        manifest = store.read_manifest(run_dir)
    except (OSError, ValueError):
        return f"its {store.MANIFEST} cannot be read"
    if not isinstance(manifest, dict):
        return f"its {store.MANIFEST} is not a manifest"
    seeds = replication_seeds(config.run.seed, config.run.replications)
    versions = manifest.get("versions")
    checks = (
        (manifest.get("status") == "complete", "the run did not finish"),
        (manifest.get("config_hash") == config.digest(), "the resolved config changed"),
        (manifest.get("replication_seeds") == seeds, "the seeds changed"),
        (
            isinstance(versions, dict) and versions.get("scenarios") == __version__,
            "the scenarios version changed",
        ),
        (manifest.get("model_fingerprint") == store.model_fingerprint(), "the model changed"),
        (
            same_ensemble(recorded_ensemble(manifest), ensemble),
            "the posterior ensemble changed (posterior, draws or replications per draw)",
        ),
    )
    for ok, problem in checks:
        if not ok:
            return problem
    files = manifest.get("files", [])
    if not isinstance(files, list) or not all((run_dir / str(f)).exists() for f in files):
        return "some of its files are missing"
    return store.verify_files(run_dir, manifest)


def run_experiment(
    spec: ExperimentSpec,
    configs: dict[str, ScenarioConfig],
    out: Path,
    *,
    workers: int = 1,
    on_scenario: Callable[[str, bool, str | None], Callable[[int], None] | None] | None = None,
    ensemble: Ensemble | None = None,
) -> dict[str, Path]:
    """Run (or reuse) every scenario; return label -> run directory.

    ``out`` is locked meanwhile and must be new, empty or an earlier experiment's folder.
    ``on_scenario(label, reused, why)`` is told before each scenario and may return a
    progress callback for its replications; ``why`` says why an earlier run of the scenario
    is not reused (None if it is reused or there is none). ``ensemble``: the posterior
    ensemble every scenario runs over (:func:`load_experiment_ensemble`), required when the
    spec names one.
    """
    from scenarios.experiment.run import execute_run

    if (spec.ensemble is None) != (ensemble is None):
        raise ValueError("run_experiment: pass the ensemble the spec names (and only then)")

    runs_dir = out / "runs"
    paths = {}
    with store.output_lock(out):
        # Under the lock: checked before it, another process could write in between.
        store.check_kind(out, "experiment")
        out.mkdir(parents=True, exist_ok=True)
        manifest = {
            "kind": "experiment",
            "status": "running",
            "experiment": spec.name,
            # without an ensemble, the spec as recorded before ensembles existed
            "spec": spec.model_dump(
                mode="json",
                exclude={"ensemble", "replications_per_draw"} if ensemble is None else None,
            ),
            "runs": {label: f"runs/{label}" for label in configs},
            "started": store.now(),
        }
        if ensemble is not None:
            manifest["ensemble"] = ensemble.record()
        store.write_json(manifest, out / store.MANIFEST)
        for label, config in configs.items():
            run_dir = runs_dir / label
            problem = reuse_problem(run_dir, config, ensemble)
            reused = problem is None
            earlier = run_dir.exists() or run_dir.is_symlink()
            why = problem if earlier and not reused else None
            progress = on_scenario(label, reused, why) if on_scenario else None
            if not reused:
                if earlier:
                    store.remove_tree(run_dir, runs_dir)  # a stale or partial run
                execute_run(
                    config,
                    run_dir,
                    workers=workers,
                    progress=progress,
                    source=spec.scenarios[label],
                    label=label,
                    ensemble=ensemble,
                )
            paths[label] = run_dir
        manifest.update(status="complete", finished=store.now())
        store.write_json(manifest, out / store.MANIFEST)
    return paths
