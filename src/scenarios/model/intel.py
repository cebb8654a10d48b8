"""Intelligence mechanics as pure array functions: detection, sharing, misuse, trust.

Every function here is deterministic given its inputs, so each mechanism is tested on
its own arithmetic (see ``tests/model/test_intel.py``). The weekly ones are compiled
(numba) and called by the compiled week (``engine``) as well as from Python. Matrices
are indexed by actor position; ``[a, b]`` means "from a to b" for flows and "a about b" for trust.

References: Josang & Ismail (2002), The Beta Reputation System; Kaplan (2010), Terror
Queues; Jensen (2016), unverifiable intelligence is discounted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@njit(cache=True)
def share_probability(policy: FloatArray, trust: FloatArray, sensitivity: float) -> FloatArray:
    """Probability that a relevant detection flows a -> b: policy[a, b] x trust[a, b]^k."""
    return policy * np.power(trust, sensitivity)


def shared_value(compartmentalisation: float, sanitisation_loss: float) -> float:
    """Interdiction value of shared material relative to own detection, in [0, 1]."""
    return 1.0 - compartmentalisation * sanitisation_loss


def exploitation_probability(
    exploitation: FloatArray,
    stance: FloatArray,
    compartmentalisation: float,
    rivalry_gain: float,
) -> FloatArray:
    """Per-item probability that receiver b misuses material from sender a, as [a, b].

    ``exploitation[b, a]`` is b's propensity against a; hostility (negative
    ``stance[b, a]``) amplifies it by ``1 + rivalry_gain x hostility``; sanitisation
    removes the fraction ``c`` of exploitable content.
    """
    hostility = np.clip(-stance, 0.0, 1.0)
    p = exploitation * (1.0 + rivalry_gain * hostility) * (1.0 - compartmentalisation)
    return np.clip(p, 0.0, 1.0).T


@njit(cache=True)
def trust_expectation(
    good: FloatArray, bad: FloatArray, prior: FloatArray, prior_weight: float
) -> FloatArray:
    """Expected trust of a Beta reputation with base rate: (r + W a) / (r + s + W).

    With W = 2 and a = 0.5 this is Josang & Ismail's (r + 1) / (r + s + 2); without
    evidence it equals the configured prior ``a``.
    """
    return (good + prior_weight * prior) / (good + bad + prior_weight)


@njit(cache=True)
def update_evidence(
    good: FloatArray,
    bad: FloatArray,
    new_good: FloatArray,
    new_bad: FloatArray,
    forgetting: float,
    bad_weight: float,
) -> tuple[FloatArray, FloatArray]:
    """One week of Beta-reputation bookkeeping: forget old evidence, add the new.

    Bad experiences count ``bad_weight`` times (trust is lost faster than it is won).
    """
    return forgetting * good + new_good, forgetting * bad + bad_weight * new_bad


def interdiction_probability(
    hazard: float | FloatArray, weeks_left: int | NDArray[np.int64]
) -> Any:
    """Probability that a known plot is interdicted before it matures.

    A plot with ``weeks_left`` weeks to its maturation week meets ``weeks_left + 1``
    weekly chances at interdiction hazard ``hazard`` (checked before maturation); for an
    exponential lifetime with weekly hazard alpha this becomes Kaplan's (2010) terror-queue
    h / (h + alpha) in continuous time.
    """
    return 1.0 - np.power(1.0 - hazard, np.asarray(weeks_left) + 1)
