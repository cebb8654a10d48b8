"""Sweeps that speak to the question: outcomes, sharing levers and their ranks in the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import ROOT

from scenarios.experiment import store
from scenarios.experiment.errors import CompareError
from scenarios.experiment.executor import DESIGN, PARTS, chunk_name
from scenarios.experiment.sensitivity import directions, is_sharing_lever, lever_ranks
from scenarios.experiment.sweep import SweepSpec, load_sweep
from scenarios.report.sweep_report import (
    DEPENDENCE,
    OVERVIEW,
    analyse_sweep,
    ordinal,
    overview_table,
)

SWEEPS = ROOT / "configs" / "sweeps"
PARTNER_RISK = ("attack_risk__afghanistan", "attack_risk__russia", "attack_risk__west")
EXPOSURE = ("exploitation_against__us", "ci_exposure__us")


@pytest.mark.parametrize("sweep", ["morris_screening.yaml", "sharing_trust_sobol.yaml"])
def test_shipped_sweeps_analyse_attack_risk_per_partner_and_exposure(sweep: str) -> None:
    spec, _ = load_sweep(SWEEPS / sweep)  # also checks every outcome is a summary column
    for outcome in (*PARTNER_RISK, *EXPOSURE):
        assert outcome in spec.outcomes, outcome
    for actor in ("us", "russia", "taliban"):
        assert f"exploitation_against__{actor}" in spec.outcomes
        assert f"ci_exposure__{actor}" in spec.outcomes


def test_morris_screening_varies_the_sharing_levers() -> None:
    spec, _ = load_sweep(SWEEPS / "morris_screening.yaml")
    names = set(spec.parameters)
    for link in ("us.russia", "us.taliban", "russia.us", "taliban.us"):
        assert f"sharing.policy.{link}" in names
    assert {"trust.initial.us.russia", "trust.initial.us.taliban", "trust.default"} <= names
    assert {"exploitation.russia.us", "exploitation.taliban.us"} <= names
    # the screening stays affordable (a few minutes on 2 cores at ~100 runs/s) with the
    # replications its noise needs (docs/ODD.md section 8): outcomes add no runs
    assert spec.n_points() * spec.replications <= 25_000


def test_which_parameters_are_sharing_levers() -> None:
    assert is_sharing_lever("sharing.policy.us.russia")
    assert is_sharing_lever("trust.initial.us.taliban")
    assert is_sharing_lever("exploitation.russia.us")
    assert not is_sharing_lever("threat.capability")
    assert not is_sharing_lever("counterintelligence.leakage.taliban")
    assert not is_sharing_lever("actors.russia.warning_receptivity")


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")]
)
def test_ordinal(n: int, text: str) -> None:
    assert ordinal(n) == text


def morris_indices(outcome: str, mu_star: dict[str, float]) -> pd.DataFrame:
    rows = []
    for name, v in mu_star.items():
        rows.append([outcome, name, "mu_star", v, v - 0.1, v + 0.1, ""])
        rows.append([outcome, name, "sigma", 0.0, math.nan, math.nan, ""])
    return pd.DataFrame(
        rows, columns=["outcome", "parameter", "index", "value", "ci_low", "ci_high", "flag"]
    )


def test_lever_ranks_count_larger_scores_and_ties() -> None:
    indices = pd.concat(
        [
            morris_indices(
                "attack_risk__russia",
                {
                    "threat.capability": 0.9,
                    "sharing.policy.us.russia": 0.2,
                    "interdiction.hazard": 0.5,
                    "trust.default": 0.2,
                    "exploitation.russia.us": 0.0,
                },
            ),
            morris_indices(
                "ci_exposure__us",
                {
                    "threat.capability": math.nan,
                    "sharing.policy.us.russia": 0.3,
                    "interdiction.hazard": 0.1,
                    "trust.default": 0.0,
                    "exploitation.russia.us": 0.4,
                },
            ),
        ]
    )
    ranks = lever_ranks(indices).set_index(["outcome", "parameter"])
    risk = ranks.loc["attack_risk__russia"]
    assert risk.loc["sharing.policy.us.russia", "rank"] == 3
    assert risk.loc["sharing.policy.us.russia", "ties"] == 1
    assert risk.loc["trust.default", "rank"] == 3
    assert risk.loc["exploitation.russia.us", "rank"] == 5
    assert (risk["of"] == 5).all()
    assert (risk["zero"] == 1).all()
    assert (risk["top_score"] == 0.9).all()
    assert (risk["top"] == "threat.capability").all()
    assert "threat.capability" not in risk.index  # not a lever
    exposure = ranks.loc["ci_exposure__us"]
    assert exposure.loc["exploitation.russia.us", "rank"] == 1
    assert exposure.loc["sharing.policy.us.russia", "rank"] == 2
    assert exposure.loc["trust.default", "rank"] == 4
    assert exposure.loc["trust.default", "ties"] == 0  # the undefined score ties with none
    assert (exposure["top"] == "exploitation.russia.us").all()


PARAMETERS = {
    "threat.plot_rate": (0.5, 3.0),
    "sharing.policy.us.russia": (0.0, 1.0),
    "trust.initial.us.russia": (0.05, 0.9),
    "interdiction.hazard": (0.1, 0.5),
}
# Effects on the parameters scaled to [0, 1]: exact elementary effects, so known ranks.
EFFECTS = {
    "attacks_successful": [10.0, 3.0, 0.0, 1.0],
    "attack_risk__russia": [2.0, 0.0, 5.0, 0.0],
    "attacks_successful__russia": [0.0, 1.0, 0.0, 0.0],
    "exploitation_against__us": [0.0, 0.0, 0.0, 0.0],
}


def synthetic_sweep(out: Path) -> SweepSpec:
    """A finished Morris sweep directory whose outcomes are linear in the parameters."""
    spec = SweepSpec.model_validate(
        {
            "name": "tiny",
            "base": "../baseline.yaml",
            "method": "morris",
            "samples": 6,
            "levels": 4,
            "replications": 1,
            "seed": 5,
            "parameters": {k: {"bounds": list(v)} for k, v in PARAMETERS.items()},
            "outcomes": list(EFFECTS),
        }
    )
    design = spec.design()
    n = len(design)
    low = np.array([b[0] for b in PARAMETERS.values()])
    high = np.array([b[1] for b in PARAMETERS.values()])
    unit = (design - low) / (high - low)
    (out / PARTS).mkdir(parents=True)
    frame = pd.DataFrame(design, columns=[f"param:{p}" for p in PARAMETERS])
    frame.insert(0, "point", np.arange(n))
    frame.to_parquet(out / DESIGN)
    results = pd.DataFrame({"run": np.arange(n), "point": np.arange(n)})
    for outcome, coef in EFFECTS.items():
        results[outcome] = unit @ np.array(coef)
    results.to_parquet(out / PARTS / chunk_name(0))
    manifest = {
        "kind": "sweep",
        "status": "complete",
        "sweep": spec.name,
        "spec": spec.model_dump(mode="json"),
        "base_config": {"name": "baseline", "run": {"steps": 20}},
        "points": n,
        "replications": 1,
        "runs": n,
    }
    (out / store.MANIFEST).write_text(json.dumps(manifest))
    return spec


def test_sweep_report_ranks_the_sharing_levers_and_names_the_base(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    synthetic_sweep(out)
    analyse_sweep(out)
    report = (out / "report.md").read_text()
    assert "- Base scenario: `baseline` (`../baseline.yaml`)" in report
    section = report.index("## Sharing levers")
    assert section < report.index("## Most influential parameters")
    lines = {
        line.split(",")[0].split(":")[0] + (": no" if ": no parameter" in line else ""): line
        for line in report.splitlines()
        if line.startswith("- ")
    }
    attacks = lines["- `attacks_successful`"]
    assert "most influential `threat.plot_rate`" in attacks
    assert "`sharing.policy.us.russia` ranks 2nd of 4 (mu* = 3" in attacks
    assert "no measured effect (mu* = 0): `trust.initial.us.russia`." in attacks
    assert "too rarely" not in attacks
    risk = lines["- Attack risk in Russia (`attack_risk__russia`)"]
    assert "most influential `trust.initial.us.russia` (mu* = 5" in risk
    assert "`trust.initial.us.russia` ranks 1st of 4 (mu* = 5" in risk
    assert "no measured effect (mu* = 0): `sharing.policy.us.russia`." in risk
    rare = lines["- Successful attacks in Russia (`attacks_successful__russia`)"]
    assert "`sharing.policy.us.russia` ranks 1st of 4 (mu* = 1" in rare
    assert "Most parameters (3 of 4) show no measured effect" in rare
    silent = lines["- Exploitation of material shared by the US (`exploitation_against__us`): no"]
    assert "no parameter changes it in this sweep (every mu* is 0 or undefined)" in silent
    html = (out / "report.html").read_text()
    assert "Sharing levers" in html
    assert "ranks 2nd of 4" in html
    assert "baseline" in html


def test_report_without_a_base_name_shows_the_path(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    synthetic_sweep(out)
    manifest = json.loads((out / store.MANIFEST).read_text())
    del manifest["base_config"]
    (out / store.MANIFEST).write_text(json.dumps(manifest))
    analyse_sweep(out)
    assert "- Base scenario: `../baseline.yaml`;" in (out / "report.md").read_text()


def test_analysis_on_a_pool_writes_the_files_of_the_serial_analysis(tmp_path: Path) -> None:
    """Indices on one of the pool's workers, figures drawn on all of them: same files."""
    from scenarios.experiment.executor import local_pool

    serial, pooled = tmp_path / "serial", tmp_path / "pooled"
    synthetic_sweep(serial)
    synthetic_sweep(pooled)
    analyse_sweep(serial, figures="all")
    with local_pool(2) as pool:
        analyse_sweep(pooled, pool, figures="all")
    for name in ("indices.csv", "noise.csv", "report.md"):
        assert (pooled / name).read_bytes() == (serial / name).read_bytes(), name
    assert sorted(p.name for p in (pooled / "plots").iterdir()) == sorted(
        p.name for p in (serial / "plots").iterdir()
    )


