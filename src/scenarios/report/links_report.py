"""Report of `scenarios links`: what each sharing link buys, and what it exposes.

First screen: the answer in one sentence (the link that lowers attacks in its receiver's
country most, what it exposes, and the link that exposes most), one line per link (the
change of attacks in the receiver's country and in total, and of the exposure of the
giver's material, with 95% intervals), then the chart of risk reduction against exposure
per link. Below: the link
values of every outcome, as bars with intervals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scenarios.decision.links import PARTNER_COUNTRIES, LinksSpec
from scenarios.experiment import store
from scenarios.labels import actor_adjective, label, place_name
from scenarios.report.compare_report import write_report
from scenarios.report.plots import grid_shape, plt, save

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PLOTS = "plots"


def _ends(link: str) -> tuple[str, str]:
    """(giver, receiver) of ``a>b``; (a, b) of a pair ``a-b``."""
    sep = ">" if ">" in link else "-"
    giver, receiver = link.split(sep)
    return giver, receiver


def _value(values: pd.DataFrame, link: str, outcome: str) -> pd.Series | None:
    row = values[(values.link == link) & (values.outcome == outcome)]
    return None if row.empty else row.iloc[0]


def _signed(row: pd.Series, decimals: int = 1) -> str:
    return f"{row.shapley:+.{decimals}f} [{row.ci_low:+.{decimals}f}, {row.ci_high:+.{decimals}f}]"


def link_sentence(values: pd.DataFrame, link: str) -> str:
    """One line: the link's effect on attacks (receiver's country, all) and on exposure."""
    giver, receiver = _ends(link)
    country = PARTNER_COUNTRIES.get(receiver)
    parts = [f"`{link}`"]
    attacks = _value(values, link, f"attacks_successful__{country}") if country else None
    if attacks is not None:
        parts.append(f"attacks in {place_name(country)} {_signed(attacks)}")
    total = _value(values, link, "attacks_successful")
    if total is not None:
        parts.append(f"attacks in all countries {_signed(total)}")
    exposure = _value(values, link, f"ci_exposure__{giver}")
    if exposure is not None:
        parts.append(f"exposure of {actor_adjective(giver)} material {_signed(exposure)}")
    return parts[0] + ": " + "; ".join(parts[1:])


# Shapley values this close to 0 are rounding error: the link changed nothing.
ZERO = 1e-9


def _interval_note(row: pd.Series) -> str:
    return "" if row.ci_low > ZERO or row.ci_high < -ZERO else " (its interval includes 0)"


def headline(values: pd.DataFrame, links: list[str]) -> str:
    """The answer in one sentence: which link lowers attacks most, and which exposes most.

    The first: the largest fall of attacks in the link's receiver's country, with what the
    link exposes of its giver's material; the second: the largest exposure of a giver's.
    """
    drops, exposures = [], []
    for link in links:
        giver, receiver = _ends(link)
        country = PARTNER_COUNTRIES.get(receiver)
        attacks = _value(values, link, f"attacks_successful__{country}") if country else None
        if attacks is not None:
            drops.append((attacks.shapley, link, country, attacks))
        exposure = _value(values, link, f"ci_exposure__{giver}")
        if exposure is not None:
            exposures.append((exposure.shapley, link, giver, exposure))
    parts = []
    if drops:
        value, link, country, row = min(drops, key=lambda d: d[0])
        if value < -ZERO:
            text = (
                f"`{link}` lowers attacks in its receiver's country most: attacks in "
                f"{place_name(country)} {_signed(row)}{_interval_note(row)}"
            )
            exposure = _value(values, link, f"ci_exposure__{_ends(link)[0]}")
            if exposure is not None:
                adjective = actor_adjective(_ends(link)[0])
                text += f", for exposure of {adjective} material {_signed(exposure)}"
            parts.append(text)
        else:
            parts.append("no link lowers attacks in its receiver's country")
    if exposures:
        value, link, giver, row = max(exposures, key=lambda e: e[0])
        parts.append(
            f"`{link}` exposes most: {actor_adjective(giver)} material {_signed(row)}"
            f"{_interval_note(row)}"
        )
    if not parts:
        return ""
    text = "; ".join(parts)
    return f"**In short.** {text[0].upper()}{text[1:]}."


def _no_rounding_noise_scale(ax: Axes) -> None:
    """Axes whose values are all rounding noise around 0 (a tiny run) span [-1, 1].

    Otherwise matplotlib zooms in on them and labels the axis "1e-16" and "-0.0".
    """
    for axis, (low, high) in (("x", ax.get_xlim()), ("y", ax.get_ylim())):
        if max(abs(low), abs(high)) < 1e-9:
            (ax.set_xlim if axis == "x" else ax.set_ylim)(-1.0, 1.0)


def tradeoff_figure(values: pd.DataFrame, spec: LinksSpec, path: Path) -> bool:
    """Attacks in the receiver's country against exposure of the giver's material, per link."""
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    drawn = 0
    for link in spec.links:
        giver, receiver = _ends(link)
        country = PARTNER_COUNTRIES.get(receiver)
        y = _value(values, link, f"attacks_successful__{country}") if country else None
        x = _value(values, link, f"ci_exposure__{giver}")
        if x is None or y is None:
            continue
        ax.errorbar(
            x.shapley,
            y.shapley,
            xerr=[[x.shapley - x.ci_low], [x.ci_high - x.shapley]],
            yerr=[[y.shapley - y.ci_low], [y.ci_high - y.shapley]],
            fmt="o",
            capsize=3,
        )
        ax.annotate(link, (x.shapley, y.shapley), textcoords="offset points", xytext=(6, 6))
        drawn += 1
    if not drawn:
        plt.close(fig)
        return False
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    _no_rounding_noise_scale(ax)
    ax.set_xlabel("Exposure of the giver's material (items per run, Shapley value)")
    ax.set_ylabel("Successful attacks in the receiver's country\n(per run, Shapley value)")
    ax.set_title("What each link buys (down) for what it exposes (right)")
    save(fig, path)
    return True


def bars_figure(values: pd.DataFrame, spec: LinksSpec, path: Path) -> None:
    """One panel per outcome: each link's value with its 95% interval."""
    outcomes = list(dict.fromkeys(values.outcome))
    rows, cols = grid_shape(len(outcomes))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.45 * len(spec.links) * rows + 1.5))
    flat = list(axes.flat) if hasattr(axes, "flat") else [axes]
    for ax, outcome in zip(flat, outcomes, strict=False):
        part = values[values.outcome == outcome].set_index("link").loc[spec.links]
        y = range(len(part))
        ax.barh(y, part.shapley, color="tab:blue", alpha=0.7)
        ax.errorbar(
            part.shapley,
            y,
            xerr=[part.shapley - part.ci_low, part.ci_high - part.shapley],
            fmt="none",
            ecolor="black",
            capsize=2,
        )
        ax.set_yticks(list(y), list(part.index), fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(label(outcome), fontsize=9)
        ax.invert_yaxis()
    for ax in flat[len(outcomes) :]:
        ax.set_visible(False)
    fig.suptitle("Value of each link per outcome (Shapley value, 95% interval)")
    save(fig, path)


def write_links_report(
    out: Path,
    values: pd.DataFrame,
    spec: LinksSpec,
    scenario: str,
    weeks: int,
    ensemble: str = "",
) -> Path:
    """links.csv, report.md, report.html and plots in ``out``; returns report.html.

    ``weeks``: the recorded weeks of one replication (the unit of the counts);
    ``ensemble``: a sentence on the posterior the coalitions ran over (empty: none).
    """
    store.write_atomic(out / "links.csv", values.to_csv(index=False).encode())
    (out / PLOTS).mkdir(exist_ok=True)
    has_tradeoff = tradeoff_figure(values, spec, out / PLOTS / "tradeoff.png")
    bars_figure(values, spec, out / PLOTS / "link_values.png")
    n = int(values.n.iloc[0]) if len(values) else 0
    lines = [
        f"# Value of each sharing link: `{scenario}`",
        "",
        f"Every coalition of {len(spec.links)} links ({spec.n_points()} coalitions) ran "
        f"{n} replications with the same seeds; a link that is on shares at level "
        f"{spec.level:g}, one that is off at 0. A link's value is its Shapley value: its "
        "effect averaged over the orders in which the links could be switched on. The "
        "values of the links add up to the effect of all of them together. Intervals: "
        "95%, bootstrap over replications (paired across coalitions). Counts are per "
        f"replication of {weeks} weeks; a negative value means fewer."
        + (f" {ensemble}" if ensemble else ""),
        "",
        "## What each link buys, and what it exposes",
        "",
        headline(values, spec.links),
        "",
        *[f"- {link_sentence(values, link)}" for link in spec.links],
        "",
    ]
    if has_tradeoff:
        caption = "Attacks in the receiver's country against exposure of the giver's material"
        lines += [f"![{caption}]({PLOTS}/tradeoff.png)", ""]
    lines += [
        "## All outcomes",
        "",
        "| outcome | all links together | " + " | ".join(f"`{link}`" for link in spec.links) + " |",
        "|---|---:|" + "---:|" * len(spec.links),
    ]
    for outcome, part in values.groupby("outcome", sort=False):
        by_link = part.set_index("link")
        cells = [f"{by_link.loc[link].shapley:+.3g}" for link in spec.links]
        lines.append(
            f"| {label(outcome)} | {part.full_effect.iloc[0]:+.3g} | " + " | ".join(cells) + " |"
        )
    caption = "Value of each link per outcome"
    lines += ["", f"![{caption}]({PLOTS}/link_values.png)", ""]
    text = "\n".join(lines) + "\n"
    return write_report(out, text)
