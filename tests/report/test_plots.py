"""The figures answer at a glance: at most two translucent bands per axes, every y axis
labelled in words, legends clear of the data, no text outside the canvas, no overlapping
tick labels. Drawn from small synthetic runs and read back from the matplotlib Figures."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backend_bases import RendererBase
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.transforms import Bbox
from tests.conftest import COUNTRIES, config, synthetic_summary

from scenarios.experiment.compare import Comparison, StoredRun, compare
from scenarios.report import compare_plots, plots
from scenarios.report.weekly import FrameWeekly

REPLICATIONS = 8
WEEKS = 104
SEEDS = list(range(REPLICATIONS))
CORE = ("us", "russia", "taliban")
TOLERANCE = 1.0  # pixels


def weekly_frame(level: float, seed: int) -> pd.DataFrame:
    """A timeseries.parquet-like frame: attacks per country, strength, trust per pair."""
    rng = np.random.default_rng(seed)
    steps = np.arange(WEEKS)
    dates = pd.date_range("2025-01-06", periods=WEEKS, freq="7D")
    frames = []
    for r in range(REPLICATIONS):
        cols: dict[str, object] = {
            "replication": r,
            "step": steps,
            "date": dates,
            "strength": 3000 + 200 * level + rng.normal(0, 80, WEEKS).cumsum() / 5,
            "cells": 60.0,
        }
        per_country = {
            c: rng.poisson(level * (6 - k) / 4, WEEKS).astype(float)
            for k, c in enumerate(COUNTRIES)
        }
        for c, x in per_country.items():
            cols[f"attacks_successful__{c}"] = x
        cols["attacks_successful"] = sum(per_country.values())
        for a in (*CORE, "iran"):
            for b in (*CORE, "iran"):
                if a != b:
                    walk = 0.3 + 0.1 * level + rng.normal(0, 0.02, WEEKS).cumsum()
                    cols[f"trust__{a}__{b}"] = np.clip(walk, 0, 1)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def summary_with_severity(shift: float, seed: int) -> pd.DataFrame:
    """A summary.parquet-like frame with the severity tail and whole years."""
    rng = np.random.default_rng(seed)
    attacks = {c: rng.poisson(30.0 + shift, REPLICATIONS).astype(float) for c in COUNTRIES}
    summary = synthetic_summary(attacks, SEEDS)
    total = summary["attacks_successful"].to_numpy()
    for k in (1, 2, 5, 10, 25, 50, 100):
        summary[f"attacks_with_fatalities_ge__{k}"] = np.floor(total * k**-1.2)
    summary["years"] = 2.0
    summary["mass_casualty_years__west"] = 0.0
    return summary


@pytest.fixture(scope="module")
def run_data() -> tuple[pd.DataFrame, FrameWeekly]:
    return summary_with_severity(0.0, 1), FrameWeekly(weekly_frame(1.0, 1))


CONFIG = config("baseline").model_dump(mode="json")


def stored(name: str, level: float, seed: int) -> StoredRun:
    manifest = {"scenario": name, "replication_seeds": SEEDS, "steps": WEEKS, "config": CONFIG}
    summary = summary_with_severity(3.0 * (level - 1), seed)
    for a in CORE:
        summary[f"ci_exposure__{a}"] = level * np.arange(REPLICATIONS) % 3.0
    return StoredRun(
        path=Path(name),
        manifest=manifest,
        summary=summary,
        _weekly=FrameWeekly(weekly_frame(level, seed)),
    )


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    """Three scenarios, so that the old style would have overlaid three bands."""
    return compare([stored("baseline", 1.0, 1), stored("sharing", 1.5, 2), stored("none", 0.6, 3)])


# Checks read from a drawn Figure.


def renderer_of(fig: Figure) -> RendererBase:
    fig.canvas.draw()
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def legends(fig: Figure) -> list[Legend]:
    found = list(fig.legends)
    found += [leg for ax in fig.axes if (leg := ax.get_legend()) is not None]
    return found


def data_paths(fig: Figure) -> list[tuple[object, bool]]:
    """Every plotted line, band and bar in display coordinates, with whether it is filled."""
    out: list[tuple[object, bool]] = []
    for ax in fig.axes:
        for line in ax.lines:
            if len(line.get_xydata()):
                out.append((line.get_transform().transform_path(line.get_path()), False))
        for coll in ax.collections:
            filled = isinstance(coll, PolyCollection)
            for path in coll.get_paths():
                out.append((coll.get_transform().transform_path(path), filled))
        for patch in ax.patches:
            out.append((patch.get_transform().transform_path(patch.get_path()), True))
    return out


def problems(fig: Figure) -> list[str]:
    """What makes a figure hard to read at a glance (empty if nothing)."""
    found = []
    renderer = renderer_of(fig)
    canvas = fig.bbox
    for ax in fig.axes:
        name = ax.get_title() or str(ax)
        if not ax.get_ylabel().strip():
            found.append(f"{name}: y axis unlabelled")
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        if len(bands) > 2:
            found.append(f"{name}: {len(bands)} translucent bands")
        box = ax.get_tightbbox(renderer)
        if box is not None and not _inside(box, canvas):
            found.append(f"{name}: text outside the canvas {box} > {canvas}")
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = sorted(
                (t.get_window_extent(renderer) for t in labels),
                key=lambda b: (b.x0, b.y0),
            )
            for a, b in itertools.pairwise(boxes):
                if _overlap(a, b):
                    found.append(f"{name}: tick labels overlap")
    for text in (fig._suptitle, *fig.texts):
        if (
            text is not None
            and text.get_text()
            and not _inside(text.get_window_extent(renderer), canvas)
        ):
            found.append(f"{text.get_text()!r} outside the canvas")
    for leg in legends(fig):
        box = leg.get_window_extent(renderer)
        if not _inside(box, canvas):
            found.append("legend outside the canvas")
        for path, filled in data_paths(fig):
            if path.intersects_bbox(_shrunk(box), filled=filled):  # type: ignore[attr-defined]
                found.append("legend covers data")
                break
    return found


def _inside(box: Bbox, outer: Bbox) -> bool:
    return (
        box.x0 >= outer.x0 - TOLERANCE
        and box.y0 >= outer.y0 - TOLERANCE
        and box.x1 <= outer.x1 + TOLERANCE
        and box.y1 <= outer.y1 + TOLERANCE
    )


def _overlap(a: Bbox, b: Bbox) -> bool:
    return _shrunk(a).overlaps(_shrunk(b))


def _shrunk(box: Bbox) -> Bbox:
    return Bbox.from_extents(box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1)


# The checks catch what they should.


def test_the_checks_catch_the_old_style() -> None:
    """Six overlaid bands, an unlabelled y axis, a legend over the data, a clipped label."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(50.0)
    for k in range(6):
        ax.plot(x, x * (k + 1), label=f"series {k}")
        ax.fill_between(x, x * k, x * (k + 2), alpha=0.15)
    ax.legend(loc="center")
    ax.set_xlabel("x " * 80)
    found = problems(fig)
    plt.close(fig)
    assert any("y axis unlabelled" in p for p in found)
    assert any("6 translucent bands" in p for p in found)
    assert "legend covers data" in found
    assert any("outside the canvas" in p for p in found)


