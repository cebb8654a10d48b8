"""The targets' statistics of one replication, and their distance to the record.

:class:`Statistics` turns a replication's weekly columns and summary row into one value
per target (the ``statistic`` of each target in the calibration file). The distance of a
replication to the record (:class:`BandDistance`) is

    d = sqrt( sum_i w_i * (gap_i / scale_i)^2 ),  gap_i = max(0, low_i - x_i, x_i - high_i)

so a statistic inside its band costs nothing, and one ``scale`` outside it costs as much
as any other target one ``scale`` outside its own. A statistic that cannot be computed
(NaN) puts the replication infinitely far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from scenarios.calibrate.spec import Target
from scenarios.config import ScenarioConfig


def week_starts(config: ScenarioConfig) -> list[date]:
    """The first day of each recorded week."""
    return [config.run.start + timedelta(days=7 * k) for k in range(config.run.steps)]


@dataclass(frozen=True)
class _Compiled:
    """One target's statistic, ready to evaluate: columns, weights, weeks and factor."""

    kind: str
    columns: tuple[str, ...]
    weights: tuple[float, ...]
    weeks: slice  # the weeks of the window (total, mean)
    factor: float


class Statistics:
    """Every target's statistic of one replication (:meth:`of`), for one scenario config."""

    def __init__(self, targets: dict[str, Target], config: ScenarioConfig) -> None:
        starts = week_starts(config)
        self.names = list(targets)
        self._compiled = []
        for target in targets.values():
            stat = target.statistic
            weeks = slice(0, 0)
            if stat.window is not None:
                inside = [
                    k for k, d in enumerate(starts) if stat.window.start <= d <= stat.window.end
                ]
                weeks = slice(inside[0], inside[-1] + 1) if inside else slice(0, 0)
            weights = tuple(stat.weights) if stat.weights else (1.0,) * len(stat.columns)
            self._compiled.append(
                _Compiled(stat.kind, tuple(stat.columns), weights, weeks, stat.factor)
            )

    def of(self, weekly: dict[str, np.ndarray], summary: dict[str, float]) -> dict[str, float]:
        """``{target: value}`` of one replication (NaN where undefined)."""
        out = {}
        for name, c in zip(self.names, self._compiled, strict=True):
            if c.kind == "summary":
                value = sum(
                    w * float(summary[col]) for col, w in zip(c.columns, c.weights, strict=True)
                )
            else:
                series = sum(weekly[col][c.weeks] for col in c.columns)
                n = c.weeks.stop - c.weeks.start
                if c.kind == "total":
                    value = float(np.sum(series))
                else:
                    value = float(np.mean(series)) if n else float("nan")
            out[name] = c.factor * value
        return out


class BandDistance:
    """Distance of a replication's statistics to the record's bands (module docstring).

    Called by pyABC as ``distance(x, x_0)``; ``x_0`` (the observed values) is not needed,
    the bands carry the record.
    """

    def __init__(self, targets: dict[str, Target]) -> None:
        self.names = list(targets)
        self.low = np.array([t.limits[0] for t in targets.values()])
        self.high = np.array([t.limits[1] for t in targets.values()])
        self.scale = np.array([t.scale for t in targets.values()])
        self.weight = np.array([t.weight for t in targets.values()])

    def gaps(self, x: dict[str, float]) -> np.ndarray:
        """Each statistic's distance to its band, in units of its scale (>= 0, NaN kept)."""
        v = np.array([x[n] for n in self.names], dtype=float)
        return np.maximum(0.0, np.maximum(self.low - v, v - self.high)) / self.scale

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None) -> float:
        """The distance of statistics ``x`` to the bands (inf if one is NaN)."""
        gaps = self.gaps(x)
        if not np.all(np.isfinite(gaps)):
            return float("inf")
        return float(np.sqrt(np.sum(self.weight * gaps**2)))
