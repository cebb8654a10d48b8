"""Variance reduction from pairing and per-partner outcomes, on synthetic stored runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import COUNTRIES, config, synthetic_summary

from scenarios.experiment.compare import (
    Comparison,
    StoredRun,
    compare,
    default_outcomes,
    territories,
)
from scenarios.experiment.stats import pairing_variance_reduction
from scenarios.report.compare_report import (
    fold,
    methods_section,
    pairing_rows,
    summary_rows,
)

N = 30
SEEDS = list(range(100, 100 + N))
CONFIG = config("baseline").model_dump(mode="json")  # as stored in manifest.json
PARTNERS = {"us": "west", "russia": "russia", "taliban": "afghanistan"}


def stored(label: str, summary: pd.DataFrame, seeds: list[int]) -> StoredRun:
    manifest = {
        "status": "complete",
        "scenario": label,
        "steps": 52,
        "replication_seeds": seeds,
        "config": CONFIG,
    }
    return StoredRun(Path(label), manifest, summary)


@pytest.fixture(scope="module")
def attacks() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-country attacks of a baseline and of a scenario strongly correlated with it."""
    rng = np.random.default_rng(7)
    base = {c: rng.normal(20.0, 6.0, N).round() for c in COUNTRIES}
    scenario = {c: x - 2.0 + rng.normal(0.0, 1.0, N).round() for c, x in base.items()}
    return base, scenario


@pytest.fixture(scope="module")
def paired(attacks: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]) -> Comparison:
    base, scenario = attacks
    return compare(
        [
            stored("baseline", synthetic_summary(base, SEEDS), SEEDS),
            stored("sharing", synthetic_summary(scenario, SEEDS), SEEDS),
        ]
    )


@pytest.fixture(scope="module")
def unpaired(attacks: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]) -> Comparison:
    base, scenario = attacks
    other = [s + 1000 for s in SEEDS]
    return compare(
        [
            stored("baseline", synthetic_summary(base, SEEDS), SEEDS),
            stored("sharing", synthetic_summary(scenario, other), other),
        ]
    )


def expected(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.var(a, ddof=1) + np.var(b, ddof=1)) / np.var(b - a, ddof=1))


@pytest.mark.parametrize("outcome", ["attacks_successful", "attacks_successful__russia"])
def test_paired_variance_reduction_matches_the_formula(paired: Comparison, outcome: str) -> None:
    base = paired.baseline.summary[outcome].to_numpy()
    scenario = paired.runs[1].summary[outcome].to_numpy()
    want = expected(base, scenario)
    assert want > 10  # strongly correlated columns: pairing pays
    assert paired.variance_reduction("sharing", outcome) == pytest.approx(want)
    row = paired.value("sharing", outcome, "difference")
    assert row.method == "paired t"
    assert row.variance_reduction == pytest.approx(want)


def test_variance_reduction_only_on_paired_differences(paired: Comparison) -> None:
    t = paired.table
    assert "variance_reduction" in t.columns
    diffs = t[t.statistic == "difference"]
    assert len(diffs) == len(paired.outcomes)
    assert (diffs.variance_reduction.dropna() > 0).all()
    assert t[t.statistic != "difference"].variance_reduction.isna().all()


def test_unpaired_runs_have_no_variance_reduction(unpaired: Comparison) -> None:
    t = unpaired.table
    assert set(t[t.statistic == "difference"].method) == {"Welch t"}
    assert t.variance_reduction.isna().all()
    assert math.isnan(unpaired.variance_reduction("sharing", "attacks_successful"))
    assert pairing_rows(unpaired)[2] == []
    methods = "\n".join(methods_section(unpaired))
    assert "Welch" in methods
    assert "Variance reduction" not in methods


def test_variance_reduction_edge_cases() -> None:
    x = np.array([1.0, 4.0, 2.0, 8.0])
    assert pairing_variance_reduction(x, x + 3.0) == math.inf  # the difference never varies
    assert math.isnan(pairing_variance_reduction(np.ones(4), np.ones(4)))  # nothing varies
    assert math.isnan(pairing_variance_reduction(x[:1], x[:1]))  # too few pairs
    with_nan = np.array([1.0, np.nan, 2.0, 8.0, 3.0])
    keep = ~np.isnan(with_nan)
    shifted = with_nan * 0.5 + np.array([0.1, 0.0, -0.2, 0.3, 0.0])
    assert pairing_variance_reduction(with_nan, shifted) == pytest.approx(
        expected(with_nan[keep], shifted[keep])
    )
    # anti-correlated outcomes: pairing costs precision (reported, below 1)
    assert pairing_variance_reduction(x, -x) < 1
    assert [fold(v) for v in (5.123, 250.0, math.inf, math.nan)] == ["x5.1", "x250", "inf", "n/a"]


