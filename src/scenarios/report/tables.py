"""The key-outcome table of a run: what `scenarios run` prints and report.md shows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from scenarios.experiment.compare import country_labels
from scenarios.experiment.stats import Estimate, mean_ci, wilson


@dataclass(frozen=True)
class Row:
    """One line of the key-outcome table."""

    group: str
    label: str
    estimate: Estimate
    method: str  # "t" (mean, Student t) or "wilson" (proportion) or "median"

    def formatted(self) -> tuple[str, str, str]:
        """(value, 95% interval, method) as text."""
        e = self.estimate
        if math.isnan(e.value):
            return "n/a", "", self.method
        if self.method == "wilson" or self.group == "Trust (final)":
            return f"{e.value:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", self.method
        if self.method == "median":
            return f"{e.value:+.0%}", f"[{e.low:+.0%}, {e.high:+.0%}]", "median, 5-95%"
        if abs(e.value) >= 100:
            return f"{e.value:,.0f}", f"[{e.low:,.0f}, {e.high:,.0f}]", self.method
        return f"{e.value:.2f}", f"[{e.low:.2f}, {e.high:.2f}]", self.method


def _names(summary: pd.DataFrame, prefix: str) -> list[str]:
    return [c.removeprefix(prefix) for c in summary.columns if c.startswith(prefix)]


def _territories_first(countries: list[str], labels: Mapping[str, str]) -> list[str]:
    return [c for c in labels if c in countries] + [c for c in countries if c not in labels]


def key_outcomes(
    summary: pd.DataFrame,
    threat: str = "ISIS-K",
    territory: Mapping[str, list[str]] | None = None,
) -> list[Row]:
    """Key outcomes with 95% intervals over replications (one summary row each).

    With ``territory`` (actor -> countries, see ``compare.territories``) each actor's
    countries come first, in actor order, labelled "country (actor)"; then the others and
    the total. Per-actor interdictions and per-country strength are shown when present.
    """
    rows: list[Row] = []
    labels = country_labels(territory or {})
    countries = _territories_first(_names(summary, "attacks_successful__"), labels)
    actors = _names(summary, "ci_exposure__")

    def name(country: str) -> str:
        return labels.get(country, country)

    for c in countries:
        rows.append(
            Row("Attacks (successful)", name(c), mean_ci(summary[f"attacks_successful__{c}"]), "t")
        )
    if "attacks_successful" in summary:
        rows.append(
            Row("Attacks (successful)", "total", mean_ci(summary["attacks_successful"]), "t")
        )
    for c in countries:
        rows.append(Row("Fatalities", name(c), mean_ci(summary[f"fatalities__{c}"]), "t"))
    if "fatalities" in summary:
        rows.append(Row("Fatalities", "total", mean_ci(summary["fatalities"]), "t"))
    years = float(summary["years"].sum())
    for c in countries:
        hits = float(summary[f"mass_casualty_years__{c}"].sum())
        rows.append(Row("P(mass-casualty)/year", name(c), wilson(hits, years), "wilson"))
    change_cols = [c for c in countries if f"attack_change__{c}" in summary]
    for c in change_cols:
        x = summary[f"attack_change__{c}"].dropna()
        if len(x):
            est = Estimate(
                float(x.median()), float(x.quantile(0.05)), float(x.quantile(0.95)), len(x)
            )
            rows.append(Row("Attacks, last vs first 26 wk", name(c), est, "median"))
    rows.append(Row("Interdiction", "share of plots", mean_ci(summary["share_interdicted"]), "t"))
    for a in _names(summary, "interdicted_by__"):
        rows.append(Row("Plots interdicted by", a, mean_ci(summary[f"interdicted_by__{a}"]), "t"))
    for a in actors:
        rows.append(
            Row(
                "Exploited, against",
                a,
                mean_ci(summary[f"exploitation_against__{a}"]),
                "t",
            )
        )
    for col in [c for c in summary.columns if c.startswith("final_trust__")]:
        truster, trustee = col.removeprefix("final_trust__").split("__")
        rows.append(Row("Trust (final)", f"{truster} in {trustee}", mean_ci(summary[col]), "t"))
    rows.append(Row(threat, "final strength (fighters)", mean_ci(summary["final_strength"]), "t"))
    rows.append(Row(threat, "final cells", mean_ci(summary["final_cells"]), "t"))
    for c in _territories_first(_names(summary, "final_strength__"), labels):
        group = f"{threat} final strength in"
        rows.append(Row(group, name(c), mean_ci(summary[f"final_strength__{c}"]), "t"))
    return rows


def core_trust_pairs(
    rows: list[Row], actors: tuple[str, ...] = ("us", "russia", "taliban")
) -> list[Row]:
    """Drop trust rows outside the core actors (keeps the table readable)."""
    keep = []
    for row in rows:
        if row.group == "Trust (final)":
            a, b = row.label.split(" in ")
            if a not in actors or b not in actors:
                continue
        keep.append(row)
    return keep


def to_markdown(rows: list[Row]) -> str:
    """The table as GitHub Markdown."""
    lines = ["| outcome | | value | 95% interval | method |", "|---|---|---:|---|---|"]
    for row in rows:
        value, interval, method = row.formatted()
        lines.append(f"| {row.group} | {row.label} | {value} | {interval} | {method} |")
    return "\n".join(lines)
