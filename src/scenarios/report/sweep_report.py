"""`scenarios analyse`: indices, plots and a report for a finished sweep directory."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from scenarios.experiment import store
from scenarios.experiment.errors import CompareError
from scenarios.experiment.executor import DESIGN, read_results
from scenarios.experiment.sweep import EFFECT, SweepManifest, SweepSpec, file_stem

# The analysis (SALib, SciPy) and the figures (matplotlib) are imported where they are
# used. With a pool, `scenarios sweep` computes the indices and writes the report in its
# driver, which has loaded SciPy (and SALib's sampling) to draw the design, and its
# workers draw the figures with the matplotlib their fork server loaded.

TOP = 4
# Which figures a sweep's analysis draws: "overview" (the sensitivity heatmap and one
# partial-dependence figure of every outcome's most influential parameter) or "all" (also
# the per-outcome index and partial-dependence figures).
FIGURES = ("overview", "all")
OVERVIEW = "sensitivity_overview.png"
DEPENDENCE = "dependence_overview.png"
DPI = 110
# The sweep's own figures in plots/ (older analyses' leftovers among them are removed).
OWN_FIGURES = ("sensitivity_overview", "dependence_", "sobol_", "morris_")
# The index each method ranks parameters by (lhs and grid: |Spearman rho|).
KEY = {"sobol": "ST", "morris": "mu_star"}
# Index symbols as the report prints them.
SYMBOL = {"ST": "ST", "S1": "S1", "mu_star": "mu*", "spearman": "Spearman rho"}
# Display names of the partner countries and actors of the shipped scenarios.
PLACES = {"west": "the US/West", "us": "the US", "taliban": "the Taliban"}


def pyplot() -> Any:
    """The pyplot module of matplotlib on the Agg backend, loaded when a figure is drawn.

    Not at import: `scenarios sweep` has its workers draw the figures, so its driver
    never needs matplotlib (half a second of its start-up otherwise).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _place(name: str) -> str:
    return PLACES.get(name, name.replace("_", " ").title())


def outcome_phrase(outcome: str) -> str:
    """A summary column in words, for the outcomes the question is about; else the name."""
    if outcome.startswith(EFFECT):
        inner = outcome_phrase(outcome.removeprefix(EFFECT))
        if inner.startswith("`"):
            return f"`{outcome}`"
        words, _, _ = inner.partition(" (`")
        return f"Effect on {words[0].lower()}{words[1:]} (`{outcome}`)"
    base, _, who = outcome.partition("__")
    if not who or "__" in who:
        return f"`{outcome}`"
    phrases = {
        "attack_risk": "attack risk in {}",
        "exploitation_against": "exploitation of material shared by {}",
        "ci_exposure": "counter-intelligence exposure of {}",
        "attacks_successful": "successful attacks in {}",
    }
    if base not in phrases:
        return f"`{outcome}`"
    text = phrases[base].format(_place(who))
    return f"{text[0].upper()}{text[1:]} (`{outcome}`)"


def lever_phrase(row: dict, symbol: str) -> str:
    """One lever's rank, e.g. "`sharing.policy.us.russia` ranks 7th of 14 (mu* = 0.012)"."""
    ties = row["ties"]
    tied = f", tied with {ties} other{'s' if ties > 1 else ''}" if ties else ""
    return (
        f"`{row['parameter']}` ranks {ordinal(int(row['rank']))} of {row['of']} "
        f"({symbol} = {row['value']:.3g}{tied})"
    )


def base_name(manifest: dict) -> str | None:
    """The ``name`` of the sweep's base scenario, from the resolved config in its manifest.

    None if the manifest holds no base config or it has no plain name (older or damaged
    manifests): the report then shows the base's path only.
    """
    config = manifest.get("base_config")
    name = config.get("name") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else None


