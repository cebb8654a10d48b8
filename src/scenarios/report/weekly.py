"""Weekly series of a run, read one column at a time, for the figures.

The figures need, per week (or per quarter), the median and the 5-95% band of a weekly
outcome over replications: one replications x weeks matrix at a time. A
:class:`ParquetWeekly` reads just that column from ``timeseries.parquet``, so drawing a
run's figures never holds every weekly column of every replication in memory (the file
of 2,000 replications of 260 weeks has about 140 columns; one column is 4 MB).
A :class:`FrameWeekly` gives the same view of an in-memory timeseries frame.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ("replication", "step", "date")


class Weekly(ABC):
    """Weekly outcomes of a run: column names, step labels, dates, one matrix at a time."""

    columns: list[str]
    steps: np.ndarray  # the recorded steps, ascending (the matrices' columns)

    @abstractmethod
    def values(self, column: str) -> np.ndarray:
        """``column`` as a float matrix: one row per replication, one column per step."""

    @abstractmethod
    def dates(self) -> np.ndarray:
        """The date of each step (datetime64)."""

    def __contains__(self, column: object) -> bool:
        return column in self.columns


class FrameWeekly(Weekly):
    """A timeseries data frame (``RunResult.timeseries``) seen as :class:`Weekly`."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.columns = list(frame.columns)
        self.steps = np.sort(frame["step"].unique())

    def values(self, column: str) -> np.ndarray:
        """``column`` as a replications x steps matrix (NaN where a week is missing)."""
        per = self.frame.groupby(["replication", "step"])[column].sum(min_count=1)
        return per.unstack("step").reindex(columns=self.steps).to_numpy(dtype=float)

    def dates(self) -> np.ndarray:
        """The date of each step."""
        return self.frame.groupby("step")["date"].first().reindex(self.steps).to_numpy()


class ParquetWeekly(Weekly):
    """``timeseries.parquet`` seen as :class:`Weekly`, read one column per call.

    Files written by ``scenarios run`` hold every step of replication 0, then of
    replication 1, and so on, so a column reshapes into the matrix directly; this layout
    is checked once (from the ``replication`` and ``step`` columns). A file in any other
    layout is read as a frame of the three columns needed per call.
    """

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.columns = list(pq.read_schema(path).names)
        keys = pq.read_table(path, columns=["replication", "step"])
        replication = keys.column("replication").to_numpy()
        step = keys.column("step").to_numpy()
        del keys
        first = np.flatnonzero(replication == replication[0]) if len(replication) else []
        n_steps = len(first)
        self.regular = (
            n_steps > 0
            and len(step) % n_steps == 0
            and bool(np.all(np.diff(step[:n_steps]) > 0))
            and bool(
                np.all(step.reshape(-1, n_steps) == step[:n_steps])
                and np.all(replication.reshape(-1, n_steps) == replication[::n_steps, None])
            )
        )
        if self.regular:
            self.steps = step[:n_steps].copy()
            self.shape = (len(step) // n_steps, n_steps)
        else:
            self.steps = np.unique(step)

    def _read(self, columns: list[str]) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(self.path, columns=columns).to_pandas()

    def values(self, column: str) -> np.ndarray:
        """``column`` read from the file alone, as a replications x steps matrix."""
        import pyarrow.parquet as pq

        if not self.regular:
            return FrameWeekly(self._read(["replication", "step", column])).values(column)
        data = pq.read_table(self.path, columns=[column]).column(0).to_numpy()
        return np.asarray(data, dtype=float).reshape(self.shape)

    def dates(self) -> np.ndarray:
        """The dates of the first replication's steps (all replications share them)."""
        import pyarrow.parquet as pq

        if not self.regular:
            return FrameWeekly(self._read(["replication", "step", "date"])).dates()
        first = pq.read_table(self.path, columns=["date"]).slice(0, len(self.steps))
        return first.to_pandas()["date"].to_numpy()


def as_weekly(source: Weekly | pd.DataFrame | Path) -> Weekly:
    """A :class:`Weekly` view of a data frame or a timeseries.parquet file."""
    if isinstance(source, Weekly):
        return source
    if isinstance(source, pd.DataFrame):
        return FrameWeekly(source)
    return ParquetWeekly(Path(source))


def _windows(steps: np.ndarray, window: int) -> np.ndarray:
    """Index of the first step of each window of ``window`` weeks (by step // window)."""
    bucket = steps // window
    return np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])


def envelope(series: Weekly, column: str, window: int = 1) -> pd.DataFrame:
    """Median and 5-95% band over replications of a weekly column (summed over windows).

    A week without a value counts as zero in its window's sum, as in a pandas group sum.
    """
    values = series.values(column)
    values = np.where(np.isnan(values), 0.0, values)
    starts = _windows(series.steps, window)
    sums = np.add.reduceat(values, starts, axis=1) if len(starts) else values
    return pd.DataFrame(
        {
            "median": np.median(sums, axis=0),
            "low": np.quantile(sums, 0.05, axis=0),
            "high": np.quantile(sums, 0.95, axis=0),
        },
        index=series.steps[starts] // window,
    )


def window_dates(series: Weekly, window: int = 1) -> np.ndarray:
    """The date of the first week of each window."""
    return series.dates()[_windows(series.steps, window)]
