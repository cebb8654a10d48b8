"""The dashboard's figures: labels that do not collide, a fixed colour scale, y axes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from scenarios.viz.components import (
    NODE_SIZE,
    RISK_SCALE,
    SERIES,
    figure_svg,
    region_map_figure,
    series_figure,
)
from scenarios.viz.dashboard_model import DashboardModel, scenario_files


def region_labels(fig) -> list:
    ax = fig.axes[0]
    return [t for t in ax.texts if (t.get_gid() or "").startswith("region-label-")]


def collisions(fig, positions: dict) -> list[str]:
    """Region labels that overlap another label or another region's disc."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    boxes = {
        t.get_gid().removeprefix("region-label-"): t.get_window_extent(renderer)
        for t in region_labels(fig)
    }
    found = [
        f"labels {a} and {b}"
        for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2)
        if box_a.overlaps(box_b)
    ]
    radius = np.sqrt(NODE_SIZE) / 2 * fig.dpi / 72
    for rid, xy in positions.items():
        centre = ax.transData.transform(xy)
        for other, box in boxes.items():
            nearest = np.clip(centre, [box.x0, box.y0], [box.x1, box.y1])
            if other != rid and np.hypot(*(nearest - centre)) < radius:
                found.append(f"label {other} on region {rid}")
    return found


@pytest.mark.parametrize("scenario", sorted(scenario_files()))
def test_region_labels_overlap_no_other_label_or_region(scenario: str) -> None:
    model = DashboardModel(scenario_name=scenario)
    fig = region_map_figure(model)
    assert sorted(t.get_text() for t in region_labels(fig)) == sorted(
        r.replace("_", " ") for r in model.geometry.ids
    )
    assert collisions(fig, model.geometry.positions) == []


def test_labels_all_below_their_regions_would_collide() -> None:
    """The check above can fail: the old placement (every label below) is caught."""
    model = DashboardModel()
    fig = region_map_figure(model)
    for label in region_labels(fig):
        label.xyann = (0, -18)
        label.set_horizontalalignment("center")
        label.set_verticalalignment("top")
    assert "label afg_north on region kabul" in collisions(fig, model.geometry.positions)


def test_map_colour_scale_is_fixed_and_labelled() -> None:
    model = DashboardModel(seed="5")
    fig = region_map_figure(model)
    quiet = DashboardModel(seed="5")
    quiet.plots.n = 0  # no live plots: zero risk everywhere
    fig_quiet = region_map_figure(quiet)
    for f in (fig, fig_quiet):
        nodes = f.axes[0].collections[1]
        assert (nodes.norm.vmin, nodes.norm.vmax) == RISK_SCALE
        bar = f.axes[1]
        assert bar.get_gid() == "risk-colour-bar"
        assert bar.get_ylabel().startswith("Attack risk")
    assert fig.axes[1].get_ylim() == fig_quiet.axes[1].get_ylim()


def test_series_start_at_zero_with_a_minimum_top_and_labels() -> None:
    model = DashboardModel(seed="5")
    countries = list(model.geometry.countries)
    frame = model.datacollector.get_model_vars_dataframe()
    for series in SERIES:
        ax = series_figure(frame, series, countries).axes[0]
        bottom, top = ax.get_ylim()
        assert bottom == 0
        if series.key != "strength":  # cumulative: all zero at week 0
            assert top == series.min_top
        assert ax.get_ylabel() == series.ylabel
        assert ax.get_xlabel() == "week"
    cumulative = [s.title for s in SERIES if s.key != "strength"]
    assert all(t.endswith("(cumulative)") for t in cumulative)
    for _ in range(30):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    strength = next(s for s in SERIES if s.key == "strength")
    bottom, top = series_figure(frame, strength, countries).axes[0].get_ylim()
    assert bottom == 0
    assert top >= frame["ISIS-K strength"].max()


def test_figures_keep_their_text_as_text() -> None:
    svg = figure_svg(region_map_figure(DashboardModel()))
    assert svg.startswith("<svg")
    assert ">afg north<" in svg
    assert 'id="risk-colour-bar"' in svg
