"""Statistics against reference implementations (scipy) on fixed data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios.experiment.stats import (
    Estimate,
    clustered_mean_ci,
    clustered_rate_ci,
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


def test_clustered_mean_ci_is_the_t_interval_of_the_draw_means_when_balanced() -> None:
    rng = np.random.default_rng(3)
    draws = np.repeat(np.arange(12), 4)
    values = np.repeat(rng.normal(0.0, 3.0, 12), 4) + rng.normal(0.0, 1.0, 48)
    clustered = clustered_mean_ci(values, draws)
    of_means = mean_ci(values.reshape(12, 4).mean(axis=1))
    assert clustered.value == pytest.approx(of_means.value)
    assert clustered.low == pytest.approx(of_means.low)
    assert clustered.high == pytest.approx(of_means.high)
    assert clustered.n == 48  # replications, not draws
    # draw effects much larger than chance: the naive interval is far too narrow
    naive = mean_ci(values)
    assert clustered.half_width > 1.5 * naive.half_width


def test_clustered_mean_ci_covers_the_mean_at_its_level_with_unequal_draws() -> None:
    rng = np.random.default_rng(4)
    sizes = np.array([1, 2, 3, 4] * 5)  # 20 draws of unequal size
    draws = np.repeat(np.arange(len(sizes)), sizes)
    covered = 0
    for _ in range(2000):
        values = np.repeat(rng.normal(0.0, 2.0, len(sizes)), sizes) + rng.normal(0, 1, len(draws))
        est = clustered_mean_ci(values, draws)
        covered += est.low <= 0.0 <= est.high
    assert 0.92 <= covered / 2000 <= 0.975
    one = clustered_mean_ci(np.array([1.0, 2.0, 3.0]), np.zeros(3))
    assert one.value == 2.0
    assert np.isnan(one.low)
    assert np.isnan(one.high)


def test_clustered_rate_ci_matches_the_draw_rates_when_balanced_and_stays_in_0_1() -> None:
    rng = np.random.default_rng(5)
    draws = np.repeat(np.arange(10), 3)
    years = np.full(30, 5.0)
    hits = rng.binomial(5, np.repeat(rng.uniform(0.0, 0.6, 10), 3)).astype(float)
    est = clustered_rate_ci(hits, years, draws)
    rates = (hits / years).reshape(10, 3).mean(axis=1)
    of_rates = mean_ci(rates)
    assert est.value == pytest.approx(hits.sum() / years.sum())
    assert est.low == pytest.approx(max(0.0, of_rates.low))
    assert est.high == pytest.approx(of_rates.high)
    assert est.n == 150  # trials: replication-years
    rare = clustered_rate_ci(np.array([0.0, 0, 0, 1]), np.full(4, 5.0), np.array([0, 0, 1, 1]))
    assert rare.low == 0.0
    assert 0.0 < rare.value < rare.high <= 1.0