def lever_lines(indices: pd.DataFrame, outcomes: list[str]) -> list[str]:
    """The report's "Sharing levers" section: where each lever ranks, outcome by outcome."""
    from scenarios.experiment.sensitivity import SHARING_LEVER_PREFIXES, lever_ranks

    ranks = lever_ranks(indices)
    lines = ["## Sharing levers", ""]
    prefixes = ", ".join(f"`{p}`" for p in SHARING_LEVER_PREFIXES)
    if ranks.empty:
        return [
            *lines,
            f"No parameter of this sweep is a sharing lever (a path starting with {prefixes}).",
            "",
        ]
    lines += [
        "Where each sharing lever (a parameter whose path starts with "
        f"{prefixes}) ranks among all the sweep's parameters, for each outcome; "
        "1st is the most influential.",
        "",
    ]
    for outcome in outcomes:
        sel = ranks[ranks.outcome == outcome].to_dict("records")
        if not sel:
            continue
        first = sel[0]
        symbol = SYMBOL.get(first["index"], first["index"])
        if not first["top_score"] > 0:
            lines.append(
                f"- {outcome_phrase(outcome)}: no parameter changes it in this sweep "
                f"(every {symbol} is 0 or undefined)."
            )
            continue
        parts = [lever_phrase(r, symbol) for r in sel if r["score"] > 0]
        for label, group in (
            (f"no measured effect ({symbol} = 0)", [r for r in sel if r["score"] == 0]),
            (f"{symbol} undefined", [r for r in sel if math.isnan(r["score"])]),
        ):
            if group:
                parts.append(f"{label}: " + ", ".join(f"`{r['parameter']}`" for r in group))
        coarse = (
            f" Most parameters ({first['zero']} of {first['of']}) show no measured effect: "
            "the outcome changes too rarely at this sweep's size (replications, steps) to rank "
            "them reliably."
            if 2 * first["zero"] > first["of"]
            else ""
        )
        lines.append(
            f"- {outcome_phrase(outcome)}, most influential `{first['top']}` "
            f"({symbol} = {first['top_score']:.3g}): " + "; ".join(parts) + "." + coarse
        )
    return [*lines, ""]


def short(name: str) -> str:
    """A parameter path short enough for an axis label."""
    return name if len(name) <= 34 else "..." + name[-31:]


def _margins(fig: Any, width: float, height: float, **inches: float) -> None:
    """Fixed margins in inches (left, right, bottom, top) instead of ``tight_layout``.

    ``tight_layout`` measures every label by drawing the figure once more (about a
    quarter of a figure's time); these figures know their labels' sizes in advance.
    """
    fig.subplots_adjust(
        left=inches.get("left", 0.8) / width,
        right=1 - inches.get("right", 0.25) / width,
        bottom=inches.get("bottom", 0.6) / height,
        top=1 - inches.get("top", 0.45) / height,
        wspace=inches.get("wspace", 0.3),
        hspace=inches.get("hspace", 0.5),
    )


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)


def sobol_bars(indices: pd.DataFrame, outcome: str, path: Path) -> None:
    """S1 and ST with 95% intervals for one outcome."""
    plt = pyplot()
    sel = indices[indices.outcome == outcome]
    s1 = sel[sel["index"] == "S1"].set_index("parameter")
    st = sel[sel["index"] == "ST"].set_index("parameter").sort_values("value", ascending=False)
    names = list(st.index)
    y = np.arange(len(names))
    height = 0.38 * len(names) + 1.5
    fig, ax = plt.subplots(figsize=(8, height))
    _margins(fig, 8, height, left=2.45, bottom=0.55, top=0.35)
    for offset, frame, label, colour in (
        (-0.18, s1, "S1 (first order)", "#6baed6"),
        (0.18, st, "ST (total)", "#08519c"),
    ):
        v = frame.loc[names, "value"].to_numpy()
        lo = frame.loc[names, "ci_low"].to_numpy()
        hi = frame.loc[names, "ci_high"].to_numpy()
        ax.barh(y + offset, v, height=0.34, color=colour, label=label)
        ax.errorbar(v, y + offset, xerr=[v - lo, hi - v], fmt="none", ecolor="black", capsize=2)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [short(n) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Sobol' index (share of output variance), 95% bootstrap CI")
    ax.set_title(f"Sobol' indices: {outcome}")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)


