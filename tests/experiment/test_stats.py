"""Statistics against reference implementations (scipy) on fixed data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios.experiment.stats import (
    Estimate,
    mean_ci,
    paired_difference,
    replications_needed,
    welch_difference,
    wilson,
)

RNG = np.random.default_rng(20240322)
A = RNG.normal(10.0, 3.0, 40)
B = A + RNG.normal(-1.0, 1.0, 40)  # correlated with A, as with common random numbers
C = RNG.normal(9.0, 4.0, 55)


def test_mean_ci_matches_scipy_t_interval() -> None:
    est = mean_ci(A)
    low, high = stats.t.interval(0.95, len(A) - 1, loc=A.mean(), scale=stats.sem(A))
    assert est.value == pytest.approx(A.mean())
    assert (est.low, est.high) == pytest.approx((low, high))


def test_mean_ci_ignores_nan_and_handles_one_value() -> None:
    assert mean_ci(np.array([np.nan, 2.0, 4.0])).value == pytest.approx(3.0)
    one = mean_ci(np.array([5.0]))
    assert (one.low, one.value, one.high) == (5.0, 5.0, 5.0)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (17, 40), (40, 40), (1, 1000)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    est = wilson(k, n)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert est.value == pytest.approx(k / n)
    assert est.low == pytest.approx(ref.low, abs=1e-12)
    assert est.high == pytest.approx(ref.high, abs=1e-12)


def test_paired_difference_matches_scipy_ttest_rel() -> None:
    d = paired_difference(A, B)
    ref = stats.ttest_rel(B, A).confidence_interval(0.95)
    assert d.method == "paired t"
    assert d.diff.value == pytest.approx((B - A).mean())
    assert (d.diff.low, d.diff.high) == pytest.approx((ref.low, ref.high))


def test_welch_difference_matches_scipy_ttest_ind() -> None:
    d = welch_difference(A, C)
    ref = stats.ttest_ind(C, A, equal_var=False).confidence_interval(0.95)
    assert d.method == "Welch t"
    assert d.diff.value == pytest.approx(C.mean() - A.mean())
    assert (d.diff.low, d.diff.high) == pytest.approx((ref.low, ref.high))


def test_pairing_correlated_samples_narrows_the_interval() -> None:
    assert paired_difference(A, B).diff.half_width < welch_difference(A, B).diff.half_width / 2


def test_relative_change_point_and_interval() -> None:
    d = paired_difference(A, B)
    assert d.relative.value == pytest.approx(B.mean() / A.mean() - 1)
    assert d.relative.low < d.relative.value < d.relative.high
    # the bootstrap is seeded: same data, same interval
    again = paired_difference(A, B)
    assert (again.relative.low, again.relative.high) == (d.relative.low, d.relative.high)
    # and it agrees with the absolute interval's sign here
    assert d.relative.high < 0


def test_relative_change_undefined_for_zero_baseline() -> None:
    d = paired_difference(np.zeros(10), np.ones(10))
    assert np.isnan(d.relative.value)
    assert d.diff.value == 1.0


def test_replications_needed_scales_with_squared_ratio() -> None:
    est = Estimate(10.0, 8.0, 12.0, 50)  # half-width 2
    assert replications_needed(est, 1.0) == 200
    assert replications_needed(est, 4.0) == 50  # already precise enough
