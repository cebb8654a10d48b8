"""Absurd work sizes are refused up front, before any compute or allocation.

`run`, `experiment` and `sweep` estimate their work arithmetically (replication-weeks,
time-series size, sample points) and exit 2 with one message beyond the documented
limits, unless `--yes` is given. The commands run in this process, with the compute
replaced by a function that fails the test if it is ever reached: a refused command
never gets there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CONFIGS

from scenarios import cli
from scenarios.config import load_config
from scenarios.experiment import workload
from scenarios.experiment.sweep import SweepSpec

BASELINE = CONFIGS / "baseline.yaml"


class ComputeReachedError(Exception):
    """The compute was reached."""


def reached(*args: Any, **kwargs: Any) -> Any:
    raise ComputeReachedError("the compute was reached")


def main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: object
) -> tuple[int, str]:
    """Run ``scenarios ARGS`` in this process: exit code and stderr."""
    monkeypatch.setattr(cli, "sigterm_as_interrupt", lambda: None)
    monkeypatch.delenv("SCENARIOS_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["scenarios", *(str(a) for a in args)])
    with pytest.raises(SystemExit) as info:
        cli.main()
    code = info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@pytest.fixture
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verb's compute (and a sweep's design) raises ComputeReachedError."""
    import scenarios.experiment.experiment as experiment_module
    import scenarios.experiment.run as run_module

    monkeypatch.setattr(run_module, "execute_run", reached)
    monkeypatch.setattr(experiment_module, "run_experiment", reached)
    monkeypatch.setattr(SweepSpec, "design", reached)


def refused(code: int, message: str, *fragments: str) -> None:
    assert code == 2, message
    assert "Traceback" not in message
    assert message.startswith("error:"), message
    assert "\n\n" not in message.strip()
    assert "--yes" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def _sweep(folder: Path, body: str) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(f"name: big\nbase: {BASELINE}\n{body}", encoding="utf-8")
    return path


SIX_PARAMETERS = "".join(
    f"  {p}: {{bounds: [0.1, 0.9]}}\n"
    for p in (
        "sharing.compartmentalisation",
        "sharing.policy.us.russia",
        "sharing.policy.us.taliban",
        "sharing.policy.russia.us",
        "sharing.policy.russia.taliban",
        "sharing.policy.taliban.us",
    )
)
TWELVE_PARAMETERS = SIX_PARAMETERS + "".join(
    f"  {p}: {{bounds: [0.1, 0.9]}}\n"
    for p in (
        "sharing.policy.taliban.russia",
        "trust.initial.us.russia",
        "trust.initial.us.taliban",
        "trust.initial.russia.us",
        "trust.initial.russia.taliban",
        "trust.initial.taliban.us",
    )
)

GRID_64M = f"method: grid\nsamples: 20\nreplications: 1\nparameters:\n{SIX_PARAMETERS}"


# --------------------------------------------------------------------------------------
# The estimate
# --------------------------------------------------------------------------------------


def test_a_run_is_replications_times_simulated_weeks() -> None:
    cfg = load_config(BASELINE, ["run.replications=10", "run.steps=100", "run.burn_in=20"])
    work = workload.run_workload(cfg)
    assert work.replication_weeks == 10 * 120
    assert work.timeseries_bytes > 10 * 100 * 8 * 50  # rows x (many) float64 columns
    assert work.seconds() == pytest.approx(1200 * workload.SECONDS_PER_REPLICATION_WEEK)
    assert work.problems() == []
    work.check(yes=False)


