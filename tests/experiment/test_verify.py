"""Reuse and resume verify what is on disk: run file hashes, sweep parts, sweep identity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import CONFIGS

from scenarios.config import load_config
from scenarios.experiment import store
from scenarios.experiment.errors import OutputError
from scenarios.experiment.executor import PARTS, chunk_name, execute_sweep, read_results
from scenarios.experiment.experiment import ExperimentSpec, run_experiment
from scenarios.experiment.sweep import load_sweep

# --------------------------------------------------------------------------------------
# Experiments reuse a run only if its files verify against its manifest
# --------------------------------------------------------------------------------------

SHORT = ["run.replications=2", "run.steps=5", "run.seed=11"]


@pytest.fixture
def experiment(tmp_path: Path) -> tuple[ExperimentSpec, dict, Path]:
    spec = ExperimentSpec(
        name="x",
        scenarios={"a": "baseline.yaml", "b": "no_crackdown.yaml"},
        baseline="a",
        replications=2,
        seed=11,
    )
    configs = {
        "a": load_config(CONFIGS / "baseline.yaml", SHORT),
        "b": load_config(CONFIGS / "no_crackdown.yaml", SHORT),
    }
    out = tmp_path / "exp"
    run_experiment(spec, configs, out)
    return spec, configs, out


def _again(spec: ExperimentSpec, configs: dict, out: Path) -> dict[str, tuple[bool, str | None]]:
    told: dict[str, tuple[bool, str | None]] = {}

    def on_scenario(label: str, reused: bool, why: str | None = None) -> None:
        told[label] = (reused, why)

    run_experiment(spec, configs, out, on_scenario=on_scenario)
    return told


def test_run_manifest_records_hashes_of_its_data_files(
    experiment: tuple[ExperimentSpec, dict, Path],
) -> None:
    _, _, out = experiment
    run_dir = out / "runs" / "a"
    hashes = store.read_manifest(run_dir)[store.HASHES]
    for name in (store.SUMMARY, store.TIMESERIES):
        assert hashes[name] == store.file_sha256(run_dir / name)
    assert store.verify_files(run_dir, store.read_manifest(run_dir)) is None


def test_untouched_runs_are_reused(experiment: tuple[ExperimentSpec, dict, Path]) -> None:
    assert _again(*experiment) == {"a": (True, None), "b": (True, None)}


def _swap(out: Path) -> None:
    """Replace a's summary with b's (another scenario's data)."""
    runs = out / "runs"
    shutil.copyfile(runs / "b" / store.SUMMARY, runs / "a" / store.SUMMARY)


def _truncate(out: Path) -> None:
    path = out / "runs" / "a" / store.SUMMARY
    path.write_bytes(path.read_bytes()[:100])


def _drop_hashes(out: Path) -> None:
    """A manifest written before hashes were recorded cannot be verified."""
    path = out / "runs" / "a" / store.MANIFEST
    manifest = json.loads(path.read_text())
    del manifest[store.HASHES]
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage", [_swap, _truncate, _drop_hashes], ids=lambda f: f.__name__)
def test_a_run_whose_files_do_not_verify_is_re_run(
    experiment: tuple[ExperimentSpec, dict, Path], damage
) -> None:
    spec, configs, out = experiment
    original = (out / "runs" / "a" / store.SUMMARY).read_bytes()
    damage(out)
    told = _again(spec, configs, out)
    assert told["b"] == (True, None)
    reused, why = told["a"]
    assert not reused
    assert why is not None
    assert "summary.parquet" in why or "hashes" in why, why
    # the re-run wrote the same (deterministic) data again, and it verifies
    assert (out / "runs" / "a" / store.SUMMARY).read_bytes() == original
    assert _again(spec, configs, out)["a"] == (True, None)


def test_cli_experiment_says_why_a_damaged_run_is_re_run(tmp_path: Path) -> None:
    from tests.experiment.test_sweep import cli

    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: mini\nbaseline: a\nscenarios:\n"
        f"  a: {CONFIGS / 'baseline.yaml'}\n  b: {CONFIGS / 'no_crackdown.yaml'}\n"
        "replications: 2\nseed: 7\nsteps: 5\n"
    )
    out = tmp_path / "out"
    first = cli("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    _truncate(out)
    second = cli("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "a: the earlier run is not reused: summary.parquet" in second.stderr, second.stderr
    assert "b: reusing the finished run" in second.stderr, second.stderr


def test_verify_files_refuses_paths_outside_the_run(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "secret").write_bytes(b"x")
    manifest = {
        store.HASHES: {
            store.SUMMARY: "0",
            store.TIMESERIES: "0",
            "../secret": store.file_sha256(tmp_path / "secret"),
        }
    }
    assert store.verify_files(tmp_path / "run", manifest) is not None


# --------------------------------------------------------------------------------------
# Sweeps: resume checks the base config, the model code and every part
# --------------------------------------------------------------------------------------

TINY = (
    "method: lhs\nsamples: 3\nreplications: 2\nseed: 3\nsteps: 5\nchunk_size: 2\n"
    "parameters:\n  threat.plot_rate: {bounds: [0.5, 1.5]}\n"
    "outcomes: [attacks_successful]\n"
)


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny finished sweep (3 chunks of 2 runs) on a one-worker embedded cluster."""
    root = tmp_path_factory.mktemp("sweep")
    shutil.copyfile(CONFIGS / "baseline.yaml", root / "base.yaml")
    spec_path = root / "sweep.yaml"
    spec_path.write_text("name: t\nbase: base.yaml\n" + TINY)
    spec, raw_base = load_sweep(spec_path)
    execute_sweep(spec, raw_base, root / "ref", workers=1)
    return spec_path, root / "ref"


@pytest.fixture
def sweep(finished_sweep: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the finished sweep, its sweep file and base config, to damage."""
    spec_path, ref = finished_sweep
    shutil.copyfile(spec_path, tmp_path / "sweep.yaml")
    shutil.copyfile(spec_path.parent / "base.yaml", tmp_path / "base.yaml")
    shutil.copytree(ref, tmp_path / "out")
    return tmp_path / "sweep.yaml", tmp_path / "out"


def test_resume_after_the_base_config_changed_is_refused(sweep: tuple[Path, Path]) -> None:
    spec_path, out = sweep
    base = spec_path.parent / "base.yaml"
    base.write_text(base.read_text().replace("  crackdown_boost: 1.0", "  crackdown_boost: 2.0"))
    spec, raw_base = load_sweep(spec_path)
    before = sorted((out / PARTS).iterdir())
    with pytest.raises(OutputError) as info:
        execute_sweep(spec, raw_base, out, workers=1, resume=True)
    message = str(info.value)
    for fragment in ("base config", "new --out"):
        assert fragment in message, message
    assert sorted((out / PARTS).iterdir()) == before


def test_resume_after_the_model_changed_is_refused(
    sweep: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_path, out = sweep
    spec, raw_base = load_sweep(spec_path)
    monkeypatch.setattr(store, "model_fingerprint", lambda: "f" * 64)
    with pytest.raises(OutputError) as info:
        execute_sweep(spec, raw_base, out, workers=1, resume=True)
    message = str(info.value)
    for fragment in ("model code", "new --out"):
        assert fragment in message, message


def test_cli_resume_after_the_base_config_changed_exits_2(sweep: tuple[Path, Path]) -> None:
    from tests.experiment.test_sweep import cli

    spec_path, out = sweep
    base = spec_path.parent / "base.yaml"
    base.write_text(base.read_text().replace("  crackdown_boost: 1.0", "  crackdown_boost: 2.0"))
    res = cli("sweep", str(spec_path), "--resume", "--out", str(out), cwd=spec_path.parent)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert "base config" in res.stderr, res.stderr
    assert "new --out" in res.stderr, res.stderr


def _corrupt_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:50])


def _corrupt_rows(path: Path) -> None:
    frame = pd.read_parquet(path)
    store.write_parquet(frame.iloc[:1], path)


def _corrupt_runs(path: Path) -> None:
    frame = pd.read_parquet(path)
    frame["run"] = frame["run"] + 100
    store.write_parquet(frame, path)


@pytest.mark.parametrize(
    "corrupt", [_corrupt_truncated, _corrupt_rows, _corrupt_runs], ids=lambda f: f.__name__
)
def test_a_corrupted_part_is_deleted_and_re_run_on_resume(sweep: tuple[Path, Path], corrupt):
    spec_path, out = sweep
    expected = read_results(out)
    part = out / PARTS / chunk_name(1)
    corrupt(part)
    spec, raw_base = load_sweep(spec_path)
    execute_sweep(spec, raw_base, out, workers=1, resume=True)
    pd.testing.assert_frame_equal(read_results(out), expected)
    assert store.read_manifest(out)["status"] == "complete"


def test_cli_resume_says_which_part_was_bad(sweep: tuple[Path, Path]) -> None:
    from tests.experiment.test_sweep import cli

    spec_path, out = sweep
    expected = read_results(out)
    _corrupt_truncated(out / PARTS / chunk_name(2))
    res = cli("sweep", str(spec_path), "--resume", "--out", str(out), cwd=spec_path.parent)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert f"{PARTS}/{chunk_name(2)}" in res.stderr, res.stderr
    assert "runs again" in res.stderr, res.stderr
    pd.testing.assert_frame_equal(read_results(out), expected)


def test_a_part_that_is_no_chunk_of_the_sweep_is_deleted(sweep: tuple[Path, Path]) -> None:
    spec_path, out = sweep
    expected = read_results(out)
    shutil.copyfile(out / PARTS / chunk_name(0), out / PARTS / chunk_name(99))
    spec, raw_base = load_sweep(spec_path)
    execute_sweep(spec, raw_base, out, workers=1, resume=True)
    assert not (out / PARTS / chunk_name(99)).exists()
    pd.testing.assert_frame_equal(read_results(out), expected)


def test_remove_file_refuses_outside(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "keep").write_bytes(b"x")
    with pytest.raises(OutputError, match="not strictly inside"):
        store.remove_file(tmp_path / "parts" / ".." / "keep", tmp_path / "parts")
    assert (tmp_path / "keep").exists()
    link = tmp_path / "parts" / "chunk-000000.parquet"
    link.symlink_to(tmp_path / "keep")
    store.remove_file(link, tmp_path / "parts")
    assert not link.exists()
    assert (tmp_path / "keep").exists()
