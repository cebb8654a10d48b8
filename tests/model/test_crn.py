"""Common random numbers: scenario levers act from the start date and change only their draws."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import config, summary

from scenarios.model.model import ScenarioModel

LEVERS = (
    ("trilateral",),
    ("trilateral_compartmentalised",),
    ("baseline", "trust.default=0.9", "trust.initial={}"),
    ("baseline", "exploitation={}", "counterintelligence.leakage={}"),
)


def _spun_up(name: str, *overrides: str) -> ScenarioModel:
    model = ScenarioModel(config(name, "run.steps=52", *overrides), np.random.SeedSequence(11))
    model.run_for(model.config.run.burn_in)
    assert model.week == 0
    return model


@pytest.mark.parametrize("variant", LEVERS, ids=lambda v: " ".join(v))
def test_spin_up_is_identical_whatever_the_intelligence_levers(variant: tuple[str, ...]) -> None:
    base = _spun_up("baseline")
    other = _spun_up(*variant)
    for a, b in zip(base.cells.arrays(), other.cells.arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    n = base.plots.n
    assert n == other.plots.n > 0
    for a, b in zip(base.plots.arrays, other.plots.arrays, strict=True):
        np.testing.assert_array_equal(a[:n], b[:n])
    # and the levers do act from the start date on
    for model in (base, other):
        model.run_for(52)
    a, b = base.recorder.columns(), other.recorder.columns()
    assert any(not np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_pairing_makes_scenario_differences_sharp() -> None:
    """Replication-wise correlation between baseline and trilateral (200 pairs, shipped seed).

    Measured: 0.91 for all attacks (0.914 at this seed, 0.93/0.92/0.94/0.90 at seeds 1-4;
    the standard error of r is about 0.02 here) and 0.90 for Russia (0.86-0.92), against
    0.50 and 0.04 with one random stream per process. Before plots were keyed by their
    cell's plot ordinal and drew their weekly numbers by age, r was 0.85 (0.87 Russia).
    The floors are issue 8's targets (0.85, 0.7), three standard errors below the
    measurement. What remains unpaired is mostly real: misuse burns the Taliban's
    collection by an amount that varies between replications (with ``coverage_damage=0``
    r is 0.95).
    """
    n = "run.replications=200"
    base = summary("baseline", n)
    tri = summary("trilateral", n)
    for column, floor in (("attacks_successful", 0.85), ("attacks_successful__russia", 0.7)):
        x, y = base[column].to_numpy(), tri[column].to_numpy()
        assert np.corrcoef(x, y)[0, 1] >= floor, column
        # pairing cuts the variance of the difference at least five-fold
        assert (x.var(ddof=1) + y.var(ddof=1)) / (y - x).var(ddof=1) >= 5, column
