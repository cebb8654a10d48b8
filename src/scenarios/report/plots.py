"""Figures of one run, drawn from its summary and weekly series (matplotlib, Agg backend).

The weekly figures read one weekly column at a time (:mod:`scenarios.report.weekly`), from
``timeseries.parquet`` or from an in-memory frame, so drawing them takes memory for one
replications x weeks matrix, not for the whole timeseries. A run without a timeseries
(``run.timeseries: false``) gets the figures drawn from its summary only.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scenarios.experiment.stats import wilson
from scenarios.report.weekly import Weekly, as_weekly, envelope, sample_note, window_dates

QUARTER = 13  # weeks


Source = Weekly | pd.DataFrame | Path


def attacks_by_country(source: Source, path: Path) -> None:
    """Successful attacks per quarter by target country: median and 5-95% band."""
    ts = as_weekly(source)
    countries = [
        c.removeprefix("attacks_successful__")
        for c in ts.columns
        if c.startswith("attacks_successful__")
    ]
    dates = window_dates(ts, QUARTER)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for c in countries:
        env = envelope(ts, f"attacks_successful__{c}", QUARTER)
        (line,) = ax.plot(dates, env["median"].values, label=c.replace("_", " "))
        ax.fill_between(
            dates, env["low"].values, env["high"].values, color=line.get_color(), alpha=0.15
        )
    ax.set_ylabel("successful attacks per quarter")
    ax.set_title("Attacks by target country (median, 5-95% of replications)")
    ax.legend(ncol=3, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def strength(source: Source, path: Path, threat: str = "ISIS-K") -> None:
    """Threat strength over time against the UN reporting band for ISIS-K."""
    ts = as_weekly(source)
    env = envelope(ts, "strength")
    dates = window_dates(ts)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.axhspan(1500, 6000, color="grey", alpha=0.12, label="UN reporting band 1,500-6,000")
    ax.plot(dates, env["median"].values, color="black", label="median")
    ax.fill_between(
        dates,
        env["low"].values,
        env["high"].values,
        color="black",
        alpha=0.15,
        label="5-95%",
    )
    ax.set_ylabel("fighters")
    ax.set_title(f"{threat} strength")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def trust(
    source: Source, path: Path, actors: tuple[str, ...] = ("us", "russia", "taliban")
) -> None:
    """Trust trajectories between the core actors (median over replications)."""
    ts = as_weekly(source)
    pairs = [
        c
        for c in ts.columns
        if c.startswith("trust__")
        and all(p in actors for p in c.removeprefix("trust__").split("__"))
    ]
    dates = window_dates(ts)
    fig, ax = plt.subplots(figsize=(9, 4.4))
    for col in pairs:
        a, b = col.removeprefix("trust__").split("__")
        env = envelope(ts, col)
        (line,) = ax.plot(dates, env["median"].values, label=f"{a} in {b}")
        ax.fill_between(
            dates, env["low"].values, env["high"].values, color=line.get_color(), alpha=0.1
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("expected trust")
    ax.set_title("Trust between actors (median, 5-95%)")
    ax.legend(ncol=3, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def attack_risk(summary: pd.DataFrame, path: Path) -> None:
    """Annual probability of at least one mass-casualty attack, per country, Wilson 95%."""
    countries = [
        c.removeprefix("mass_casualty_years__")
        for c in summary.columns
        if c.startswith("mass_casualty_years__")
    ]
    years = float(summary["years"].sum())
    est = [wilson(float(summary[f"mass_casualty_years__{c}"].sum()), years) for c in countries]
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(countries))
    values = np.array([e.value for e in est])
    err = np.clip([[e.value - e.low for e in est], [e.high - e.value for e in est]], 0.0, None)
    ax.bar(x, values, color="#8c2d04", alpha=0.8)
    ax.errorbar(x, values, yerr=err, fmt="none", ecolor="black", capsize=4)
    ax.set_xticks(x, [c.replace("_", " ") for c in countries])
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(>= 1 mass-casualty attack) per year")
    ax.set_title("Attack risk by country (Wilson 95% intervals)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def severity(summary: pd.DataFrame, path: Path) -> None:
    """Complementary CDF of fatalities per successful attack, pooled over replications."""
    cols = sorted(
        (int(c.rsplit("__", 1)[1]), c)
        for c in summary.columns
        if c.startswith("attacks_with_fatalities_ge__")
    )
    edges = np.array([e for e, _ in cols])
    counts = np.array([summary[c].sum() for _, c in cols])
    fig, ax = plt.subplots(figsize=(6, 4.4))
    if counts[0] > 0:
        ccdf = counts / counts[0]
        mask = ccdf > 0
        ax.loglog(edges[mask], ccdf[mask], "o-", color="#08519c", label="model")
        ref = edges[mask].astype(float)
        ax.loglog(ref, ref**-1.2, "--", color="grey", label="slope -1.2 (alpha 2.2)")
    ax.set_xlabel("fatalities x")
    ax.set_ylabel("P(fatalities >= x | successful attack)")
    ax.set_title("Severity is heavy-tailed")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


FIGURES = {
    "attacks_by_country.png": "Successful attacks per quarter by target country.",
    "attack_risk.png": "Annual probability of at least one mass-casualty attack, per country.",
    "strength.png": "Threat strength (fighters) against the UN reporting band for ISIS-K.",
    "trust.png": "Trust between the US, Russia and the Taliban over time.",
    "severity.png": "Fatalities per successful attack: complementary CDF on log-log axes.",
}
WEEKLY_FIGURES = ("attacks_by_country.png", "strength.png", "trust.png")


def draw_all(
    summary: pd.DataFrame, ts: Source | None, folder: Path, threat: str = "ISIS-K"
) -> dict[str, str]:
    """Draw every run figure into ``folder``; return {file name: caption}.

    ``ts`` is the run's weekly series: a timeseries frame, the path of its
    timeseries.parquet, or a :class:`Weekly` view. Without it (None: a run that kept no
    timeseries) only the figures drawn from the summary are made. The weekly figures of a
    very large run show its first replications (``weekly.FIGURE_REPLICATIONS``), as their
    captions say.
    """
    folder.mkdir(parents=True, exist_ok=True)
    weekly = as_weekly(ts) if ts is not None else None
    if weekly is not None:
        attacks_by_country(weekly, folder / "attacks_by_country.png")
    attack_risk(summary, folder / "attack_risk.png")
    if weekly is not None:
        strength(weekly, folder / "strength.png", threat)
        trust(weekly, folder / "trust.png")
    severity(summary, folder / "severity.png")
    if weekly is None:
        return {k: v for k, v in FIGURES.items() if k not in WEEKLY_FIGURES}
    note = sample_note(weekly)  # a very large run: the figures show its first replications
    return {
        k: v[:-1] + note + "." if k in WEEKLY_FIGURES and note else v for k, v in FIGURES.items()
    }
