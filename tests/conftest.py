"""Shared fixtures: paths and a cached scenario runner for validation tests."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from scenarios.config import ScenarioConfig, load_config
from scenarios.experiment.runner import RunResult, run_scenario

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


@pytest.fixture
def configs_dir() -> Path:
    return CONFIGS


def config(name: str, *overrides: str) -> ScenarioConfig:
    """A shipped config with overrides applied."""
    return load_config(CONFIGS / f"{name}.yaml", list(overrides))


# Under pytest-xdist the suite is already spread over the cores.
WORKERS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2


@cache
def _run(name: str, overrides: tuple[str, ...]) -> RunResult:
    return run_scenario(config(name, *overrides), workers=WORKERS)


def run(name: str, *overrides: str) -> RunResult:
    """Run (once per session, then cached) a shipped scenario with overrides."""
    return _run(name, tuple(overrides))


def summary(name: str, *overrides: str) -> pd.DataFrame:
    return run(name, *overrides).summary
