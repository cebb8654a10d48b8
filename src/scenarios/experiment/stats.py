"""Interval estimates for replication outputs.

- Means: Student-t 95% interval over replications (replications are i.i.d.).
- Event probabilities: Wilson score interval (Wilson 1927), which stays inside [0, 1]
  and behaves at 0 or n successes, unlike the normal approximation.
- Pairing: how much common random numbers shrank the variance of a difference.
- Many differences at once: Benjamini-Hochberg adjusted p-values (``q_values``), which
  control the expected share of false discoveries among the differences called clear.
- Posterior ensembles: how much of the spread over replications comes from not knowing
  the parameters and how much from chance (``variance_components``); levels whose
  intervals count each parameter draw as one unit (``clustered_mean_ci``,
  ``clustered_rate_ci``), since replications of one draw are not independent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval width (same unit as the value)."""
        return (self.high - self.low) / 2.0


def mean_ci(values: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean and Student-t interval; NaNs are dropped; one value gives a zero-width interval."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, mean, mean, 1)
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    q = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return Estimate(mean, mean - q * sem, mean + q * sem, n)


def _cluster_sums(residuals: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """Sums of ``residuals`` by cluster, and the number of clusters."""
    _, group = np.unique(clusters, return_inverse=True)
    sums = np.bincount(group, weights=residuals)
    return sums, len(sums)


def clustered_mean_ci(values: np.ndarray, clusters: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean of ``values`` with a 95% interval that counts each cluster as one unit.

    For replications over a posterior ensemble, ``clusters`` is each replication's
    parameter draw: replications of one draw share their parameters and are not
    independent, so the interval is the cluster-robust one (Liang and Zeger 1986) with
    G - 1 degrees of freedom for G draws; with the same number of replications in every
    draw it is the Student-t interval of the draw means. ``n`` is the number of
    replications. NaNs are dropped; fewer than two draws give no interval (NaN bounds).
    """
    x = np.asarray(values, dtype=float)
    keep = ~np.isnan(x)
    x, g = x[keep], np.asarray(clusters)[keep]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    sums, clusters_n = _cluster_sums(x - mean, g)
    if clusters_n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    se = math.sqrt(clusters_n / (clusters_n - 1) * float((sums**2).sum())) / n
    q = float(stats.t.ppf(0.5 + level / 2.0, clusters_n - 1))
    return Estimate(mean, mean - q * se, mean + q * se, n)


def clustered_rate_ci(
    successes: np.ndarray, trials: np.ndarray, clusters: np.ndarray, level: float = 0.95
) -> Estimate:
    """Pooled proportion sum(successes) / sum(trials) with a cluster-robust interval.

    The ratio estimator's linearised variance, summed by cluster (parameter draw), with
    G - 1 degrees of freedom; clipped to [0, 1]. ``n`` is the number of trials, as for
    :func:`wilson`. Fewer than two clusters give no interval (NaN bounds).
    """
    h = np.asarray(successes, dtype=float)
    y = np.asarray(trials, dtype=float)
    total = float(y.sum())
    if total <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = float(h.sum()) / total
    sums, clusters_n = _cluster_sums(h - p * y, np.asarray(clusters))
    if clusters_n < 2:
        return Estimate(p, math.nan, math.nan, int(total))
    se = math.sqrt(clusters_n / (clusters_n - 1) * float((sums**2).sum())) / total
    q = float(stats.t.ppf(0.5 + level / 2.0, clusters_n - 1))
    return Estimate(p, max(0.0, p - q * se), min(1.0, p + q * se), int(total))


def wilson(successes: float, trials: float, level: float = 0.95) -> Estimate:
    """Proportion ``successes / trials`` with its Wilson score interval."""
    if trials <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denom
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), int(trials))


@dataclass(frozen=True)
class Difference:
    """A scenario minus the baseline: absolute and relative, each with a 95% interval."""

    diff: Estimate
    relative: Estimate  # (scenario mean / baseline mean) - 1
    method: str  # "paired t" (common random numbers) or "Welch t"
    p_value: float = math.nan  # two-sided t test of a zero difference


def paired_difference(
    baseline: np.ndarray, scenario: np.ndarray, level: float = 0.95, seed: int = 0
) -> Difference:
    """Mean paired difference (replication i vs i, same seeds) with a Student-t interval.

    The relative change's interval is a paired percentile bootstrap of
    ``mean(scenario) / mean(baseline) - 1`` (2,000 resamples, seeded).
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(scenario, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    diff = mean_ci(b - a, level)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(2000, len(a))) if len(a) else np.zeros((0, 0), int)
    rel = _relative(a, b, idx, idx, level)
    sem = float((b - a).std(ddof=1)) / math.sqrt(len(a)) if len(a) > 1 else math.nan
    return Difference(diff, rel, "paired t", _t_test(diff.value, sem, len(a) - 1))


def pairing_variance_reduction(baseline: np.ndarray, scenario: np.ndarray) -> float:
    """Variance reduction from pairing: (var(baseline) + var(scenario)) / var(difference).

    Per-replication values, paired by index (ddof=1, pairs with a NaN dropped). It is how
    many times more replications an unpaired comparison would need for the same
    precision. ``inf`` when the difference does not vary but the outcomes do; NaN when
    nothing varies or there are fewer than two pairs.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(scenario, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 2:
        return math.nan
    spread = float(a.var(ddof=1) + b.var(ddof=1))
    left = float((b - a).var(ddof=1))
    if left > 0:
        return spread / left
    return math.inf if spread > 0 else math.nan


def welch_difference(
    baseline: np.ndarray, scenario: np.ndarray, level: float = 0.95, seed: int = 0
) -> Difference:
    """Difference of means of independent samples with Welch's t interval.

    The relative change's interval is an independent percentile bootstrap.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(scenario, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    value = float(b.mean() - a.mean()) if len(a) and len(b) else math.nan
    p_value = math.nan
    if len(a) < 2 or len(b) < 2:
        diff = Estimate(value, value, value, min(len(a), len(b)))
    else:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = math.sqrt(va + vb)
        if se == 0:
            diff = Estimate(value, value, value, min(len(a), len(b)))
            p_value = _t_test(value, se, 1)
        else:
            df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
            q = float(stats.t.ppf(0.5 + level / 2.0, df))
            diff = Estimate(value, value - q * se, value + q * se, min(len(a), len(b)))
            p_value = _t_test(value, se, df)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), size=(2000, len(a))) if len(a) else np.zeros((0, 0), int)
    ib = rng.integers(0, len(b), size=(2000, len(b))) if len(b) else np.zeros((0, 0), int)
    return Difference(diff, _relative(a, b, ia, ib, level), "Welch t", p_value)


def _t_test(value: float, se: float, df: float) -> float:
    """Two-sided p-value of ``value / se`` under Student's t with ``df`` degrees of freedom.

    A difference that does not vary (``se == 0``) is certain: p 0 if it is not zero, 1 if
    it is; NaN without a value or degrees of freedom.
    """
    if math.isnan(value) or math.isnan(se) or df < 1:
        return math.nan
    if se == 0:
        return 0.0 if value != 0 else 1.0
    return float(2.0 * stats.t.sf(abs(value) / se, df))


def q_values(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``).

    Calling the differences with q < 0.05 clear keeps the expected share of false ones
    among them at most 5%. NaN p-values (nothing to test) stay NaN and do not count.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), math.nan)
    tested = ~np.isnan(p)
    if tested.any():
        out[tested] = stats.false_discovery_control(p[tested], method="bh")
    return [float(v) for v in out]


