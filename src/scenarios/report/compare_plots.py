"""Figures of a comparison between scenarios (matplotlib, Agg backend).

Each figure but the frontier is built by a ``*_figure`` function that returns the
matplotlib Figure (the tests read its axes, labels and legends) and saved by the function
of the figure's name. Over time, only the baseline keeps its translucent 5-95% band; the
other scenarios are drawn as median lines, so a panel never holds more than one band.
Legends sit outside the axes, below the panels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenarios.experiment import store
from scenarios.experiment.compare import CORE_ACTORS, Comparison, StoredRun, estimate
from scenarios.labels import describe, label, place_name
from scenarios.report.decision import change_text
from scenarios.report.plots import (
    QUARTER,
    capital,
    date_axis,
    legend_below,
    median_and_band,
    save,
)
from scenarios.report.weekly import FIGURE_REPLICATIONS, envelope, sample_note, window_dates

COLOURS = plt.get_cmap("tab10").colors


def _over_time(ax: Axes, cmp: Comparison, column: str, window: int = 1) -> None:
    """Medians of every scenario over time; the 5-95% band of the baseline only."""
    for k, run in enumerate(cmp.runs):
        ts = run.weekly
        if ts is None or column not in ts:
            continue
        env = envelope(ts, column, window)
        dates = window_dates(ts, window)
        band = f"{run.label}{'' if run.label == 'baseline' else ' (baseline)'}"
        median_and_band(
            ax, dates, env, COLOURS[k % 10], run.label, band if run is cmp.baseline else None
        )


def envelopes_figure(cmp: Comparison) -> Figure:
    """Successful attacks per quarter and strength over time: medians, baseline band."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    _over_time(axes[0], cmp, "attacks_successful", QUARTER)
    _over_time(axes[1], cmp, "strength")
    axes[0].set_title("Successful attacks, all countries")
    axes[0].set_ylabel("Successful attacks per quarter")
    axes[0].set_ylim(bottom=0)
    date_axis(axes[0], "Quarter")
    axes[1].set_title("ISIS-K strength")
    axes[1].set_ylabel("Fighters")
    date_axis(axes[1], "Date")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(
        "Median of replications per scenario; shaded: 5-95% of the baseline's replications",
        fontsize=10,
    )
    legend_below(fig, axes[0], ncol=min(4, len(cmp.runs) + 1))
    return fig


def envelopes(cmp: Comparison, path: Path) -> None:
    """Save :func:`envelopes_figure`."""
    save(envelopes_figure(cmp), path)


def difference_unit(outcome: str) -> str:
    """The unit of a difference in ``outcome``, in words ("attacks, cumulative")."""
    info = describe(outcome)
    if info.unit in ("0-1", "share 0-1"):
        return "on a 0-1 scale"
    if "(sum)" in info.meaning:
        return f"{info.unit}, cumulative over the run"
    return info.unit