def test_the_checks_catch_overlapping_date_ticks() -> None:
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    dates = pd.date_range("2025-01-01", periods=200, freq="7D")
    ax.plot(dates, np.arange(200))
    ax.set_xticks(dates[::10])
    ax.set_ylabel("y")
    found = problems(fig)
    plt.close(fig)
    assert any("tick labels overlap" in p for p in found)


# Every figure passes them.

RunFigure = Callable[[tuple[pd.DataFrame, FrameWeekly]], Figure]
RUN_FIGURES: dict[str, RunFigure] = {
    "attacks_by_country.png": lambda d: plots.attacks_by_country_figure(d[1]),
    "strength.png": lambda d: plots.strength_figure(d[1]),
    "trust.png": lambda d: plots.trust_figure(d[1]),
    "attack_risk.png": lambda d: plots.attack_risk_figure(d[0]),
    "severity.png": lambda d: plots.severity_figure(d[0]),
}
COMPARE_FIGURES: dict[str, Callable[[Comparison], Figure]] = {
    "envelopes.png": compare_plots.envelopes_figure,
    "forest.png": compare_plots.forest_figure,
    "trust.png": compare_plots.trust_figure,
    "attacks_by_country.png": compare_plots.attacks_by_country_figure,
}


@pytest.mark.parametrize("name", sorted(RUN_FIGURES))
def test_run_figures_read_at_a_glance(
    name: str, run_data: tuple[pd.DataFrame, FrameWeekly]
) -> None:
    fig = RUN_FIGURES[name](run_data)
    try:
        assert problems(fig) == []
        assert fig.axes
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", sorted(COMPARE_FIGURES))
def test_comparison_figures_read_at_a_glance(name: str, cmp: Comparison) -> None:
    fig = COMPARE_FIGURES[name](cmp)
    try:
        assert problems(fig) == []
    finally:
        plt.close(fig)


