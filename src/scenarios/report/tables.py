"""The key-outcome table of a run: what `scenarios run` prints and report.md shows.

Every row is labelled with the human label of its summary column
(:mod:`scenarios.labels`); a country that is an actor's territory names that actor in
brackets, e.g. "Attacks in the West (US)", unless the names coincide (Russia). How the
intervals are computed is said once, in :data:`INTERVALS_NOTE`, not per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rich.table import Table

from scenarios.experiment.compare import attack_risk
from scenarios.experiment.stats import (
    Estimate,
    VarianceComponents,
    clustered_mean_ci,
    mean_ci,
    variance_components,
)
from scenarios.labels import territory_label

INTERVALS_NOTE = (
    "Values are means over replications with Student-t 95% intervals; attack risk is the "
    "share of simulated years with a mass-casualty attack, pooled over replications, with "
    "Wilson 95% intervals; changes are medians over replications with their 5-95% range. "
    "A country followed by an actor in brackets is that actor's territory: the regions "
    "under its jurisdiction."
)


@dataclass(frozen=True)
class Row:
    """One line of the key-outcome table.

    ``column`` is the summary column the row estimates (for attack risk, the
    ``attack_risk__<country>`` it pools); ``group`` its base name (rows of one group are
    printed together); ``label`` its human label.
    """

    group: str
    label: str
    estimate: Estimate
    method: str  # "t" (mean, Student t) or "wilson" (proportion) or "median"
    column: str = ""

    def formatted(self) -> tuple[str, str, str]:
        """(value, 95% interval, method) as text."""
        e = self.estimate
        if math.isnan(e.value):
            return "n/a", "", self.method
        if self.method == "wilson" or self.group == "final_trust":
            return f"{e.value:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", self.method
        if self.method == "median":
            return f"{e.value:+.0%}", f"[{e.low:+.0%}, {e.high:+.0%}]", "median, 5-95%"
        if abs(e.value) >= 100:
            return f"{e.value:,.0f}", f"[{e.low:,.0f}, {e.high:,.0f}]", self.method
        return f"{e.value:.2f}", f"[{e.low:.2f}, {e.high:.2f}]", self.method


def _names(summary: pd.DataFrame, prefix: str) -> list[str]:
    return [c.removeprefix(prefix) for c in summary.columns if c.startswith(prefix)]


def _holders(territory: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Country -> the actors whose territory it is, in actor order."""
    holders: dict[str, list[str]] = {}
    for actor, countries in territory.items():
        for country in countries:
            holders.setdefault(country, []).append(actor)
    return holders


def _territories_first(countries: list[str], holders: Mapping[str, list[str]]) -> list[str]:
    return [c for c in holders if c in countries] + [c for c in countries if c not in holders]


def _row_label(column: str, holders: Mapping[str, list[str]]) -> str:
    """``label(column)``, the country followed by the actors holding it (if named otherwise)."""
    territory: dict[str, list[str]] = {}
    for country, actors in holders.items():
        for actor in actors:
            territory.setdefault(actor, []).append(country)
    return territory_label(column, territory)


def _mean_estimator(summary: pd.DataFrame) -> Callable[[pd.Series], Estimate]:
    """Student-t over replications; over a posterior ensemble, over parameter draws."""
    if "draw" not in summary:
        return mean_ci
    draws = summary["draw"].to_numpy()
    return lambda values: clustered_mean_ci(np.asarray(values, dtype=float), draws)


