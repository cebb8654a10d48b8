"""Dashboard components: region map, trust heatmap, input status (Solara + matplotlib)."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import networkx as nx
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from scenarios.viz.dashboard_model import DashboardModel

STATE_COLOURS = {"recruiting": "#6a51a3", "plotting": "#d94801", "disrupted": "#969696"}


@solara.component
def RegionMap(model: DashboardModel) -> None:
    """Regions coloured by attack risk from live plots; ISIS-K cells sized by strength."""
    update_counter.get()
    geo = model.geometry
    pos = {rid: np.asarray(xy, dtype=float) for rid, xy in geo.positions.items()}
    risk = model.region_attack_risk()
    fig = Figure(figsize=(6.6, 4.5))
    ax = fig.subplots()
    nx.draw_networkx_edges(geo.graph, pos, ax=ax, edge_color="#bbbbbb", width=2)
    nodes = nx.draw_networkx_nodes(
        geo.graph,
        pos,
        nodelist=list(geo.ids),
        node_color=risk,
        cmap="Reds",
        vmin=0,
        vmax=max(1.0, float(risk.max())),
        node_size=1800,
        edgecolors="black",
        ax=ax,
    )
    for rid, xy in pos.items():
        ax.text(xy[0], xy[1] - 0.075, rid.replace("_", " "), ha="center", fontsize=8)
    rng = np.random.default_rng(0)  # fixed jitter: cells do not dance between frames
    for cell in model.agents_by_type.get(_threat_cell_type(), []):
        xy = pos[cell.region] + rng.normal(0, 0.025, 2)
        ax.scatter(
            *xy,
            s=4 + cell.strength / 2,
            color=STATE_COLOURS[cell.state],
            alpha=0.75,
            edgecolors="white",
            linewidths=0.5,
            zorder=3,
        )
    for state, colour in STATE_COLOURS.items():
        ax.scatter([], [], color=colour, label=f"cell {state}")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.margins(0.12)
    fig.colorbar(nodes, ax=ax, shrink=0.7, label="expected successful attacks, live plots")
    ax.set_title(f"Week {max(model.week, 0)}: regions and ISIS-K cells", fontsize=10)
    ax.set_axis_off()
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


def _threat_cell_type() -> type:
    from scenarios.model.agents import ThreatCell

    return ThreatCell


@solara.component
def TrustHeatmap(model: DashboardModel) -> None:
    """Expected trust of each actor (row) in each other (column), this week."""
    update_counter.get()
    names = list(model.actor_ids)
    trust = np.array(model.trust, dtype=float)
    np.fill_diagonal(trust, np.nan)
    fig = Figure(figsize=(5.2, 4.4))
    ax = fig.subplots()
    image = ax.imshow(trust, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=45, fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j:
                ax.text(
                    j,
                    i,
                    f"{trust[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if trust[i, j] < 0.5 else "black",
                )
    ax.set_xlabel("trustee")
    ax.set_ylabel("truster")
    ax.set_title("Trust (Beta reputation)", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8)
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


@solara.component
def InputStatus(model: DashboardModel) -> None:
    """Refused inputs (visible), then the scenario and the lever values in use."""
    update_counter.get()
    for message in model.input_errors:
        solara.Error(message, classes=["input-error"])
    levers = model.active_parameters()
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{v:.2f}</td></tr>"
        for k, v in levers.items()
    )
    extra = html.escape(", ".join(model.overrides) or "none")
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<p><b>Scenario</b> <code>{html.escape(model.scenario_name)}</code>, seed "
            f"{model.root_seed}, week {max(model.week, 0)}</p><p>Overrides: <code>{extra}</code>"
            f"</p><table class='levers'><tr><th>lever in use</th><th>value</th></tr>{rows}"
            "</table>"
        ),
    )
