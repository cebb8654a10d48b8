"""Output safety in the store: containment of deletions, output locks, directory kinds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.conftest import CONFIGS

from scenarios.config import load_config
from scenarios.experiment import store
from scenarios.experiment.errors import OutputError
from scenarios.experiment.experiment import ExperimentSpec, run_experiment

# --------------------------------------------------------------------------------------
# Nothing outside the named output directory is deleted or replaced
# --------------------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    (root / "runs" / "other").mkdir(parents=True)
    (root / "runs" / "other" / "keep.txt").write_text("mine\n")
    (root / "keep.txt").write_text("mine\n")
    return root / "runs"


@pytest.mark.parametrize("name", [".", "..", "../..", "other/../.."])
def test_remove_tree_refuses_anything_not_strictly_inside(tmp_path: Path, name: str) -> None:
    runs = _tree(tmp_path / "out")
    with pytest.raises(OutputError, match="not strictly inside"):
        store.remove_tree(runs / name, runs)
    assert (runs / "other" / "keep.txt").read_text() == "mine\n"
    assert (tmp_path / "out" / "keep.txt").exists()


def test_remove_tree_refuses_a_link_out_of_the_directory(tmp_path: Path) -> None:
    runs = _tree(tmp_path / "out")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "precious.txt").write_text("mine\n")
    (runs / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputError, match="not strictly inside"):
        store.remove_tree(runs / "link", runs)
    assert (outside / "precious.txt").exists()


def test_remove_tree_deletes_inside(tmp_path: Path) -> None:
    runs = _tree(tmp_path / "out")
    store.remove_tree(runs / "other", runs)
    assert not (runs / "other").exists()
    assert runs.is_dir()


def test_staged_directory_refuses_a_destination_that_is_not_a_plain_child(tmp_path: Path) -> None:
    runs = _tree(tmp_path / "out")
    with (
        pytest.raises(OutputError, match="not strictly inside"),
        store.staged_directory(runs / ".."),
    ):
        pytest.fail("a staging directory was created")
    assert (tmp_path / "out" / "keep.txt").exists()
    assert (runs / "other" / "keep.txt").exists()


def test_experiment_with_an_unchecked_dot_label_deletes_nothing(tmp_path: Path) -> None:
    """Second line of defence: even a label that bypassed validation deletes nothing."""
    out = tmp_path / "out"
    runs = _tree(out)
    config = load_config(CONFIGS / "baseline.yaml", ["run.replications=2", "run.steps=5"])
    spec = ExperimentSpec.model_construct(
        name="x", scenarios={".": "baseline.yaml"}, baseline=".", replications=2, seed=1
    )
    with pytest.raises(OutputError, match="not strictly inside"):
        run_experiment(spec, {".": config}, out)
    assert (runs / "other" / "keep.txt").read_text() == "mine\n"
    assert (out / "keep.txt").exists()


# --------------------------------------------------------------------------------------
# Output locks
# --------------------------------------------------------------------------------------


def _holder(lock: Path) -> dict:
    return json.loads(lock.read_text())


def test_lock_is_held_then_removed_even_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    lock = store.lock_path(target)
    assert lock == tmp_path.resolve() / ".out.lock"

    def locked_then_fails() -> None:
        with store.output_lock(target):
            assert _holder(lock)["pid"] == os.getpid()
            with store.output_lock(tmp_path / "." / "out"):  # nested use in one process
                assert lock.exists()
            assert lock.exists()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        locked_then_fails()
    assert not lock.exists()


def test_lock_held_by_a_live_process_is_refused_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "out"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scenarios.experiment import store\n"
        "from scenarios.experiment.errors import OutputError\n"
        "try:\n"
        "    with store.output_lock(Path(sys.argv[1])):\n"
        "        pass\n"
        "except OutputError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n"
    )
    with store.output_lock(target):
        child = subprocess.run(
            [sys.executable, "-c", code, str(target)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert child.returncode == 2, child.stderr
    assert f"pid {os.getpid()}" in child.stdout
    assert "in use by another scenarios process" in child.stdout
    assert not store.lock_path(target).exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("content", ["dead", "empty"])
def test_stale_lock_is_taken_over(tmp_path: Path, content: str) -> None:
    target = tmp_path / "out"
    lock = store.lock_path(target)
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "started": "earlier"}
    lock.write_text(json.dumps(stale) if content == "dead" else "")
    with store.output_lock(target):
        assert _holder(lock)["pid"] == os.getpid()
    assert not lock.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_lock_of_another_host_is_not_taken_over(tmp_path: Path) -> None:
    target = tmp_path / "out"
    lock = store.lock_path(target)
    lock.write_text(json.dumps({"pid": _dead_pid(), "host": "elsewhere.invalid"}))
    with (
        pytest.raises(OutputError, match=r"on elsewhere\.invalid.*delete it if"),
        store.output_lock(target),
    ):
        pytest.fail("took over the lock of another host")
    assert lock.exists()


# --------------------------------------------------------------------------------------
# Kinds of output directories, including directories written before `kind` existed
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, None),
        ({"manifest.json": {"kind": "comparison"}}, "comparison"),
        ({"manifest.json": {"status": "complete", "scenario": "b", "config_hash": "x"}}, "run"),
        ({"manifest.json": {"status": "complete", "sweep": "s", "spec_hash": "x"}}, "sweep"),
        ({"runs/a/manifest.json": {"kind": "run"}, "report.md": "x"}, "experiment"),
        ({"comparison.csv": "a,b\n", "report.md": "x"}, "comparison"),
        ({"notes.txt": "mine"}, "unknown"),
    ],
    ids=["empty", "comparison", "old-run", "old-sweep", "old-experiment", "old-compare", "other"],
)
def test_directory_kind(tmp_path: Path, files: dict, expected: str | None) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body) if isinstance(body, dict) else body)
    assert store.directory_kind(folder) == expected
    if expected in (None, "comparison"):
        store.check_kind(folder, "comparison")
    else:
        with pytest.raises(OutputError, match="comparison is written only into"):
            store.check_kind(folder, "comparison")


def test_run_experiment_checks_the_kind_of_out_under_its_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run written into ``out`` after a check made before the lock would be overwritten.

    Here another writer puts a run's manifest into ``out`` just before run_experiment's
    lock is taken; the check under the lock sees it and refuses, and the run is intact.
    """
    out = tmp_path / "out"
    run_manifest = json.dumps({"kind": "run", "status": "complete", "scenario": "other"})
    real_lock = store.output_lock

    @contextmanager
    def lock_after_another_writer(target: Path, option: str = "--out") -> Iterator[Path]:
        if target == out and not (out / store.MANIFEST).exists():
            out.mkdir(parents=True, exist_ok=True)
            (out / store.MANIFEST).write_text(run_manifest)
        with real_lock(target, option) as lock:
            yield lock

    monkeypatch.setattr(store, "output_lock", lock_after_another_writer)
    config = load_config(CONFIGS / "baseline.yaml", ["run.replications=2", "run.steps=5"])
    spec = ExperimentSpec(
        name="x", scenarios={"a": "baseline.yaml", "b": "baseline.yaml"}, baseline="a"
    )
    with pytest.raises(OutputError, match="a run directory"):
        run_experiment(spec, {"a": config, "b": config}, out)
    assert (out / store.MANIFEST).read_text() == run_manifest
    assert sorted(p.name for p in out.iterdir()) == [store.MANIFEST]
