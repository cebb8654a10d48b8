"""Shapley values of sharing links, from every coalition's paired replications.

A *coalition* is a set of links switched on; with k links there are 2^k of them, indexed
by bit mask (bit i set: link i on). ``values[mask, r]`` is an outcome of replication r of
coalition ``mask``; every coalition runs the same replication seeds (common random
numbers), so a replication is one draw of the whole game.

The Shapley value of link i is its marginal effect averaged over the orders in which the
links could be switched on:

    phi_i = sum over masks S without i of  |S|! (k - |S| - 1)! / k!  * (v(S + i) - v(S))

It is linear in v, so the value of the mean is the mean of per-replication values; and
the values add up to the effect of the full coalition (efficiency):
sum_i phi_i = v(all links) - v(no link). Intervals come from a bootstrap over
replications that resamples a replication across all coalitions together.
"""

from __future__ import annotations

from math import factorial

import numpy as np
from numpy.typing import NDArray


def coalition_masks(k: int) -> NDArray[np.int64]:
    """The 2^k coalitions of k links as bit masks, in order 0 .. 2^k - 1."""
    if not 1 <= k <= 16:
        raise ValueError(f"{k} links: between 1 and 16 (2^k coalitions are run)")
    return np.arange(2**k, dtype=np.int64)


def members(mask: int, k: int) -> list[int]:
    """The links (0 .. k-1) on in coalition ``mask``."""
    return [i for i in range(k) if mask >> i & 1]


def shapley_matrix(k: int) -> NDArray[np.float64]:
    """A (k, 2^k) matrix M with phi = M @ v for a vector v of coalition values."""
    n = 2**k
    matrix = np.zeros((k, n))
    for i in range(k):
        for mask in range(n):
            if mask >> i & 1:
                continue
            size = bin(mask).count("1")
            weight = factorial(size) * factorial(k - size - 1) / factorial(k)
            matrix[i, mask | 1 << i] += weight
            matrix[i, mask] -= weight
    return matrix


def shapley_values(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-replication Shapley values, shape (k, replications), of ``values`` (2^k, reps)."""
    n = values.shape[0]
    k = n.bit_length() - 1
    if n != 2**k:
        raise ValueError(f"{n} coalitions: expected a power of two (2^k for k links)")
    return shapley_matrix(k) @ values


def bootstrap_intervals(
    values: NDArray[np.float64],
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Shapley values of the mean over replications, and percentile bootstrap intervals.

    ``values`` is (2^k, replications). A resample draws replications with replacement and
    keeps each one's values in every coalition together (the pairing). Returns
    (phi, low, high), each of shape (k,).
    """
    per_replication = shapley_values(values)  # (k, reps)
    phi = per_replication.mean(axis=1)
    reps = per_replication.shape[1]
    if reps < 2:
        nan = np.full_like(phi, np.nan)
        return phi, nan, nan
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, reps, size=(resamples, reps))
    means = per_replication[:, draws].mean(axis=2)  # (k, resamples)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail], axis=1)
    return phi, low, high
