"""Chunk plans: every run once, in order; a finer last round; old sweeps keep their plan."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import CONFIGS

from scenarios.experiment import executor, store
from scenarios.experiment.executor import PARTS, execute_sweep, plan_chunks, read_results
from scenarios.experiment.sweep import load_sweep


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 500),
    st.integers(1, 60),
    st.integers(0, 200),
    st.integers(0, 20),
)
def test_a_plan_covers_every_run_once_in_order(
    n_runs: int, chunk_size: int, tail_runs: int, tail_size: int
) -> None:
    chunks = plan_chunks(n_runs, chunk_size, tail_runs, tail_size)
    assert [run for chunk in chunks for run in chunk] == list(range(n_runs))
    assert all(len(chunk) >= 1 for chunk in chunks)
    tail = min(tail_runs, n_runs) if tail_size else 0
    for chunk in chunks:
        limit = tail_size if chunk.start >= n_runs - tail else chunk_size
        assert len(chunk) <= limit
    if not tail:
        assert chunks == plan_chunks(n_runs, chunk_size)


def _sweep(tmp_path: Path) -> Path:
    data = {
        "name": "tail",
        "base": str(CONFIGS / "baseline.yaml"),
        "method": "lhs",
        "samples": 24,
        "replications": 2,
        "steps": 4,
        "parameters": {"threat.plot_rate": {"bounds": [0.5, 1.5]}},
        "outcomes": ["attacks_successful"],
    }
    path = tmp_path / "tail.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_last_round_is_finer_and_an_old_manifest_keeps_one_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chunks of 2 runs (48 runs, 16 per worker, no minimum length); the last 4 runs in 1s
    monkeypatch.setattr(executor, "MIN_SECONDS_PER_CHUNK", 0.0)
    monkeypatch.setattr(executor, "TAIL_SPLIT", 2)
    spec, raw_base = load_sweep(_sweep(tmp_path))
    out = tmp_path / "new"
    execute_sweep(spec, raw_base, out, workers=2)
    manifest = store.read_manifest(out)
    assert (manifest["chunk_size"], manifest["tail_runs"], manifest["tail_size"]) == (2, 4, 1)
    assert manifest["chunks"] == 22 + 4 == len(list((out / PARTS).glob("chunk-*.parquet")))

    # A sweep started before the finer last round: its manifest has neither key, and a
    # resume plans chunks of one size, as the sweep was started with.
    old = tmp_path / "old"
    execute_sweep(spec, raw_base, old, workers=2)
    recorded = store.read_manifest(old)
    for key in ("tail_runs", "tail_size", "chunks"):
        del recorded[key]
    recorded["status"] = "running"
    (old / store.MANIFEST).write_text(json.dumps(recorded))
    for part in (old / PARTS).glob("chunk-*.parquet"):
        part.unlink()
    execute_sweep(spec, raw_base, old, workers=2, resume=True)
    assert store.read_manifest(old)["chunks"] == 24  # 48 runs in chunks of 2
    pd.testing.assert_frame_equal(read_results(old), read_results(out))


def test_no_finer_round_with_one_worker_or_a_chunk_size_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor, "MIN_SECONDS_PER_CHUNK", 0.0)
    spec, _ = load_sweep(_sweep(tmp_path))
    assert executor.default_tail(spec, 8, 48, 1) == {"tail_runs": 0, "tail_size": 0}
    assert executor.default_tail(spec, 8, 48, 2) == {"tail_runs": 16, "tail_size": 2}
    fixed = spec.model_copy(update={"chunk_size": 8})
    assert executor.default_tail(fixed, 8, 48, 2) == {"tail_runs": 0, "tail_size": 0}
