"""Shapley values of links: known games, efficiency, symmetry, the null player, pairing."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest

from scenarios.decision.shapley import (
    bootstrap_intervals,
    coalition_masks,
    members,
    shapley_values,
)


def by_permutations(v: dict[frozenset[int], float], k: int) -> np.ndarray:
    """The textbook definition: mean marginal contribution over all k! orders."""
    phi = np.zeros(k)
    for order in itertools.permutations(range(k)):
        on: set[int] = set()
        for i in order:
            phi[i] += v[frozenset(on | {i})] - v[frozenset(on)]
            on.add(i)
    return phi / factorial(k)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_matches_the_permutation_definition_and_is_efficient(k: int) -> None:
    rng = np.random.default_rng(k)
    values = rng.normal(size=(2**k, 5))
    phi = shapley_values(values)
    for r in range(values.shape[1]):
        v = {frozenset(members(int(m), k)): values[m, r] for m in coalition_masks(k)}
        np.testing.assert_allclose(phi[:, r], by_permutations(v, k), atol=1e-12)
    # efficiency: the link values add up to the full coalition's effect
    np.testing.assert_allclose(phi.sum(axis=0), values[-1] - values[0], atol=1e-12)


def test_additive_game_symmetric_links_and_a_null_link() -> None:
    # link 0 alone lowers the outcome by 3, link 1 by 1, link 2 does nothing; links 0 and
    # 1 together lower it by a further 2 (an interaction shared equally)
    k = 3
    v = np.array(
        [
            10.0 - 3 * (m & 1) - 1 * (m >> 1 & 1) - 2 * ((m & 1) and (m >> 1 & 1))
            for m in range(2**k)
        ]
    )[:, None]
    phi = shapley_values(v)[:, 0]
    np.testing.assert_allclose(phi, [-4.0, -2.0, 0.0])


def test_bootstrap_keeps_replications_paired_across_coalitions() -> None:
    # a large common noise per replication cancels in every marginal effect: with pairing
    # the interval is as narrow as the tiny independent noise allows
    rng = np.random.default_rng(1)
    reps = 400
    common = rng.normal(0, 50, size=reps)
    k = 2
    effect = np.array([0.0, -1.0, -0.5, -1.5])
    values = effect[:, None] + common[None, :] + rng.normal(0, 0.1, size=(2**k, reps))
    phi, low, high = bootstrap_intervals(values, seed=3)
    np.testing.assert_allclose(phi, [-1.0, -0.5], atol=0.02)
    assert (high - low < 0.05).all()
    assert ((low < phi) & (phi < high)).all()
