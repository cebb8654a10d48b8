"""The key-outcome table of a run: per-partner rows, labelled and in actor order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.conftest import COUNTRIES, config, synthetic_summary

from scenarios.experiment.compare import territories
from scenarios.report.tables import Row, key_outcomes, to_markdown

SEEDS = list(range(12))
TERRITORY = territories(config("baseline"))
PARTNER_LABELS = [
    "west (us)",
    "russia (russia)",
    "afghanistan (taliban)",
    "iran (iran)",
    "pakistan (pakistan)",
]


def summary() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return synthetic_summary({c: rng.poisson(8.0, len(SEEDS)) * 1.0 for c in COUNTRIES}, SEEDS)


def group(rows: list[Row], name: str) -> list[str]:
    return [r.label for r in rows if r.group == name]


def test_partner_rows_are_labelled_in_actor_order_besides_the_total() -> None:
    frame = summary()
    rows = key_outcomes(frame, territory=TERRITORY)
    assert group(rows, "Attacks (successful)") == [*PARTNER_LABELS, "central_asia", "total"]
    assert group(rows, "P(mass-casualty)/year") == [*PARTNER_LABELS, "central_asia"]
    assert group(rows, "Fatalities")[-1] == "total"
    total = next(r for r in rows if r.group == "Attacks (successful)" and r.label == "total")
    assert total.estimate.value == frame["attacks_successful"].mean()
    west = next(r for r in rows if r.group == "P(mass-casualty)/year" and r.label == "west (us)")
    assert west.estimate.value == frame["mass_casualty_years__west"].sum() / frame["years"].sum()
    assert "| Attacks (successful) | afghanistan (taliban) |" in to_markdown(rows)


def test_without_a_config_countries_keep_their_names() -> None:
    rows = key_outcomes(summary())
    assert group(rows, "Attacks (successful)") == [*COUNTRIES, "total"]


def test_interdictions_by_actor_and_strength_by_country_when_present() -> None:
    frame = summary()
    plain = key_outcomes(frame, territory=TERRITORY)
    assert not [r for r in plain if r.group.startswith("Plots interdicted")]
    assert not [r for r in plain if r.group.endswith("final strength in")]
    for actor in ("us", "russia", "taliban"):
        frame[f"interdicted_by__{actor}"] = 3.0
    frame["interdicted_without_intelligence"] = 1.0
    frame["interdicted_with_shared__us__russia"] = 0.5
    for country in ("central_asia", "afghanistan", "west"):
        frame[f"final_strength__{country}"] = 100.0
    rows = key_outcomes(frame, territory=TERRITORY)
    assert group(rows, "Plots interdicted by") == ["us", "russia", "taliban"]
    assert group(rows, "ISIS-K final strength in") == [
        "west (us)",
        "afghanistan (taliban)",
        "central_asia",
    ]
    assert len(rows) == len(plain) + 6