def test_every_run_figure_has_a_caption_and_a_builder() -> None:
    assert set(RUN_FIGURES) == set(plots.FIGURES)
    assert set(COMPARE_FIGURES) == set(compare_plots.FIGURES) - {"frontier.png"}


def test_names_are_in_words_not_columns(
    run_data: tuple[pd.DataFrame, FrameWeekly], cmp: Comparison
) -> None:
    """Titles, legends and tick labels use the human labels, never a raw column name."""
    figs = [build(run_data) for build in RUN_FIGURES.values()]
    figs += [build(cmp) for build in COMPARE_FIGURES.values()]
    texts = []
    for fig in figs:
        renderer_of(fig)
        for ax in fig.axes:
            texts += [ax.get_title(), ax.get_ylabel(), ax.get_xlabel()]
            texts += [t.get_text() for t in ax.get_xticklabels()]
        for leg in legends(fig):
            texts += [t.get_text() for t in leg.get_texts()]
        plt.close(fig)
    joined = "\n".join(texts)
    assert "central_asia" not in joined
    assert "trust__" not in joined
    assert "attacks_successful" not in joined
    for words in ("Central Asia", "The West", "Trust of the US in Russia", "Trust (0-1)"):
        assert words in joined, words
    assert "Successful attacks per quarter" in joined
    assert "cumulative" in joined  # the comparison's totals per run say so


def test_run_trust_shows_only_the_core_pairs(run_data: tuple[pd.DataFrame, FrameWeekly]) -> None:
    fig = plots.trust_figure(run_data[1])
    titles = sorted(ax.get_title() for ax in fig.axes)
    plt.close(fig)
    assert len(titles) == 6
    assert not any("Iran" in t for t in titles)


def test_baseline_alone_keeps_a_band_in_comparisons(cmp: Comparison) -> None:
    fig = compare_plots.envelopes_figure(cmp)
    names = [t.get_text() for t in legends(fig)[0].get_texts()]
    for ax in fig.axes:
        assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
        assert len(ax.lines) == len(cmp.runs)
    plt.close(fig)
    assert names[0] == "baseline: 5-95% of replications"
    assert "sharing: median" in names
    assert "none: median" in names


def test_draw_all_writes_the_captioned_files(
    run_data: tuple[pd.DataFrame, FrameWeekly], tmp_path: Path
) -> None:
    summary, weekly = run_data
    figures = plots.draw_all(summary, weekly, tmp_path)
    assert sorted(figures) == sorted(plots.FIGURES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(figures)
    assert plt.get_fignums() == []  # every figure released


def test_links_axes_of_rounding_noise_span_minus_one_to_one() -> None:
    """A tiny links run gives Shapley values of about 1e-16: no "1e-16" axis scale."""
    from scenarios.report.links_report import _no_rounding_noise_scale

    fig, ax = plt.subplots()
    ax.errorbar([1e-16, 2e-16], [0.0, 3.0], fmt="o")
    _no_rounding_noise_scale(ax)
    fig.canvas.draw()
    assert ax.get_xlim() == (-1.0, 1.0)
    assert ax.get_ylim()[1] > 3.0  # a real span is left alone
    assert ax.xaxis.get_offset_text().get_text() == ""
    plt.close(fig)
