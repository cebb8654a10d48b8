"""A small synthetic calibration problem: a short run of the baseline, one parameter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from scenarios.config import load_config
from scenarios.experiment.seeds import replication_seeds, replication_sequence
from scenarios.model.params import compile_parameters
from scenarios.model.regions import build_geometry
from scenarios.model.simulation import run_replication

ROOT = Path(__file__).resolve().parents[2]
TRUE_PLOT_RATE = 2.2  # the known parameter value the synthetic targets come from
PRIOR = (0.5, 5.0)
STEPS = 52


def scenario_file(tmp: Path) -> Path:
    """A one-year baseline with a short spin-up (cheap runs), as a config file."""
    path = tmp / "short.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "extends": str(ROOT / "configs" / "baseline.yaml"),
                "name": "short",
                "run": {"steps": STEPS, "burn_in": 26, "start": "2025-01-06"},
            }
        )
    )
    return path


def model_attempts(scenario: Path, plot_rate: float, n: int, root_seed: int) -> np.ndarray:
    """Attempted attacks over the run, per replication, at ``plot_rate``."""
    cfg = load_config(scenario, [f"threat.plot_rate={plot_rate}"])
    geometry = build_geometry(cfg)
    parameters = compile_parameters(cfg, geometry)
    out = []
    for seed in replication_seeds(root_seed, n):
        weekly, _ = run_replication(cfg, replication_sequence(seed), geometry, parameters)
        out.append(weekly["attacks_attempted"].sum())
    return np.array(out)


def calibration_file(tmp: Path, observed: float, scale: float, **budget: object) -> Path:
    """A calibration of threat.plot_rate against total attempted attacks."""
    scenario = scenario_file(tmp)
    spec = {
        "name": "synthetic",
        "scenario": scenario.name,
        "seed": 11,
        "parameters": {"threat.plot_rate": {"bounds": list(PRIOR)}},
        "targets": {
            "attempts": {
                "label": "Attempted attacks over the year",
                "unit": "attacks",
                "observed": float(observed),
                "scale": float(scale),
                "statistic": {
                    "kind": "total",
                    "columns": ["attacks_attempted"],
                    "window": {"start": "2025-01-06", "end": "2025-12-31"},
                },
            }
        },
        "budget": {"population": 60, "max_generations": 4, "predictive_draws": 20, **budget},
    }
    path = tmp / "synthetic.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic calibration file, its target made by the model at TRUE_PLOT_RATE."""
    tmp = tmp_path_factory.mktemp("synthetic")
    attempts = model_attempts(scenario_file(tmp), TRUE_PLOT_RATE, 30, root_seed=99)
    return calibration_file(tmp, attempts.mean(), attempts.std(ddof=1))
