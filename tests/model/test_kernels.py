"""The compiled random streams: independent, reproducible, correctly distributed."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.model import kernels


def _state(seed: int) -> np.ndarray:
    return kernels.seed_streams(np.random.SeedSequence(seed))


def test_streams_are_reproducible_and_independent() -> None:
    a, b = _state(0), _state(0)
    xa = [kernels.uniform(a, 0) for _ in range(100)]
    xb = [kernels.uniform(b, 0) for _ in range(100)]
    assert xa == xb
    other = [kernels.uniform(b, 1) for _ in range(100)]
    assert xa != other
    # drawing from stream 1 did not advance stream 0
    c = _state(0)
    for _ in range(50):
        kernels.uniform(c, 1)
    assert [kernels.uniform(c, 0) for _ in range(100)] == xa


def test_seed_zero_is_a_seed() -> None:
    assert not np.array_equal(_state(0), _state(1))


def test_uniform_moments() -> None:
    s = _state(7)
    x = np.array([kernels.uniform(s, 2) for _ in range(40_000)])
    assert x.min() >= 0.0
    assert x.max() < 1.0
    assert x.mean() == pytest.approx(0.5, abs=0.01)
    assert x.var() == pytest.approx(1 / 12, abs=0.005)


@pytest.mark.parametrize("lam", [0.0, 0.3, 4.0, 80.0])
def test_poisson_mean_and_variance(lam: float) -> None:
    s = _state(3)
    x = np.array([kernels.poisson(s, 0, lam) for _ in range(20_000)])
    assert x.mean() == pytest.approx(lam, abs=0.05 * max(lam, 1))
    assert x.var() == pytest.approx(lam, abs=0.1 * max(lam, 1))


@pytest.mark.parametrize(
    ("n", "p"), [(0, 0.5), (10, 0.0), (10, 1.0), (50, 0.02), (200, 0.7), (5000, 0.3)]
)
def test_binomial_mean_and_bounds(n: int, p: float) -> None:
    s = _state(11)
    x = np.array([kernels.binomial(s, 0, n, p) for _ in range(10_000)])
    assert x.min() >= 0
    assert x.max() <= n
    assert x.mean() == pytest.approx(n * p, abs=max(0.05, 0.02 * n * p))
    assert x.var() == pytest.approx(n * p * (1 - p), abs=max(0.05, 0.1 * n * p * (1 - p)))
