"""Every outcome column has a human label, unit and meaning, and labels tell columns apart."""

from __future__ import annotations

import pandas as pd
import pytest

from scenarios.labels import describe, label
from scenarios.model.outcomes import summary_columns

COUNTRIES = ["afghanistan", "pakistan", "iran", "central_asia", "russia", "west"]
ACTORS = ["us", "russia", "taliban", "iran", "pakistan"]


def test_every_summary_column_has_a_distinct_label_unit_and_meaning() -> None:
    columns = summary_columns(110, COUNTRIES, ACTORS, "afghanistan")
    infos = {c: describe(c) for c in columns}
    unlabelled = [c for c, info in infos.items() if info.label == c or not info.unit]
    assert unlabelled == []
    assert all(info.meaning.endswith(".") and "{" not in info.meaning for info in infos.values())
    labels = [info.label for info in infos.values()]
    assert len(set(labels)) == len(labels), "two columns share a label"


def test_every_timeseries_column_has_a_label() -> None:
    frame = pd.read_parquet("tests/reference/baseline.timeseries.parquet")
    outcomes = [c for c in frame.columns if c not in ("replication", "step", "date")]
    assert [c for c in outcomes if label(c) == c] == []


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("attacks_successful__russia", "Attacks in Russia"),
        ("attacks_successful", "Attacks, total"),
        ("attack_risk__west", "Attack risk in the West"),
        ("ci_exposure__us", "US material misused or leaked"),
        ("exploitation_against__russia", "Russian material misused"),
        ("final_trust__us__taliban", "Trust of the US in the Taliban at the end"),
        ("interdicted_with_shared__russia__us", "Plots the US stopped with Russian material"),
    ],
)
def test_labels_read_as_words(column: str, expected: str) -> None:
    assert label(column) == expected


@pytest.mark.parametrize("column", ["no_such_outcome", "trust__us", "ci_exposure", "shared__a"])
def test_unknown_or_malformed_columns_keep_their_raw_name(column: str) -> None:
    assert label(column) == column
