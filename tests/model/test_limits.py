"""The model stops, with a clear error, a run whose parameters drive it past its size.

Values inside the schema's bounds can still multiply into millions of plots or cells
(the strongest group recruiting and plotting at the highest rates). The model refuses
to go on past ``MAX_LIVE_PLOTS`` live plots or ``MAX_LIVE_CELLS`` live cells, checked
once a week, instead of running for minutes and taking gigabytes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import run_cli

from scenarios.config import ModelLimitError, load_config
from scenarios.model import simulation as model_module
from scenarios.model.model import MAX_LIVE_CELLS, MAX_LIVE_PLOTS, ScenarioModel

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "configs" / "baseline.yaml"

# Inside every bound, and far outside what the model is built for.
MANY_PLOTS = [
    "threat.fighters=200000",
    "threat.cells=5000",
    "threat.carrying_capacity=1000000",
    "threat.recruitment_rate=1",
    "threat.fighters_lost_per_interdiction=0",
    "threat.plot_rate=100",
]
MANY_CELLS = [
    "threat.fighters=200000",
    "threat.cells=5000",
    "threat.carrying_capacity=1000000",
    "threat.split_size=2",
    "threat.plot_rate=0",
]
SHORT = ["run.burn_in=10", "run.steps=5", "run.replications=1"]


def test_the_limits_are_far_above_the_shipped_scenarios() -> None:
    model = ScenarioModel(load_config(BASELINE), seed=1)
    plots = cells = 0
    for _ in range(model.config.run.burn_in + model.config.run.steps):
        model.step()
        plots = max(plots, model.plots.n)
        cells = max(cells, len(model.cells.live_slots()))
    assert 100 * plots < MAX_LIVE_PLOTS
    assert 100 * cells < MAX_LIVE_CELLS


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (MANY_PLOTS, ["live plots", f"{MAX_LIVE_PLOTS:,}", "threat.plot_rate", "100"]),
        (MANY_CELLS, ["live cells", f"{MAX_LIVE_CELLS:,}", "threat.split_size", "2"]),
    ],
    ids=["plots", "cells"],
)
def test_a_run_past_the_limits_stops_with_a_clear_error(
    overrides: list[str], fragments: list[str]
) -> None:
    config = load_config(BASELINE, [*overrides, *SHORT])
    model = ScenarioModel(config, seed=1)
    started = time.monotonic()
    with pytest.raises(ModelLimitError) as info:
        model.run()
    assert time.monotonic() - started < 30
    assert model.week < 0  # stopped in spin-up, long before the end
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_the_limit_is_checked_before_plots_are_allocated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "MAX_LIVE_PLOTS", 50)
    config = load_config(BASELINE, ["threat.plot_rate=100", *SHORT])
    model = ScenarioModel(config, seed=1)
    with pytest.raises(ModelLimitError, match="live plots"):
        model.run()
    assert model.plots.n <= 50
    assert len(model.plots.key) < 10_000


def test_limit_errors_survive_a_process_pool() -> None:
    """Replications on workers raise the same error in the parent (it pickles)."""
    import pickle

    error = ModelLimitError("week -3: 200,001 live plots")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ModelLimitError
    assert str(again) == str(error)


def test_cli_maps_a_model_limit_to_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", BASELINE, "--replications", "1", "--steps", "5", "--out", out]
    for override in [*MANY_CELLS, "run.burn_in=10"]:
        args += ["--set", override]
    result = run_cli(*args, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert message.startswith("error:"), message
    for fragment in ("live cells", f"{MAX_LIVE_CELLS:,}", "threat.split_size"):
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert not out.exists()


def test_fatalities_are_never_negative_for_a_heavy_tail() -> None:
    """An exponent near 1 draws values beyond int64: they are capped, not wrapped around."""
    config = load_config(BASELINE, ["severity.exponent=1.01", "run.steps=52", "run.burn_in=0"])
    model = ScenarioModel(config, seed=3)
    columns = model.run()
    fatalities = np.asarray(columns["fatalities"])
    attacks = np.asarray(columns["attacks_successful"])
    assert attacks.sum() > 0
    assert (fatalities >= 0).all()
    assert fatalities.sum() <= attacks.sum() * config.severity.cap
