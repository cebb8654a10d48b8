"""Regenerate the reference outputs that ``test_reference.py`` holds the model to.

Usage, from the repository root (only on purpose, when a change of the model's outputs
is intended; say why in the commit message):

    python tests/reference/make_reference.py

Each case is a shipped scenario with a few ``--set`` variants at a fixed seed; the
summary and weekly timeseries of its replications are written as parquet files beside
this script. Performance work (compiled weeks, streamed outputs) must keep them
byte-identical: same columns, same dtypes, same values to the last bit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scenarios.config import load_config
from scenarios.experiment.runner import run_scenario

HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parents[1] / "configs"

# name -> (config file, overrides); three replications each at their own root seed.
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "baseline": ("baseline.yaml", ("run.seed=11",)),
    "trilateral": ("trilateral.yaml", ("run.seed=12",)),
    "historical": ("historical_2022_2024.yaml", ("run.seed=13",)),
    "compartmentalised": ("trilateral_compartmentalised.yaml", ("run.seed=14",)),
    "no_crackdown": ("no_crackdown.yaml", ("run.seed=15", "run.steps=60")),
    "baseline_variants": (
        "baseline.yaml",
        (
            "run.seed=16",
            "threat.displacement=0",
            "threat.plot_lifetime_shape=1",
            "sharing.trust_sensitivity=2.5",
            "counterintelligence.coverage_damage=0.1",
        ),
    ),
    "us_russia_small": ("us_russia.yaml", ("run.seed=17", "threat.fighters=600", "run.burn_in=10")),
}
REPLICATIONS = 3


def run_case(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary and timeseries of one case, as the runner produces them."""
    config, overrides = CASES[name]
    cfg = load_config(CONFIGS / config, [f"run.replications={REPLICATIONS}", *overrides])
    result = run_scenario(cfg, workers=1)
    return result.summary, result.timeseries


def main() -> None:
    for name in CASES:
        summary, timeseries = run_case(name)
        summary.to_parquet(HERE / f"{name}.summary.parquet", index=False, compression="zstd")
        timeseries.to_parquet(HERE / f"{name}.timeseries.parquet", index=False, compression="zstd")
        print(f"{name}: {len(summary)} replications, {len(timeseries)} weekly rows")


if __name__ == "__main__":
    main()