def test_overview_figures_come_first_and_all_adds_each_outcomes_own(tmp_path: Path) -> None:
    """By default a heatmap and one partial-dependence figure; "all" adds per-outcome ones."""
    out = tmp_path / "sweep"
    synthetic_sweep(out)
    _, figures = analyse_sweep(out)
    # exploitation_against__us does not vary: no clear driver, not in the dependence figure
    assert list(figures) == ["sensitivity_overview.png", "dependence_overview.png"]
    assert "Not shown (no clear index): exploitation_against__us." in figures[DEPENDENCE]
    assert "rises (\u2191) or falls (\u2193)" in figures[OVERVIEW]
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(figures)
    report = (out / "report.md").read_text()
    figures_section = report[report.index("## Figures") :]
    assert figures_section.index(OVERVIEW) < figures_section.index(DEPENDENCE)
    assert "`scenarios analyse DIR --figures all`" in figures_section

    _, figures = analyse_sweep(out, figures="all")
    assert list(figures)[:2] == [OVERVIEW, DEPENDENCE]
    assert {"morris_attacks_successful.png", "dependence_attack_risk__russia.png"} < set(figures)
    assert len(figures) == 2 + 2 * len(EFFECTS)
    assert "--figures all" not in (out / "report.md").read_text()
    # back to the overview: the per-outcome figures of the earlier analysis are removed
    _, figures = analyse_sweep(out)
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(figures)
    with pytest.raises(CompareError, match="figures: 'some'"):
        analyse_sweep(out, figures="some")


