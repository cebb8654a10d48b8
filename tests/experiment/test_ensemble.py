"""Posterior ensembles: runs and experiments over a calibration's weighted particles.

Synthetic posterior directories (the contract of ``scenarios calibrate``'s output) with
two particles far apart in ``threat.plot_rate``; short horizons and few replications.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS, ROOT, cli_in_process, config

import scenarios
from scenarios.config import ConfigError
from scenarios.experiment.ensemble import (
    RESAMPLING_KEY,
    load_posterior,
    plan_ensemble,
)
from scenarios.experiment.stats import variance_components

LOW, HIGH = 0.05, 8.0  # plots per week per 100 fighters: almost none, very many
STEPS = 13
REPLICATIONS = 8


def write_posterior(
    directory: Path,
    values: dict[str, list[float]] | None = None,
    weights: list[float] | None = None,
    **manifest: object,
) -> Path:
    """A posterior directory as `scenarios calibrate` writes it."""
    values = values or {"threat.plot_rate": [LOW, HIGH]}
    n = len(next(iter(values.values())))
    directory.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "particle": np.arange(n, dtype=np.int64),
            "weight": np.array(weights or [1.0 / n] * n, dtype=np.float64),
            **{k: np.array(v, dtype=np.float64) for k, v in values.items()},
        }
    )
    frame.to_parquet(directory / "posterior.parquet")
    record = {
        "kind": "calibration",
        "name": "synthetic",
        "scenario": "baseline",
        "seed": 1,
        "status": "complete",
        "parameters": {k: {"distribution": "uniform", "low": 0.0, "high": 10.0} for k in values},
    }
    record.update(manifest)
    (directory / "manifest.json").write_text(json.dumps(record))
    return directory


def run_args(out: Path, posterior: Path, *extra: object) -> list[object]:
    return [
        "run",
        CONFIGS / "baseline.yaml",
        "-n",
        REPLICATIONS,
        "--steps",
        STEPS,
        "--no-timeseries",
        "--ensemble",
        posterior,
        "--out",
        out,
        *extra,
    ]


@pytest.fixture(scope="module")
def posterior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_posterior(tmp_path_factory.mktemp("calibration") / "posterior")


# --------------------------------------------------------------------------------------
# The decomposition (stats.variance_components)
# --------------------------------------------------------------------------------------


def test_variance_components_recover_known_components() -> None:
    """Two-level sample: draw effects of variance 4, replication noise of variance 1."""
    rng = np.random.default_rng(0)
    draws, k = 4000, 3
    effects = rng.normal(0.0, 2.0, draws)
    values = np.repeat(effects, k) + rng.normal(0.0, 1.0, draws * k)
    split = variance_components(values, np.repeat(np.arange(draws), k))
    assert split.between == pytest.approx(4.0, rel=0.05)
    assert split.within == pytest.approx(1.0, rel=0.03)
    assert split.parameter_share == pytest.approx(0.8, abs=0.02)
    assert split.chance_share == pytest.approx(0.2, abs=0.02)


def test_variance_components_balanced_formula_and_floor() -> None:
    """K per draw: between = var(draw means) - within / K; no draw effect gives 0, not < 0."""
    values = np.array([1.0, 3.0, 2.0, 6.0, 10.0, 14.0])
    draws = np.array([0, 0, 1, 1, 2, 2])
    split = variance_components(values, draws)
    within = np.mean([2.0, 8.0, 8.0])  # variances (ddof=1) of the pairs
    means = np.array([2.0, 4.0, 12.0])
    assert split.within == pytest.approx(within)
    assert split.between == pytest.approx(means.var(ddof=1) - within / 2)
    noise = variance_components(np.array([0.0, 10.0, 1.0, 9.0]), np.array([0, 0, 1, 1]))
    assert noise.between == 0.0
    assert noise.parameter_share == 0.0
    assert np.isnan(variance_components(np.arange(4.0), np.arange(4)).parameter_share)


# --------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------


def test_replications_follow_their_particle(
    tmp_path: Path,
    posterior: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = cli_in_process(monkeypatch, capsys, *run_args(tmp_path / "run", posterior))
    assert code == 0, err
    summary = pd.read_parquet(tmp_path / "run" / "summary.parquet")
    assert list(summary.columns[:4]) == ["replication", "seed", "draw", "particle"]
    assert (summary["draw"] == summary["replication"] // 2).all()
    assert set(summary["particle"]) == {0, 1}, "both particles should be drawn with 4 draws"
    low = summary.loc[summary["particle"] == 0, "attacks_attempted"]
    high = summary.loc[summary["particle"] == 1, "attacks_attempted"]
    assert low.max() < high.min(), "a tiny plot rate must give fewer attempts than a large one"
    # the same draws as plan_ensemble gives for the root seed
    cfg = config("baseline")
    plan = plan_ensemble(load_posterior(posterior), cfg.run.seed, REPLICATIONS, 2)
    assert list(summary["particle"]) == list(np.repeat(plan.particles, 2))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    record = manifest["ensemble"]
    assert record["calibration"] == "synthetic"
    assert record["draws"] == 4
    assert record["replications_per_draw"] == 2
    assert record["resampling_key"] == RESAMPLING_KEY
    assert len(record["posterior_sha256"]) == 64
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Posterior ensemble: 4 parameter draws from calibration `synthetic`" in report
    assert "| parameters | chance |" in report
    assert "comes from not knowing the parameters" in report


def test_the_python_api_runs_the_same_ensemble_as_the_cli(
    tmp_path: Path,
    posterior: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = cli_in_process(monkeypatch, capsys, *run_args(tmp_path / "cli", posterior))
    assert code == 0, err
    result = scenarios.run(
        CONFIGS / "baseline.yaml",
        replications=REPLICATIONS,
        steps=STEPS,
        overrides={"run.timeseries": False},
        ensemble=posterior,
        per_draw=2,
    )
    cli_summary = pd.read_parquet(tmp_path / "cli" / "summary.parquet")
    pd.testing.assert_frame_equal(result.summary, cli_summary)
    saved = json.loads((result.save(tmp_path / "api") / "manifest.json").read_text())
    recorded = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert saved["ensemble"] == recorded["ensemble"]
    with pytest.raises(ConfigError, match="per_draw needs ensemble"):
        scenarios.run(CONFIGS / "baseline.yaml", replications=2, steps=STEPS, per_draw=2)


def test_results_do_not_depend_on_workers(
    tmp_path: Path,
    posterior: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for workers in (1, 2):
        args = run_args(tmp_path / f"w{workers}", posterior, "--workers", workers, "--per-draw", 3)
        code, err = cli_in_process(monkeypatch, capsys, *args)
        assert code == 0, err
    one = (tmp_path / "w1" / "summary.parquet").read_bytes()
    two = (tmp_path / "w2" / "summary.parquet").read_bytes()
    assert one == two
    summary = pd.read_parquet(tmp_path / "w1" / "summary.parquet")
    assert (summary["draw"] == summary["replication"] // 3).all()


def test_resampling_follows_the_weights_and_the_seed(posterior: Path) -> None:
    loaded = load_posterior(posterior)
    a = plan_ensemble(loaded, 11, 200, 2)
    assert (a.particles == plan_ensemble(loaded, 11, 200, 2).particles).all()
    assert not (a.particles == plan_ensemble(loaded, 12, 200, 2).particles).all()
    skewed = load_posterior(write_posterior(posterior.parent / "skewed", weights=[0.9, 0.1]))
    share = (plan_ensemble(skewed, 3, 4000, 1).particles == 0).mean()
    assert share == pytest.approx(0.9, abs=0.03)


# --------------------------------------------------------------------------------------
# Experiments: the same draw at the same replication index in every scenario
# --------------------------------------------------------------------------------------


def test_experiment_pairs_draws_across_scenarios(
    tmp_path: Path,
    posterior: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        f"name: ensemble_test\nbaseline: base\nscenarios:\n"
        f"  base: {CONFIGS / 'baseline.yaml'}\n  other: {CONFIGS / 'no_crackdown.yaml'}\n"
        f"replications: 6\nsteps: {STEPS}\nseed: 5\nensemble: {posterior}\n"
        "replications_per_draw: 2\noutcomes: [attacks_successful, attacks_attempted]\n"
    )
    out = tmp_path / "out"
    code, err = cli_in_process(monkeypatch, capsys, "experiment", spec, "--out", out)
    assert code == 0, err
    base = pd.read_parquet(out / "runs" / "base" / "summary.parquet")
    other = pd.read_parquet(out / "runs" / "other" / "summary.parquet")
    assert (base[["seed", "draw", "particle"]] == other[["seed", "draw", "particle"]]).all().all()
    table = pd.read_csv(out / "comparison.csv")
    assert {"parameter_share", "chance_share"} <= set(table.columns)
    diff = table[(table.statistic == "difference") & (table.outcome == "attacks_attempted")]
    shares = float(diff.parameter_share.iloc[0]) + float(diff.chance_share.iloc[0])
    assert shares == pytest.approx(1.0)
    # replications of one draw are not independent: the interval is that of the 3 draws'
    # means, not of 6 independent replications
    assert int(diff.n.iloc[0]) == 3
    means = (other.attacks_attempted - base.attacks_attempted).groupby(base.draw).mean()
    assert float(diff.value.iloc[0]) == pytest.approx(means.mean())
    report = (out / "report.md").read_text()
    assert "## Posterior ensemble" in report
    assert "Of the spread of this difference" in report
    # a second call reuses both runs; a changed posterior is noticed and re-run
    code, err = cli_in_process(monkeypatch, capsys, "experiment", spec, "--out", out)
    assert code == 0, err
    assert err.count("reusing the finished run") == 2, err
    write_posterior(posterior.parent / "changed", values={"threat.plot_rate": [LOW, 4.0]})
    spec.write_text(spec.read_text().replace(str(posterior), str(posterior.parent / "changed")))
    code, err = cli_in_process(monkeypatch, capsys, "experiment", spec, "--out", out)
    assert code == 0, err
    assert err.count("the posterior ensemble changed") == 2, err


# --------------------------------------------------------------------------------------
# Bad ensembles: exit 2 before any run, nothing written
# --------------------------------------------------------------------------------------


def _bad_posteriors(root: Path) -> dict[str, tuple[Path, str]]:
    missing_file = write_posterior(root / "no_file")
    (missing_file / "posterior.parquet").unlink()
    return {
        "missing directory": (root / "nowhere", "not a directory"),
        "missing file": (missing_file, "no posterior.parquet"),
        "running": (write_posterior(root / "running", status="running"), "not 'complete'"),
        "weights": (write_posterior(root / "weights", weights=[0.7, 0.7]), "weights sum"),
        "negative": (write_posterior(root / "negative", weights=[1.5, -0.5]), "not negative"),
        "unknown path": (
            write_posterior(root / "path", values={"threat.no_such_rate": [0.1, 0.2]}),
            "not a config path",
        ),
        "invalid value": (
            write_posterior(root / "value", values={"interdiction.hazard": [0.1, 1.7]}),
            "particle 1 is not a valid value",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing directory",
        "missing file",
        "running",
        "weights",
        "negative",
        "unknown path",
        "invalid value",
    ],
)
def test_bad_ensembles_exit_2_with_nothing_written(
    tmp_path: Path,
    case: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory, message = _bad_posteriors(tmp_path / "bad")[case]
    out = tmp_path / "run"
    # enough replications that both particles are drawn (the bad one included)
    code, err = cli_in_process(monkeypatch, capsys, *run_args(out, directory, "--per-draw", 1))
    assert code == 2, err
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_ensemble_in_an_experiment_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_posterior(tmp_path / "post", status="running")
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        f"name: bad_ensemble\nbaseline: base\nscenarios:\n"
        f"  base: {CONFIGS / 'baseline.yaml'}\n  other: {CONFIGS / 'no_crackdown.yaml'}\n"
        f"replications: 4\nsteps: {STEPS}\nensemble: post\n"
    )
    out = tmp_path / "out"
    code, err = cli_in_process(monkeypatch, capsys, "experiment", spec, "--out", out)
    assert code == 2, err
    assert "not 'complete'" in " ".join(err.split()), err
    assert not out.exists()


def test_per_draw_needs_an_ensemble(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", CONFIGS / "baseline.yaml", "--per-draw", 2, "--out", tmp_path / "r"]
    code, err = cli_in_process(monkeypatch, capsys, *args)
    assert code == 2, err
    assert "--per-draw" in err
    assert not (tmp_path / "r").exists()


def test_replications_per_draw_needs_an_ensemble() -> None:
    from scenarios.experiment.experiment import ExperimentSpec

    spec = {"name": "x", "baseline": "a", "scenarios": {"a": "a.yaml", "b": "b.yaml"}}
    assert ExperimentSpec.model_validate(spec).ensemble is None
    with pytest.raises(ValueError, match="replications_per_draw"):
        ExperimentSpec.model_validate({**spec, "replications_per_draw": 3})


# --------------------------------------------------------------------------------------
# The shipped posterior and the experiment over it (issue 12's last "done when")
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_shipped_cooperation_options_run_over_the_shipped_posterior(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`experiments/cooperation_options_posterior.yaml`, with fewer replications, runs
    over `experiments/posteriors/historical_2022_2024` and splits every difference's
    spread into parameters and chance (shares summing to 1)."""
    experiments = ROOT / "experiments"
    text = (experiments / "cooperation_options_posterior.yaml").read_text()
    assert "\nreplications: 200\n" in text
    assert "ensemble: posteriors/" in text
    text = text.replace("\nreplications: 200\n", "\nreplications: 16\n")
    text = text.replace("../configs/", f"{CONFIGS}/")
    text = text.replace("ensemble: posteriors/", f"ensemble: {experiments}/posteriors/")
    spec = tmp_path / "cooperation_options_posterior.yaml"
    spec.write_text(text)
    posterior = load_posterior(experiments / "posteriors" / "historical_2022_2024")
    out = tmp_path / "out"
    code, err = cli_in_process(monkeypatch, capsys, "experiment", spec, "--out", out)
    assert code == 0, err
    table = pd.read_csv(out / "comparison.csv")
    diffs = table[table.statistic == "difference"]
    assert set(diffs.scenario) == {
        "us_taliban",
        "us_russia",
        "trilateral",
        "trilateral_compartmentalised",
    }
    split = diffs.dropna(subset=["parameter_share"])
    assert len(split) >= 4 * 10  # most outcomes of every option are split
    np.testing.assert_allclose(split.parameter_share + split.chance_share, 1.0)
    assert ((split.parameter_share >= 0) & (split.parameter_share <= 1)).all()
    assert int(diffs.n.max()) == 8  # 16 replications = 8 draws of 2: draws are the units
    runs = pd.read_parquet(out / "runs" / "trilateral" / "summary.parquet")
    assert runs.particle.between(0, posterior.particles - 1).all()
    assert runs.groupby("draw").particle.nunique().eq(1).all()
    report = (out / "report.md").read_text()
    assert "## Posterior ensemble" in report
    assert "Of the spread of this difference" in report
