"""Sampling designs for sensitivity sweeps: Sobol', Morris, Latin hypercube, full grid.

One function per method with the same shape, after SALib: ``sample(problem, n, seed, **)``
returns an array of shape (points, parameters). ``problem`` is SALib's dict
(``num_vars``, ``names``, ``bounds``, optional ``dists``). Seeds are passed explicitly
and 0 is a seed like any other.

References: Saltelli et al. (2010) for Sobol' designs; Morris (1991) and Campolongo et
al. (2007) for elementary effects; McKay et al. (1979) for Latin hypercubes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from SALib.sample import latin, morris
from SALib.sample import sobol as sobol_sampler

Problem = dict[str, Any]


def sobol(problem: Problem, n: int, seed: int, *, second_order: bool = False) -> np.ndarray:
    """Saltelli's extension of Sobol' sequences: n (D + 2) or n (2D + 2) points; n = 2^k."""
    return sobol_sampler.sample(problem, n, calc_second_order=second_order, seed=seed)


def morris_design(problem: Problem, n: int, seed: int, *, levels: int = 4) -> np.ndarray:
    """Morris trajectories: n (D + 1) points on a ``levels``-level grid."""
    return morris.sample(problem, n, num_levels=levels, seed=seed)


def lhs(problem: Problem, n: int, seed: int) -> np.ndarray:
    """Latin hypercube of n points."""
    return latin.sample(problem, n, seed=seed)


def grid(problem: Problem, n: int, seed: int) -> np.ndarray:
    """Full factorial grid with n evenly spaced levels per parameter (bounds included)."""
    del seed  # deterministic
    axes = [np.linspace(lo, hi, n) for lo, hi in problem["bounds"]]
    return np.array(list(itertools.product(*axes)), dtype=float)


SAMPLERS: dict[str, Callable[..., np.ndarray]] = {
    "sobol": sobol,
    "morris": morris_design,
    "lhs": lhs,
    "grid": grid,
}


def design_size(method: str, n: int, n_params: int, second_order: bool = False) -> int:
    """Number of sample points a design will have (before it is drawn)."""
    match method:
        case "sobol":
            return n * (2 * n_params + 2 if second_order else n_params + 2)
        case "morris":
            return n * (n_params + 1)
        case "lhs":
            return n
        case "grid":
            return n**n_params
        case _:
            raise ValueError(f"unknown design method {method!r}; use one of {', '.join(SAMPLERS)}")
