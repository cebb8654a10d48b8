"""Dashboard components: region map, trust heatmap, time series, week and input status.

Figures are drawn with matplotlib and shown as inline SVG with real text, so every
label on screen is selectable text (and checkable by the browser tests).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import networkx as nx
import numpy as np
import pandas as pd
import solara
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from mesa.visualization.utils import update_counter

from scenarios.viz.dashboard_model import DashboardModel

STATE_COLOURS = {"recruiting": "#6a51a3", "plotting": "#d94801", "disrupted": "#969696"}
RISK_SCALE = (0.0, 40.0)  # fixed colour scale of the map: colours compare across weeks
RISK_LABEL = "Attack risk: expected successful attacks from live plots (fixed scale)"
NODE_SIZE = 900  # points^2
LABEL_OFFSETS = [  # candidate label positions around a region, in points, best first
    (0, -18, "center", "top"),
    (0, 18, "center", "bottom"),
    (18, 0, "left", "center"),
    (-18, 0, "right", "center"),
    (16, -14, "left", "top"),
    (-16, -14, "right", "top"),
    (16, 14, "left", "bottom"),
    (-16, 14, "right", "bottom"),
]


def figure_svg(fig: Figure) -> str:
    """The figure as inline SVG, its text kept as text (not outlines)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


@solara.component
def FigureSvg(fig: Figure, classes: list[str]) -> None:
    """Show a matplotlib figure inline."""
    solara.HTML(tag="div", unsafe_innerHTML=figure_svg(fig), classes=["figure", *classes])


def region_map_figure(model: DashboardModel) -> Figure:
    """Regions coloured by attack risk on a fixed scale; ISIS-K cells sized by strength."""
    geo = model.geometry
    pos = {rid: np.asarray(xy, dtype=float) for rid, xy in geo.positions.items()}
    risk = model.region_attack_risk()
    fig = Figure(figsize=(6.6, 4.8))
    ax = fig.subplots()
    nx.draw_networkx_edges(geo.graph, pos, ax=ax, edge_color="#bbbbbb", width=2)
    nodes = nx.draw_networkx_nodes(
        geo.graph,
        pos,
        nodelist=list(geo.ids),
        node_color=risk,
        cmap="Reds",
        vmin=RISK_SCALE[0],
        vmax=RISK_SCALE[1],
        node_size=NODE_SIZE,
        edgecolors="black",
        ax=ax,
    )
    rng = np.random.default_rng(0)  # fixed jitter: cells do not dance between frames
    for cell in model.agents_by_type.get(_threat_cell_type(), []):
        xy = pos[cell.region] + rng.normal(0, 0.02, 2)
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
        ax.scatter([], [], color=colour, label=f"ISIS-K cell, {state}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3, fontsize=7, frameon=False)
    xy = np.array(list(pos.values()))
    pad = 0.15 * max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 0.1)
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    bar = fig.colorbar(nodes, ax=ax, shrink=0.75, extend="max")
    bar.set_label("Attack risk (expected attacks,\nfixed scale 0–40)", fontsize=8)
    bar.ax.set_gid("risk-colour-bar")
    ax.set_title(f"{model.week_label()}: attack risk by region", fontsize=10)
    ax.set_axis_off()
    place_region_labels(fig, ax, pos)
    return fig