def _relative(
    a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray, level: float
) -> Estimate:
    if len(a) == 0 or len(b) == 0 or a.mean() == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    point = float(b.mean() / a.mean() - 1.0)
    den = a[ia].mean(axis=1)
    ok = den != 0
    boots = b[ib].mean(axis=1)[ok] / den[ok] - 1.0
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(boots, [tail, 100.0 - tail])
    return Estimate(point, float(low), float(high), min(len(a), len(b)))


@dataclass(frozen=True)
class VarianceComponents:
    """The spread of a per-replication value split into parameters and chance.

    ``between`` is the variance of the draw means that is not explained by chance (the
    parameter part), ``within`` the variance among replications of one parameter draw
    (the chance part); both in the squared unit of the value. The shares are of their
    sum, the variance of one replication's value; NaN when it cannot be estimated.
    """

    between: float
    within: float
    draws: int
    n: int

    @property
    def total(self) -> float:
        """Between plus within: the across-replication variance modelled."""
        return self.between + self.within

    @property
    def parameter_share(self) -> float:
        """Share of the variance from the parameters (between draws), in [0, 1]."""
        total = self.total
        return self.between / total if total > 0 else math.nan

    @property
    def chance_share(self) -> float:
        """Share of the variance from randomness (within draws), in [0, 1]."""
        total = self.total
        return self.within / total if total > 0 else math.nan


def variance_components(values: np.ndarray, draws: np.ndarray) -> VarianceComponents:
    """One-way random-effects decomposition of ``values`` grouped by ``draws``.

    Replication ``i`` ran with parameter draw ``draws[i]``; the model is
    ``value = mu + a_draw + e_i`` with independent draw effects ``a`` (variance
    ``between``) and replication noise ``e`` (variance ``within``). Method of moments
    (one-way ANOVA, Searle, Casella & McCulloch 1992, ch. 3): ``within`` is the pooled
    variance of the replications of each draw around their draw's mean (the mean square
    within); ``between`` is ``(MSB - MSW) / n0``, which for ``K`` replications of every
    draw is the variance of the draw means minus ``within / K``, floored at 0 (a negative
    estimate means the draws explain no more than chance would). ``n0`` is the usual
    average group size for unequal groups.

    NaN values are dropped. Both components are NaN unless at least two draws and at
    least one draw with two or more replications remain.

    References
    ----------
    Searle, S. R., Casella, G. and McCulloch, C. E. (1992). Variance Components. Wiley.
    """
    x = np.asarray(values, dtype=float)
    g = np.asarray(draws)
    keep = ~np.isnan(x)
    x, g = x[keep], g[keep]
    n = len(x)
    labels, group, sizes = np.unique(g, return_inverse=True, return_counts=True)
    a = len(labels)
    if a < 2 or n - a < 1:
        return VarianceComponents(math.nan, math.nan, a, n)
    means = np.bincount(group, weights=x, minlength=a) / sizes
    grand = x.mean()
    ss_within = float(((x - means[group]) ** 2).sum())
    ss_between = float((sizes * (means - grand) ** 2).sum())
    ms_within = ss_within / (n - a)
    ms_between = ss_between / (a - 1)
    n0 = (n - float((sizes**2).sum()) / n) / (a - 1)
    between = max(0.0, (ms_between - ms_within) / n0)
    return VarianceComponents(between, ms_within, a, n)


def replications_needed(estimate: Estimate, precision: float) -> int:
    """Replications for a t interval of half-width ``precision`` (from the current spread).

    For a difference: with that many, a true difference of ``precision`` would have an
    interval clear of zero about half the time, twice that nearly always.
    """
    if not estimate.n or precision <= 0 or math.isnan(estimate.half_width):
        return estimate.n
    return max(estimate.n, math.ceil(estimate.n * (estimate.half_width / precision) ** 2))
