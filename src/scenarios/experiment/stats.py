"""Interval estimates for replication outputs.

- Means: Student-t 95% interval over replications (replications are i.i.d.).
- Event probabilities: Wilson score interval (Wilson 1927), which stays inside [0, 1]
  and behaves at 0 or n successes, unlike the normal approximation.
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
