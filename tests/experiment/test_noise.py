"""Replication noise in sweeps: its share, the replications it needs, the indices it explains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as sobol_sample

from scenarios.experiment.sensitivity import NOISE_TARGET, analyse, flag_noise, noise_table

PROBLEM = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}


def noisy_runs(x: np.ndarray, reps: int, sd: float, seed: int) -> pd.DataFrame:
    """y = 4 a + noise(sd); b does nothing. One row per run."""
    rng = np.random.default_rng(seed)
    point = np.repeat(np.arange(len(x)), reps)
    y = 4 * x[point, 0] + rng.normal(0, sd, size=len(point))
    return pd.DataFrame({"point": point, "y": y})


def test_noise_share_and_replications_needed() -> None:
    x = sobol_sample.sample(PROBLEM, 256, calc_second_order=False, seed=1)
    runs = noisy_runs(x, reps=2, sd=2.0, seed=2)
    table = noise_table(runs, ["y"], 2).iloc[0]
    assert table.within_variance == pytest.approx(4.0, rel=0.1)
    signal = 16 / 12  # variance of 4 a, a ~ U(0, 1)
    assert table.noise_share == pytest.approx(2.0 / (signal + 2.0), rel=0.15)
    assert table.replications_needed == pytest.approx(4.0 / (NOISE_TARGET * signal), rel=0.2)


def test_noise_alone_explains_the_total_index_of_a_parameter_that_does_nothing() -> None:
    x = sobol_sample.sample(PROBLEM, 512, calc_second_order=False, seed=1)
    runs = noisy_runs(x, reps=2, sd=2.0, seed=3)
    means = runs.groupby("point").y.mean().to_numpy()
    indices = analyse("sobol", PROBLEM, x, {"y": means}, seed=4)
    noise = noise_table(runs, ["y"], 2)
    st = indices[indices["index"] == "ST"].set_index("parameter")
    share = noise.noise_share.iloc[0]
    assert st.loc["b", "value"] == pytest.approx(share, abs=0.12)  # what noise alone gives
    flagged = flag_noise(indices, noise).set_index(["parameter", "index"]).flag
    assert flagged["b", "ST"] == "noise"
    assert flagged["a", "ST"] == ""
    # with little noise, nothing is left for noise to explain in a
    quiet = noisy_runs(x, reps=2, sd=0.01, seed=3)
    assert noise_table(quiet, ["y"], 2).noise_share.iloc[0] < 1e-3


def test_a_seed_shift_common_to_every_point_is_not_noise() -> None:
    """Common random numbers: a large shift per replication seed, shared by all points, cancels."""
    x = sobol_sample.sample(PROBLEM, 512, calc_second_order=False, seed=1)
    reps = 3
    runs = noisy_runs(x, reps=reps, sd=0.5, seed=5)
    runs["replication"] = np.tile(np.arange(reps), len(x))
    shift = np.random.default_rng(6).normal(0, 20.0, size=reps)
    runs["y"] += shift[runs.replication]
    table = noise_table(runs, ["y"], reps).iloc[0]
    assert table.within_variance == pytest.approx(0.25, rel=0.1)  # the interaction only
    means = runs.groupby("point").y.mean().to_numpy()
    indices = analyse("sobol", PROBLEM, x, {"y": means}, seed=4)
    st = indices[indices["index"] == "ST"].set_index("parameter")
    # what noise alone gives b is the interaction's share, not the seed shift's
    assert st.loc["b", "value"] == pytest.approx(table.noise_share, abs=0.03)
    assert table.noise_share < 0.1
    # without the replication column the shift would be read as noise
    assert noise_table(runs.drop(columns="replication"), ["y"], reps).noise_share.iloc[0] == 1.0
