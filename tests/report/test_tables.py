"""The key-outcome table of a run: per-partner rows, labelled and in actor order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.conftest import COUNTRIES, config, synthetic_summary

from scenarios.experiment.compare import territories
from scenarios.labels import label
from scenarios.report.tables import Row, core_trust_pairs, key_outcomes, to_markdown

SEEDS = list(range(12))
TERRITORY = territories(config("baseline"))
# Places of baseline's territories in actor order; an actor named otherwise is bracketed.
PARTNER_PLACES = [
    "the West (US)",
    "Russia",
    "Afghanistan (Taliban)",
    "Iran",
    "Pakistan",
]


def summary() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return synthetic_summary({c: rng.poisson(8.0, len(SEEDS)) * 1.0 for c in COUNTRIES}, SEEDS)


def group(rows: list[Row], name: str) -> list[str]:
    return [r.label for r in rows if r.group == name]


def test_partner_rows_are_labelled_in_actor_order_besides_the_total() -> None:
    frame = summary()
    rows = key_outcomes(frame, territory=TERRITORY)
    attacks = [f"Attacks in {place}" for place in PARTNER_PLACES]
    assert group(rows, "attacks_successful") == [
        *attacks,
        "Attacks in Central Asia",
        "Attacks, total",
    ]
    risks = [f"Attack risk in {place}" for place in PARTNER_PLACES]
    assert group(rows, "attack_risk") == [*risks, "Attack risk in Central Asia"]
    assert group(rows, "fatalities")[-1] == "Deaths, total"
    total = next(r for r in rows if r.column == "attacks_successful")
    assert total.estimate.value == frame["attacks_successful"].mean()
    west = next(r for r in rows if r.column == "attack_risk__west")
    assert west.label == "Attack risk in the West (US)"
    assert west.estimate.value == frame["mass_casualty_years__west"].sum() / frame["years"].sum()
    assert "| Attacks in Afghanistan (Taliban) | " in to_markdown(rows)


def test_labels_are_the_human_labels_of_the_columns() -> None:
    rows = key_outcomes(summary())
    for row in rows:
        assert row.label == label(row.column), row


def test_without_a_config_countries_keep_their_labels() -> None:
    rows = key_outcomes(summary())
    assert group(rows, "attacks_successful") == [
        *(label(f"attacks_successful__{c}") for c in COUNTRIES),
        "Attacks, total",
    ]


def test_interdictions_by_actor_and_strength_by_country_when_present() -> None:
    frame = summary()
    plain = key_outcomes(frame, territory=TERRITORY)
    assert not [r for r in plain if r.column.startswith("interdicted_by__")]
    assert not [r for r in plain if r.column.startswith("final_strength__")]
    for actor in ("us", "russia", "taliban"):
        frame[f"interdicted_by__{actor}"] = 3.0
    frame["interdicted_without_intelligence"] = 1.0
    frame["interdicted_with_shared__us__russia"] = 0.5
    for country in ("central_asia", "afghanistan", "west"):
        frame[f"final_strength__{country}"] = 100.0
    rows = key_outcomes(frame, territory=TERRITORY)
    assert [r.label for r in rows if r.column.startswith("interdicted_by__")] == [
        "Plots stopped by the US",
        "Plots stopped by Russia",
        "Plots stopped by the Taliban",
    ]
    assert [r.label for r in rows if r.column.startswith("final_strength__")] == [
        "Fighters in the West (US) at the end",
        "Fighters in Afghanistan (Taliban) at the end",
        "Fighters in Central Asia at the end",
    ]
    assert len(rows) == len(plain) + 6


def test_core_trust_pairs_keep_the_core_actors() -> None:
    rows = core_trust_pairs(key_outcomes(summary()))
    trust = [r.column for r in rows if r.group == "final_trust"]
    assert trust
    assert all({a, b} <= {"us", "russia", "taliban"} for _, a, b in (c.split("__") for c in trust))