def test_overview_table_orders_parameters_and_mutes_flagged_cells() -> None:
    indices = pd.concat(
        [
            morris_indices("a", {"p": 1.0, "q": 4.0, "r": 0.0}),
            morris_indices("b", {"p": 3.0, "q": 0.0, "r": math.nan}),
        ]
    )
    indices.loc[(indices.outcome == "b") & (indices.parameter == "q"), "flag"] = "noise"
    indices.loc[(indices.outcome == "b") & (indices.parameter == "r"), "flag"] = "undefined"
    value, colour, clear = overview_table(indices, "morris", ["b", "a"])
    assert list(value.index) == ["b", "a"]
    # mu* over the outcome's largest: p (1/4 and 1) before q (1 and 0), r last
    assert list(value.columns) == ["p", "q", "r"]
    assert value.loc["a"].tolist() == [0.25, 1.0, 0.0]
    assert value.loc["b", "p"] == 1.0
    assert clear.loc["b"].tolist() == [True, False, False]
    assert clear.loc["a"].all()
    assert colour.loc["a", "q"] == 1.0


def test_directions_are_the_clear_signs_of_the_rank_correlations() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"up": rng.uniform(size=200), "down": rng.uniform(size=200)})
    x["flat"] = 1.0
    x["none"] = rng.uniform(size=200)
    y = pd.DataFrame(
        {
            "risk": x["up"] - 2 * x["down"] + rng.normal(0, 0.1, 200),
            "hump": (x["up"] - 0.5) ** 2,  # rises then falls: no monotone association
        }
    )
    d = directions(x, y)
    assert d.loc["risk"].to_dict() == {"up": 1, "down": -1, "flat": 0, "none": 0}
    assert d.loc["hump"].to_dict() == {"up": 0, "down": 0, "flat": 0, "none": 0}
    assert (directions(x.head(3), y.head(3)) == 0).all().all()  # too few points to tell