def key_outcomes(
    summary: pd.DataFrame,
    threat: str = "ISIS-K",
    territory: Mapping[str, list[str]] | None = None,
) -> list[Row]:
    """Key outcomes with 95% intervals over replications (one summary row each).

    Over a posterior ensemble (a ``draw`` column) the intervals count each parameter
    draw as one unit (:func:`scenarios.experiment.stats.clustered_mean_ci`).

    With ``territory`` (actor -> countries, see ``compare.territories``) each actor's
    countries come first, in actor order, their labels naming the actor; then the others
    and the total. Per-actor interdictions and per-country strength are shown when present.
    ``threat`` is kept for callers; the labels name the threat themselves.
    """
    del threat
    rows: list[Row] = []
    holders = _holders(territory or {})
    countries = _territories_first(_names(summary, "attacks_successful__"), holders)
    actors = _names(summary, "ci_exposure__")

    def add(column: str, estimate: Estimate, method: str = "t", group: str = "") -> None:
        group = group or column.partition("__")[0]
        rows.append(Row(group, _row_label(column, holders), estimate, method, column))

    mean_ci = _mean_estimator(summary)
    for c in countries:
        add(f"attacks_successful__{c}", mean_ci(summary[f"attacks_successful__{c}"]))
    if "attacks_successful" in summary:
        add("attacks_successful", mean_ci(summary["attacks_successful"]))
    for c in countries:
        add(f"fatalities__{c}", mean_ci(summary[f"fatalities__{c}"]))
    if "fatalities" in summary:
        add("fatalities", mean_ci(summary["fatalities"]))
    for c in countries:
        add(f"attack_risk__{c}", attack_risk(summary, c), "wilson")
    for c in [c for c in countries if f"attack_change__{c}" in summary]:
        x = summary[f"attack_change__{c}"].dropna()
        if len(x):
            est = Estimate(
                float(x.median()), float(x.quantile(0.05)), float(x.quantile(0.95)), len(x)
            )
            add(f"attack_change__{c}", est, "median")
    add("share_interdicted", mean_ci(summary["share_interdicted"]), group="interdicted_by")
    for a in _names(summary, "interdicted_by__"):
        add(f"interdicted_by__{a}", mean_ci(summary[f"interdicted_by__{a}"]))
    for a in actors:
        add(f"exploitation_against__{a}", mean_ci(summary[f"exploitation_against__{a}"]))
    for col in [c for c in summary.columns if c.startswith("final_trust__")]:
        add(col, mean_ci(summary[col]))
    add("final_cells", mean_ci(summary["final_cells"]), group="final_strength")
    for c in _territories_first(_names(summary, "final_strength__"), holders):
        add(f"final_strength__{c}", mean_ci(summary[f"final_strength__{c}"]))
    add("final_strength", mean_ci(summary["final_strength"]))
    return rows


def core_trust_pairs(
    rows: list[Row], actors: tuple[str, ...] = ("us", "russia", "taliban")
) -> list[Row]:
    """Drop trust rows outside the core actors (keeps the table readable)."""
    keep = []
    for row in rows:
        if row.group == "final_trust":
            _, a, b = row.column.split("__")
            if a not in actors or b not in actors:
                continue
        keep.append(row)
    return keep


Shares = dict[str, VarianceComponents]  # row column -> its variance split

SHARES_NOTE = (
    "Over a posterior ensemble, *parameters* and *chance* split the variance of an outcome "
    "over replications: the share from not knowing the parameters (between parameter "
    "draws) and the share from the model's randomness (within a draw), by a one-way "
    "random-effects decomposition (method of moments). Replications of one draw share "
    "their parameters, so the 95% intervals count each draw as one unit (cluster-robust, "
    "t with draws - 1 degrees of freedom), not each replication."
)


def per_replication(summary: pd.DataFrame, row: Row) -> np.ndarray:
    """The per-replication values a row summarises (attack risk: share of years hit)."""
    if row.method == "wilson":
        country = row.column.removeprefix("attack_risk__")
        years = summary["years"].to_numpy(dtype=float)
        hits = summary[f"mass_casualty_years__{country}"].to_numpy(dtype=float)
        return np.divide(hits, years, out=np.full(len(years), np.nan), where=years > 0)
    return summary[row.column].to_numpy(dtype=float)


def variance_shares(summary: pd.DataFrame, rows: list[Row]) -> Shares:
    """Each row's variance split by parameter draw (``summary``'s ``draw`` column)."""
    draws = summary["draw"].to_numpy()
    return {row.column: variance_components(per_replication(summary, row), draws) for row in rows}


