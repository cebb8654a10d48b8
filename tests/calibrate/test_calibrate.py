"""scenarios calibrate: statistics, distance, recovery of a known parameter, reproducibility."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import yaml
from pyabc import Parameter
from pyabc.population import Particle, SampleFactory
from tests.calibrate.conftest import PRIOR, ROOT, TRUE_PLOT_RATE, calibration_file, scenario_file
from tests.conftest import cli_exit_code, cli_in_process, external_dask_cluster, run_cli

from scenarios.calibrate.abc import CalibrationError, keyed_sampler, run_calibration
from scenarios.calibrate.spec import Target, load_calibration
from scenarios.calibrate.targets import BandDistance, Statistics
from scenarios.config import ConfigError, load_config
from scenarios.experiment.store import read_manifest


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cdf = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cdf, q)])


def target(**statistic: object) -> Target:
    return Target.model_validate(
        {"label": "x", "observed": 1.0, "scale": 1.0, "statistic": statistic}
    )


def test_statistics_total_mean_and_summary(tmp_path: Path) -> None:
    cfg = load_config(scenario_file(tmp_path))  # weeks start 2025-01-06, weekly
    window = {"start": "2025-01-13", "end": "2025-02-02"}  # weeks 1, 2 and 3
    stats = Statistics(
        {
            "total": target(kind="total", columns=["a", "b"], window=window),
            "mean": target(kind="mean", columns=["a"], window=window),
            "shift": target(kind="summary", columns=["late", "early"], weights=[1, -1], factor=100),
        },
        cfg,
    )
    weeks = np.arange(cfg.run.steps, dtype=float)
    out = stats.of({"a": weeks, "b": 10 * np.ones_like(weeks)}, {"late": 0.6, "early": 0.25})
    assert out["total"] == pytest.approx(1 + 2 + 3 + 30)
    assert out["mean"] == pytest.approx(2.0)
    assert out["shift"] == pytest.approx(35.0)


def test_band_distance_is_zero_inside_and_scaled_outside() -> None:
    targets = {
        "a": Target.model_validate(
            {
                "label": "a",
                "band": [10, 20],
                "scale": 5,
                "statistic": {"kind": "summary", "columns": ["x"]},
            }
        ),
        "b": Target.model_validate(
            {
                "label": "b",
                "observed": 3,
                "scale": 1,
                "weight": 4,
                "statistic": {"kind": "summary", "columns": ["y"]},
            }
        ),
    }
    assert targets["a"].value == 15  # a band alone: its centre is the observed value
    d = BandDistance(targets)
    assert d({"a": 12.0, "b": 3.0}) == 0.0
    assert d({"a": 30.0, "b": 3.0}) == pytest.approx(2.0)  # 10 above the band / scale 5
    assert d({"a": 15.0, "b": 4.0}) == pytest.approx(2.0)  # sqrt(4 * 1^2)
    assert d({"a": float("nan"), "b": 3.0}) == float("inf")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parameters": {"threat.no_such_rate": {"bounds": [0, 1]}}}, "not a config path"),
        ({"parameters": {"threat.plot_rate": {"bounds": [3, 1]}}}, "low must be below high"),
        ({"parameters": {"threat.capability": {"bounds": [0.5, 7]}}}, "not a valid config"),
        (
            {
                "targets": {
                    "attempts": {
                        "label": "x",
                        "scale": 1,
                        "observed": 5,
                        "band": [6, 9],
                        "statistic": {"kind": "summary", "columns": ["fatalities"]},
                    }
                }
            },
            "outside its band",
        ),
        (
            {
                "targets": {
                    "attempts": {
                        "label": "x",
                        "scale": 1,
                        "observed": 5,
                        "statistic": {"kind": "summary", "columns": ["no_such_outcome"]},
                    }
                }
            },
            "summary.parquet column",
        ),
        (
            {
                "targets": {
                    "attempts": {
                        "label": "x",
                        "scale": 1,
                        "observed": 5,
                        "statistic": {
                            "kind": "total",
                            "columns": ["attacks_attempted"],
                            "window": {"start": "2030-01-01", "end": "2030-12-31"},
                        },
                    }
                }
            },
            "not inside",
        ),
        (
            {
                "targets": {
                    "attempts": {
                        "label": "x",
                        "scale": 1,
                        "observed": 5,
                        "statistic": {"kind": "total", "columns": ["attacks_attempted"]},
                    }
                }
            },
            "needs a window",
        ),
        ({"budget": {"population": 60, "quantile": 1.5}}, "budget.quantile"),
        ({"scenario": "missing.yaml"}, "scenario"),
    ],
)
def test_bad_calibration_files_exit_2_before_any_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    message: str,
) -> None:
    path = calibration_file(tmp_path, observed=100, scale=10)
    spec = yaml.safe_load(path.read_text())
    for key, value in change.items():
        spec[key] = value
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ConfigError, match=message.split()[0]):
        load_calibration(path)
    out = tmp_path / "out"
    code, err = cli_in_process(monkeypatch, capsys, "calibrate", path, "--workers", 1, "--out", out)
    assert code == 2
    assert message in " ".join(err.split())
    assert not out.exists()  # nothing ran, nothing written


@pytest.mark.slow
def test_calibration_recovers_a_known_parameter(synthetic: Path, tmp_path: Path) -> None:
    """Targets made by the model at a known plot rate: the posterior covers it, narrowly."""
    spec, raw, _ = load_calibration(synthetic)
    manifest = run_calibration(spec, raw, tmp_path / "out")
    assert manifest["status"] == "complete"
    posterior = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    assert posterior["weight"].sum() == pytest.approx(1.0)
    values = posterior["threat.plot_rate"].to_numpy()
    w = posterior["weight"].to_numpy()
    low, high = (weighted_quantile(values, w, q) for q in (0.05, 0.95))
    assert low <= TRUE_PLOT_RATE <= high
    prior_width = 0.9 * (PRIOR[1] - PRIOR[0])
    assert high - low < 0.6 * prior_width, (low, high)
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert (np.diff(history["epsilon"]) <= 0).all()  # epsilon never rises
    predictive = pd.read_parquet(tmp_path / "out" / "predictive.parquet")
    assert len(predictive) == spec.budget.predictive_draws
    assert set(predictive.particle) <= set(posterior.particle)


def _calibrate_command(spec: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scenarios",
        "calibrate",
        str(spec),
        "--out",
        str(out),
        *extra,
    ]


@pytest.mark.slow
def test_resume_after_sigkill_gives_the_uninterrupted_posterior(
    synthetic: Path, tmp_path: Path
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if k != "SCENARIOS_DEBUG"}
    done = run_cli("calibrate", synthetic, "--out", whole, "--workers", "1", timeout=600)
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen(
        _calibrate_command(synthetic, killed, "--workers", "1"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        history = killed / "history.csv"
        # killed while generation 2 (or later) runs: at least one finished generation on disk
        while not (history.exists() and len(history.read_text().splitlines()) >= 3):
            assert proc.poll() is None, "the calibration finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (killed / "predictive.parquet").exists()
    resumed = run_cli(
        "calibrate", synthetic, "--out", killed, "--workers", "1", "--resume", timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after generation" in resumed.stderr
    for name in ("posterior.parquet", "predictive.parquet", "prior_predictive.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(whole / name), pd.read_parquet(killed / name))


@pytest.mark.slow
def test_same_posterior_whatever_the_workers_and_scheduler(synthetic: Path, tmp_path: Path) -> None:
    """In this process, on the embedded cluster, and on an external Dask scheduler."""
    spec, raw, _ = load_calibration(synthetic)
    spec.budget.max_generations = 2
    reasons = [run_calibration(spec, raw, tmp_path / "one", workers=1)["stopped_because"]]
    reasons.append(run_calibration(spec, raw, tmp_path / "two", workers=2)["stopped_because"])
    with external_dask_cluster(2) as address:
        manifest = run_calibration(spec, raw, tmp_path / "remote", scheduler=address)
        reasons.append(manifest["stopped_because"])
    assert len(set(reasons)) == 1, reasons
    steps = ["generation", "epsilon", "simulations", "ess"]
    one = pd.read_csv(tmp_path / "one" / "history.csv")[steps]
    for other in ("two", "remote"):
        pd.testing.assert_frame_equal(one, pd.read_csv(tmp_path / other / "history.csv")[steps])
    for name in ("posterior.parquet", "predictive.parquet"):
        one = pd.read_parquet(tmp_path / "one" / name)
        pd.testing.assert_frame_equal(one, pd.read_parquet(tmp_path / "two" / name))
        pd.testing.assert_frame_equal(one, pd.read_parquet(tmp_path / "remote" / name))


def test_an_existing_calibration_is_not_overwritten_without_resume(
    synthetic: Path, tmp_path: Path
) -> None:
    spec, raw, _ = load_calibration(synthetic)
    out = tmp_path / "out"
    spec.budget.max_generations = 1
    run_calibration(spec, raw, out)
    with pytest.raises(ConfigError, match="--resume"):
        run_calibration(spec, raw, out)
    changed = spec.model_copy(update={"seed": spec.seed + 1})
    with pytest.raises(ConfigError, match="different calibration file"):
        run_calibration(changed, raw, out, resume=True)
    # a larger budget continues the calibration as if it had had it from the start
    spec.budget.max_generations = 2
    run_calibration(spec, raw, out, resume=True)
    run_calibration(spec, raw, tmp_path / "whole")
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "posterior.parquet"),
        pd.read_parquet(tmp_path / "whole" / "posterior.parquet"),
    )


def test_validate_and_the_wrong_verb_know_calibration_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = ROOT / "configs" / "calibration" / "historical_2022_2024.yaml"
    code = cli_exit_code(monkeypatch, "validate", shipped)
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "calibration file historical_2022_2024: 10 parameters" in out
    code, err = cli_in_process(monkeypatch, capsys, "run", shipped)
    assert code == 2
    assert "scenarios calibrate" in " ".join(err.split())


def test_shipped_targets_cite_facts_of_the_record() -> None:
    """Every target of the shipped file names rows of facts.csv (a copy beside it)."""
    path = ROOT / "configs" / "calibration" / "historical_2022_2024.yaml"
    spec, _, _ = load_calibration(path)
    facts = set(pd.read_csv(path.parent / "facts.csv").fact)
    for name, t in spec.targets.items():
        assert t.source, name
        cited = [f.split("(")[0].strip() for f in t.fact.split(";")]
        assert cited, name
        assert set(cited) <= facts, (name, cited)


def test_a_calibration_that_completes_no_generation_says_so(
    synthetic: Path, tmp_path: Path
) -> None:
    spec, raw, _ = load_calibration(synthetic)
    spec.budget.quantile = 0.01  # generation 0 accepts about 1% ...
    spec.budget.min_acceptance_rate = 1.0  # ... but a task may try only 10 times
    with pytest.raises(CalibrationError, match="no generation completed"):
        run_calibration(spec, raw, tmp_path / "out")
    assert read_manifest(tmp_path / "out")["status"] == "failed"


def never_accepted() -> Particle:
    """A pyABC simulation whose particle is always rejected."""
    return Particle(
        m=0, parameter=Parameter({"x": 1.0}), weight=1.0, sum_stat={}, distance=9.0, accepted=False
    )


def as_on_a_worker(f: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """map, with each task pickled and unpickled first, as it travels to a Dask worker."""
    return [cloudpickle.loads(cloudpickle.dumps(f))(x) for x in items]


@pytest.mark.parametrize("map_", [lambda f, items: list(map(f, items)), as_on_a_worker])
def test_each_task_stops_after_ten_times_its_share_of_the_budget(
    map_: Callable[[Callable[[Any], Any], list[Any]], list[Any]],
) -> None:
    sampler = keyed_sampler(map_, seed=1)
    sampler.sample_factory = SampleFactory()
    sample = sampler.sample_until_n_accepted(5, never_accepted, 0, max_eval=5 / 0.25)
    assert not sample.ok  # short of particles: the calibration stops
    assert sampler.nr_evaluations_ == 5 * 10 * 4  # 5 tasks, 10 x 1/0.25 tries each
