"""The crackdown works through intelligence; displacement and plot lifetimes do what they say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import summary

from scenarios.experiment.stats import mean_ci

pytestmark = pytest.mark.slow

N = "run.replications=100"


def test_most_interdictions_need_intelligence() -> None:
    s = summary("baseline", N)
    uninformed = s["interdicted_without_intelligence"].sum() / s["plots_interdicted"].sum()
    assert uninformed <= 0.25
    by_actor = s[[c for c in s.columns if c.startswith("interdicted_by__")]].sum(axis=1)
    assert (by_actor + s["interdicted_without_intelligence"] == s["plots_interdicted"]).all()
    # the Taliban, cracking down at home, make most of them
    assert s["interdicted_by__taliban"].sum() / s["plots_interdicted"].sum() > 0.5


def test_the_crackdown_works_through_coverage_and_reach() -> None:
    """Without its boost to Taliban collection, the crackdown stops far fewer plots."""
    blind = summary("baseline", N, "actors.taliban.crackdown.coverage_boost=0")
    seeing = summary("baseline", N)
    est = mean_ci(
        (
            seeing["attacks_successful__afghanistan"] - blind["attacks_successful__afghanistan"]
        ).to_numpy()
    )
    assert est.high < 0


def test_displacement_moves_targeting_abroad() -> None:
    """Setting displacement to 0 shrinks the outward shift of attacks (paired)."""
    with_ = summary("historical_2022_2024", N)
    without = summary("historical_2022_2024", N, "threat.displacement=0")

    def shift(s: pd.DataFrame) -> np.ndarray:
        return (s["share_abroad_last_year"] - s["share_abroad_first_year"]).to_numpy()

    est = mean_ci(shift(with_) - shift(without))
    assert est.low > 0.05, est


def test_plots_live_for_months() -> None:
    """Kaplan: about 9 months from start to attack; survivors of interdiction are shorter."""
    s = summary("baseline", N)
    assert s["plot_age_at_attack_mean"].mean() >= 8  # weeks
    assert s["plot_age_at_interdiction_mean"].mean() >= 4
