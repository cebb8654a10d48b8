"""The decision summary: verdicts under a stated multiple-comparison control, relative change
only where the baseline supports it, intervals with enough digits, and the same numbers in
the terminal, report.md and comparison.csv."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import COUNTRIES, config, synthetic_summary

from scenarios.experiment.compare import Comparison, StoredRun, compare
from scenarios.experiment.stats import Estimate, q_values
from scenarios.report.compare_report import to_markdown
from scenarios.report.decision import (
    bottom_line,
    change_text,
    decimals,
    summary_tables,
)

N = 40
SEEDS = list(range(N))
CONFIG = config("baseline").model_dump(mode="json")


def stored(name: str, summary: pd.DataFrame, seeds: list[int] = SEEDS) -> StoredRun:
    manifest = {"scenario": name, "replication_seeds": seeds, "steps": 52, "config": CONFIG}
    return StoredRun(path=Path(name), manifest=manifest, summary=summary)


def attacks(shift: dict[str, float], noise_seed: int) -> dict[str, np.ndarray]:
    """Per-country attacks: a common random base (the pairing), own noise, a shift."""
    rng = np.random.default_rng(1)
    base = {c: rng.poisson(30.0, N).astype(float) for c in COUNTRIES}
    noise = np.random.default_rng(noise_seed)
    return {c: x + shift.get(c, 0.0) + noise.normal(0, 1.0, N) for c, x in base.items()}


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    base = synthetic_summary(attacks({}, 101), SEEDS)
    lower = synthetic_summary(attacks({"russia": -6.0}, 102), SEEDS)
    base["ci_exposure__us"] = (np.arange(N) == 0).astype(float)  # rarely any at baseline
    lower["ci_exposure__us"] = base["ci_exposure__us"] + 5.0
    return compare([stored("baseline", base), stored("sharing", lower)])


def test_q_values_are_benjamini_hochberg_and_skip_nan() -> None:
    q = q_values([0.01, float("nan"), 0.04, 0.03, 0.5])
    assert math.isnan(q[1])
    np.testing.assert_allclose([q[0], q[2], q[3], q[4]], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_a_clear_shift_is_lower_and_the_untouched_countries_cannot_be_told_apart(
    cmp: Comparison,
) -> None:
    russia = cmp.effect("sharing", "attacks_successful__russia")
    assert russia.verdict == "lower"
    assert russia.q_value < 0.05
    assert russia.p_value <= russia.q_value
    assert cmp.effect("sharing", "attacks_successful__west").verdict == "cannot be told apart"
    assert cmp.effect("sharing", "ci_exposure__us").verdict == "higher"
    table = cmp.table[cmp.table.statistic == "difference"].set_index("outcome")
    assert table.loc["attacks_successful__russia", "verdict"] == "lower"
    assert table.loc["attacks_successful__west", "verdict"] == "cannot be told apart"


def test_the_sentence_names_what_changed_in_words(cmp: Comparison) -> None:
    sentence = bottom_line(cmp, "sharing")
    assert sentence.startswith("Fewer attacks in Russia (")
    assert "nothing else can be told apart" in sentence
    assert "misuse or leaks of US (+5.00 events) material rise" in sentence
    assert "West" not in sentence


def test_relative_change_only_where_the_baseline_level_supports_it(cmp: Comparison) -> None:
    russia = change_text(cmp.effect("sharing", "attacks_successful__russia"))
    assert russia.relative
    assert russia.value.endswith("%")
    # Exposure is almost always 0 at baseline: no percentage of it means anything.
    exposure = cmp.effect("sharing", "ci_exposure__us")
    assert not exposure.relative_supported
    assert change_text(exposure).value == "+5.00"
    note = cmp.table[
        (cmp.table.outcome == "ci_exposure__us") & (cmp.table.statistic == "relative_change")
    ].note.iloc[0]
    assert "read difference" in note


@pytest.mark.parametrize(
    ("half_width", "places"), [(12.3, 0), (1.23, 1), (0.0123, 3), (0.0004, 4), (0.0, 2)]
)
def test_intervals_keep_two_significant_digits_of_their_half_width(
    half_width: float, places: int
) -> None:
    assert decimals(half_width) == places


def test_an_interval_just_below_zero_is_not_printed_as_zero() -> None:
    from scenarios.experiment.compare import Effect

    effect = Effect(
        scenario="s",
        outcome="attacks_successful",
        baseline=Estimate(100.0, 95.0, 105.0, 40),
        level=Estimate(92.0, 84.0, 99.96, 40),
        diff=Estimate(-8.0, -16.0, -0.04, 40),
        relative=Estimate(-0.08, -0.165, -0.0004, 40),
        method="paired t",
        p_value=0.04,
        q_value=0.2,
        size=10.0,
        needed=40,
        variance_reduction=2.0,
    )
    text = change_text(effect)
    assert text.interval == "[-16.5%, -0.0%]"  # a negative bound keeps its sign
    assert effect.verdict == "cannot be told apart"  # q >= 0.05 although p < 0.05


def test_precision_warnings_concern_differences_that_cannot_be_told_apart(
    cmp: Comparison,
) -> None:
    warned = {w.outcome: w for w in cmp.warnings}
    assert "attacks_successful__russia" not in warned  # clear, whatever its width
    # Unclear but precise: its interval (+/- ~0.5) is narrower than a tenth of the level.
    west = cmp.effect("sharing", "attacks_successful__west")
    assert west.verdict == "cannot be told apart"
    assert west.diff.half_width < west.size
    assert "attacks_successful__west" not in warned
    # Unclear and imprecise: a yes/no per replication cannot tell 5 points apart at n=40.
    risk = warned["attack_risk__russia"]
    assert risk.needed > risk.replications
    assert "Attack risk in Russia" in risk.message()
    assert f"about {risk.needed:,} replications (have {N})" in risk.message()


def test_the_report_opens_with_the_decision_summary_and_the_same_numbers_as_the_csv(
    cmp: Comparison,
) -> None:
    text = to_markdown(cmp, {"frontier.png": "trade-off"}, "Title", "")
    assert text.index("## Decision summary") < text.index("Full table")
    assert text.index("plots/frontier.png") < text.index("Full table")
    row = cmp.table[
        (cmp.table.outcome == "attacks_successful__russia")
        & (cmp.table.statistic == "relative_change")
    ].iloc[0]
    shown = change_text(cmp.effect("sharing", "attacks_successful__russia"))
    places = decimals(100 * (row.ci_high - row.ci_low) / 2)
    assert shown.value == f"{100 * row.value:+.{places}f}%"
    assert f"| Russia | {shown} lower |" in text
    tables = {t.title: t for t in summary_tables(cmp)}
    assert [name for name, _ in tables["Successful attacks"].rows][-1] == "All countries"


def test_the_summary_says_how_many_replications_would_tell_its_unclear_cells(
    cmp: Comparison,
) -> None:
    from scenarios.report.decision import needs_note

    note = needs_note(cmp)
    risk = next(w for w in cmp.warnings if w.outcome == "attack_risk__russia")
    assert f"Attack risk in Russia {risk.needed:,} (a change of 0.05)" in note
    assert "Attacks in Russia" not in note  # clear: nothing to add
    assert note in to_markdown(cmp, {}, "Title", "")