def test_pairing_is_printed_for_total_and_per_partner_attacks(paired: Comparison) -> None:
    title, header, rows = pairing_rows(paired)
    assert "successful attacks" in title
    assert header == ["scenario", "the West", "Russia", "Afghanistan", "total"]
    outcomes = [*(f"attacks_successful__{c}" for c in PARTNERS.values()), "attacks_successful"]
    want = [fold(paired.variance_reduction("sharing", o)) for o in outcomes]
    assert rows == [["sharing", *want]]
    assert rows[0][0] == "sharing"
    assert all(cell.startswith("x") and float(cell[1:]) > 1 for cell in rows[0][1:])
    methods = "\n".join(methods_section(paired))
    assert "## Methods" in methods
    assert f"| Attacks, total | {want[-1]} |" in methods


def test_territories_follow_actor_order() -> None:
    want = {
        "us": ["west"],
        "russia": ["russia"],
        "taliban": ["afghanistan"],
        "iran": ["iran"],
        "pakistan": ["pakistan"],
    }
    assert territories(CONFIG) == want
    assert list(territories(config("baseline"))) == list(want)
    # an actor holding regions in two countries, and a country shared by two actors
    cfg = {
        "actors": {"b": {}, "a": {}, "idle": {}},
        "regions": {
            "r1": {"country": "x", "jurisdiction": "a"},
            "r2": {"country": "y", "jurisdiction": "a"},
            "r3": {"country": "x", "jurisdiction": "b"},
            "r4": {"country": "z", "jurisdiction": None},
        },
    }
    assert territories(cfg) == {"b": ["x"], "a": ["x", "y"]}


def test_default_outcomes_list_each_partner_territory(
    attacks: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
) -> None:
    summary = synthetic_summary(attacks[0], SEEDS)
    picks = default_outcomes(summary, territories(CONFIG))
    order = ["west", "russia", "afghanistan", "iran", "pakistan"]
    assert picks[: 1 + len(order)] == [
        "attacks_successful",
        *(f"attacks_successful__{c}" for c in order),
    ]
    risks = [p for p in picks if p.startswith("attack_risk__")]
    assert risks == [f"attack_risk__{c}" for c in [*order, "central_asia"]]
    assert "attacks_successful__central_asia" not in picks  # not a modelled actor's territory
    assert len(picks) == len(set(picks))
    # without a config, the totals and every country's risk, as before
    plain = default_outcomes(summary)
    assert not [p for p in plain if p.startswith("attacks_successful__")]
    assert len([p for p in plain if p.startswith("attack_risk__")]) == len(COUNTRIES)


def test_comparison_rows_are_labelled_with_the_actor(paired: Comparison) -> None:
    firsts = [row[0] for row in summary_rows(paired)]
    for place in ("the West (US)", "Russia", "Afghanistan (Taliban)"):
        assert f"Attacks in {place}" in firsts
        assert f"Attack risk in {place}" in firsts
    assert "Attack risk in Central Asia" in firsts  # no actor's territory: no brackets
    assert "Russian material misused or leaked" in firsts  # per-actor: no territory


def test_columns_of_the_model_rewrite_are_tolerated(
    attacks: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
) -> None:
    base, scenario = attacks
    frames = [synthetic_summary(base, SEEDS), synthetic_summary(scenario, SEEDS)]
    for frame in frames:
        frame["interdicted_by__us"] = 1.0
        frame["interdicted_without_intelligence"] = 2.0
        frame["interdicted_with_shared__us__russia"] = 0.0
        frame["final_strength__afghanistan"] = 900.0
    cmp = compare([stored("baseline", frames[0], SEEDS), stored("sharing", frames[1], SEEDS)])
    assert "attacks_successful__west" in cmp.outcomes
