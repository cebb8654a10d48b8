"""Figures of one run, drawn from its summary and weekly series (matplotlib, Agg backend).

The weekly figures read one weekly column at a time (:mod:`scenarios.report.weekly`), from
``timeseries.parquet`` or from an in-memory frame, so drawing them takes memory for one
replications x weeks matrix, not for the whole timeseries. A run without a timeseries
(``run.timeseries: false``) gets the figures drawn from its summary only.

Each figure is built by a ``*_figure`` function that returns the matplotlib Figure (the
tests read its axes, labels and legends) and saved by the function of the figure's name.
A figure with many series draws them as small multiples, one panel per country or per
pair of actors, each with at most one translucent 5-95% band; legends sit outside the
axes, below the panels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenarios.experiment.stats import wilson
from scenarios.labels import label, place_name
from scenarios.report.weekly import Weekly, as_weekly, envelope, sample_note, window_dates

QUARTER = 13  # weeks
DPI = 110
BAND_ALPHA = 0.2
BAND = "5-95% of replications"

Source = Weekly | pd.DataFrame | Path


def capital(text: str) -> str:
    """``text`` with its first letter capitalised, for a title or tick: "The West"."""
    return text[:1].upper() + text[1:]


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG and release it."""
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def date_axis(ax: Axes, xlabel: str | None = None) -> None:
    """Few date ticks in a concise format (no overlapping labels); ``xlabel`` in words."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=8)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels (at most three columns)."""
    cols = 1 if n <= 1 else 2 if n in (2, 4) else 3
    return -(-n // cols), cols


def _panels(n: int, width: float, height: float, sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure of ``n`` small panels, spare grid cells removed."""
    rows, cols = grid_shape(max(n, 1))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width, height * rows + 1.2),
        squeeze=False,
        layout="constrained",
        sharex=sharex,
    )
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def _label_bottom(axes: list[Axes], xlabel: str) -> None:
    """Dates on every panel's x axis; their labels only under the lowest panel of a column.

    With a spare grid cell removed, the panel above it is the lowest of its column.
    """
    _, cols = grid_shape(len(axes))
    for i, ax in enumerate(axes):
        lowest = i + cols >= len(axes)
        date_axis(ax, xlabel if lowest else None)
        ax.xaxis.set_tick_params(labelbottom=lowest)


def median_and_band(
    ax: Axes,
    dates: np.ndarray,
    env: pd.DataFrame,
    colour: object,
    name: str,
    band_name: str | None = "",
) -> None:
    """A median line and, unless ``band_name`` is None, its translucent 5-95% band.

    The band is labelled ``band_name`` (``name`` if empty) followed by what it shows.
    """
    if band_name is not None:
        ax.fill_between(
            dates,
            env["low"].values,
            env["high"].values,
            color=colour,
            alpha=BAND_ALPHA,
            lw=0,
            label=f"{band_name or name}: {BAND}",
        )
    ax.plot(dates, env["median"].values, color=colour, lw=1.5, label=f"{name}: median")


def legend_below(fig: Figure, ax: Axes, ncol: int = 3) -> None:
    """The legend of ``ax``'s artists, outside every axes, below the panels."""
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, fontsize=8, frameon=False)


def attacks_by_country_figure(source: Source) -> Figure:
    """Successful attacks per quarter, one panel per target country: median and 5-95%."""
    ts = as_weekly(source)
    countries = [
        c.removeprefix("attacks_successful__")
        for c in ts.columns
        if c.startswith("attacks_successful__")
    ]
    dates = window_dates(ts, QUARTER)
    fig, axes = _panels(len(countries), 10, 2.3, sharex=True)
    for ax, c in zip(axes, countries, strict=True):
        env = envelope(ts, f"attacks_successful__{c}", QUARTER)
        median_and_band(ax, dates, env, "#08519c", "Successful attacks")
        ax.set_title(capital(place_name(c)), fontsize=10)
        ax.set_ylabel("Successful attacks\nper quarter", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3)
    _label_bottom(axes, "Quarter")
    fig.suptitle("Successful attacks per quarter by target country")
    if axes:
        legend_below(fig, axes[0], ncol=2)
    return fig


def attacks_by_country(source: Source, path: Path) -> None:
    """Save :func:`attacks_by_country_figure`."""
    save(attacks_by_country_figure(source), path)


UN_BAND = (1500, 6000)


def strength_figure(source: Source, threat: str = "ISIS-K") -> Figure:
    """Threat strength over time (median and 5-95%) against the UN reporting range."""
    ts = as_weekly(source)
    env = envelope(ts, "strength")
    dates = window_dates(ts)
    fig, ax = plt.subplots(figsize=(9, 4.4), layout="constrained")
    low, high = UN_BAND
    ax.axhspan(
        low, high, color="#999999", alpha=0.15, lw=0, label=f"UN reporting range {low:,}-{high:,}"
    )
    median_and_band(ax, dates, env, "black", "Fighters")
    ax.set_ylabel("Fighters")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{threat} strength")
    ax.grid(alpha=0.3)
    date_axis(ax, "Date")
    legend_below(fig, ax)
    return fig


def strength(source: Source, path: Path, threat: str = "ISIS-K") -> None:
    """Save :func:`strength_figure`."""
    save(strength_figure(source, threat), path)


def trust_figure(source: Source, actors: tuple[str, ...] = ("us", "russia", "taliban")) -> Figure:
    """Trust of each core actor in each other, one panel per directed pair: median, 5-95%."""
    ts = as_weekly(source)
    pairs = [
        c
        for c in ts.columns
        if c.startswith("trust__")
        and all(p in actors for p in c.removeprefix("trust__").split("__"))
    ]
    dates = window_dates(ts)
    fig, axes = _panels(len(pairs), 11, 2.4, sharex=True)
    for ax, col in zip(axes, pairs, strict=True):
        median_and_band(ax, dates, envelope(ts, col), "#6a3d9a", "Trust")
        ax.set_title(label(col), fontsize=10)
        ax.set_ylim(0, 1)
        ax.set_ylabel("Trust (0-1)", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3)
    _label_bottom(axes, "Date")
    fig.suptitle("Trust between the US, Russia and the Taliban")
    if axes:
        legend_below(fig, axes[0], ncol=2)
    return fig


def trust(
    source: Source, path: Path, actors: tuple[str, ...] = ("us", "russia", "taliban")
) -> None:
    """Save :func:`trust_figure`."""
    save(trust_figure(source, actors), path)


def attack_risk_figure(summary: pd.DataFrame) -> Figure:
    """Annual probability of at least one mass-casualty attack, per country, Wilson 95%."""
    countries = [
        c.removeprefix("mass_casualty_years__")
        for c in summary.columns
        if c.startswith("mass_casualty_years__")
    ]
    years = float(summary["years"].sum())
    est = [wilson(float(summary[f"mass_casualty_years__{c}"].sum()), years) for c in countries]
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    x = np.arange(len(countries))
    values = np.array([e.value for e in est])
    err = np.clip([[e.value - e.low for e in est], [e.high - e.value for e in est]], 0.0, None)
    ax.bar(x, values, color="#8c2d04", alpha=0.8)
    ax.errorbar(x, values, yerr=err, fmt="none", ecolor="black", capsize=4)
    ax.set_xticks(x, [capital(place_name(c)) for c in countries], fontsize=9)
    ax.set_xlabel("Target country")
    ax.set_ylim(0, 1)
    ax.set_ylabel("Probability of at least one\nmass-casualty attack per year (0-1)")
    ax.set_title("Attack risk by country (bars: estimate; whiskers: Wilson 95% interval)")
    ax.grid(axis="y", alpha=0.3)
    return fig


def attack_risk(summary: pd.DataFrame, path: Path) -> None:
    """Save :func:`attack_risk_figure`."""
    save(attack_risk_figure(summary), path)


def severity_figure(summary: pd.DataFrame) -> Figure:
    """Complementary CDF of fatalities per successful attack, pooled over replications."""
    cols = sorted(
        (int(c.rsplit("__", 1)[1]), c)
        for c in summary.columns
        if c.startswith("attacks_with_fatalities_ge__")
    )
    edges = np.array([e for e, _ in cols])
    counts = np.array([summary[c].sum() for _, c in cols])
    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if len(counts) and counts[0] > 0:
        ccdf = counts / counts[0]
        mask = ccdf > 0
        ax.plot(edges[mask], ccdf[mask], "o-", color="#08519c", label="Model, all replications")
        ref = edges[mask].astype(float)
        ax.plot(ref, ref**-1.2, "--", color="grey", label="Power law, slope -1.2 (alpha 2.2)")
        fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    ax.set_xlabel("Deaths in an attack, x (log scale)")
    ax.set_ylabel("Share of successful attacks\nwith at least x deaths (log scale)")
    ax.set_title("Severity is heavy-tailed")
    ax.grid(alpha=0.3, which="both")
    return fig


def severity(summary: pd.DataFrame, path: Path) -> None:
    """Save :func:`severity_figure`."""
    save(severity_figure(summary), path)


FIGURES = {
    "attacks_by_country.png": "Successful attacks per quarter, one panel per target country: "
    "median and 5-95% of replications.",
    "attack_risk.png": "Annual probability of at least one mass-casualty attack, per country, "
    "with Wilson 95% intervals.",
    "strength.png": "Threat strength (fighters): median and 5-95% of replications, against "
    "the UN reporting range for ISIS-K.",
    "trust.png": "Trust between the US, Russia and the Taliban, one panel per direction: "
    "median and 5-95% of replications.",
    "severity.png": "Deaths per successful attack: share of attacks with at least x deaths, "
    "on log-log axes.",
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
