"""scenarios discover: PRIM finds a known box; the verb runs on a sweep."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS, external_dask_cluster, run_cli

from scenarios.config import ConfigError
from scenarios.decision.discover import condition_mask, describe, find_box
from scenarios.experiment.executor import read_results


def test_prim_finds_a_known_box() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((3000, 3)), columns=["a", "b", "c"])
    y = ((x.a > 0.6) & (x.b < 0.3)).to_numpy()
    box = find_box(x, y, density=0.9)
    assert set(box.limits) == {"a", "b"}  # c does not matter
    assert box.limits["a"][0] == pytest.approx(0.6, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(0.3, abs=0.05)
    assert box.density >= 0.9
    assert box.coverage > 0.8
    words = describe(box, {n: (x[n].min(), x[n].max()) for n in "abc"}, "y")
    assert re.search(r"`a` is above 0\.(59|6)", words), words
    assert re.search(r"`b` is below 0\.(29|3)", words), words


def test_a_bad_condition_is_refused() -> None:
    means = pd.DataFrame({"attacks_successful": [1.0, 2.0], "effect:fatalities": [0.0, -1.0]})
    assert condition_mask(means, "effect:fatalities < 0").tolist() == [False, True]
    with pytest.raises(ConfigError, match="cannot evaluate"):
        condition_mask(means, "no_such_outcome > 1")
    with pytest.raises(ConfigError, match="not a condition"):
        condition_mask(means, "attacks_successful + 1")


SWEEP = """
name: tiny_lhs
base: {base}
method: lhs
samples: 80
replications: 1
steps: 26
seed: 3
parameters:
  threat.plot_rate: {{bounds: [0.5, 4.0]}}
  threat.relocation_rate: {{bounds: [0.0, 0.1]}}
outcomes: [attacks_attempted]
"""


@pytest.mark.slow
def test_discover_on_a_sweep(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SWEEP.format(base=CONFIGS / "baseline.yaml"))
    sweep = tmp_path / "sweep"
    res = run_cli("sweep", spec, "--workers", "2", "--out", sweep)
    assert res.returncode == 0, res.stderr
    threshold = float(read_results(sweep).attacks_attempted.quantile(0.75))
    res = run_cli("discover", sweep, "--where", f"attacks_attempted > {threshold}")
    assert res.returncode == 0, res.stderr
    box = pd.read_csv(sweep / "discover" / "box.csv").set_index("parameter")
    # more plots, more attempts: the box is the high plot rates
    assert box.loc["threat.plot_rate", "low"] > 2.0
    assert "threat.plot_rate` is above" in (sweep / "discover" / "report.md").read_text()
    bad = run_cli("discover", sweep, "--where", "no_such > 1")
    assert bad.returncode == 2
    assert "cannot evaluate" in bad.stderr


@pytest.mark.slow
def test_discover_on_a_sweep_run_on_an_external_scheduler(tmp_path: Path) -> None:
    """discover runs no simulations (no --scheduler): it reads a sweep run on a cluster."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        SWEEP.format(base=CONFIGS / "baseline.yaml").replace("samples: 80", "samples: 40")
    )
    local, remote = tmp_path / "local", tmp_path / "remote"
    res = run_cli("sweep", spec, "--workers", "2", "--out", local)
    assert res.returncode == 0, res.stderr
    with external_dask_cluster(2) as address:
        res = run_cli("sweep", spec, "--scheduler", address, "--out", remote)
        assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(read_results(remote), read_results(local))
    where = f"attacks_attempted > {read_results(local).attacks_attempted.median()}"
    for sweep in (local, remote):
        res = run_cli("discover", sweep, "--where", where)
        assert res.returncode == 0, res.stderr
    for name in ("box.csv", "trajectory.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(remote / "discover" / name), pd.read_csv(local / "discover" / name)
        )
    assert not pd.read_csv(local / "discover" / "box.csv").empty
    assert "--scheduler" not in run_cli("discover", "--help").stdout