def place_region_labels(fig: Figure, ax: Axes, pos: dict[str, np.ndarray]) -> list[Text]:
    """Label each region next to its disc where it overlaps no other label or disc."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    radius = np.sqrt(NODE_SIZE) / 2 * fig.dpi / 72
    to_display = ax.transData.transform
    discs = {
        rid: Bbox.from_extents(*(to_display(xy) - radius), *(to_display(xy) + radius))
        for rid, xy in pos.items()
    }
    placed: list[Text] = []
    for rid, xy in pos.items():
        others = [d for r, d in discs.items() if r != rid]
        for k, (dx, dy, ha, va) in enumerate(LABEL_OFFSETS):
            label = ax.annotate(
                rid.replace("_", " "),
                xy,
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8,
                zorder=4,
                gid=f"region-label-{rid}",
            )
            box = label.get_window_extent(renderer)
            taken = others + [p.get_window_extent(renderer) for p in placed]
            if not any(box.overlaps(b) for b in taken) or k == len(LABEL_OFFSETS) - 1:
                placed.append(label)
                break
            label.remove()
    return placed


def _threat_cell_type() -> type:
    from scenarios.model.agents import ThreatCell

    return ThreatCell


@solara.component
def RegionMap(model: DashboardModel) -> None:
    """The region map, redrawn each week."""
    update_counter.get()
    FigureSvg(region_map_figure(model), classes=["region-map"])


def trust_figure(model: DashboardModel) -> Figure:
    """Expected trust of each actor (row) in each other (column), this week."""
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
    ax.set_xlabel("trusted actor")
    ax.set_ylabel("trusting actor")
    ax.set_title(f"{model.week_label()}: trust between actors", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, label="expected trust (0–1)")
    return fig


@solara.component
def TrustHeatmap(model: DashboardModel) -> None:
    """The trust heatmap, redrawn each week."""
    update_counter.get()
    FigureSvg(trust_figure(model), classes=["trust-heatmap"])


@dataclass(frozen=True)
class Series:
    """One time-series panel: its title, y-axis label, lines and smallest y range."""

    key: str
    title: str
    ylabel: str
    columns: Callable[[list[str]], dict[str, str]]  # countries -> {column: legend label}
    min_top: float


SERIES = [
    Series(
        "attacks",
        "Successful attacks (cumulative)",
        "attacks since week 0",
        lambda countries: {f"attacks: {c}": c.replace("_", " ") for c in countries},
        5.0,
    ),
    Series(
        "fatalities",
        "Fatalities (cumulative)",
        "deaths since week 0",
        lambda countries: {f"fatalities: {c}": c.replace("_", " ") for c in countries},
        20.0,
    ),
    Series(
        "interdiction",
        "Plots interdicted and exploitation events (cumulative)",
        "events since week 0",
        lambda _: {"plots interdicted": "plots interdicted", "exploitation events": "exploitation"},
        5.0,
    ),
    Series(
        "strength",
        "ISIS-K strength (fighters, this week)",
        "fighters",
        lambda _: {"ISIS-K strength": "ISIS-K strength"},
        100.0,
    ),
]


def series_figure(frame: pd.DataFrame, series: Series, countries: list[str]) -> Figure:
    """Lines by week from 0; y from 0 to at least ``series.min_top``."""
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.subplots()
    weeks = np.arange(len(frame))
    top = series.min_top
    for column, label in series.columns(countries).items():
        values = frame[column].to_numpy(dtype=float)
        ax.plot(weeks, values, label=label, linewidth=1.5)
        top = max(top, float(np.nanmax(values)) * 1.08 if len(values) else top)
    ax.set_ylim(0, top)
    ax.set_xlim(0, max(len(frame) - 1, 10))
    ax.set_xlabel("week")
    ax.set_ylabel(series.ylabel)
    ax.set_title(series.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


@solara.component
def TimeSeries(model: DashboardModel, series: Series) -> None:
    """One time-series panel, redrawn each week."""
    update_counter.get()
    frame = model.datacollector.get_model_vars_dataframe()
    fig = series_figure(frame, series, list(model.geometry.countries))
    FigureSvg(fig, classes=["series", f"series-{series.key}"])


@solara.component
def WeekStatus(model: DashboardModel) -> None:
    """The week and its date, the scenario and the seed."""
    update_counter.get()
    solara.Text(model.week_label(), classes=["week-label"], style={"font-size": "1.3em"})
    solara.Text(f"scenario {model.scenario_name}, seed {model.root_seed}", classes=["run-label"])


@solara.component
def InputErrors(model: DashboardModel) -> None:
    """Refused inputs, shown next to the controls."""
    for message in model.input_errors:
        solara.Error(message, classes=["input-error"], dense=True)


@solara.component
def InputStatus(model: DashboardModel) -> None:
    """The scenario, the overrides in force and the lever values in use."""
    update_counter.get()
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
            f"{model.root_seed}, {html.escape(model.week_label())}</p><p class='overrides'>"
            f"Overrides in force: <code>{extra}</code></p><table class='levers'><tr><th>"
            f"lever in use</th><th>value</th></tr>{rows}</table>"
        ),
    )
