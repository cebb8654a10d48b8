"""Report of `scenarios optimise`: the Pareto front of sharing policies, and how it held up.

First screen: a sentence naming the policy of the front that does best on each objective
on fresh seeds and how many meet the constraints there; beside each other, the front's
policies in a table (objectives and constraints in the search and on fresh seeds, then
the lever values under short names) and the chart of the first objective against the
constrained outcome (or the second objective), each policy labelled, with an arrow from
its value in the search to its value on fresh seeds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scenarios.decision.optimise import OptimiseSpec
from scenarios.labels import label
from scenarios.report.compare_report import write_report
from scenarios.report.plots import plt, save


def axes_outcomes(spec: OptimiseSpec) -> tuple[str, str]:
    """(x, y) of the chart: the constrained outcome (or 2nd objective), the 1st objective."""
    objectives = list(spec.objectives)
    x = next(iter(spec.constraints), objectives[1] if len(objectives) > 1 else objectives[0])
    return x, objectives[0]


def front_figure(
    spec: OptimiseSpec, front: pd.DataFrame, evaluations: pd.DataFrame, path: Path
) -> None:
    """Every candidate evaluated (grey), the front in the search (open) and on fresh seeds."""
    x, y = axes_outcomes(spec)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.scatter(evaluations[x], evaluations[y], s=10, color="lightgrey", label="candidates (search)")
    ax.scatter(
        front[x], front[y], s=40, facecolors="none", edgecolors="tab:blue", label="front (search)"
    )
    if f"{x}__fresh" in front:
        ax.scatter(
            front[f"{x}__fresh"],
            front[f"{y}__fresh"],
            s=40,
            color="tab:blue",
            label="front (fresh seeds)",
        )
        for _, row in front.iterrows():
            ax.annotate(
                "",
                xy=(row[f"{x}__fresh"], row[f"{y}__fresh"]),
                xytext=(row[x], row[y]),
                arrowprops={"arrowstyle": "->", "color": "tab:blue", "lw": 0.8},
            )
    for _, row in front.iterrows():
        ax.annotate(row["policy"], (row[x], row[y]), textcoords="offset points", xytext=(5, 5))
    bound = spec.constraints.get(x)
    if bound is not None:
        limit = bound.max if bound.max is not None else bound.min
        ax.axvline(limit, color="tab:red", ls="--", lw=1, label="constraint")
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.legend(fontsize=8)
    ax.set_title("Sharing policies: the front, and on fresh seeds")
    save(fig, path)


def lever_name(path: str) -> str:
    """A short column name: ``us>russia`` for ``sharing.policy.us.russia``, else the last part."""
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["sharing", "policy"]:
        return f"{parts[2]}>{parts[3]}"
    return parts[-1]


def headline(spec: OptimiseSpec, front: pd.DataFrame) -> str:
    """The answer in one sentence: the best policy of the front for each objective."""
    if front.empty:
        return "No candidate met the constraints in the search: the front is empty."
    fresh = all(f"{o}__fresh" in front for o in spec.objectives)
    best = []
    for outcome, sense in spec.objectives.items():
        values = front[f"{outcome}__fresh" if fresh else outcome]
        row = front.loc[values.idxmin() if sense == "min" else values.idxmax()]
        word = "fewest" if sense == "min" else "most"
        value = row[f"{outcome}__fresh" if fresh else outcome]
        name = label(outcome)
        name = name[0].lower() + name[1:] if name[1:2].islower() else name  # not "US ..."
        best.append(f"{word} {name}: {row['policy']} ({value:.3g})")
    where = "on fresh seeds" if fresh else "in the search"
    text = f"**In short.** Of the {len(front)} policies on the front, {where}: " + "; ".join(best)
    if spec.constraints and "feasible__fresh" in front:
        held = int(front["feasible__fresh"].sum())
        text += f". {held} of {len(front)} still meet the constraints on fresh seeds"
    return text + "."


def write_optimise_report(
    out: Path,
    spec: OptimiseSpec,
    front: pd.DataFrame,
    evaluations: pd.DataFrame,
    ensemble: str = "",
) -> Path:
    """report.md, report.html and plots/front.png in ``out``; returns report.html.

    ``ensemble``: a sentence on the posterior the candidates ran over (empty: none).
    """
    (out / "plots").mkdir(exist_ok=True)
    front_figure(spec, front, evaluations, out / "plots" / "front.png")
    levers = list(spec.levers)
    outcomes = [*spec.objectives, *spec.constraints]
    bounds = "; ".join(
        f"{label(o)} {'at most' if c.max is not None else 'at least'} "
        f"{c.max if c.max is not None else c.min:g}"
        for o, c in spec.constraints.items()
    )
    held = int(front.get("feasible__fresh", pd.Series(dtype=bool)).sum())
    lines = [
        f"# Sharing policies for `{spec.name}`",
        "",
        spec.description.strip(),
        "",
        headline(spec, front),
        "",
        f"NSGA-II over {len(levers)} levers, {spec.population} candidates x "
        f"{spec.generations} generations, each over the same {spec.replications} "
        f"replications; objectives: "
        + ", ".join(f"{sense} {label(o)}" for o, sense in spec.objectives.items())
        + (f"; constraints: {bounds}" if bounds else "")
        + f". The front ({len(front)} policies) ran again on {spec.reevaluate} fresh "
        f"replications: {held} of {len(front)} still meet the constraints there."
        + (f" {ensemble}" if ensemble else ""),
        "",
        '<div class="decision">',
        '<div class="verdicts" style="overflow-x:auto">',
        "",
        "| policy | "
        + " | ".join(f"{label(o)} (search / fresh)" for o in outcomes)
        + " | "
        + " | ".join(lever_name(n) for n in levers)
        + " |",
        "|---|" + "---:|" * (len(levers) + len(outcomes)),
    ]
    for _, row in front.iterrows():
        cells = []
        for o in outcomes:
            fresh = row.get(f"{o}__fresh")
            cells.append(f"{row[o]:.3g} / {fresh:.3g}" if fresh is not None else f"{row[o]:.3g}")
        cells += [f"{row[n]:.2f}" for n in levers]
        lines.append(f"| {row['policy']} | " + " | ".join(cells) + " |")
    names = "; ".join(f"{lever_name(n)} = `{n}`" for n in levers if lever_name(n) != n)
    caption = "The front in the search (open), on fresh seeds (filled), every candidate (grey)"
    lines += [
        "",
        f"*Levers: {names}.*" if names else "",
        "",
        "</div>",
        '<div class="frontier" style="flex:0 0 48%">',
        "",
        f"![{caption}](plots/front.png)",
        "",
        "</div>",
        "</div>",
        "",
    ]
    text = "\n".join(lines) + "\n"
    return write_report(out, text)
