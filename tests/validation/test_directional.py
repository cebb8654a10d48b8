"""Directional behaviour of the article's trade-off (MODEL.md), with paired replications.

Each comparison runs two variants of a shipped scenario with the same root seed, so
replication i of both shares its random streams (common random numbers), and tests the
mean paired difference with a 95% t interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import summary

from scenarios.experiment.stats import mean_ci

pytestmark = pytest.mark.slow

N = "run.replications=60"
CORE = ("us", "russia", "taliban")
TRUSTWORTHY = (
    N,
    "exploitation={}",
    "counterintelligence.leakage={}",
    "trust.initial={}",
    "trust.default=0.9",
)


def full_policy(level: float) -> str:
    rows = ", ".join(f"{a}: {{{', '.join(f'{b}: {level}' for b in CORE if b != a)}}}" for a in CORE)
    return f"sharing.policy={{{rows}}}"


def paired(a: pd.DataFrame, b: pd.DataFrame, column: str) -> tuple[float, float, float]:
    assert (a["seed"].to_numpy() == b["seed"].to_numpy()).all()
    est = mean_ci((b[column] - a[column]).to_numpy())
    return est.value, est.low, est.high


def test_more_sharing_between_trustworthy_partners_lowers_attack_risk() -> None:
    none = summary("baseline", *TRUSTWORTHY, full_policy(0.0))
    some = summary("baseline", *TRUSTWORTHY, full_policy(0.5))
    full = summary("baseline", *TRUSTWORTHY, full_policy(1.0))
    _, _, high = paired(none, full, "attacks_successful")
    assert high < 0, "full sharing should lower successful attacks"
    assert some["attacks_successful"].mean() > full["attacks_successful"].mean()
    assert none["attacks_successful"].mean() > some["attacks_successful"].mean()
    _, _, high = paired(none, full, "fatalities")
    assert np.isfinite(high)


def test_exploitation_raises_harm_erodes_trust_and_throttles_sharing() -> None:
    low = summary("trilateral", N, "exploitation={}")
    high = summary(
        "trilateral",
        N,
        "exploitation={russia: {us: 0.6, taliban: 0.6}, taliban: {us: 0.6, russia: 0.6}, "
        "us: {russia: 0.6, taliban: 0.6}}",
    )
    _, low_ci, _ = paired(low, high, "ci_exposure__us")
    assert low_ci > 0, "more exploitation propensity, more counter-intelligence harm"
    _, _, high_ci = paired(low, high, "final_trust__us__russia")
    assert high_ci < 0, "misuse noticed by the US erodes its trust in Russia"
    _, _, high_ci = paired(low, high, "shared__us__russia")
    assert high_ci < 0, "eroded trust throttles what the US passes to Russia"


def test_sharing_is_throttled_over_time_as_trust_erodes() -> None:
    from tests.conftest import run

    common = (N, "trust.initial.us.taliban=0.9", "actors.us.counter_intelligence=1.0")
    hostile = run("trilateral", *common, "exploitation={taliban: {us: 0.8}}").timeseries
    benign = run("trilateral", *common, "exploitation={}").timeseries
    trust = hostile.groupby("step")["trust__us__taliban"].mean()
    # trust starts at the 0.9 prior and erodes as misuse is noticed
    assert trust.iloc[0] > trust.iloc[:4].mean() > trust.iloc[-52:].mean()
    assert trust.iloc[-52:].mean() < 0.9 - 0.3
    late = 2 * 52

    def late_sharing(ts: pd.DataFrame) -> np.ndarray:
        recent = ts[ts["step"] >= ts["step"].max() - late]
        return recent.groupby("replication")["shared__us__taliban"].sum().to_numpy()

    est = mean_ci(late_sharing(hostile) - late_sharing(benign))
    assert est.high < 0, "with eroded trust the US passes less to the Taliban"


def test_compartmentalisation_lowers_exploitation_harm() -> None:
    open_ = summary("trilateral", N)
    sanitised = summary("trilateral", N, "sharing.compartmentalisation=0.9")
    for actor in CORE:
        _, _, high = paired(open_, sanitised, f"exploitation_against__{actor}")
        assert high < 0, actor


def test_compartmentalisation_lowers_the_detection_benefit() -> None:
    many = (*TRUSTWORTHY[1:], "run.replications=120")
    open_ = summary("baseline", *many, full_policy(1.0))
    sanitised = summary("baseline", *many, full_policy(1.0), "sharing.compartmentalisation=1.0")
    _, low, _ = paired(open_, sanitised, "attacks_successful")
    assert low > 0, "sanitised material interdicts fewer plots"


def test_warnings_to_a_recipient_that_does_not_act_change_nothing() -> None:
    deaf = (
        "actors.russia.warning_receptivity=0",
        "actors.taliban.warning_receptivity=0",
        "actors.iran.warning_receptivity=0",
        "actors.pakistan.warning_receptivity=0",
    )
    silent = summary("baseline", N, *deaf, "sharing.duty_to_warn=false")
    ignored = summary("baseline", N, *deaf)
    assert ignored["warnings_issued"].sum() > 0
    assert ignored["warnings_heeded"].sum() == 0
    outcomes = [
        c
        for c in silent.columns
        if c.startswith(
            ("attacks_", "fatalities", "mass_casualty_attacks", "plots_", "final_strength")
        )
    ]
    outcomes.remove("attacks_despite_warning")
    pd.testing.assert_frame_equal(silent[outcomes], ignored[outcomes])


def test_warnings_to_a_receptive_recipient_do_help() -> None:
    """Positive control for the test above: the same warnings, heeded, prevent attacks."""
    many = "run.replications=150"
    silent = summary("baseline", many, "sharing.duty_to_warn=false")
    heeded = summary(
        "baseline", many, "actors.russia.warning_receptivity=1", "trust.initial.russia.us=1.0"
    )
    _, _, high = paired(silent, heeded, "attacks_successful__russia")
    assert high < 0


def test_trilateral_sharing_among_trustworthy_partners_lowers_attacks_in_russia() -> None:
    """Trust 0.9, no exploitation, no leakage: full sharing among the three helps Russia."""
    many = (*TRUSTWORTHY[1:], "run.replications=200")
    none = summary("baseline", *many, full_policy(0.0))
    full = summary("baseline", *many, full_policy(1.0))
    _, _, high = paired(none, full, "attacks_successful__russia")
    assert high < 0
