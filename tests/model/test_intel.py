"""Arithmetic of the intelligence mechanisms (pure functions)."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.model import intel


def test_trust_with_neutral_prior_is_josang_ismail() -> None:
    r = np.array([0.0, 3.0, 10.0])
    s = np.array([0.0, 1.0, 2.0])
    got = intel.trust_expectation(r, s, prior=np.full(3, 0.5), prior_weight=2.0)
    np.testing.assert_allclose(got, (r + 1) / (r + s + 2))


def test_trust_without_evidence_equals_configured_prior() -> None:
    prior = np.array([0.05, 0.3, 0.9])
    got = intel.trust_expectation(np.zeros(3), np.zeros(3), prior, prior_weight=2.0)
    np.testing.assert_allclose(got, prior)


def test_bad_experiences_weigh_more_and_evidence_is_forgotten() -> None:
    good, bad = intel.update_evidence(
        np.array([4.0]),
        np.array([2.0]),
        np.array([1.0]),
        np.array([1.0]),
        forgetting=0.5,
        bad_weight=3.0,
    )
    assert good[0] == pytest.approx(0.5 * 4 + 1)
    assert bad[0] == pytest.approx(0.5 * 2 + 3)
    # one good and one bad experience leave trust below the prior: lost faster than won
    g, b = intel.update_evidence(np.zeros(1), np.zeros(1), np.ones(1), np.ones(1), 1.0, 3.0)
    assert intel.trust_expectation(g, b, np.array([0.5]), 2.0)[0] < 0.5


def test_trust_returns_to_prior_as_evidence_fades() -> None:
    good, bad = np.array([0.0]), np.array([20.0])
    prior = np.array([0.6])
    low = intel.trust_expectation(good, bad, prior, 2.0)[0]
    for _ in range(200):
        good, bad = intel.update_evidence(good, bad, np.zeros(1), np.zeros(1), 0.95, 3.0)
    assert low < 0.1
    assert intel.trust_expectation(good, bad, prior, 2.0)[0] == pytest.approx(0.6, abs=1e-3)


def test_share_probability_is_policy_times_throttled_trust() -> None:
    policy = np.array([[0.0, 0.8], [0.5, 0.0]])
    trust = np.array([[0.0, 0.25], [0.9, 0.0]])
    np.testing.assert_allclose(intel.share_probability(policy, trust, 1.0), policy * trust)
    np.testing.assert_allclose(intel.share_probability(policy, trust, 2.0), policy * trust**2)


def test_exploitation_is_removed_by_compartmentalisation_and_amplified_by_hostility() -> None:
    exploitation = np.array([[0.0, 0.1], [0.2, 0.0]])  # [receiver, sender]
    neutral = np.zeros((2, 2))
    p = intel.exploitation_probability(exploitation, neutral, 0.0, 1.0)
    assert p[0, 1] == pytest.approx(0.2)  # sender 0 -> receiver 1 uses receiver 1's propensity
    assert p[1, 0] == pytest.approx(0.1)
    assert intel.exploitation_probability(exploitation, neutral, 1.0, 1.0).max() == 0.0
    half = intel.exploitation_probability(exploitation, neutral, 0.5, 1.0)
    np.testing.assert_allclose(half, p * 0.5)
    hostile = np.array([[0.0, 0.0], [-1.0, 0.0]])  # receiver 1 hostile to sender 0
    assert intel.exploitation_probability(exploitation, hostile, 0.0, 1.0)[0, 1] == pytest.approx(
        0.4
    )
    friendly = -hostile
    assert intel.exploitation_probability(exploitation, friendly, 0.0, 1.0)[0, 1] == pytest.approx(
        0.2
    )


def test_shared_value_falls_with_compartmentalisation() -> None:
    assert intel.shared_value(0.0, 0.7) == 1.0
    assert intel.shared_value(1.0, 0.7) == pytest.approx(0.3)


def test_interdiction_probability_counts_the_weeks_left() -> None:
    assert intel.interdiction_probability(0.0, 10) == 0.0
    assert intel.interdiction_probability(0.2, 0) == pytest.approx(0.2)
    assert intel.interdiction_probability(0.2, 2) == pytest.approx(1 - 0.8**3)
    # more time left, more chances
    assert intel.interdiction_probability(0.1, 20) > intel.interdiction_probability(0.1, 5)