def morris_scatter(indices: pd.DataFrame, outcome: str, path: Path) -> None:
    """Morris mu* against sigma for one outcome: important (right), non-linear (up)."""
    plt = pyplot()
    sel = indices[indices.outcome == outcome]
    mu = sel[sel["index"] == "mu_star"].set_index("parameter")
    sigma = sel[sel["index"] == "sigma"].set_index("parameter")
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    _margins(fig, 7.5, 5.5, left=0.85, bottom=0.6, top=0.4)
    ax.errorbar(
        mu["value"],
        sigma.loc[mu.index, "value"],
        xerr=[mu["value"] - mu["ci_low"], mu["ci_high"] - mu["value"]],
        fmt="o",
        color="#08519c",
        ecolor="#9ecae1",
        capsize=2,
    )
    for name in mu.sort_values("value", ascending=False).index[:8]:
        ax.annotate(
            short(name),
            (mu.loc[name, "value"], sigma.loc[name, "value"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel("mu* (mean absolute elementary effect), 95% CI")
    ax.set_ylabel("sigma (interactions / non-linearity)")
    ax.set_title(f"Morris screening: {outcome}")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _pdp(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    """One partial-dependence curve (binned means with 95% intervals) on ``ax``."""
    from scenarios.experiment.sensitivity import partial_dependence

    pdp = partial_dependence(x, y)
    ax.errorbar(
        pdp["x"], pdp["mean"], yerr=1.96 * pdp["se"], fmt="o-", color="#08519c", capsize=2, ms=3
    )
    ax.grid(alpha=0.3)


def dependence(
    design: pd.DataFrame, means: pd.DataFrame, ranked: pd.DataFrame, outcome: str, path: Path
) -> None:
    """Partial-dependence curves (binned means) for the most influential parameters."""
    plt = pyplot()
    top = list(ranked[ranked.outcome == outcome]["parameter"].head(TOP))
    width = 3.6 * len(top)
    fig, axes = plt.subplots(1, len(top), figsize=(width, 3.4), squeeze=False)
    _margins(fig, width, 3.4, left=0.75, bottom=0.5, top=0.45, wspace=0.35)
    y = means[outcome].to_numpy()
    for ax, name in zip(axes.flat, top, strict=True):
        _pdp(ax, design[f"param:{name}"].to_numpy(), y)
        ax.set_xlabel(short(name), fontsize=8)
        ax.tick_params(labelsize=8)
    axes.flat[0].set_ylabel(short(outcome), fontsize=8)
    fig.suptitle(f"Partial dependence of {outcome} (binned means, 95% CI)", fontsize=10)
    _save(fig, path)


def overview_table(
    indices: pd.DataFrame, method: str, outcomes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The overview heatmap's cells: shown value, colour (0-1) and whether it is clear.

    Rows are ``outcomes``; columns the parameters, most important overall first (mean
    colour over the outcomes). Sobol': ST (colour ST clipped to [0, 1]). Morris: mu* over
    the outcome's largest mu* (mu* is in the outcome's units). LHS and grid: Spearman rho,
    colour |rho|. A cell is *clear* unless its index is flagged (noise, interval includes
    0, negative, undefined).
    """
    key = KEY.get(method, "spearman")
    sel = indices[indices["index"] == key]
    value = sel.pivot(index="outcome", columns="parameter", values="value")
    flag = sel.pivot(index="outcome", columns="parameter", values="flag")
    params = list(dict.fromkeys(sel["parameter"]))
    value = value.reindex(index=outcomes, columns=params).astype(float)
    clear = flag.reindex(index=outcomes, columns=params).fillna("undefined").eq("")
    if key == "mu_star":
        top = value.max(axis=1)
        value = value.div(top.where(top > 0), axis=0)
    colour = value.abs().clip(0, 1)
    order = colour.fillna(0).mean().sort_values(ascending=False, kind="stable").index
    return value[order], colour[order], clear[order]


def sensitivity_overview(
    indices: pd.DataFrame,
    method: str,
    outcomes: list[str],
    path: Path,
    direction: pd.DataFrame | None = None,
) -> None:
    """Heatmap: outcomes (rows) x parameters (columns, most important first), annotated.

    Cells whose index is flagged (noise, interval includes 0, negative, undefined) are
    grey with grey text: not distinguishable from no effect at this sweep's size. With
    ``direction`` (:func:`~scenarios.experiment.sensitivity.directions`), a clear cell's
    value has an arrow: the outcome rises (up) or falls (down) with the parameter.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    plt = pyplot()
    value, colour, clear = overview_table(indices, method, outcomes)
    rows, cols = value.shape
    rgba = colormaps["Blues"](colour.fillna(0).to_numpy())
    muted = np.array([0.93, 0.93, 0.93, 1.0])
    rgba[~clear.to_numpy()] = muted
    cell, left, right, bottom, top = 0.5, 2.3, 0.9, 1.35, 0.45
    # at least as wide as the title (a small sweep's few columns would cut it off)
    width, height = max(left + cell * cols + right, 7.5), top + cell * 0.62 * rows + bottom
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes(
        (left / width, bottom / height, cell * cols / width, cell * 0.62 * rows / height)
    )
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    for i, j in zip(*np.nonzero(value.notna().to_numpy()), strict=True):
        v = value.iat[i, j]
        if abs(v) < 0.005:
            continue
        strong = clear.iat[i, j] and colour.iat[i, j] > 0.5
        text = f"{v:.2f}".replace("0.", ".", 1) if abs(v) < 1 else f"{v:.1f}"
        if direction is not None and clear.iat[i, j]:
            sign = direction.at[value.index[i], value.columns[j]]
            text = {1: "\u2191", -1: "\u2193"}.get(int(sign), "") + text
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color="white" if strong else ("black" if clear.iat[i, j] else "#9a9a9a"),
        )
    ax.set_xticks(
        range(cols), [short(p) for p in value.columns], rotation=40, ha="right", fontsize=7
    )
    ax.set_yticks(range(rows), [short(o) for o in value.index], fontsize=7)
    for label, row in zip(ax.get_yticklabels(), clear.to_numpy(), strict=True):
        if not row.any():
            label.set_color("#9a9a9a")
    ax.tick_params(length=0)
    name = {"sobol": "Sobol' total index ST", "morris": "Morris mu* / largest mu* of the outcome"}
    arrows = "; \u2191/\u2193: rises/falls with the parameter" if direction is not None else ""
    fig.text(
        0.1 / width,
        1 - 0.3 / height,
        f"{name.get(method, 'Spearman rank correlation')}{arrows}; grey: flagged "
        "(noise, CI includes 0)",
        fontsize=9,
    )
    cax = fig.add_axes(  # beside the cells
        (
            (left + cell * cols + 0.25) / width,
            bottom / height,
            0.12 / width,
            0.8 * cell * 0.62 * rows / height,
        )
    )
    bar = fig.colorbar(ScalarMappable(cmap=colormaps["Blues"]), cax=cax)
    bar.ax.tick_params(labelsize=7)
    _save(fig, path)


def dependence_overview(
    design: pd.DataFrame, means: pd.DataFrame, drivers: dict[str, str], path: Path
) -> None:
    """Partial dependence of each outcome on its driver (``drivers``: outcome -> parameter)."""
    plt = pyplot()
    outcomes = list(drivers)
    ncols = min(4, len(outcomes))
    nrows = -(-len(outcomes) // ncols)
    width, height = 3.0 * ncols, 2.35 * nrows + 0.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    _margins(
        fig, width, height, left=0.6, right=0.15, bottom=0.45, top=0.5, wspace=0.35, hspace=0.6
    )
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        name = drivers[outcome]
        _pdp(ax, design[f"param:{name}"].to_numpy(), means[outcome].to_numpy())
        ax.set_title(short(outcome), fontsize=8)
        ax.set_xlabel(short(name), fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.set_axis_off()
    fig.suptitle(
        "Each outcome against its most influential parameter (binned means, 95% CI)", fontsize=10
    )
    _save(fig, path)


def analyse_sweep(
    out: Path, pool: Executor | None = None, figures: str = "overview"
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Compute indices of a sweep directory and write indices.csv, plots and reports.

    ``figures`` (:data:`FIGURES`): "overview" draws the sensitivity heatmap and one
    partial-dependence figure over the outcomes; "all" also each outcome's own figures.
    ``pool`` (a ``concurrent.futures`` executor whose processes see ``out``) draws the
    figures in parallel while this process writes the report's text; `scenarios sweep`
    passes its local workers, which have matplotlib loaded, so that its driver need not
    load it. The files are the same either way.
    """
    if figures not in FIGURES:
        raise CompareError(f"figures: {figures!r} is not one of {', '.join(FIGURES)}")
    if not (out / store.MANIFEST).exists():
        raise CompareError(f"{out}: not a sweep directory (no {store.MANIFEST})")
    manifest = store.read_manifest(out)  # ManifestError (a CompareError) if damaged
    kind = store.manifest_kind(manifest)
    if kind != "sweep":
        raise CompareError(f"{out}: not a sweep directory (its {store.MANIFEST} says {kind!r})")
    if manifest.get("status") != "complete":
        raise CompareError(
            f"{out}: sweep status is {str(manifest.get('status'))[:40]!r}; finish it with "
            "`scenarios sweep SWEEP.yaml --resume --out DIR` first"
        )
    store.manifest_fields(SweepManifest, manifest, out)
    with store.output_lock(out, "sweep directory"):
        return _analyse(out, manifest, pool, figures)


Drawing = tuple[Callable[..., None], tuple[Any, ...]]


def _analyse(
    out: Path, manifest: dict, pool: Executor | None, figures: str = "overview"
) -> tuple[pd.DataFrame, dict[str, str]]:
    if pool is None:
        indices, ranked, captions, drawings = _indices(out, manifest, figures)
        for draw, args in drawings:
            draw(*args)
        _write_report(out, _report_text(out, manifest, indices, ranked, captions))
        return indices, captions
    # The indices take a fraction of a second (SALib: 0.27 s of CPU for the 14 outcomes of
    # the shipped Sobol' sweep at N=64), here, from one read of the parts; then the
    # figures on the workers while the report's text is written here; the HTML, which
    # embeds the figures, last.
    indices, ranked, captions, drawings = _indices(out, manifest, figures)
    drawn = [pool.submit(draw, *args) for draw, args in drawings]
    text = _report_text(out, manifest, indices, ranked, captions)
    for future in drawn:
        future.result()
    _write_report(out, text)
    return indices, captions


def _read(out: Path, manifest: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The design, the results (point, replication, outcomes) and the point means."""
    spec = SweepSpec.model_validate(manifest["spec"])
    try:
        design = pd.read_parquet(out / DESIGN)
        results = _read_results(out, ["point", "replication", *spec.outcomes])
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise CompareError(
            f"{out}: its design or a part cannot be read ({type(exc).__name__}); "
            "`scenarios sweep SWEEP.yaml --resume --out DIR` re-runs damaged parts"
        ) from None
    if len(results) != manifest["runs"]:
        raise CompareError(f"{out}: {len(results)} of {manifest['runs']} runs found; resume it")
    missing = [o for o in spec.outcomes if o not in results.columns]
    if missing:
        raise CompareError(f"outcomes: {missing} are not outcomes of the model")
    means = results.groupby("point")[spec.outcomes].mean().reindex(design["point"])
    return design, results, means


def _read_results(out: Path, columns: list[str]) -> pd.DataFrame:
    """``read_results(out, columns)`` read as one Parquet dataset (threaded; 1.5-3x faster).

    Any part that does not read that way (damaged, or without one of ``columns``: a
    dataset would read the missing column as nulls) sends it to :func:`read_results`,
    which reads part by part and says which columns are missing.
    """
    import pyarrow.dataset as ds

    from scenarios.experiment.executor import PARTS

    parts = sorted((out / PARTS).glob("chunk-*.parquet"))
    wanted = {"run", *columns}
    try:
        dataset = ds.dataset(parts, format="parquet")
        if not all(wanted <= set(f.physical_schema.names) for f in dataset.get_fragments()):
            return read_results(out, columns)
        table = dataset.to_table(columns=["run", *columns])
    except (OSError, ValueError, pa.ArrowException):
        return read_results(out, columns)
    return table.to_pandas().sort_values("run", ignore_index=True)


def _compute_indices(
    spec: SweepSpec, design: pd.DataFrame, means: pd.DataFrame, outcomes: list[str]
) -> pd.DataFrame:
    """The indices of ``outcomes`` (not yet flagged for noise), in their order.

    One outcome per task on a few threads: SALib's bootstrap makes and drops arrays of a
    megabyte or more, which in the main thread glibc hands back to the system and faults
    in again (at N=128 about 540,000 page faults and 0.9 s of system time for the
    shipped sweep's 14 outcomes: 1.4 s); threads allocate from arenas of their own and
    run side by side where numpy releases the GIL (0.24 s on 2 cores). Same numbers.
    """
    from scenarios.experiment.sensitivity import analyse, load_analysis

    load_analysis(spec.method)  # imported here, not by two threads at once
    x = design[[f"param:{n}" for n in spec.parameters]].to_numpy()

    def one(outcome: str) -> pd.DataFrame:
        return analyse(
            spec.method,
            spec.problem(),
            x,
            {outcome: means[outcome].to_numpy()},
            second_order=spec.second_order,
            levels=spec.levels,
            seed=spec.seed,
        )

    with ThreadPoolExecutor(max(1, min(len(outcomes), len(os.sched_getaffinity(0))))) as threads:
        return pd.concat(list(threads.map(one, outcomes)), ignore_index=True)


def _indices(
    out: Path, manifest: dict, figures: str = "overview"
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], list[Drawing]]:
    """Indices (written to indices.csv), their ranking, the figures and how to draw them.

    The figures' captions are in the report's order: the overview heatmap first.
    """
    from scenarios.experiment.sensitivity import (
        directions,
        flag_noise,
        importance,
        independent_rows,
        noise_table,
    )

    spec = SweepSpec.model_validate(manifest["spec"])
    design, results, means = _read(out, manifest)
    unflagged = _compute_indices(spec, design, means, spec.outcomes)
    noise = noise_table(results, spec.outcomes, spec.replications)
    indices = flag_noise(unflagged, noise, spec.levels)
    store.write_atomic(out / "indices.csv", indices.to_csv(index=False).encode())
    store.write_atomic(out / "noise.csv", noise.to_csv(index=False).encode())
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    ranked = importance(indices)
    effect_outcomes = [o for o in spec.outcomes if o.startswith(EFFECT)]
    if effect_outcomes:
        table = effect_table(results, effect_outcomes, spec.replications)
        store.write_atomic(out / "effects.csv", table.to_csv(index=False).encode())
    means = means.reset_index(drop=True)
    index = {"sobol": "Sobol' total index ST", "morris": "Morris mu* (over the outcome's largest)"}
    captions = {
        OVERVIEW: f"What matters for what: {index.get(spec.method, 'Spearman rank correlation')}"
        " of each outcome (row) with respect to each parameter (column, most influential "
        "overall first). Grey cells are flagged (noise, interval includes 0, negative or "
        "undefined): not distinguishable from no effect at this sweep's size; a grey "
        "outcome has no clear index at all."
        + (
            " An arrow: the outcome rises (\u2191) or falls (\u2193) as the parameter rises "
            "(the sign of their Spearman rank correlation over the design's independent "
            "points, Saltelli's base rows or the trajectories' starts, where its 95% "
            "interval excludes 0; no arrow: no monotone association shown)."
            if spec.method in KEY
            else " Negative: the outcome falls as the parameter rises."
        )
    }
    # LHS and grid show Spearman rho itself, signed; the others get arrows for its sign,
    # over the design's independent rows (Saltelli's A and B, Morris' trajectory starts).
    params = design[[f"param:{n}" for n in spec.parameters]].set_axis(spec.parameters, axis=1)
    rows = independent_rows(spec.method, len(params), len(spec.parameters), spec.second_order)
    direction = (
        directions(params.iloc[rows], means[spec.outcomes].iloc[rows])
        if spec.method in KEY
        else None
    )
    drawings: list[Drawing] = [
        (
            sensitivity_overview,
            (indices, spec.method, spec.outcomes, plots / OVERVIEW, direction),
        )
    ]
    drivers = {o: p for o in spec.outcomes if (p := _clear_driver(ranked, o)) is not None}
    if drivers:
        hidden = ", ".join(o for o in spec.outcomes if o not in drivers)
        captions[DEPENDENCE] = (
            "Partial dependence of each outcome with a clear index on its most influential "
            "parameter with one: mean outcome in eight equal-count bins of it, with 95% "
            "intervals." + (f" Not shown (no clear index): {hidden}." if hidden else "")
        )
        # the longest drawing first: the other workers take the rest meanwhile
        drawings.insert(0, (dependence_overview, (design, means, drivers, plots / DEPENDENCE)))
    for outcome in spec.outcomes if figures == "all" else []:
        stem = file_stem(outcome)  # effect:x -> effect__x: no ':' in file names
        if spec.method == "sobol":
            name = f"sobol_{stem}.png"
            drawings.append((sobol_bars, (indices, outcome, plots / name)))
            captions[name] = f"Sobol' S1 and ST of {outcome} with 95% bootstrap intervals."
        elif spec.method == "morris":
            name = f"morris_{stem}.png"
            drawings.append((morris_scatter, (indices, outcome, plots / name)))
            captions[name] = f"Morris mu* against sigma for {outcome}."
        name = f"dependence_{stem}.png"
        drawings.append((dependence, (design, means, ranked, outcome, plots / name)))
        captions[name] = (
            f"Partial dependence of {outcome} on its {TOP} most influential parameters."
        )
    # Figures of an earlier analysis with other figures would outlive it: remove them.
    for old in plots.glob("*.png"):
        if old.name not in captions and old.name.startswith(OWN_FIGURES):
            old.unlink(missing_ok=True)
    return indices, ranked, captions, drawings


def _clear_driver(ranked: pd.DataFrame, outcome: str) -> str | None:
    """The outcome's most influential parameter with an unflagged, positive index, if any.

    The same cells the overview heatmap shows as clear: a top-ranked parameter flagged
    as noise does not hide a clear one ranked below it.
    """
    rows = ranked[(ranked.outcome == outcome) & (ranked["flag"] == "") & (ranked["score"] > 0)]
    return str(rows["parameter"].iloc[0]) if len(rows) else None


def _report_text(
    out: Path,
    manifest: dict,
    indices: pd.DataFrame,
    ranked: pd.DataFrame,
    figures: dict[str, str],
) -> str:
    """The report's Markdown (it names the figures; it does not need them drawn)."""
    spec = SweepSpec.model_validate(manifest["spec"])
    noise = pd.read_csv(out / "noise.csv")  # written with indices.csv
    effects = pd.read_csv(out / "effects.csv") if (out / "effects.csv").exists() else None
    return _markdown(spec, manifest, indices, ranked, figures, noise, effects)


def _write_report(out: Path, text: str) -> None:
    """report.md and report.html (which embeds the figures, so they are drawn first)."""
    from scenarios.report.compare_report import write_report

    write_report(out, text)


# Outcomes that are harms (fewer is better): for these a negative effect means the
# contrast helps. Matched on the column's name before the first ``__``.
HARMS = (
    "attacks",
    "attack_risk",
    "fatalities",
    "mass_casualty",
    "ci_exposure",
    "exploitation_against",
)
EFFECT_COLUMNS = [
    "outcome",
    "points",
    "mean",
    "min",
    "max",
    "lower_share",
    "higher_share",
    "clearly_lower_share",
    "clearly_higher_share",
]


def effect_table(results: pd.DataFrame, outcomes: list[str], replications: int) -> pd.DataFrame:
    """Per paired-effect outcome: the range of its point means and the sign shares.

    The mean, min and max of the point means; the share of points where the contrast
    lowers or raises it, overall and clearly (the 95% paired interval of the point's mean
    effect, mean +- 1.96 sd / sqrt(r), excludes 0; needs r >= 2).
    """
    grouped = results.groupby("point")[outcomes]
    means, sd = grouped.mean(), grouped.std(ddof=1)
    rows = []
    for o in outcomes:
        m = means[o].to_numpy(dtype=float)
        half = (
            1.96 * sd[o].to_numpy(dtype=float) / math.sqrt(replications)
            if replications > 1
            else np.full(len(m), np.nan)
        )
        rows.append(
            {
                "outcome": o,
                "points": len(m),
                "mean": float(np.nanmean(m)),
                "min": float(np.nanmin(m)),
                "max": float(np.nanmax(m)),
                "lower_share": float(np.mean(m < 0)),
                "higher_share": float(np.mean(m > 0)),
                "clearly_lower_share": float(np.mean(m + half < 0)),
                "clearly_higher_share": float(np.mean(m - half > 0)),
            }
        )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def effect_sentence(row: dict[str, Any], label: str) -> str:
    """One effect outcome's sign in words: where the contrast lowers (helps) or raises it."""
    inner = row["outcome"].removeprefix(EFFECT)
    harm = inner.split("__")[0].startswith(HARMS)
    lowers = "lowers it (helps)" if harm else "lowers it"
    raises = "raises it (hurts)" if harm else "raises it"
    unchanged = 1 - row["lower_share"] - row["higher_share"]
    rest = f"; at {unchanged:.0%} it does not change it" if unchanged > 0.005 else ""
    return (
        f"- {outcome_phrase(row['outcome'])}: *{label}* {lowers} at {row['lower_share']:.0%} "
        f"of the points and {raises} at {row['higher_share']:.0%}{rest}; its 95% paired "
        f"interval is below 0 at {row['clearly_lower_share']:.0%} and above 0 at "
        f"{row['clearly_higher_share']:.0%}. Mean effect over the points {row['mean']:.3g} "
        f"(from {row['min']:.3g} to {row['max']:.3g})."
    )


def effect_lines(spec: SweepSpec, effects: pd.DataFrame | None) -> list[str]:
    """The report's section on a contrast sweep's paired effects (none without them)."""
    if spec.contrast is None:
        return []
    shown = ", ".join(f"`{k}` = {v}" for k, v in spec.contrast.set.items())
    lines = [
        f"## Effect of the contrast: {spec.contrast.label}",
        "",
        f"Every run simulated each point twice with the same seed: as sampled, and with "
        f"{shown}. `effect:<outcome>` is the second minus the first, per replication; "
        "the indices of those outcomes say which parameters decide the effect.",
        "",
    ]
    if effects is None or effects.empty:
        return [*lines, "No `effect:` outcome is analysed (name them under `outcomes`).", ""]
    lines += [effect_sentence(row, spec.contrast.label) for row in effects.to_dict("records")]
    return [*lines, "", "*Per-point shares in `effects.csv`.*", ""]


def noise_lines(noise: pd.DataFrame) -> list[str]:
    """The report's section on replication noise: a sentence and a table."""
    from scenarios.experiment.sensitivity import NOISE_TARGET

    noisy = noise[noise.noise_share > NOISE_TARGET]
    reps = int(noise.replications.iloc[0])
    if noisy.empty:
        verdict = (
            f"At {reps} replications per point, replication noise is at most "
            f"{NOISE_TARGET:.0%} of the variation across points for every outcome."
        )
    else:
        need = noisy.replications_needed
        most = int(need.max()) if need.notna().any() else None
        verdict = (
            f"**At {reps} replications per point, replication noise is more than "
            f"{NOISE_TARGET:.0%} of the variation across points for {len(noisy)} of "
            f"{len(noise)} outcomes**: their indices are inflated by it (flag `noise`: noise "
            "alone could explain the index)."
            + (
                f" About {most} replications per point would bring it under {NOISE_TARGET:.0%}."
                if most
                else ""
            )
        )
    lines = [
        "## Replication noise",
        "",
        verdict,
        "",
        "| outcome | noise share of the variation across points | replications for "
        f"{NOISE_TARGET:.0%} |",
        "|---|---:|---:|",
    ]
    for row in noise.itertuples():
        need = (
            "no effect visible"
            if row.replications_needed != row.replications_needed
            else (f"{int(row.replications_needed)}")
        )
        lines.append(f"| {row.outcome} | {row.noise_share:.0%} | {need} |")
    lines += [
        "",
        "*Noise share: the within-point variance of the replications (less what a seed does "
        "to every point alike: the points share their seeds) divided by the number of "
        'replications, over the variance of the point means (`noise.csv`; README "Sensitivity '
        'sweeps").*',
        "",
    ]
    return lines


def _markdown(
    spec: SweepSpec,
    manifest: dict,
    indices: pd.DataFrame,
    ranked: pd.DataFrame,
    figures: dict[str, str],
    noise: pd.DataFrame,
    effects: pd.DataFrame | None = None,
) -> str:
    key = KEY.get(spec.method, "spearman")
    name = base_name(manifest)
    base = f"`{name}` (`{spec.base}`)" if name else f"`{spec.base}`"
    lines = [
        f"# Sweep `{spec.name}`",
        "",
        spec.description.strip(),
        "",
        f"- Method: {spec.method}, {manifest['points']} sample points x {spec.replications} "
        f"replications = {manifest['runs']} runs; root seed {spec.seed}",
        f"- Base scenario: {base}; outcomes averaged over replications per point",
        "",
        *effect_lines(spec, effects),
        *lever_lines(indices, spec.outcomes),
        *noise_lines(noise),
        "## Most influential parameters",
        "",
        f"Ranked by {key}. Flags: `negative` (an index below 0: estimation noise), "
        "`ci includes 0` (not distinguishable from no effect at this sample size) and "
        "`noise` (replication noise alone could give an index this large).",
        "",
        "| outcome | parameter | " + key + " | 95% CI | flag |",
        "|---|---|---:|---|---|",
    ]
    for outcome in spec.outcomes:
        for _, row in ranked[ranked.outcome == outcome].head(5).iterrows():
            lines.append(
                f"| {outcome} | `{row.parameter}` | {row.value:.3f} | "
                f"[{row.ci_low:.3f}, {row.ci_high:.3f}] | {row.flag} |"
            )
    flagged = indices[indices.flag != ""]
    lines += [
        "",
        f"{len(flagged)} of {len(indices)} indices are flagged; all are in `indices.csv`.",
        "",
        "## Figures",
        "",
    ]
    for name, caption in figures.items():
        lines += [f"![{caption}](plots/{name})", "", f"*{caption}*", ""]
    if set(figures) <= {OVERVIEW, DEPENDENCE}:  # drawn with --figures overview
        lines += [
            "Each outcome's own figures (its indices with their intervals, and its partial "
            f"dependence on its {TOP} most influential parameters): "
            "`scenarios analyse DIR --figures all`.",
            "",
        ]
    return "\n".join(lines) + "\n"