def forest_figure(cmp: Comparison) -> Figure:
    """Differences against the baseline with 95% intervals: one small panel per outcome.

    Each panel has its own scale (outcomes differ in units and in size of effect) and a
    zero line; the x axis is the absolute difference (its unit under the outcome's name),
    the scenario's label gives the relative one.
    """
    t = cmp.table[cmp.table.statistic.isin(["difference", "relative_change"])]
    outcomes = [o for o in cmp.outcomes if o in set(t.outcome)]
    others = [r.label for r in cmp.runs if r is not cmp.baseline]
    height = max(0.32 * len(others), 0.55) * len(outcomes) + 1.2  # inches
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(9.5, height), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=True):
        for k, scenario in enumerate(others):
            sel = t[(t.outcome == outcome) & (t.scenario == scenario)]
            d = sel[sel.statistic == "difference"].iloc[0]
            colour = COLOURS[(k + 1) % 10]
            err = [[max(0.0, d.value - d.ci_low)], [max(0.0, d.ci_high - d.value)]]
            ax.errorbar(d.value, -k, xerr=err, fmt="o", color=colour, capsize=3, ms=4)
            effect = cmp.effect(scenario, outcome)
            rel = f" ({change_text(effect).value})" if effect.relative_supported else ""
            ax.text(
                1.01,
                -k,
                f"{scenario}{rel}",
                transform=ax.get_yaxis_transform(),
                fontsize=7,
                va="center",
                color=colour,
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks([])
        ax.set_ylim(-len(others) + 0.4, 0.6)
        ax.set_ylabel(
            f"{cmp.label(outcome)}\n({difference_unit(outcome)})",
            rotation=0,
            ha="right",
            va="center",
            fontsize=8,
        )
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Difference against {cmp.baseline.label} (scenario minus baseline, 95% CI; "
        "relative change in brackets)",
        fontsize=10,
    )
    # Fixed margins (tight_layout gives up, with a warning, on many short panels): the
    # outcome labels to the left, the scenario labels to the right, the title on top.
    fig.subplots_adjust(
        left=0.36, right=0.8, top=1 - 0.55 / height, bottom=0.45 / height, hspace=0.55
    )
    return fig


def forest(cmp: Comparison, path: Path) -> None:
    """Save :func:`forest_figure`."""
    save(forest_figure(cmp), path)


def trust_figure(cmp: Comparison) -> Figure:
    """Trust between the core actors, one panel per directed pair.

    Medians per scenario, and the baseline's 5-95% band.
    """
    pairs = [(a, b) for a in CORE_ACTORS for b in CORE_ACTORS if a != b]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4), sharex=True, layout="constrained")
    for i, (ax, (a, b)) in enumerate(zip(axes.flat, pairs, strict=True)):
        col = f"trust__{a}__{b}"
        _over_time(ax, cmp, col)
        ax.set_title(label(col), fontsize=10)
        ax.set_ylim(0, 1)
        ax.set_ylabel("Trust (0-1)", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3)
        date_axis(ax, "Date" if i >= axes.shape[1] else None)
    fig.suptitle(
        "Trust between the US, Russia and the Taliban: median per scenario; "
        "shaded: 5-95% of the baseline's replications",
        fontsize=10,
    )
    legend_below(fig, axes.flat[0], ncol=min(4, len(cmp.runs) + 1))
    return fig


def trust(cmp: Comparison, path: Path) -> None:
    """Save :func:`trust_figure`."""
    save(trust_figure(cmp), path)


def attacks_by_country_figure(cmp: Comparison) -> Figure:
    """Mean successful attacks per target country and scenario, with 95% intervals."""
    countries = [
        c.removeprefix("attacks_successful__")
        for c in cmp.baseline.summary.columns
        if c.startswith("attacks_successful__")
    ]
    n = len(cmp.runs)
    width = 0.8 / n
    x = np.arange(len(countries))
    fig, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    for k, run in enumerate(cmp.runs):
        ests = [estimate(run.summary, f"attacks_successful__{c}")[0] for c in countries]
        v = np.array([e.value for e in ests])
        err = np.clip([[e.value - e.low for e in ests], [e.high - e.value for e in ests]], 0, None)
        ax.bar(
            x + k * width - 0.4 + width / 2,
            v,
            width,
            yerr=err,
            capsize=2,
            color=COLOURS[k % 10],
            label=run.label,
        )
    names = [
        capital(cmp.label(f"attacks_successful__{c}").removeprefix("Attacks in "))
        if cmp.label(f"attacks_successful__{c}").startswith("Attacks in ")
        else capital(place_name(c))
        for c in countries
    ]
    ax.set_xticks(x, names, fontsize=9)
    ax.set_xlabel("Target country (in brackets: the actor whose territory it is)")
    ax.set_ylabel("Successful attacks per run\n(mean, cumulative over the run)")
    ax.set_title("Attacks by target country (bars: mean; whiskers: 95% interval)")
    ax.grid(axis="y", alpha=0.3)
    legend_below(fig, ax, ncol=min(5, n))
    return fig


def attacks_by_country(cmp: Comparison, path: Path) -> None:
    """Save :func:`attacks_by_country_figure`."""
    save(attacks_by_country_figure(cmp), path)


