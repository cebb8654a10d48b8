"""Sweeps over given sample points: the machinery of sweeps for decision analytics."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from scenarios.experiment.sweep import SweepSpec


class PointsSpec(SweepSpec):
    """A sweep over given sample points (rows of parameter values) instead of a design.

    The coalitions of a links game, the candidates of a generation of a policy search:
    run with the sweep machinery (streamed, resumable, on Dask), every point with the same
    replication seeds.
    """

    points: list[list[float]] = Field(description="Sample points, in parameter order.")

    def design(self) -> np.ndarray:
        """The given points."""
        return np.array(self.points, dtype=float).reshape(len(self.points), len(self.parameters))

    def n_points(self) -> int:
        """How many points."""
        return len(self.points)
