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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa


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


# Figures of a run show at most its first this many replications (one column of them in
# memory: 20,000 x 260 weeks is 42 MB); quantile bands from that many are precise to
# well within a line's width, and memory stays bounded however many replications ran.
FIGURE_REPLICATIONS = 20_000
BATCH_ROWS = 65_536


class ParquetWeekly(Weekly):
    """``timeseries.parquet`` seen as :class:`Weekly`, read one column per call.

    Files written by ``scenarios run`` hold every step of replication 0, then of
    replication 1, and so on, so the first rows of a column reshape into the matrix
    directly, and only the first ``max_replications`` replications are read
    (:attr:`used` of :attr:`replications`). The layout is checked once, from the
    ``replication`` and ``step`` columns of those rows. A file in any other layout is read
    whole, as a frame of the three columns needed per call.
    """

    def __init__(self, path: Path, max_replications: int | None = FIGURE_REPLICATIONS) -> None:
        import pyarrow.parquet as pq

        self.path = path
        meta = pq.ParquetFile(path)
        self.columns = list(meta.schema_arrow.names)
        total = meta.metadata.num_rows
        n_steps = self._steps_per_replication()
        self.regular = n_steps > 0 and total % n_steps == 0
        if self.regular:
            self.replications = total // n_steps
            self.used = min(self.replications, max_replications or self.replications)
            keys = self._head(["replication", "step"], self.used * n_steps)
            replication = keys.column("replication").to_numpy().reshape(-1, n_steps)
            step = keys.column("step").to_numpy().reshape(-1, n_steps)
            del keys
            self.regular = bool(
                np.all(np.diff(step[0]) > 0)
                and np.all(step == step[0])
                and np.all(replication == replication[:, :1])
                and len(np.unique(replication[:, 0])) == self.used
            )
        if self.regular:
            self.steps = step[0].copy()
            self.shape = (self.used, n_steps)
        else:
            whole = self._head(["replication", "step"])
            self.steps = np.unique(whole.column("step").to_numpy())
            self.replications = self.used = len(np.unique(whole.column("replication")))

    def _steps_per_replication(self) -> int:
        """Rows of the first replication, if they come first and together (else 0)."""
        import pyarrow.parquet as pq

        first = None
        n = 0
        for batch in pq.ParquetFile(self.path).iter_batches(BATCH_ROWS, columns=["replication"]):
            values = batch.column(0).to_numpy()
            if not len(values):
                continue
            if first is None:
                first = values[0]
            other = np.flatnonzero(values != first)
            if len(other):
                return n + int(other[0])
            n += len(values)
        return n

    def _head(self, columns: list[str], rows: int | None = None) -> pa.Table:
        """The first ``rows`` rows of ``columns`` (every row if None), read batch by batch."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if rows is None:
            return pq.read_table(self.path, columns=columns)
        batches = []
        n = 0
        source = pq.ParquetFile(self.path)
        for batch in source.iter_batches(BATCH_ROWS, columns=columns):
            if n >= rows:
                break
            batches.append(batch)
            n += batch.num_rows
        schema = source.schema_arrow
        table = pa.Table.from_batches(batches, pa.schema([schema.field(c) for c in columns]))
        return table.slice(0, rows)

    def values(self, column: str) -> np.ndarray:
        """``column`` read from the file alone, as a replications x steps matrix."""
        if not self.regular:
            return FrameWeekly(self._head(["replication", "step", column]).to_pandas()).values(
                column
            )
        data = self._head([column], self.shape[0] * self.shape[1]).column(0).to_numpy()
        return np.asarray(data, dtype=float).reshape(self.shape)

    def dates(self) -> np.ndarray:
        """The dates of the first replication's steps (all replications share them)."""
        if not self.regular:
            return FrameWeekly(self._head(["replication", "step", "date"]).to_pandas()).dates()
        return self._head(["date"], len(self.steps)).to_pandas()["date"].to_numpy()


def sample_note(series: Weekly) -> str:
    """A caption's remark when figures show only the first replications of a run, else ""."""
    used = getattr(series, "used", None)
    total = getattr(series, "replications", None)
    if used is None or total is None or used >= total:
        return ""
    return f" (the first {used:,} of {total:,} replications)"


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
