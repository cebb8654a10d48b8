"""Pattern-oriented validation of `historical_2022_2024` (MODEL.md, "Patterns").

100 replications at the shipped seed; each pattern is checked on the distribution over
replications, not on one lucky run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run

pytestmark = pytest.mark.slow

HISTORICAL = "historical_2022_2024"
N = ("run.replications=100",)


def test_attacks_in_afghanistan_collapse_after_the_crackdown() -> None:
    s = run(HISTORICAL, *N).summary
    # Decline of successful attacks from the first to the last six months, median replication.
    assert s["attack_change__afghanistan"].median() <= -0.80
    # and it is the typical outcome, not a median balanced on a few extreme runs
    assert (s["attack_change__afghanistan"] <= -0.5).mean() >= 0.8


def test_attacks_shift_outward() -> None:
    s = run(HISTORICAL, *N).summary
    assert s["share_abroad_last_year"].median() > s["share_abroad_first_year"].median() + 0.2
    assert (s["share_abroad_last_year"] > s["share_abroad_first_year"]).mean() >= 0.9


def test_mass_casualty_attacks_abroad_occur_despite_warnings() -> None:
    s = run(HISTORICAL, *N).summary
    abroad = [
        c
        for c in s.columns
        if c.startswith("mass_casualty_despite_warning__") and not c.endswith("afghanistan")
    ]
    share = (s[abroad].sum(axis=1) > 0).mean()
    # Kerman and Crocus: such attacks happen in a sizeable share of 3-year histories.
    assert 0.15 <= share <= 0.9
    assert s["warnings_issued"].mean() > 5 * s["warnings_heeded"].mean() / 2


def test_strength_stays_within_un_bands() -> None:
    s = run(HISTORICAL, *N).summary
    assert s["min_strength"].quantile(0.05) >= 1500
    assert s["max_strength"].quantile(0.95) <= 6000


def test_severity_is_heavy_tailed() -> None:
    s = run(HISTORICAL, *N).summary
    edges = np.array([5, 10, 25, 50, 100])
    ccdf = np.array([s[f"attacks_with_fatalities_ge__{e}"].sum() for e in edges], dtype=float)
    assert (ccdf > 0).all()
    slope = np.polyfit(np.log(edges), np.log(ccdf / ccdf[0]), 1)[0]
    # P(X >= x) ~ x^-(alpha - 1) with alpha in 2-2.5 (Clauset et al. 2007): slope -1 to -1.5,
    # allowing for the discreteness of small counts.
    assert -1.7 <= slope <= -0.8
    # heavy, not exponential: attacks with >= 10x the typical toll are not vanishingly rare
    assert ccdf[3] / ccdf[0] > 0.02


def _window(name: str, column: str, first: str, last: str) -> pd.Series:
    """Per-replication sum of a weekly column between two dates (inclusive)."""
    ts = run(HISTORICAL, *N).timeseries
    inside = ts[(ts["date"] >= first) & (ts["date"] <= last)]
    return inside.groupby("replication")[column].sum()


def test_afghanistan_keeps_the_core_of_the_group() -> None:
    """UN Monitoring Team 2023-2025: the core stays in (northern and eastern) Afghanistan."""
    s = run(HISTORICAL, *N).summary
    strength = s[[c for c in s.columns if c.startswith("final_strength__")]]
    share = strength.div(strength.sum(axis=1), axis=0)
    assert share.median().idxmax() == "final_strength__afghanistan"
    assert (share.idxmax(axis=1) == "final_strength__afghanistan").mean() >= 0.9
    # UN 2025: about 2,000 fighters in Afghanistan
    assert 1000 <= s["final_strength__afghanistan"].median() <= 4000


def test_levels_match_the_record_within_a_factor_of_two() -> None:
    """Counts differ between datasets (facts.csv): the record is a band, x0.5 to x2."""
    afg = "attacks_successful__afghanistan"
    for record, first, last in ((27, "2022-08-01", "2022-11-07"), (8, "2023-08-01", "2023-11-07")):
        median = _window(HISTORICAL, afg, first, last).median()
        assert record / 2 <= median <= 2 * record, (first, median)
    total_2024 = _window(HISTORICAL, "attacks_successful", "2024-01-01", "2024-12-31").median()
    assert 30 <= total_2024 <= 120  # SIGAR: 60 claimed attacks in 2024
    deaths_2022 = _window(HISTORICAL, "fatalities__afghanistan", "2022-01-01", "2022-12-31")
    assert 211 <= deaths_2022.median() <= 844  # GTI: IS-K caused 422 deaths in 2022


def test_mass_casualty_attacks_despite_warnings_reach_iran_and_russia() -> None:
    """Kerman (Iran) and Crocus (Russia) both followed warnings that went unheeded."""
    s = run(HISTORICAL, *N).summary
    for country in ("iran", "russia"):
        assert (s[f"mass_casualty_despite_warning__{country}"] > 0).mean() >= 0.02, country
