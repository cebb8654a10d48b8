"""scenarios optimise: NSGA-II on problems with known fronts, resume, and end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import external_dask_cluster, run_cli, small_optimisation

from scenarios.decision.optimise import nsga2, pareto_front


def two_parabolas(constrained: bool):
    """f1 = x^2 + y, f2 = (x - 2)^2 + y: the front is x in [0, 2], y = 0 (x >= 1 if constrained)."""

    def evaluate(_generation: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = np.column_stack([x[:, 0] ** 2 + x[:, 1], (x[:, 0] - 2) ** 2 + x[:, 1]])
        g = (1 - x[:, 0])[:, None] if constrained else np.zeros((len(x), 0))
        return f, g

    return evaluate


BOUNDS = (np.array([-2.0, 0.0]), np.array([4.0, 1.0]))


@pytest.mark.parametrize("constrained", [False, True])
def test_nsga2_finds_the_known_front(constrained: bool) -> None:
    algorithm = nsga2(
        2,
        BOUNDS,
        2,
        int(constrained),
        two_parabolas(constrained),
        population=24,
        generations=80,
        seed=5,
    )
    x = algorithm.opt.get("X")
    low = 1.0 if constrained else 0.0
    assert (x[:, 0] >= low - 0.05).all()
    assert (x[:, 0] <= 2.05).all()
    assert (x[:, 1] < 0.05).all()
    assert x[:, 0].max() - x[:, 0].min() > 0.8 * (2 - low)  # spread along the front


def test_a_resumed_search_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    whole = nsga2(2, BOUNDS, 2, 0, two_parabolas(False), population=12, generations=6, seed=2)
    checkpoint = tmp_path / "checkpoint.pkl"
    nsga2(
        2,
        BOUNDS,
        2,
        0,
        two_parabolas(False),
        population=12,
        generations=3,
        seed=2,
        checkpoint=checkpoint,
    )
    resumed = nsga2(
        2,
        BOUNDS,
        2,
        0,
        two_parabolas(False),
        population=12,
        generations=6,
        seed=2,
        checkpoint=checkpoint,
    )
    np.testing.assert_array_equal(whole.pop.get("X"), resumed.pop.get("X"))


def test_pareto_front_keeps_feasible_non_dominated_rows() -> None:
    f = np.array([[1, 5], [2, 2], [3, 3], [5, 1], [0, 0]], dtype=float)
    feasible = np.array([True, True, True, True, False])  # the best point is infeasible
    assert pareto_front(f, feasible).tolist() == [0, 1, 3]


@pytest.mark.slow
def test_optimise_end_to_end(tmp_path: Path) -> None:
    path, _ = small_optimisation(tmp_path)
    out = tmp_path / "out"
    res = run_cli("optimise", path, "--workers", "2", "--out", out)
    assert res.returncode == 0, res.stderr
    evaluations = pd.read_csv(out / "evaluations.csv")
    assert len(evaluations) == 6 * 2
    front = pd.read_csv(out / "pareto.csv")
    assert len(front) >= 1
    assert front.feasible.all()
    assert (front.ci_exposure__us <= 20).all()
    assert {"attacks_successful__russia__fresh", "feasible__fresh"} <= set(front.columns)
    report = (out / "report.md").read_text()
    assert "| P1 |" in report
    assert (out / "plots" / "front.png").exists()
    with external_dask_cluster(2) as address:
        remote = tmp_path / "remote"
        res = run_cli("optimise", path, "--scheduler", address, "--out", remote)
        assert res.returncode == 0, res.stderr
    # the same candidates, objectives, front and fresh-seed re-evaluation as local workers
    pd.testing.assert_frame_equal(pd.read_csv(remote / "evaluations.csv"), evaluations)
    pd.testing.assert_frame_equal(pd.read_csv(remote / "pareto.csv"), front)
