"""Streamed run outputs: the same data as the in-memory path, in bounded memory.

``scenarios run`` and ``experiment`` write timeseries.parquet in row groups as
replications finish (``runner.stream_scenario``) and draw the weekly figures from it one
column at a time (``report.weekly``); ``--no-timeseries`` keeps only the summary.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.conftest import CONFIGS, run_cli

from scenarios.config import load_config
from scenarios.experiment import runner, store
from scenarios.experiment.compare import compare, load_run
from scenarios.experiment.errors import CompareError
from scenarios.experiment.experiment import ExperimentSpec, run_experiment
from scenarios.experiment.run import execute_run
from scenarios.experiment.seeds import replication_seeds
from scenarios.report import plots
from scenarios.report.weekly import FrameWeekly, ParquetWeekly, envelope, window_dates

SMALL = ["run.replications=7", "run.steps=30", "run.burn_in=4", "run.seed=5"]


@pytest.fixture(scope="module")
def small() -> tuple:
    """A small baseline run, in memory: config, replications and today's frames."""
    cfg = load_config(CONFIGS / "baseline.yaml", SMALL)
    results = list(runner.iter_replications(cfg))
    seeds = replication_seeds(cfg.run.seed, cfg.run.replications)
    return cfg, results, runner._frames(cfg, results, seeds)


def _round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return pd.read_parquet(buffer)


