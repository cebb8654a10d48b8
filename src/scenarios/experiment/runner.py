"""Run the replications of one scenario, sequentially or on a process pool.

Replications are independent and seeded by index, so the results are identical whatever
the number of workers or the order in which they finish: they are always returned
sorted by replication.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.config import ScenarioConfig
from scenarios.experiment.processes import stop_workers, watch_driver
from scenarios.experiment.seeds import replication_seeds, replication_sequence
from scenarios.model.model import run_replication
from scenarios.model.params import compile_parameters
from scenarios.model.regions import build_geometry

Progress = Callable[[int], None]


@dataclass
class RunResult:
    """All replications of one scenario: one summary row each, and weekly series."""

    config: ScenarioConfig
    seeds: list[int]
    summary: pd.DataFrame
    timeseries: pd.DataFrame


def _run_chunk(
    config: ScenarioConfig, indices: list[int], seeds: list[int]
) -> list[tuple[int, dict[str, np.ndarray], dict[str, float]]]:
    geometry = build_geometry(config)
    parameters = compile_parameters(config, geometry)
    out = []
    for i, seed in zip(indices, seeds, strict=True):
        columns, summary = run_replication(config, replication_sequence(seed), geometry, parameters)
        out.append((i, columns, summary))
    return out


def _chunks(n: int, size: int) -> Iterator[list[int]]:
    for start in range(0, n, size):
        yield list(range(start, min(n, start + size)))


def run_scenario(
    config: ScenarioConfig, workers: int = 1, progress: Progress | None = None
) -> RunResult:
    """Run ``config.run.replications`` replications; ``progress(k)`` is told of k more done."""
    n = config.run.replications
    seeds = replication_seeds(config.run.seed, n)
    results: list[tuple[int, dict[str, np.ndarray], dict[str, float]]] = []
    workers = max(1, min(workers, os.cpu_count() or 1, n))
    if workers == 1:
        for indices in _chunks(n, 1):
            results.extend(_run_chunk(config, indices, [seeds[i] for i in indices]))
            if progress:
                progress(len(indices))
    else:
        size = max(1, min(25, n // (4 * workers)))
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=watch_driver,
            initargs=(os.getpid(),),
        )
        try:
            futures = [
                pool.submit(_run_chunk, config, idx, [seeds[i] for i in idx])
                for idx in _chunks(n, size)
            ]
            for future in futures:
                chunk = future.result()
                results.extend(chunk)
                if progress:
                    progress(len(chunk))
        except BaseException:
            # Ctrl-C or SIGTERM: drop queued chunks and stop the workers now.
            stop_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    results.sort(key=lambda r: r[0])
    return RunResult(config, seeds, *_frames(config, results, seeds))


def _frames(
    config: ScenarioConfig,
    results: list[tuple[int, dict[str, np.ndarray], dict[str, float]]],
    seeds: list[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    steps = config.run.steps
    summary_rows = []
    blocks = []
    week = np.arange(steps, dtype=np.int64)
    dates = pd.to_datetime([config.date_of(int(w)) for w in week])
    for i, columns, summary in results:
        summary_rows.append({"replication": i, "seed": seeds[i], **summary})
        block = {"replication": np.full(steps, i, dtype=np.int64), "step": week, "date": dates}
        block.update(columns)
        blocks.append(pd.DataFrame(block))
    summary_df = pd.DataFrame(summary_rows)
    summary_df["seed"] = summary_df["seed"].astype("int64")
    timeseries = pd.concat(blocks, ignore_index=True)
    return summary_df, timeseries
