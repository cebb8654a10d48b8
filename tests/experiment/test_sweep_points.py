"""Sweep points built from the validated base equal those validated from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS, ROOT

from scenarios.config import ConfigError, ScenarioConfig, load_raw
from scenarios.experiment import executor
from scenarios.experiment import sweep as sweep_module
from scenarios.experiment.seeds import replication_seeds, replication_sequence
from scenarios.experiment.sweep import PointConfigs, load_sweep, point_config


def same(a: ScenarioConfig, b: ScenarioConfig) -> None:
    assert a == b
    assert a.digest() == b.digest()
    assert a.model_fields_set == b.model_fields_set
    assert a.model_dump(exclude_unset=True) == b.model_dump(exclude_unset=True)


def outcome(points: PointConfigs, values: list[float]) -> ScenarioConfig | str:
    """The config of a point, or the message of the ConfigError it raises."""
    try:
        return points.config(np.array(values))
    except ConfigError as exc:
        return str(exc)


def plain(raw: dict[str, Any], names: list[str], values: list[float]) -> ScenarioConfig | str:
    try:
        return point_config(raw, names, np.array(values))
    except ConfigError as exc:
        return str(exc)


def no_plain_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make PointConfigs fail if it falls back to the plain path."""

    def fail(*args: Any) -> None:
        raise AssertionError("went the plain way")

    monkeypatch.setattr(sweep_module, "point_config", fail)


@pytest.mark.parametrize("sweep", ["sharing_trust_sobol.yaml", "morris_screening.yaml"])
def test_every_point_of_the_shipped_sweeps_equals_the_plain_path(
    sweep: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, raw = load_sweep(ROOT / "configs" / "sweeps" / sweep)
    if spec.method == "sobol":
        spec = spec.model_copy(update={"samples": 16})
    names = list(spec.parameters)
    design = spec.design()
    points = PointConfigs(raw, names)
    with monkeypatch.context() as patch:
        no_plain_path(patch)
        quick = [points.config(values) for values in design]
    for config, values in zip(quick, design, strict=True):
        same(config, point_config(raw, names, values))


@pytest.mark.parametrize(
    ("base", "names", "values"),
    [
        # a section the base leaves unset, a pair the base does not list, integer fields
        (
            "baseline",
            ["sharing.policy.iran.pakistan", "threat.disruption_weeks", "severity.cap"],
            [0.25, 3.0, 40.0],
        ),
        # a base with an intervention: its check runs on the point's values
        (
            "historical_2022_2024",
            ["actors.taliban.crackdown.intensity", "counterintelligence.leakage.taliban"],
            [0.4, 0.2],
        ),
        ("trilateral", ["regions.kabul.grievance", "actors.us.reach.kabul"], [0.9, 0.1]),
    ],
)
def test_points_off_the_shipped_sweeps_equal_the_plain_path(
    base: str, names: list[str], values: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = load_raw(CONFIGS / f"{base}.yaml")
    with monkeypatch.context() as patch:
        no_plain_path(patch)
        result = outcome(PointConfigs(raw, names), values)
    assert isinstance(result, ScenarioConfig), result
    same(result, point_config(raw, names, np.array(values)))


@pytest.mark.parametrize(
    ("names", "values", "expected"),
    [
        (["severity.minimum", "severity.cap"], [90.0, 30.0], "must be >= severity.minimum"),
        (["trust.forgetting"], [1.5], "trust.forgetting"),
        (["sharing.policy.us.china"], [0.5], "china"),
        (["threat.cells", "threat.fighters"], [500.0, 100.0], "threat.cells"),
        (["interventions.0.set.x"], [0.5], "interventions"),  # baseline has none: past the end
        (["regions.kabul.neighbours"], [1.0], "neighbours"),  # a list leaf given a number
        (["threat"], [1.0], "threat"),  # a section given a number
    ],
)
def test_refused_points_raise_the_plain_paths_error(
    names: list[str], values: list[float], expected: str
) -> None:
    raw = load_raw(CONFIGS / "baseline.yaml")
    quick, reference = outcome(PointConfigs(raw, names), values), plain(raw, names, values)
    assert isinstance(reference, str), "the case should be refused"
    assert quick == reference
    assert expected in quick


def test_a_base_that_is_only_valid_with_the_points_values_goes_the_plain_way() -> None:
    raw = load_raw(CONFIGS / "baseline.yaml")
    raw["sharing"] = {**raw.get("sharing", {}), "compartmentalisation": 2.0}
    names = ["sharing.compartmentalisation"]
    points = PointConfigs(raw, names)
    assert points.base is None
    same(points.config(np.array([0.5])), point_config(raw, names, np.array([0.5])))


def test_points_do_not_share_mutable_state_with_the_base() -> None:
    raw = load_raw(CONFIGS / "trilateral.yaml")
    names = ["sharing.policy.us.russia", "trust.forgetting"]
    points = PointConfigs(raw, names)
    assert points.base is not None
    before = points.base.model_dump()
    a = points.config(np.array([0.1, 0.91]))
    b = points.config(np.array([0.9, 0.99]))
    assert points.base.model_dump() == before
    assert (a.sharing.policy["us"]["russia"], b.sharing.policy["us"]["russia"]) == (0.1, 0.9)
    assert (a.trust.forgetting, b.trust.forgetting) == (0.91, 0.99)
    assert a.sharing.policy["us"] is not b.sharing.policy["us"]


def test_run_chunk_rows_equal_those_of_the_plain_path(tmp_path: Path) -> None:
    """run_chunk (quick configs, cached geometry) writes the rows of the plain path."""
    from scenarios.model.params import compile_parameters
    from scenarios.model.regions import build_geometry
    from scenarios.model.simulation import run_replication

    spec, raw = load_sweep(ROOT / "configs" / "sweeps" / "sharing_trust_sobol.yaml")
    raw = {**raw, "run": {**raw["run"], "steps": 12, "burn_in": 4}}
    spec = spec.model_copy(update={"samples": 2})
    design, names = spec.design(), list(spec.parameters)
    reps = 2
    seeds = replication_seeds(spec.seed, reps)
    picked = [0, 1, 5, 9]
    runs = [(p * reps + r, p, r, seeds[r]) for p in picked for r in range(reps)]
    values = design[[p for _, p, _, _ in runs]]
    executor.run_chunk(raw, names, values, runs, str(tmp_path), 0)
    ours = pd.read_parquet(tmp_path / executor.chunk_name(0))

    rows = []
    for (run, point, replication, seed), point_values in zip(runs, values, strict=True):
        cfg = point_config(raw, names, point_values)
        geometry = build_geometry(cfg)
        parameters = compile_parameters(cfg, geometry)
        _, summary = run_replication(cfg, replication_sequence(seed), geometry, parameters)
        row: dict[str, Any] = {"run": run, "point": point, "replication": replication, "seed": seed}
        row.update({f"param:{n}": float(v) for n, v in zip(names, point_values, strict=True)})
        row.update(summary)
        rows.append(row)
    pd.testing.assert_frame_equal(ours, pd.DataFrame(rows), check_exact=True)
