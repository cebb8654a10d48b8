"""Run the replications of one scenario, sequentially or on a process pool.

Replications are independent and seeded by index, so the results are identical whatever
the number of workers or the order in which they finish: they are always delivered in
replication order.

Two ways to collect them:

- :func:`run_scenario` (library callers, tests, benchmarks) keeps everything in memory
  and returns the summary and the weekly timeseries as data frames; fine for small runs.
- :func:`stream_scenario` (``scenarios run`` and ``experiment``) writes the timeseries to
  Parquet in row groups as replications arrive (:class:`TimeseriesWriter`) and keeps only
  the summary rows, so its memory does not grow with the weekly data of the run.

Both produce the same data: the streamed ``timeseries.parquet`` read back equals
``run_scenario(...).timeseries`` (same columns, dtypes and values).

Both take optional :class:`ReplicationParameters`: config values that differ by
replication (a posterior ensemble's parameter draws). Replication ``i``'s config is then
the scenario's with those values set, built where it runs (as ``--set`` would set them,
through :class:`scenarios.experiment.sweep.PointConfigs`), so it too is the same whatever
the workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.config import ScenarioConfig
from scenarios.experiment import store
from scenarios.experiment.pool import worker_context
from scenarios.experiment.processes import stop_workers, watch_driver
from scenarios.experiment.seeds import replication_seeds, replication_sequence
from scenarios.model.params import compile_parameters
from scenarios.model.regions import build_geometry
from scenarios.model.simulation import run_replication

Progress = Callable[[int], None]
# One replication: (index, weekly columns, summary row).
Replication = tuple[int, dict[str, np.ndarray], dict[str, float]]

# Rows per row group of a streamed timeseries.parquet (about 126 replications of 260
# weeks, some 40 MB of weekly columns while buffered). The row groups depend only on the
# number of rows, never on the workers, so the file's bytes do not either.
ROW_GROUP_ROWS = 32_768
# Columns dictionary-encoded in a streamed timeseries.parquet. Per row group, dictionaries
# of the weekly outcomes cost more than they save (2,000 replications of the baseline: 48.5
# MB with, 45.7 MB without; one row group of everything, as written before streaming: 42.8
# MB). Encodings change the bytes of the file, never the data read back.
DICTIONARY_COLUMNS = ["replication", "step", "date"]
# The weekly float columns are written BYTE_STREAM_SPLIT (the bytes of the doubles
# regrouped by position, which zstd compresses better) in version 2 data pages (levels
# kept apart from the compressed values). On a row group of 125 replications of the
# baseline: 0.27 instead of 0.40-0.44 ms of CPU per replication, and 0.97 instead of 1.53
# MB. Both are in the Parquet format since 2019 (Arrow 2.0); pandas, DuckDB and Polars
# read them.
DATA_PAGE_VERSION = "2.0"
# Chunks a process pool may have in flight per worker. Finished chunks wait (in memory)
# only until the chunks before them are consumed, so at most this many per worker do.
CHUNKS_IN_FLIGHT_PER_WORKER = 2


@dataclass
class RunResult:
    """All replications of one scenario: one summary row each, and weekly series."""

    config: ScenarioConfig
    seeds: list[int]
    summary: pd.DataFrame
    timeseries: pd.DataFrame


@dataclass
class StreamedRun:
    """A run whose weekly series went to disk (:func:`stream_scenario`).

    ``timeseries_path`` is the Parquet file written, or None when the run kept no
    timeseries (``run.timeseries: false``).
    """

    config: ScenarioConfig
    seeds: list[int]
    summary: pd.DataFrame
    timeseries_path: Path | None


@dataclass(frozen=True)
class ReplicationParameters:
    """Config values that differ by replication.

    Replication ``i`` sets the dotted config paths ``names`` to ``points[keys[i]]`` (one
    row of values per key, e.g. per posterior particle). Replications with the same key
    share one config.
    """

    names: tuple[str, ...]
    points: np.ndarray  # (keys, names)
    keys: np.ndarray  # (replications,) row of ``points`` of each replication


class _ReplicationConfigs:
    """Config, geometry and compiled parameters of each replication (the last one kept)."""

    def __init__(self, config: ScenarioConfig, varying: ReplicationParameters | None) -> None:
        self.config = config
        self.varying = varying
        self.key: int | None = None
        self.points: Any = None
        if varying is not None:
            from scenarios.experiment.sweep import PointConfigs

            self.points = PointConfigs(config.model_dump(mode="json"), list(varying.names))
        self.current = self._compile(config)

    @staticmethod
    def _compile(config: ScenarioConfig) -> tuple[ScenarioConfig, Any, Any]:
        geometry = build_geometry(config)
        return config, geometry, compile_parameters(config, geometry)

    def of(self, i: int) -> tuple[ScenarioConfig, Any, Any]:
        """(config, geometry, compiled parameters) of replication ``i``."""
        if self.varying is None:
            return self.current
        key = int(self.varying.keys[i])
        if key != self.key:
            self.current = self._compile(self.points.config(self.varying.points[key]))
            self.key = key
        return self.current


def _run_chunk(
    config: ScenarioConfig,
    indices: list[int],
    seeds: list[int],
    varying: ReplicationParameters | None = None,
) -> list[Replication]:
    configs = _ReplicationConfigs(config, varying)
    out = []
    for i, seed in zip(indices, seeds, strict=True):
        cfg, geometry, parameters = configs.of(i)
        columns, summary = run_replication(cfg, replication_sequence(seed), geometry, parameters)
        out.append((i, columns, summary))
    return out


def _chunks(n: int, size: int) -> Iterator[list[int]]:
    for start in range(0, n, size):
        yield list(range(start, min(n, start + size)))


def iter_replications(
    config: ScenarioConfig,
    workers: int = 1,
    progress: Progress | None = None,
    varying: ReplicationParameters | None = None,
) -> Iterator[Replication]:
    """Yield every replication of ``config``, in replication order, as it is available.

    With more than one worker, chunks of replications run on a process pool; a bounded
    number of chunks is in flight, and a chunk that finishes before those ahead of it
    waits only for them. ``progress(k)`` is told of k more replications delivered.
    Closing the iterator early (an error while consuming, Ctrl-C) stops the workers.
    ``varying``: config values set per replication (see :class:`ReplicationParameters`).
    """
    n = config.run.replications
    seeds = replication_seeds(config.run.seed, n)
    if varying is not None and len(varying.keys) != n:
        raise ValueError(f"{len(varying.keys)} per-replication keys for {n} replications")
    workers = max(1, min(workers, os.cpu_count() or 1, n))
    if workers == 1:
        configs = _ReplicationConfigs(config, varying)
        for i, seed in enumerate(seeds):
            cfg, geometry, parameters = configs.of(i)
            columns, summary = run_replication(
                cfg, replication_sequence(seed), geometry, parameters
            )
            yield i, columns, summary
            if progress:
                progress(1)
        return
    size = max(1, min(25, n // (4 * workers)))
    # forkserver, but the workers do not re-run the caller's __main__ (an unguarded
    # script or a notebook works too); see scenarios.experiment.pool.
    context = worker_context()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=watch_driver,
        initargs=(os.getpid(),),
    )
    try:
        pending = _chunks(n, size)
        in_flight: list[Future[list[Replication]]] = []

        def submit(count: int) -> None:
            for indices in pending:
                in_flight.append(
                    pool.submit(_run_chunk, config, indices, [seeds[i] for i in indices], varying)
                )
                count -= 1
                if count == 0:
                    return

        submit(CHUNKS_IN_FLIGHT_PER_WORKER * workers)
        while in_flight:
            chunk = in_flight.pop(0).result()  # chunks are consumed in submission order
            submit(1)
            yield from chunk
            if progress:
                progress(len(chunk))
    except BaseException:
        # Ctrl-C, SIGTERM or the consumer gave up: drop queued chunks, stop the workers now.
        stop_workers(pool)
        raise
    pool.shutdown()


def run_scenario(
    config: ScenarioConfig,
    workers: int = 1,
    progress: Progress | None = None,
    varying: ReplicationParameters | None = None,
) -> RunResult:
    """Run ``config.run.replications`` replications; ``progress(k)`` is told of k more done.

    Everything is kept in memory: for large runs use :func:`stream_scenario`.
    """
    seeds = replication_seeds(config.run.seed, config.run.replications)
    results = list(iter_replications(config, workers, progress, varying))
    return RunResult(config, seeds, *_frames(config, results, seeds))


def stream_scenario(
    config: ScenarioConfig,
    timeseries_path: Path | None,
    workers: int = 1,
    progress: Progress | None = None,
    varying: ReplicationParameters | None = None,
) -> StreamedRun:
    """Run every replication, writing the weekly series to ``timeseries_path`` as they come.

    The summary rows are kept (one small row per replication) and returned as a data
    frame; the weekly columns of a replication are dropped once written. With
    ``timeseries_path`` None no timeseries is written. The file appears (atomically) only
    once complete. ``varying``: config values set per replication.
    """
    seeds = replication_seeds(config.run.seed, config.run.replications)
    rows = SummaryRows()
    writer = TimeseriesWriter(timeseries_path, config) if timeseries_path is not None else None
    try:
        # closing(): an error or Ctrl-C while writing stops the pool's workers at once
        with closing(iter_replications(config, workers, progress, varying)) as replications:
            for i, columns, summary in replications:
                rows.add(i, seeds[i], summary)
                if writer is not None:
                    writer.add(i, columns)
                del columns
        if writer is not None:
            writer.close()
    except OSError as exc:
        if writer is not None and store.disk_full_code(exc):  # name the file, as store does
            raise store.disk_full_error(exc, writer.path) from None
        raise
    finally:
        if writer is not None:
            writer.abort()  # no-op once closed
    return StreamedRun(config, seeds, rows.frame(), timeseries_path)


# --------------------------------------------------------------------------------------
# Data frames and Parquet: one definition of the layout, shared by both paths
# --------------------------------------------------------------------------------------


def step_dates(config: ScenarioConfig) -> pd.DatetimeIndex:
    """The calendar date of each recorded week (the ``date`` column)."""
    week = np.arange(config.run.steps, dtype=np.int64)
    return pd.to_datetime([config.date_of(int(w)) for w in week])


def summary_row(i: int, seed: int, summary: dict[str, float]) -> dict[str, Any]:
    """One row of summary.parquet."""
    return {"replication": i, "seed": seed, **summary}


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """summary.parquet as a data frame, one row per replication in replication order."""
    summary_df = pd.DataFrame(rows)
    summary_df["seed"] = summary_df["seed"].astype("int64")
    return summary_df


class SummaryRows:
    """Summary rows kept compactly: a float64 array row per replication, not a dict.

    A dict of some 190 floats costs about 20 KB; its values as float64 cost 1.5 KB.
    :meth:`frame` gives what :func:`summary_frame` gives for the same rows, dtypes
    included. A row with other keys than the first, or a value that is not a float, makes
    it keep dict rows instead, and :meth:`frame` is then :func:`summary_frame` itself.
    """

    BLOCK = 1024  # rows per preallocated block

    def __init__(self) -> None:
        self.keys: list[str] | None = None
        self.replications: list[int] = []
        self.seeds: list[int] = []
        self.blocks: list[np.ndarray] = []
        self.count = 0
        self.dicts: list[dict[str, Any]] | None = None  # set once rows are kept as dicts

    def add(self, i: int, seed: int, summary: dict[str, float]) -> None:
        """Keep the summary row of replication ``i``."""
        if self.dicts is not None:
            self.dicts.append(summary_row(i, seed, summary))
            return
        if self.keys is None:
            self.keys = list(summary)
        values = list(summary.values())
        if list(summary) != self.keys or not all(type(v) in (float, np.float64) for v in values):
            self.dicts = self._as_dicts()
            self.dicts.append(summary_row(i, seed, summary))
            return
        if self.count == len(self.blocks) * self.BLOCK:
            self.blocks.append(np.empty((self.BLOCK, len(self.keys)), dtype=np.float64))
        self.blocks[-1][self.count % self.BLOCK] = values
        self.replications.append(i)
        self.seeds.append(seed)
        self.count += 1

    def _as_dicts(self) -> list[dict[str, Any]]:
        keys = self.keys or []
        return [
            summary_row(i, seed, dict(zip(keys, self._row(k).tolist(), strict=True)))
            for k, (i, seed) in enumerate(zip(self.replications, self.seeds, strict=True))
        ]

    def _row(self, k: int) -> np.ndarray:
        return self.blocks[k // self.BLOCK][k % self.BLOCK]

    def frame(self) -> pd.DataFrame:
        """summary.parquet as a data frame (as :func:`summary_frame` builds it)."""
        if self.dicts is not None or not self.count:
            return summary_frame(self.dicts or [])
        values = np.concatenate(self.blocks)[: self.count]
        columns: dict[str, Any] = {
            "replication": np.array(self.replications, dtype=np.int64),
            "seed": np.array(self.seeds, dtype=np.int64),
        }
        columns.update(zip(self.keys or [], values.T, strict=True))
        return pd.DataFrame(columns)


def timeseries_block(
    i: int, columns: dict[str, np.ndarray], steps: int, dates: pd.DatetimeIndex
) -> pd.DataFrame:
    """The rows of timeseries.parquet of replication ``i``: one per recorded week."""
    week = np.arange(steps, dtype=np.int64)
    block: dict[str, Any] = {
        "replication": np.full(steps, i, dtype=np.int64),
        "step": week,
        "date": dates,
    }
    block.update(columns)
    return pd.DataFrame(block)


def _frames(
    config: ScenarioConfig, results: list[Replication], seeds: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    steps = config.run.steps
    dates = step_dates(config)
    summary_rows = []
    blocks = []
    for i, columns, summary in results:
        summary_rows.append(summary_row(i, seeds[i], summary))
        blocks.append(timeseries_block(i, columns, steps, dates))
    timeseries = pd.concat(blocks, ignore_index=True)
    return summary_frame(summary_rows), timeseries


class TimeseriesWriter:
    """timeseries.parquet written in row groups as replications arrive, in their order.

    The file holds what ``pd.concat`` of the replications' :func:`timeseries_block` frames
    written by :func:`scenarios.experiment.store.write_parquet` holds: the same schema
    (pandas metadata included, taken from the first block), zstd compression, and values
    converted as pandas converts them (NaN stored as null); only the encodings differ:
    the weekly outcomes are not dictionary-encoded (:data:`DICTIONARY_COLUMNS`) but byte
    stream split, in version 2 pages (:data:`DATA_PAGE_VERSION`). It is written under a
    temporary name and renamed into place by :meth:`close`.

    A full row group is encoded and written on a thread of its own while the next one
    fills (Arrow releases the GIL meanwhile; about 0.3 ms per replication of the baseline
    off the critical path), so at most two row groups (:data:`ROW_GROUP_ROWS`) are in
    memory: the one being written and the one filling. A failed write raises at the next
    row group or at :meth:`close`.
    """

    def __init__(self, path: Path, config: ScenarioConfig, row_group_rows: int | None = None):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.steps = config.run.steps
        self.dates = step_dates(config)
        self.row_group_rows = row_group_rows or ROW_GROUP_ROWS
        self.next_replication = 0
        self._writer: Any = None
        self._schema: Any = None
        self._fixed: dict[str, Any] = {}  # step and date arrays, the same in every block
        self._names: list[str] = []
        self._first: Any = None  # replication 0's table, until its row group is written
        self._pending: list[int] = []  # replications in ``_values``, not yet written
        # [weekly column, row]: the weekly values of ``_pending``, steps rows each (float64
        # columns only; a column of another type keeps its arrays in ``_other``).
        self._values: np.ndarray | None = None
        # the other buffer: that of the row group being written, reused once it is
        self._spare: np.ndarray | None = None
        self._other: dict[str, list[np.ndarray]] = {}
        self._buffered_rows = 0
        self._closed = False
        self._thread: ThreadPoolExecutor | None = None  # writes the full row groups
        self._writing: Future[None] | None = None  # the row group being written

    def add(self, i: int, columns: dict[str, np.ndarray]) -> None:
        """Append replication ``i`` (replications must come in order 0, 1, 2, ...).

        Its weekly values are copied into the rows of the current row group (one
        preallocated ``[column, row]`` array, reused by every row group); when the group
        is full each column becomes one Arrow array on its row, without another copy.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if i != self.next_replication:
            raise ValueError(f"replication {i} arrived, expected {self.next_replication}")
        if self._writer is None:
            table = pa.Table.from_pandas(
                timeseries_block(i, columns, self.steps, self.dates), preserve_index=False
            )
            self._schema = table.schema
            self._names = list(columns)
            self._fixed = {"step": table.column("step"), "date": table.column("date")}
            floats = [f.name for f in self._schema if f.type == pa.float64()]
            self._writer = pq.ParquetWriter(
                self.tmp,
                self._schema,
                compression="zstd",
                use_dictionary=DICTIONARY_COLUMNS,
                use_byte_stream_split=floats,
                data_page_version=DATA_PAGE_VERSION,
            )
            self._first = table
        else:
            if list(columns) != self._names:
                raise ValueError(f"replication {i} has other weekly columns than replication 0")
            self._keep(i, columns)
        self._buffered_rows += self.steps
        self.next_replication += 1
        if self._buffered_rows >= self.row_group_rows:
            self._flush()

    def _keep(self, i: int, columns: dict[str, np.ndarray]) -> None:
        """Copy replication ``i``'s weekly values into the current row group's rows."""
        if self._values is None:
            capacity = -(-self.row_group_rows // self.steps) * self.steps
            self._values = np.empty((len(self._names), capacity))
        start = len(self._pending) * self.steps
        rows = slice(start, start + self.steps)
        values = self._values
        for k, (name, array) in enumerate(columns.items()):
            if array.dtype == np.float64 and name not in self._other:
                values[k, rows] = array
            else:  # not float64: this column's values are kept as arrays from now on
                if name not in self._other:  # those of earlier replications of the group
                    self._other[name] = [
                        values[k, j : j + self.steps].copy() for j in range(0, start, self.steps)
                    ]
                self._other[name].append(array)
        self._pending.append(i)

    def _pending_table(self) -> Any:
        """One table of the replications of ``_values``, column by column."""
        import pyarrow as pa

        pending = self._pending
        ids = np.repeat(np.array(pending, dtype=np.int64), self.steps)
        arrays = [pa.array(ids)]
        for name in ("step", "date"):
            fixed = self._fixed[name]
            arrays.append(pa.chunked_array([chunk for _ in pending for chunk in fixed.chunks]))
        n_rows = len(pending) * self.steps
        for k, name in enumerate(self._names):
            type_ = self._schema.field(name).type
            if name in self._other:
                values = np.concatenate(self._other[name])
                arrays.append(pa.array(values, type=type_, from_pandas=True))
                continue
            values = self._values[k, :n_rows] if self._values is not None else np.empty(0)
            # NaN is stored as null (as pandas converts it); a column without NaN needs
            # no mask, and becomes an Arrow array on the same memory
            masked = type_ != pa.float64() or bool(np.isnan(values).any())
            arrays.append(pa.array(values, type=type_, from_pandas=masked))
        return pa.Table.from_arrays(
            [a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a]) for a in arrays],
            schema=self._schema,
        )

    def _flush(self) -> None:
        import pyarrow as pa

        tables = []
        if self._first is not None:
            tables.append(self._first)  # the first replication, converted through pandas
            self._first = None
        if self._pending:
            tables.append(self._pending_table())
        if not tables:
            return
        table = pa.concat_tables(tables)
        self._wait()  # the previous row group is written: its buffer is free
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="timeseries-writer")
        self._writing = self._thread.submit(
            self._writer.write_table, table, row_group_size=table.num_rows
        )
        del table, tables
        self._pending.clear()
        self._other.clear()
        self._buffered_rows = 0
        # the next row group fills the other buffer while this one is written
        self._values, self._spare = self._spare, self._values

    def _wait(self) -> None:
        """Wait until the row group being written is; raise its error if it failed."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def close(self) -> None:
        """Write the last row group, close the file and rename it into place."""
        if self._writer is None:
            raise ValueError("no replication was written")
        self._flush()
        self._wait()
        self._stop_thread()
        self._writer.close()
        self._closed = True
        self._values = self._spare = None  # the row-group buffers
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop a file that was not closed (after an error or an interrupt)."""
        if self._closed:
            return
        with suppress(Exception):  # the file is deleted anyway
            self._wait()
        self._stop_thread()
        if self._writer is not None:
            with suppress(Exception):
                self._writer.close()
        self._first = None
        self._values = self._spare = None
        self._other.clear()
        self.tmp.unlink(missing_ok=True)
        self._closed = True