def test_the_shipped_sweeps_and_experiments_are_within_the_limits() -> None:
    from scenarios.config import load_raw, read_yaml
    from scenarios.experiment.experiment import load_experiment

    for path in sorted((CONFIGS / "sweeps").glob("*.yaml")):
        spec = SweepSpec.model_validate(read_yaml(path, "sweep"))
        raw_base = load_raw((path.parent / spec.base).resolve())
        if spec.steps is not None:
            raw_base["run"] = {**raw_base.get("run", {}), "steps": spec.steps}
        work = workload.sweep_workload(spec, raw_base)
        assert work.problems() == [], path
    for path in sorted((CONFIGS.parent / "experiments").glob("*.yaml")):
        spec_e, configs = load_experiment(path)
        workload.experiment_workload(spec_e.name, configs).check(yes=False)


def test_the_limits_are_refused_unless_yes() -> None:
    cfg = load_config(BASELINE, ["run.replications=1000000", "run.steps=5200"])
    work = workload.run_workload(cfg)
    assert work.replication_weeks == 1_000_000 * (5200 + cfg.run.burn_in)
    assert len(work.problems()) == 2  # too much work, and a time series too big
    with pytest.raises(workload.WorkloadError, match="--yes"):
        work.check(yes=False)
    work.check(yes=True)


def test_durations_read_as_a_person_would_say_them() -> None:
    assert workload.duration(30) == "about 30 seconds"
    assert workload.duration(600) == "about 10 minutes"
    assert workload.duration(5 * 3600) == "about 5 hours"
    assert workload.duration(11 * 86400) == "about 11 days"
    assert workload.duration(300 * 365.25 * 86400) == "about 300 years"


# --------------------------------------------------------------------------------------
# The verbs refuse before any compute
# --------------------------------------------------------------------------------------


def test_run_of_a_million_replications_of_a_century_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_compute: None,
) -> None:
    out = tmp_path / "run"
    code, message = main(
        monkeypatch,
        capsys,
        *("run", BASELINE, "-n", "1000000", "--steps", "5200", "--out", out),
    )
    refused(code, message, "replication-weeks", "hours", "on disk")
    assert list(tmp_path.iterdir()) == []


def test_run_beyond_the_limits_goes_ahead_with_yes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_compute: None,
) -> None:
    out = tmp_path / "run"
    args = ("run", BASELINE, "-n", "1000000", "--steps", "5200", "--out", out, "--yes")
    with pytest.raises(ComputeReachedError):
        cli.app(args=[str(a) for a in args], standalone_mode=False)


def test_experiment_of_a_million_replications_of_a_century_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_compute: None,
) -> None:
    spec = tmp_path / "experiment.yaml"
    spec.write_text(
        "name: huge\n"
        f"scenarios: {{baseline: {BASELINE}, trilateral: {CONFIGS / 'trilateral.yaml'}}}\n"
        "baseline: baseline\nreplications: 1000000\nsteps: 5200\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, message = main(monkeypatch, capsys, "experiment", spec, "--out", out)
    refused(code, message, "huge", "replication-weeks")
    assert not out.exists()


@pytest.mark.parametrize(
    ("case", "body", "fragments"),
    [
        (
            "grid_of_64_million_points",
            GRID_64M,
            ["64,000,000", "points"],
        ),
        (
            "sobol_of_7e10_runs",
            f"method: sobol\nsamples: 524288\nreplications: 10000\nparameters:\n"
            f"{TWELVE_PARAMETERS}",
            ["replication-weeks", "7,340,032"],
        ),
    ],
)
def test_absurd_sweeps_are_refused_without_drawing_the_design(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_compute: None,
    case: str,
    body: str,
    fragments: list[str],
) -> None:
    path = _sweep(tmp_path, body)
    out = tmp_path / "out"
    code, message = main(monkeypatch, capsys, "sweep", path, "--out", out)
    refused(code, message, *fragments)
    assert not out.exists()


def test_sweep_with_yes_goes_on_to_draw_its_design(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_compute: None,
) -> None:
    path = _sweep(tmp_path, GRID_64M)
    args = ["sweep", str(path), "--out", str(tmp_path / "out"), "--yes"]
    with pytest.raises(ComputeReachedError):
        cli.app(args=args, standalone_mode=False)