def home_country(run: StoredRun, actor: str) -> str | None:
    """Country of the regions an actor holds jurisdiction over (from the manifest)."""
    for region in run.config.get("regions", {}).values():
        if region.get("jurisdiction") == actor:
            return str(region["country"])
    return None


def frontier(cmp: Comparison, path: Path) -> None:
    """The article's trade-off: attack risk at home against exposure, one panel per actor.

    Panels stacked (the report shows the figure beside the decision summary); the legend
    sits below the panels, where it covers no error bar.
    """
    actors = [a for a in CORE_ACTORS if f"ci_exposure__{a}" in cmp.baseline.summary]
    fig, axes = plt.subplots(len(actors), 1, figsize=(4.6, 2.45 * len(actors) + 0.9))
    axes = np.atleast_1d(axes)
    for ax, actor in zip(axes, actors, strict=True):
        country = home_country(cmp.baseline, actor)
        for k, run in enumerate(cmp.runs):
            xe = estimate(run.summary, f"ci_exposure__{actor}")[0]
            ye = estimate(run.summary, f"attack_risk__{country}")[0]
            ax.errorbar(
                xe.value,
                ye.value,
                xerr=[[xe.value - xe.low], [xe.high - xe.value]],
                yerr=[[max(0, ye.value - ye.low)], [max(0, ye.high - ye.value)]],
                fmt="o",
                color=COLOURS[k % 10],
                capsize=3,
                label=run.label,
            )
        ax.set_xlabel(f"{label(f'ci_exposure__{actor}')} (events per run)", fontsize=8)
        ax.set_ylabel(f"attack risk in\n{place_name(country or '')} (per year)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.margins(x=0.12, y=0.15)
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.suptitle("Attack risk against exposure (95% intervals)", fontsize=9)
    fig.tight_layout(rect=(0.0, 0.06 + 0.012 * len(cmp.runs), 1.0, 1.0))
    fig.savefig(path, dpi=110)
    plt.close(fig)


FIGURES = {
    "envelopes.png": "Successful attacks per quarter and strength over time: median of each "
    "scenario, with the 5-95% band of the baseline's replications.",
    "forest.png": "Difference of each outcome against the baseline with its 95% CI "
    "(paired when seeds match); relative change in brackets.",
    "frontier.png": "The trade-off: attack risk on each partner's territory against the "
    "misuse and leaks of its shared material, per scenario.",
    "attacks_by_country.png": "Mean successful attacks per target country over the run, per "
    "scenario, with 95% intervals.",
    "trust.png": "Trust between the US, Russia and the Taliban, one panel per direction: "
    "median of each scenario, with the 5-95% band of the baseline's replications.",
}


WEEKLY_FIGURES = ("envelopes.png", "trust.png")


def draw_all(cmp: Comparison, folder: Path) -> dict[str, str]:
    """Draw every comparison figure into ``folder``; return {file name: caption}.

    The figures of weekly series (envelopes, trust) need every run's timeseries.parquet;
    when a run has none they are left out (``Comparison.timeseries_note`` says why), and
    an earlier comparison's copies of them in ``folder`` are deleted.
    """
    folder.mkdir(parents=True, exist_ok=True)
    weekly = not cmp.without_timeseries()
    if weekly:
        envelopes(cmp, folder / "envelopes.png")
    forest(cmp, folder / "forest.png")
    frontier(cmp, folder / "frontier.png")
    attacks_by_country(cmp, folder / "attacks_by_country.png")
    if weekly:
        trust(cmp, folder / "trust.png")
    if not weekly:
        for name in WEEKLY_FIGURES:  # an earlier comparison's, in the folder written over
            if (folder / name).exists():
                store.remove_file(folder / name, folder)
        return {k: v for k, v in FIGURES.items() if k not in WEEKLY_FIGURES}
    if any(sample_note(run.weekly) for run in cmp.runs if run.weekly is not None):
        note = f" (at most the first {FIGURE_REPLICATIONS:,} replications of each run)"
        return {k: v[:-1] + note + "." if k in WEEKLY_FIGURES else v for k, v in FIGURES.items()}
    return dict(FIGURES)