def share_text(share: float) -> str:
    """A share as a whole percentage; a dash when it cannot be estimated."""
    return "–" if math.isnan(share) else f"{share:.0%}"


def shares_sentence(label: str, parameter_share: float, chance_share: float) -> str:
    """One sentence: how much of the spread of ``label`` comes from each source."""
    if math.isnan(parameter_share) or math.isnan(chance_share):
        return (
            f"The spread of {label} cannot be split into parameters and chance (that needs "
            "two or more replications per draw, two or more draws, and some spread)."
        )
    return (
        f"Of the spread of {label}, about {parameter_share:.0%} comes from not knowing the "
        f"parameters, {chance_share:.0%} from chance."
    )


def to_markdown(rows: list[Row], shares: Shares | None = None) -> str:
    """The table as GitHub Markdown (how the intervals are computed: ``INTERVALS_NOTE``).

    With ``shares`` (a run over a posterior ensemble) two more columns say how much of
    each outcome's variance comes from the parameters and how much from chance.
    """
    if shares is None:
        lines = ["| outcome | value | 95% interval |", "|---|---:|---|"]
    else:
        lines = [
            "| outcome | value | 95% interval | parameters | chance |",
            "|---|---:|---|---:|---:|",
        ]
    for row in rows:
        value, interval, _ = row.formatted()
        if shares is None:
            lines.append(f"| {row.label} | {value} | {interval} |")
            continue
        split = shares.get(row.column)
        parameter = share_text(split.parameter_share) if split else "–"
        chance = share_text(split.chance_share) if split else "–"
        lines.append(f"| {row.label} | {value} | {interval} | {parameter} | {chance} |")
    return "\n".join(lines)


def to_rich(rows: list[Row], title: str, shares: Shares | None = None) -> Table:
    """The table for the terminal: labels wrap at spaces, numbers never wrap.

    The label column takes the width left by the value and interval columns, which are
    never wrapped; no word of a label is longer than the room left at 80 columns, so no
    label is cut or split inside a word. Groups of rows are separated by a rule. With
    ``shares`` (a posterior ensemble), columns of the parameter and chance shares.
    """
    table = Table(title=title)
    table.add_column("outcome", overflow="fold", ratio=1)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("95% interval", no_wrap=True)
    if shares is not None:
        table.add_column("param.", justify="right", no_wrap=True)
        table.add_column("chance", justify="right", no_wrap=True)
    for i, row in enumerate(rows):
        value, interval, _ = row.formatted()
        cells = [row.label, value, interval]
        if shares is not None:
            split = shares.get(row.column)
            cells += [
                share_text(split.parameter_share) if split else "–",
                share_text(split.chance_share) if split else "–",
            ]
        last = i + 1 == len(rows) or rows[i + 1].group != row.group
        table.add_row(*cells, end_section=last and i + 1 < len(rows))
    return table


def wide_intervals(
    rows: list[Row], replications: int, precision: float = 0.1, shown: int = 3
) -> list[str]:
    """Short notes on the means whose 95% interval is wider than ``precision`` of them.

    The first ``shown`` (totals before per-country or per-actor means, then the widest
    relative to the mean) are named with the replications that would narrow them enough;
    the others are counted.
    """
    wide = []
    for row in rows:
        e = row.estimate
        if row.method != "t" or not e.n or math.isnan(e.half_width) or e.value == 0:
            continue
        relative = e.half_width / abs(e.value)
        if relative > precision:
            needed = math.ceil(e.n * (relative / precision) ** 2)
            wide.append(("__" in row.column, -relative, row.label, needed))
    wide.sort()  # totals first, then the widest
    notes = [
        f"{name}: 95% interval ±{-minus:.0%} of the mean; about {needed:,} replications "
        f"for ±{precision:.0%} (have {replications:,})"
        for _, minus, name, needed in wide[:shown]
    ]
    if len(wide) > shown:
        notes.append(
            f"{len(wide) - shown} more means have intervals wider than ±{precision:.0%} "
            "(more replications narrow them)"
        )
    return notes
