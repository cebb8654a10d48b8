"""Contrast sweeps: both arms per run on common random numbers, paired effect columns.

A sweep's ``contrast`` runs every (point, replication) twice with the same seed; the base
arm's columns must be those of the sweep without a contrast, the effects must be the
contrast arm's run minus the base arm's, and neither may depend on the worker count,
on resuming, or on running on an external Dask scheduler.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from tests.conftest import CONFIGS, cli_in_process, external_dask_cluster, run_cli

from scenarios.config import ConfigError
from scenarios.experiment.errors import OutputError
from scenarios.experiment.executor import PARTS, execute_sweep, read_results
from scenarios.experiment.seeds import replication_sequence
from scenarios.experiment.sweep import (
    SweepSpec,
    contrast_base,
    file_stem,
    load_sweep,
    point_config,
)

TRILATERAL = {
    "sharing.policy.us.russia": 0.7,
    "sharing.policy.russia.us": 0.7,
    "sharing.policy.us.taliban": 0.7,
    "sharing.policy.taliban.us": 0.7,
}


def sweep_file(tmp_path: Path, name: str = "c", **changes: Any) -> Path:
    """A small LHS contrast sweep over two trust/exploitation parameters (8 weeks a run)."""
    data: dict[str, Any] = {
        "name": name,
        "base": str(CONFIGS / "baseline.yaml"),
        "method": "lhs",
        "samples": 5,
        "replications": 3,
        "steps": 8,
        "chunk_size": 2,
        "parameters": {
            "trust.initial.us.russia": {"bounds": [0.05, 0.9]},
            "exploitation.russia.us": {"bounds": [0.0, 0.6]},
        },
        "contrast": {"label": "trilateral sharing on", "set": TRILATERAL},
        "outcomes": [
            "attacks_successful",
            "effect:attacks_successful",
            "effect:ci_exposure__us",
            "effect:attack_risk__russia",
        ],
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_sweep(path: Path, out: Path, workers: int = 1, **kwargs: Any) -> pd.DataFrame:
    spec, raw_base = load_sweep(path)
    execute_sweep(spec, raw_base, out, workers=workers, **kwargs)
    return read_results(out)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"contrast": {"set": {"sharing.policy.us.mars": 0.5}}},
            "not a valid config.*unknown actor .mars.",
        ),
        ({"contrast": {"set": {"sharing.nonsense": 0.5}}}, "not a config path"),
        (
            {"contrast": {"set": {"trust.initial.us.russia": 0.5}}},
            "also a swept parameter \\(trust.initial.us.russia\\)",
        ),
        ({"contrast": {"set": {"trust.initial": {"us": {"russia": 0.5}}}}}, "also a swept"),
        ({"contrast": {"set": {"run.steps": 4}}}, "cannot set run"),
        ({"contrast": {"set": {"sharing.policy.us.russia": 1.5}}}, "not a valid config"),
        ({"contrast": {"set": {"sharing.policy.russia.taliban": 0.2}}}, "changes nothing"),
        ({"contrast": {"set": {}}}, "contrast.set"),
        (
            {"contrast": None, "outcomes": ["effect:attacks_successful"]},
            "needs a contrast",
        ),
        ({"outcomes": ["effect:no_such_column"]}, "effect:no_such_column"),
        ({"outcomes": ["effect:../x"]}, "not an outcome name"),
    ],
)
def test_bad_contrasts_are_refused_before_any_run(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_sweep(sweep_file(tmp_path, **changes))


def test_a_bad_contrast_exits_2_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sweep_file(tmp_path, contrast={"set": {"exploitation.russia.us": 0.1}})
    out = tmp_path / "out"
    code, err = cli_in_process(monkeypatch, capsys, "sweep", path, "--out", out)
    assert code == 2
    assert "also a swept parameter" in err
    assert not out.exists()


def test_the_digest_includes_the_contrast_and_is_unchanged_without_one(tmp_path: Path) -> None:
    spec, _ = load_sweep(sweep_file(tmp_path))
    relabelled = spec.model_copy(
        update={"contrast": spec.contrast.model_copy(update={"label": "x"})}
    )  # type: ignore[union-attr]
    plain = spec.model_copy(
        update={"contrast": None, "outcomes": ["attacks_successful", "fatalities"]}
    )
    assert len({spec.digest(), relabelled.digest(), plain.digest()}) == 3
    # a sweep without a contrast has the digest it had before contrasts existed
    legacy = {k: v for k, v in plain.model_dump(mode="json").items() if k != "contrast"}
    assert plain.digest() == hashlib.sha256(json.dumps(legacy, sort_keys=True).encode()).hexdigest()
    assert file_stem("effect:attack_risk__russia") == "effect__attack_risk__russia"


@pytest.mark.slow
def test_contrast_runs_are_paired_and_independent_of_workers_and_resume(tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    one = run_sweep(path, tmp_path / "one", workers=1)
    two = run_sweep(path, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 5 * 3
    effects = [c for c in one.columns if c.startswith("effect:")]
    base_columns = [c for c in one.columns if not c.startswith("effect:")]
    assert {"effect:attacks_successful", "effect:attack_risk__russia"} <= set(effects)
    assert len(effects) == len(base_columns) - 4 - 2  # run, point, replication, seed; params
    assert (one["effect:ci_exposure__us"] > 0).any()  # the contrast changes something

    # The base arm is the sweep without the contrast, row for row.
    plain = run_sweep(
        sweep_file(tmp_path, name="plain", contrast=None, outcomes=["attacks_successful"]),
        tmp_path / "plain",
    )
    pd.testing.assert_frame_equal(one[base_columns], plain)

    # The effect is the contrast arm's run (same seed) minus the base arm's.
    from scenarios.model.simulation import run_replication

    spec, raw_base = load_sweep(path)
    arm = contrast_base(spec, raw_base)
    assert arm is not None
    row = one.iloc[7]
    names = list(spec.parameters)
    values = np.array([row[f"param:{n}"] for n in names])
    _, treated = run_replication(
        point_config(arm, names, values), replication_sequence(int(one["seed"].iloc[7]))
    )  # the seed from its int64 column: a row of mixed columns holds it as a float
    for column in ("attacks_successful", "ci_exposure__us", "attack_risk__russia"):
        assert row[f"effect:{column}"] == pytest.approx(treated[column] - row[column], abs=1e-12)

    # Resume: lost parts run again and give the same rows; another contrast is refused.
    parts = sorted((tmp_path / "two" / PARTS).glob("chunk-*.parquet"))
    for part in parts[::3]:
        part.unlink()
    spec, raw_base = load_sweep(path)
    execute_sweep(spec, raw_base, tmp_path / "two", workers=2, resume=True)
    pd.testing.assert_frame_equal(read_results(tmp_path / "two"), one)
    other = sweep_file(tmp_path, contrast={"set": {"sharing.policy.us.russia": 0.3}})
    spec, raw_base = load_sweep(other)
    with pytest.raises(OutputError, match="different sweep"):
        execute_sweep(spec, raw_base, tmp_path / "two", workers=1, resume=True)


@pytest.mark.slow
def test_contrast_sweep_end_to_end_with_report_discover_and_dask(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, method="morris", samples=3, levels=4, replications=2)
    out = tmp_path / "local"
    # every figure: the per-outcome ones are named after the effect (no ':' in file names)
    res = run_cli("sweep", path, "--workers", "2", "--out", out, "--figures", "all")
    assert res.returncode == 0, res.stderr
    indices = pd.read_csv(out / "indices.csv")
    assert "effect:attack_risk__russia" in set(indices.outcome)
    assert (out / "plots" / "sensitivity_overview.png").exists()
    assert (out / "plots" / "morris_effect__ci_exposure__us.png").exists()
    assert (out / "plots" / "dependence_effect__ci_exposure__us.png").exists()
    assert not list((out / "plots").glob("*:*"))
    effects = pd.read_csv(out / "effects.csv")
    means = read_results(out).groupby("point")["effect:ci_exposure__us"].mean()
    row = effects.set_index("outcome").loc["effect:ci_exposure__us"]
    assert row.higher_share == pytest.approx((means > 0).mean())
    assert row.lower_share == pytest.approx((means < 0).mean())
    report = (out / "report.md").read_text()
    assert "## Effect of the contrast: trilateral sharing on" in report
    assert "*trilateral sharing on* lowers it (helps) at" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["contrast"]["set"] == TRILATERAL

    res = run_cli(
        "discover",
        out,
        "--where",
        "effect:ci_exposure__us > 0 and effect:attacks_successful <= 1000",
        "--density",
        "0.5",
    )
    assert res.returncode == 0, res.stderr
    assert (out / "discover" / "box.csv").exists()

    with external_dask_cluster(2) as address:
        remote = tmp_path / "remote"
        res = run_cli("sweep", path, "--scheduler", address, "--out", remote)
        assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(read_results(remote), read_results(out))
    spec = SweepSpec.model_validate(manifest["spec"])
    assert spec.arms() == 2
