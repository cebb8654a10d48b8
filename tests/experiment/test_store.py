"""Output safety in the store: containment of deletions."""

from __future__ import annotations

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