def test_a_damaged_part_is_refused_with_one_message(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    synthetic_sweep(out)
    (out / PARTS / chunk_name(0)).write_bytes(b"PAR1 not parquet")
    with pytest.raises(CompareError, match=r"cannot be read .*--resume"):
        analyse_sweep(out)


def test_a_part_without_an_outcome_column_is_not_read_as_missing_values(tmp_path: Path) -> None:
    """A Parquet dataset takes its schema from the first part and would fill a later
    part's missing column with nulls; the read falls back to one part at a time, which
    refuses it."""
    from scenarios.report.sweep_report import _read_results

    parts = tmp_path / PARTS
    parts.mkdir()
    pd.DataFrame({"run": [0, 1], "point": [0, 0], "x": [1.0, 2.0]}).to_parquet(
        parts / "chunk-000000.parquet"
    )
    pd.DataFrame({"run": [2, 3], "point": [1, 1]}).to_parquet(parts / "chunk-000001.parquet")
    with pytest.raises((KeyError, ValueError)):
        _read_results(tmp_path, ["point", "x"])
    whole = _read_results(tmp_path, ["point"])  # the columns every part has still read
    assert whole.run.tolist() == [0, 1, 2, 3]


def test_the_clear_driver_skips_a_flagged_top_parameter() -> None:
    """The dependence overview shows an outcome whose top parameter is noise but whose
    second is clear (as its heatmap row does), against that second parameter."""
    from scenarios.report.sweep_report import _clear_driver

    ranked = pd.DataFrame(
        {
            "outcome": ["y", "y", "z"],
            "parameter": ["a", "b", "a"],
            "score": [0.5, 0.3, 0.4],
            "flag": ["noise", "", "ci includes 0"],
        }
    )
    assert _clear_driver(ranked, "y") == "b"
    assert _clear_driver(ranked, "z") is None


def test_the_clis_figure_sets_are_the_reports() -> None:
    """`--figures` choices (cli.FigureSet, kept apart for start-up) match sweep_report's."""
    from scenarios.cli import FigureSet
    from scenarios.report.sweep_report import FIGURES

    assert {f.value for f in FigureSet} == set(FIGURES)


def test_a_sweep_needs_an_outcome() -> None:
    with pytest.raises(ValueError, match="outcomes"):
        SweepSpec.model_validate(
            {
                "name": "s",
                "base": "configs/baseline.yaml",
                "method": "lhs",
                "samples": 4,
                "parameters": {"threat.plot_rate": {"bounds": [0.5, 1.5]}},
                "outcomes": [],
            }
        )