@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_files_hold_what_the_in_memory_frames_hold(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    cfg, _, (summary, timeseries) = small
    # Row groups of two and a half replications: several groups, a partial last one.
    monkeypatch.setattr(runner, "ROW_GROUP_ROWS", 75)
    path = tmp_path / store.TIMESERIES
    done: list[int] = []
    streamed = runner.stream_scenario(cfg, path, workers=workers, progress=done.append)
    assert sum(done) == cfg.run.replications
    assert streamed.timeseries_path == path
    assert not list(tmp_path.glob(".*.tmp"))
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 90 + 90 + 30 rows

    # Exact: same columns in the same order, same dtypes, bit-identical values, as the
    # in-memory frame after the same parquet round trip (parquet stores the dates in ms).
    pd.testing.assert_frame_equal(pd.read_parquet(path), _round_trip(timeseries), check_exact=True)
    pd.testing.assert_frame_equal(streamed.summary, summary, check_exact=True)
    # The schema (with its pandas metadata) is the one store.write_parquet writes.
    store.write_parquet(timeseries, tmp_path / "whole.parquet")
    assert pq.read_schema(path).equals(pq.read_schema(tmp_path / "whole.parquet"), True)
    # The weekly doubles are byte stream split in version 2 pages (runner.DATA_PAGE_VERSION):
    # faster to write and a third smaller than plain pages.
    group = pq.ParquetFile(path).metadata.row_group(0)
    weekly = group.column(list(timeseries.columns).index("attacks_successful"))
    assert "BYTE_STREAM_SPLIT" in weekly.encodings
    assert group.column(0).path_in_schema == "replication"
    assert "BYTE_STREAM_SPLIT" not in group.column(0).encodings


def test_run_scenario_still_returns_both_frames(small: tuple) -> None:
    cfg, _, (summary, timeseries) = small
    result = runner.run_scenario(cfg, workers=2)
    pd.testing.assert_frame_equal(result.summary, summary, check_exact=True)
    pd.testing.assert_frame_equal(result.timeseries, timeseries, check_exact=True)
    assert result.seeds == replication_seeds(cfg.run.seed, cfg.run.replications)


def test_pool_delivers_replications_in_order_with_few_chunks_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = load_config(CONFIGS / "baseline.yaml", ["run.replications=20", "run.steps=3"])
    monkeypatch.setattr(runner, "CHUNKS_IN_FLIGHT_PER_WORKER", 1)
    order = [i for i, _, _ in runner.iter_replications(cfg, workers=2)]
    assert order == list(range(20))


def test_the_writer_refuses_replications_out_of_order(small: tuple, tmp_path: Path) -> None:
    cfg, results, _ = small
    writer = runner.TimeseriesWriter(tmp_path / "ts.parquet", cfg)
    writer.add(0, results[0][1])
    with pytest.raises(ValueError, match="expected 1"):
        writer.add(2, results[2][1])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_row_group_that_fails_to_write_raises_and_leaves_nothing(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row groups are written on a thread: its error reaches the caller, nothing is left."""
    import threading

    cfg, results, _ = small
    calls: list[int] = []
    real = pq.ParquetWriter.write_table

    def second_fails(self: pq.ParquetWriter, table: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(self, table, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", second_fails)
    writer = runner.TimeseriesWriter(tmp_path / "ts.parquet", cfg, row_group_rows=cfg.run.steps)

    def write_all() -> None:
        for i, columns, _ in results:  # a row group per replication
            writer.add(i, columns)
        writer.close()

    with pytest.raises(OSError, match="No space"):
        write_all()
    assert len(calls) == 2  # the failure stopped the writing
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("timeseries-writer")]


def _old_envelope(ts: pd.DataFrame, column: str, window: int = 1) -> pd.DataFrame:
    """The figures' envelope as computed from the whole frame before streaming."""
    frame = ts[["replication", "step", column]].copy()
    frame["bucket"] = frame["step"] // window
    per = frame.groupby(["replication", "bucket"])[column].sum().unstack("replication")
    return pd.DataFrame(
        {
            "median": per.median(axis=1),
            "low": per.quantile(0.05, axis=1),
            "high": per.quantile(0.95, axis=1),
        }
    )


@pytest.mark.parametrize(
    ("column", "window"), [("strength", 1), ("attacks_successful__afghanistan", 13)]
)
def test_weekly_figures_read_one_column_and_match_the_whole_frame(
    small: tuple, tmp_path: Path, column: str, window: int
) -> None:
    cfg, _, (_, timeseries) = small
    path = tmp_path / store.TIMESERIES
    runner.stream_scenario(cfg, path)
    expected = _old_envelope(timeseries, column, window)
    first = timeseries[timeseries.replication == 0]
    dates = first.groupby(first.step // window)["date"].first().to_numpy()
    for weekly in (ParquetWeekly(path), FrameWeekly(timeseries)):
        got = envelope(weekly, column, window)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
        assert list(got.index) == list(expected.index)
        assert (window_dates(weekly, window) == dates).all()
    assert ParquetWeekly(path).regular
    # A file in another row order is still read right (as frames of the needed columns).
    shuffled = tmp_path / "shuffled.parquet"
    timeseries.sample(frac=1.0, random_state=1).to_parquet(shuffled, index=False)
    other = ParquetWeekly(shuffled)
    assert not other.regular
    np.testing.assert_allclose(
        envelope(other, column, window).to_numpy(), expected.to_numpy(), rtol=1e-12
    )
    assert (window_dates(other, window) == dates).all()


def test_draw_all_without_timeseries_draws_the_summary_figures(
    small: tuple, tmp_path: Path
) -> None:
    _, _, (summary, _) = small
    figures = plots.draw_all(summary, None, tmp_path)
    assert sorted(figures) == ["attack_risk.png", "severity.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(figures)


# --------------------------------------------------------------------------------------
# Runs without a timeseries: run, compare, experiment reuse
# --------------------------------------------------------------------------------------

SHORT = ["run.replications=3", "run.steps=12", "run.burn_in=4", "run.seed=9"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    with_ts = load_config(CONFIGS / "baseline.yaml", SHORT)
    without = load_config(CONFIGS / "trilateral.yaml", [*SHORT, "run.timeseries=false"])
    execute_run(with_ts, root / "with")
    streamed, _ = execute_run(without, root / "without")
    assert streamed.timeseries_path is None
    return {"with": root / "with", "without": root / "without"}


def test_a_run_without_timeseries_writes_and_hashes_the_rest(two_runs: dict[str, Path]) -> None:
    run_dir = two_runs["without"]
    manifest = store.read_manifest(run_dir)
    assert manifest["timeseries"] is False
    assert not (run_dir / store.TIMESERIES).exists()
    assert store.TIMESERIES not in manifest["files"]
    assert store.TIMESERIES not in manifest[store.HASHES]
    assert store.verify_files(run_dir, manifest) is None
    assert sorted(p.name for p in (run_dir / "plots").iterdir()) == [
        "attack_risk.png",
        "severity.png",
    ]
    assert "Weekly series: not kept" in (run_dir / "report.md").read_text()
    # A run that says it kept a timeseries but has lost it does not verify.
    with_ts = store.read_manifest(two_runs["with"])
    assert with_ts["timeseries"] is True
    hashes = dict(with_ts[store.HASHES])
    del hashes[store.TIMESERIES]
    problem = store.verify_files(two_runs["with"], {**with_ts, store.HASHES: hashes})
    assert problem is not None
    assert store.TIMESERIES in problem


def test_compare_with_a_run_without_timeseries_leaves_out_weekly_figures(
    two_runs: dict[str, Path], tmp_path: Path
) -> None:
    runs = [load_run(two_runs["with"]), load_run(two_runs["without"])]
    assert runs[1].weekly is None
    with pytest.raises(CompareError, match="--no-timeseries"):
        _ = runs[1].timeseries
    cmp = compare(runs)
    assert cmp.without_timeseries() == ["trilateral"]
    out = tmp_path / "cmp"
    res = run_cli("compare", two_runs["with"], two_runs["without"], "--out", out)
    assert res.returncode == 0, res.stderr
    assert "kept no timeseries.parquet" in res.stderr
    names = sorted(p.name for p in (out / "plots").iterdir())
    assert names == ["attacks_by_country.png", "forest.png", "frontier.png"]
    report = (out / "report.md").read_text()
    assert "Weekly figures (envelopes over time, trust trajectories) are left out" in report
    # Over an earlier comparison with weekly figures: those are not left behind.
    again = run_cli("compare", two_runs["with"], two_runs["with"], "--out", out)
    assert again.returncode == 0, again.stderr
    assert (out / "plots" / "envelopes.png").is_file()
    third = run_cli("compare", two_runs["with"], two_runs["without"], "--out", out)
    assert third.returncode == 0, third.stderr
    assert not (out / "plots" / "envelopes.png").exists()
    assert not (out / "plots" / "trust.png").exists()


def test_compare_refuses_a_run_that_lost_its_timeseries(
    two_runs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(two_runs["with"], damaged)
    (damaged / store.TIMESERIES).unlink()
    with pytest.raises(CompareError, match=r"timeseries\.parquet is missing"):
        load_run(damaged)


def test_experiment_reuses_a_run_without_timeseries(tmp_path: Path) -> None:
    spec = ExperimentSpec(
        name="x",
        scenarios={"a": "baseline.yaml", "b": "no_crackdown.yaml"},
        baseline="a",
        replications=2,
        seed=11,
    )
    short = ["run.replications=2", "run.steps=5", "run.seed=11"]
    configs = {
        "a": load_config(CONFIGS / "baseline.yaml", short),
        "b": load_config(CONFIGS / "no_crackdown.yaml", [*short, "run.timeseries=false"]),
    }
    out = tmp_path / "exp"
    told: dict[str, tuple[bool, str | None]] = {}

    def on_scenario(label: str, reused: bool, why: str | None = None) -> None:
        told[label] = (reused, why)

    run_experiment(spec, configs, out, on_scenario=on_scenario)
    assert not (out / "runs" / "b" / store.TIMESERIES).exists()
    run_experiment(spec, configs, out, on_scenario=on_scenario)
    assert told == {"a": (True, None), "b": (True, None)}
    # Asking for the weekly series again re-runs it (the resolved config differs).
    configs["b"] = load_config(CONFIGS / "no_crackdown.yaml", short)
    run_experiment(spec, configs, out, on_scenario=on_scenario)
    assert told["b"] == (False, "the resolved config changed")
    assert (out / "runs" / "b" / store.TIMESERIES).is_file()


def test_no_timeseries_option_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(
        "run", CONFIGS / "baseline.yaml", "-n", "2", "--steps", "5", "--no-timeseries",
        "--out", out,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert not (out / store.TIMESERIES).exists()
    manifest = json.loads((out / store.MANIFEST).read_text())
    assert manifest["config"]["run"]["timeseries"] is False
    help_text = run_cli("run", "--help").stdout
    assert "--no-timeseries" in help_text
    assert "no weekly figures" in " ".join(help_text.split())


def test_summary_rows_kept_compactly_give_the_same_frame(small: tuple) -> None:
    _, results, (summary, _) = small
    seeds = summary["seed"].tolist()
    rows = runner.SummaryRows()
    rows.BLOCK = 3  # several blocks, the last one partly filled
    for i, _, row in results:
        rows.add(i, seeds[i], row)
    assert rows.dicts is None
    pd.testing.assert_frame_equal(rows.frame(), summary, check_exact=True)
    # A row that does not fit the float layout: every row is kept as a dict from then on.
    odd = dict(results[0][2])
    odd["extra"] = 1
    rows.add(len(results), 123, odd)
    expected = runner.summary_frame(
        [runner.summary_row(i, seeds[i], row) for i, _, row in results]
        + [runner.summary_row(len(results), 123, odd)]
    )
    assert rows.dicts is not None
    pd.testing.assert_frame_equal(rows.frame(), expected, check_exact=True)


def test_figures_of_a_very_large_run_read_only_its_first_replications(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, _, (summary, timeseries) = small
    monkeypatch.setattr(runner, "ROW_GROUP_ROWS", 45)
    path = tmp_path / store.TIMESERIES
    runner.stream_scenario(cfg, path)
    capped = ParquetWeekly(path, max_replications=4)
    assert capped.regular
    assert (capped.used, capped.replications) == (4, 7)
    assert capped.values("strength").shape == (4, 30)
    head = timeseries[timeseries.replication < 4]
    np.testing.assert_allclose(
        envelope(capped, "strength").to_numpy(),
        _old_envelope(head, "strength").to_numpy(),
        rtol=1e-12,
    )
    monkeypatch.setattr(plots, "as_weekly", lambda _: capped)
    figures = plots.draw_all(summary, path, tmp_path / "plots")
    assert figures["strength.png"].endswith("(the first 4 of 7 replications).")
    assert "replications)" not in figures["severity.png"]


def test_a_failed_write_leaves_no_file(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, _, _ = small
    add = runner.TimeseriesWriter.add

    def failing(self: runner.TimeseriesWriter, i: int, columns: dict) -> None:
        if i == 3:
            raise OSError("disk full")
        add(self, i, columns)

    monkeypatch.setattr(runner.TimeseriesWriter, "add", failing)
    monkeypatch.setattr(runner, "ROW_GROUP_ROWS", 30)
    with pytest.raises(OSError, match="disk full"):
        runner.stream_scenario(cfg, tmp_path / store.TIMESERIES, workers=2)
    assert list(tmp_path.iterdir()) == []
