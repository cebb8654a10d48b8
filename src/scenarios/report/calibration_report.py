"""report.md, report.html and figures of a calibration (the directory of `scenarios calibrate`).

The report answers two questions on its first screen: does the calibrated model reproduce
the public record (each target's observed band beside the posterior predictive
distribution), and what does the record say about the parameters (each parameter's
posterior 90% interval against its prior's). Figures, the generation history and the
methods follow. Every figure is an aggregate: a distribution of whole-run summary numbers.

The directory holds ``manifest.json`` (``kind: calibration``), ``posterior.parquet``
(weighted particles, one column per parameter by dotted path), ``history.csv`` (one row
per generation), ``targets.csv`` (observed value and band of each target),
``predictive.parquet`` (simulations at particles resampled by weight) and, optionally,
``prior_predictive.parquet`` (simulations at prior draws). A calibration still running
gets the same report under a banner that says it is partial.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scenarios.experiment import store
from scenarios.experiment.errors import CompareError
from scenarios.report.compare_report import write_report
from scenarios.report.plots import _panels, legend_below, save

# A parameter whose posterior 90% interval is narrower than this share of its prior's 90%
# interval is "constrained by the record"; at or above it, "as wide as its prior".
CONSTRAINED_RATIO = 0.7
# The central intervals the report shows: 5% and 95% quantiles (a 90% interval).
LOW_Q, HIGH_Q = 0.05, 0.95
# The pairwise figure shows at most this many parameters (the most constrained ones).
MAX_PAIR_PARAMETERS = 6
STRIP_DRAWS = 200  # draws shown as dots in each row of the predictive check
BEFORE, AFTER = "Before\ncalibration", "Calibrated"  # rows of the predictive check

POSTERIOR = "posterior.parquet"
HISTORY = "history.csv"
TARGETS = "targets.csv"
PREDICTIVE = "predictive.parquet"
PRIOR_PREDICTIVE = "prior_predictive.parquet"
PLOTS = "plots"

POSTERIOR_COLOUR = "#08519c"
PRIOR_COLOUR = "#969696"
BAND_COLOUR = "#fdae6b"

TOO_HIGH = "model too high"
TOO_LOW = "model too low"
NO_DRAWS = "no predictive draws"
CONSTRAINED = "constrained by the record"
AS_WIDE = "as wide as its prior"


def weighted_quantile(values: Any, weights: Any, q: Any) -> Any:
    """Quantiles ``q`` (0-1, scalar or array) of ``values`` drawn with ``weights``.

    Each sample sits at the midpoint of its step of the weighted cumulative distribution,
    (cumulative weight - weight / 2) / total, and quantiles interpolate linearly between
    samples (clamped at the ends). With equal weights this is numpy's ``method="hazen"``.
    Weights need not sum to 1; samples of weight 0 and non-finite values are ignored.
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError(f"values and weights must be 1-D of one length: {x.shape}, {w.shape}")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and non-negative")
    keep = (w > 0) & np.isfinite(x)
    if not keep.any():
        raise ValueError("no finite value with a positive weight")
    order = np.argsort(x[keep], kind="stable")
    x, w = x[keep][order], w[keep][order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


def prior_quantile(spec: dict[str, Any], q: float) -> float:
    """The ``q`` quantile of a parameter's prior as the manifest declares it."""
    low, high = float(spec["low"]), float(spec["high"])
    match spec.get("distribution", "uniform"):
        case "uniform":
            return low + q * (high - low)
        case other:
            raise CompareError(f"prior distribution {other!r} is not known to the report")


def number(x: float) -> str:
    """A value with about three significant digits, thousands separated: 1,234, 12.3, 0.0123."""
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100 or (a < 1e6 and x == round(x)):
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.2g}" if a < 0.001 else f"{x:.3f}".rstrip("0")


def interval(low: float, high: float) -> str:
    """``[low, high]`` with :func:`number`."""
    return f"[{number(low)}, {number(high)}]"


def band_text(low: float, high: float) -> str:
    """An observed band, or its single value for a point fact."""
    return number(low) if low == high else f"{number(low)} to {number(high)}"


def duration(seconds: float) -> str:
    """Wall time in words: 45 s, 12 min 3 s, 2 h 5 min."""
    s = round(float(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


@dataclass(frozen=True)
class Calibration:
    """The files of a calibration directory, read once."""

    out: Path
    manifest: dict[str, Any]
    posterior: pd.DataFrame
    history: pd.DataFrame
    targets: pd.DataFrame
    predictive: pd.DataFrame | None
    prior_predictive: pd.DataFrame | None

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """Dotted path -> prior spec (distribution, low, high, optional label)."""
        return self.manifest["parameters"]

    @property
    def running(self) -> bool:
        """True unless the manifest says the calibration is complete."""
        return self.manifest.get("status") != "complete"

    def label(self, parameter: str) -> str:
        """A parameter's label in words, or its dotted path."""
        return str(self.parameters[parameter].get("label") or parameter)

    @property
    def weights(self) -> np.ndarray:
        """The particles' weights (normalised to sum to 1)."""
        w = self.posterior["weight"].to_numpy(dtype=float)
        return w / w.sum()


def read_calibration(out: Path) -> Calibration:
    """Read a calibration directory; CompareError naming what is missing or wrong."""
    out = Path(out)
    path = out / store.MANIFEST
    if not path.exists():
        raise CompareError(f"{out}: not a calibration directory (no {store.MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path}: cannot be read ({type(exc).__name__})") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind != "calibration":
        raise CompareError(f"{out}: not a calibration directory (its manifest says {kind!r})")
    if not isinstance(manifest.get("parameters"), dict) or not manifest["parameters"]:
        raise CompareError(f"{path}: names no parameters")
    for name in (POSTERIOR, TARGETS):
        if not (out / name).exists():
            wait = " yet (the first generation has not finished)" if name == POSTERIOR else ""
            raise CompareError(f"{out}: no {name}{wait}")
    try:
        posterior = pd.read_parquet(out / POSTERIOR)
        targets = pd.read_csv(out / TARGETS, keep_default_na=False, na_values=[""])
        history = pd.read_csv(out / HISTORY) if (out / HISTORY).exists() else pd.DataFrame()
        predictive, prior = (
            pd.read_parquet(out / name) if (out / name).exists() else None
            for name in (PREDICTIVE, PRIOR_PREDICTIVE)
        )
    except (OSError, ValueError) as exc:
        raise CompareError(f"{out}: a file cannot be read ({type(exc).__name__}: {exc})") from None
    missing = [c for c in ("weight", *manifest["parameters"]) if c not in posterior.columns]
    if missing:
        raise CompareError(f"{out / POSTERIOR}: no column {', '.join(missing)}")
    weight = posterior["weight"].to_numpy(dtype=float)
    if not (np.isfinite(weight).all() and (weight >= 0).all()):
        raise CompareError(f"{out / POSTERIOR}: weights must be finite and non-negative")
    if posterior.empty or not weight.sum() > 0:
        raise CompareError(f"{out / POSTERIOR}: no particle with a positive weight")
    for column in ("name", "observed", "low", "high"):
        if column not in targets.columns:
            raise CompareError(f"{out / TARGETS}: no column {column!r}")
    return Calibration(out, manifest, posterior, history, targets, predictive, prior)


class TargetCheck(NamedTuple):
    """One target of the posterior predictive check (quantiles of the predictive draws)."""

    name: str
    label: str
    unit: str
    low: float  # observed band; low == high for a point fact
    high: float
    draws: int  # finite predictive draws
    median: float
    q_low: float  # 5% and 95% of the posterior predictive
    q_high: float
    inside: float  # share of draws inside [low, high]
    below: float  # share below low
    above: float  # share above high
    prior_low: float  # 5% and 95% of the prior predictive (nan without one)
    prior_high: float
    verdict: str


def target_verdict(low: float, high: float, q_low: float, q_high: float) -> str:
    """Where the observed band sits against the model's predictive 90% interval, in words."""
    if not np.isfinite(q_low):
        return NO_DRAWS
    if q_high < low:
        return TOO_LOW
    if q_low > high:
        return TOO_HIGH
    if low == high:
        return "observed inside the predictive 90%"
    if q_low <= low and high <= q_high:
        return "band inside the predictive 90%"
    if low <= q_low and q_high <= high:
        return "predictive 90% inside the band"
    lean = "low" if q_low < low else "high"
    return f"band overlaps the predictive 90% (model leans {lean})"


def _draws(frame: pd.DataFrame | None, name: str) -> np.ndarray:
    if frame is None or name not in frame.columns:
        return np.array([])
    x = frame[name].to_numpy(dtype=float)
    return x[np.isfinite(x)]


def target_checks(cal: Calibration) -> list[TargetCheck]:
    """The verdict table's rows, one per target in targets.csv order."""
    rows = []
    for t in cal.targets.to_dict("records"):
        name = str(t["name"])
        low, high = (
            float(t[k]) if pd.notna(t[k]) else float(t["observed"]) for k in ("low", "high")
        )
        post = _draws(cal.predictive, name)
        prior = _draws(cal.prior_predictive, name)
        nan = float("nan")
        if len(post):
            q_low, median, q_high = np.quantile(post, [LOW_Q, 0.5, HIGH_Q])
            inside = float(np.mean((post >= low) & (post <= high)))
            below, above = float(np.mean(post < low)), float(np.mean(post > high))
        else:
            q_low = median = q_high = inside = below = above = nan
        p_low, p_high = np.quantile(prior, [LOW_Q, HIGH_Q]) if len(prior) else (nan, nan)
        rows.append(
            TargetCheck(
                name=name,
                label=_text(t.get("label")) or name,
                unit=_text(t.get("unit")),
                low=low,
                high=high,
                draws=len(post),
                median=float(median),
                q_low=float(q_low),
                q_high=float(q_high),
                inside=inside,
                below=below,
                above=above,
                prior_low=float(p_low),
                prior_high=float(p_high),
                verdict=target_verdict(low, high, float(q_low), float(q_high)),
            )
        )
    return rows


class ParameterCheck(NamedTuple):
    """One parameter: its prior, its weighted posterior and how much the record narrowed it."""

    name: str
    label: str
    prior_low: float  # the prior's bounds
    prior_high: float
    median: float  # weighted posterior median and 5% / 95% quantiles
    q_low: float
    q_high: float
    ratio: float  # posterior 90% width / prior 90% width
    verdict: str


def parameter_checks(cal: Calibration) -> list[ParameterCheck]:
    """The parameter table's rows, in the manifest's order."""
    rows = []
    w = cal.weights
    for name, spec in cal.parameters.items():
        q_low, median, q_high = weighted_quantile(
            cal.posterior[name].to_numpy(), w, [LOW_Q, 0.5, HIGH_Q]
        )
        prior_width = prior_quantile(spec, HIGH_Q) - prior_quantile(spec, LOW_Q)
        ratio = (q_high - q_low) / prior_width if prior_width > 0 else float("nan")
        rows.append(
            ParameterCheck(
                name=name,
                label=cal.label(name),
                prior_low=float(spec["low"]),
                prior_high=float(spec["high"]),
                median=float(median),
                q_low=float(q_low),
                q_high=float(q_high),
                ratio=float(ratio),
                verdict=CONSTRAINED if ratio < CONSTRAINED_RATIO else AS_WIDE,
            )
        )
    return rows


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of normalised weights, 1 / sum(w^2)."""
    return float(1.0 / np.sum(np.square(weights)))


def _names(labels: Sequence[str]) -> str:
    """Labels joined in words: a; a and b; a, b and c."""
    items = list(labels)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def bottom_line(targets: list[TargetCheck], parameters: list[ParameterCheck]) -> list[str]:
    """The report's answer in two sentences: is the record reproduced, what is narrowed."""
    checked = [t for t in targets if t.draws]
    high = [t.label for t in checked if t.verdict == TOO_HIGH]
    low = [t.label for t in checked if t.verdict == TOO_LOW]
    fits = len(checked) - len(high) - len(low)
    first = (
        f"The model's posterior predictive 90% interval reaches the record for {fits} of "
        f"{len(checked)} targets"
        if checked
        else "No target has posterior predictive draws yet"
    )
    misses = []
    if high:
        misses.append(f"it is too high for {_names(high)}")
    if low:
        misses.append(f"too low for {_names(low)}" if high else f"it is too low for {_names(low)}")
    first += ("; " + " and ".join(misses) if misses else "") + "."
    partly = [t.label for t in checked if t.verdict.startswith("band overlaps")]
    if partly:
        first += f" The band only partly overlaps it for {_names(partly)}."
    if 0 < len(checked) < len(targets):
        first += (
            f" {len(targets) - len(checked)} of {len(targets)} targets have no predictive draws."
        )
    narrowed = [p.label for p in parameters if p.verdict == CONSTRAINED]
    wide = [p.label for p in parameters if p.verdict == AS_WIDE]
    rule = f"a posterior 90% interval under {CONSTRAINED_RATIO:.0%} of its prior's width"
    second = (
        f"The record constrains {len(narrowed)} of {len(parameters)} parameters "
        f"({_names(narrowed)}): {rule}."
        if narrowed
        else f"The record constrains no parameter: none has {rule}."
    )
    if wide:
        others = "The others stay" if narrowed else "All stay"
        second += f" {others} about as wide as their priors: {_names(wide)}."
    return [first, second]


def _share(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.0%}"


def _emphasis(verdict: str) -> str:
    return f"**{verdict}**" if verdict in (TOO_HIGH, TOO_LOW) else verdict


def target_line(t: TargetCheck) -> str:
    """One target on the terminal."""
    unit = f" {t.unit}" if t.unit else ""
    if not t.draws:
        return f"{t.label}: observed {band_text(t.low, t.high)}{unit}; {t.verdict}"
    return (
        f"{t.label}: observed {band_text(t.low, t.high)}{unit}; model {number(t.median)} "
        f"{interval(t.q_low, t.q_high)}; {t.verdict} ({_share(t.inside)} of draws in band)"
    )


def parameter_line(p: ParameterCheck) -> str:
    """One parameter on the terminal."""
    return (
        f"{p.label}: {number(p.median)} {interval(p.q_low, p.q_high)} of prior "
        f"{interval(p.prior_low, p.prior_high)}; width x{p.ratio:.2f}: {p.verdict}"
    )


def calibration_summary_lines(out: Path) -> list[str]:
    """The calibration in a few terminal lines: one per target, then one per parameter.

    Target: observed band, posterior predictive median [90%], verdict, share of draws in the
    band. Parameter: weighted posterior median [90%] against the prior's bounds, the 90%
    width ratio and its verdict. The same numbers as report.md. A line can be longer than
    80 columns (labels are whole); a terminal wraps it between words with a hanging indent.
    """
    cal = read_calibration(out)
    return [target_line(t) for t in target_checks(cal)] + [
        parameter_line(p) for p in parameter_checks(cal)
    ]


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def predictive_check_figure(cal: Calibration, checks: list[TargetCheck]) -> Figure:
    """One panel per target: the observed band, the posterior (and prior) predictive draws.

    Each row shows the draws' 5-95% (thin line), 25-75% (thick line), median (white tick)
    and up to ``STRIP_DRAWS`` draws as dots; the observed band is shaded (a line for a
    point fact).
    """
    fig, axes = _panels(len(checks), 10, 1.9)
    rng = np.random.default_rng(0)  # jitter of the dots only
    for i, (ax, t) in enumerate(zip(axes, checks, strict=True)):
        first = i == 0
        rows = [
            (BEFORE, _draws(cal.prior_predictive, t.name), PRIOR_COLOUR, "Before calibration"),
            (AFTER, _draws(cal.predictive, t.name), POSTERIOR_COLOUR, "Calibrated model"),
        ]
        rows = [r for r in rows if len(r[1]) or r[0] == AFTER]
        if t.low == t.high:
            ax.axvline(t.low, color="#d94801", lw=2, label="Observed" if first else None)
        else:
            ax.axvspan(
                t.low,
                t.high,
                color=BAND_COLOUR,
                alpha=0.5,
                lw=0,
                label="Observed band" if first else None,
            )
        for y, (_, x, colour, name) in enumerate(rows):
            if not len(x):
                continue
            q05, q25, q50, q75, q95 = np.quantile(x, [LOW_Q, 0.25, 0.5, 0.75, HIGH_Q])
            shown = x if len(x) <= STRIP_DRAWS else rng.choice(x, STRIP_DRAWS, replace=False)
            ax.scatter(
                shown, y + rng.uniform(-0.28, 0.28, len(shown)), s=4, color=colour, alpha=0.25, lw=0
            )
            ax.hlines(
                y,
                q05,
                q95,
                color=colour,
                lw=1.5,
                label=f"{name}: 5-95% of draws" if first else None,
            )
            ax.hlines(
                y, q25, q75, color=colour, lw=7, label=f"{name}: 25-75% of draws" if first else None
            )
            ax.plot([q50], [y], marker="|", ms=9, mew=2, color="white")
        ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(_wrap(t.label), fontsize=9)
        ax.set_xlabel(t.unit or "value", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Posterior predictive check: the observed record beside the model's draws")
    if axes:
        legend_below(fig, axes[0], ncol=3)
    return fig


def marginals_figure(cal: Calibration, checks: list[ParameterCheck]) -> Figure:
    """One panel per parameter: the weighted posterior histogram over the prior's range."""
    fig, axes = _panels(len(checks), 10, 2.2)
    w = cal.weights
    for i, (ax, p) in enumerate(zip(axes, checks, strict=True)):
        first = i == 0
        ax.hist(
            cal.posterior[p.name].to_numpy(),
            bins=30,
            range=(p.prior_low, p.prior_high),
            weights=w,
            density=True,
            color=POSTERIOR_COLOUR,
            alpha=0.6,
            label="Posterior (weighted particles)" if first else None,
        )
        ax.hlines(
            1.0 / (p.prior_high - p.prior_low),
            p.prior_low,
            p.prior_high,
            color=PRIOR_COLOUR,
            ls="--",
            lw=1.5,
            label="Prior (uniform)" if first else None,
        )
        for q in (p.q_low, p.q_high):
            ax.axvline(
                q,
                color="black",
                lw=0.8,
                ls=":",
                label="Posterior 5% and 95%" if first and q == p.q_low else None,
            )
        ax.set_xlim(p.prior_low, p.prior_high)
        ax.set_ylim(bottom=0)
        ax.set_title(_wrap(f"{p.label}: width x{p.ratio:.2f} of prior"), fontsize=9)
        ax.set_xlabel(_wrap(p.name, 40), fontsize=7)
        ax.set_ylabel("Density", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("What the record says about each parameter: posterior against prior")
    if axes:
        legend_below(fig, axes[0], ncol=3)
    return fig


def pair_parameters(checks: list[ParameterCheck]) -> list[ParameterCheck]:
    """The parameters of the pairwise figure: all, or the most constrained few."""
    if len(checks) <= MAX_PAIR_PARAMETERS:
        return checks
    return sorted(checks, key=lambda p: p.ratio)[:MAX_PAIR_PARAMETERS]


def pairs_figure(cal: Calibration, checks: list[ParameterCheck]) -> Figure:
    """Weighted 2-D histograms of the posterior for each pair of ``checks``, on prior ranges.

    A corner layout: the diagonal holds each parameter's weighted histogram, the lower
    triangle each pair; axes span the priors, so a narrow cloud is a constrained pair.
    """
    k = len(checks)
    size = min(2.1, 8 / k)
    fig, axes = plt.subplots(
        k, k, figsize=(size * k + 1, size * k + 0.8), squeeze=False, layout="constrained"
    )
    w = cal.weights
    for i, pi in enumerate(checks):
        for j, pj in enumerate(checks):
            ax = axes[i][j]
            if j > i:
                ax.remove()
                continue
            x = cal.posterior[pj.name].to_numpy()
            if i == j:
                ax.hist(
                    x,
                    bins=25,
                    range=(pj.prior_low, pj.prior_high),
                    weights=w,
                    color=POSTERIOR_COLOUR,
                    alpha=0.6,
                )
                ax.set_yticks([])
            else:
                y = cal.posterior[pi.name].to_numpy()
                ax.hist2d(
                    x,
                    y,
                    bins=20,
                    range=[[pj.prior_low, pj.prior_high], [pi.prior_low, pi.prior_high]],
                    weights=w,
                    cmap="Blues",
                    cmin=1e-12,  # bins without weight stay white
                )
                if j == 0:
                    ax.set_ylabel(_wrap(pi.label, 18), fontsize=7)
                else:
                    ax.set_yticklabels([])
            ax.set_xlim(pj.prior_low, pj.prior_high)
            if i == k - 1:
                ax.set_xlabel(_wrap(pj.label, 18), fontsize=7)
            else:
                ax.set_xticklabels([])
            ax.tick_params(labelsize=6)
    fig.suptitle("Posterior of each pair of parameters (darker: more weight)", fontsize=10)
    return fig


def history_figure(history: pd.DataFrame) -> Figure:
    """Epsilon, acceptance rate and effective sample size by generation."""
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained", sharex=True)
    g = history["generation"].to_numpy()
    eps = history["epsilon"].to_numpy(dtype=float)
    axes[0].plot(g, eps, "o-", color=POSTERIOR_COLOUR)
    if (eps > 0).all() and len(eps) > 1 and eps.max() / eps.min() > 20:
        axes[0].set_yscale("log")
        axes[0].yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axes[0].yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: number(v)))
        axes[0].yaxis.set_minor_formatter(ticker.NullFormatter())
    axes[0].set_ylabel("Epsilon (distance threshold)", fontsize=8)
    axes[0].set_title("Tolerance", fontsize=10)
    axes[1].plot(g, history["acceptance_rate"].to_numpy(dtype=float), "o-", color=POSTERIOR_COLOUR)
    axes[1].set_ylim(bottom=0)
    axes[1].set_ylabel("Accepted share of simulations", fontsize=8)
    axes[1].set_title("Acceptance rate", fontsize=10)
    axes[2].plot(
        g,
        history["ess"].to_numpy(dtype=float),
        "o-",
        color=POSTERIOR_COLOUR,
        label="Effective sample size",
    )
    if "particles" in history.columns:
        axes[2].plot(
            g,
            history["particles"].to_numpy(dtype=float),
            "--",
            color=PRIOR_COLOUR,
            label="Particles",
        )
    axes[2].set_ylim(bottom=0)
    axes[2].set_ylabel("Particles", fontsize=8)
    axes[2].set_title("Effective sample size", fontsize=10)
    for ax in axes:
        ax.set_xlabel("Generation", fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Generation history of the ABC-SMC run")
    legend_below(fig, axes[2], ncol=2)
    return fig


def draw_figures(
    cal: Calibration, targets: list[TargetCheck], parameters: list[ParameterCheck], folder: Path
) -> dict[str, str]:
    """Draw the report's figures into ``folder``; return {file name: caption}."""
    folder.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}
    prior = " and the prior predictive (grey)" if cal.prior_predictive is not None else ""
    save(predictive_check_figure(cal, targets), folder / "predictive_check.png")
    figures["predictive_check.png"] = (
        f"Posterior predictive check: each target's observed band (shaded) beside the "
        f"model's posterior predictive draws (blue){prior}."
    )
    save(marginals_figure(cal, parameters), folder / "marginals.png")
    figures["marginals.png"] = (
        "Weighted posterior of each parameter over its prior's range (dashed: the prior)."
    )
    if len(parameters) > 1:
        shown = pair_parameters(parameters)
        save(pairs_figure(cal, shown), folder / "pairs.png")
        which = (
            f"the {len(shown)} most constrained of {len(parameters)} parameters"
            if len(shown) < len(parameters)
            else "every pair of parameters"
        )
        figures["pairs.png"] = f"Weighted posterior of {which}, on the priors' ranges."
    if not cal.history.empty:
        save(history_figure(cal.history), folder / "history.png")
        figures["history.png"] = (
            "Generation history: tolerance (epsilon), acceptance rate and effective sample size."
        )
    return figures


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def banner(cal: Calibration) -> list[str]:
    """The partial-results banner of a calibration that is not complete; else nothing."""
    if not cal.running:
        return []
    generations = len(cal.history)
    status = html.escape(str(cal.manifest.get("status")))
    text = (
        f"Partial results: this calibration is not finished (status {status}, "
        f"{generations} generation{'s' if generations != 1 else ''} so far). The numbers "
        "below are from the last finished generation and will change."
    )
    style = (
        "background:#fff3cd;border:2px solid #d39e00;padding:0.5em 0.8em;margin:0.4em 0;"
        "font-weight:600"
    )
    return [f'<div class="banner" style="{style}">{text}</div>', ""]


def context_line(cal: Calibration) -> str:
    """What was calibrated and how long it took."""
    m = cal.manifest
    h = cal.history
    parts = [f"Scenario `{m.get('scenario')}`, root seed {m.get('seed')}"]
    if not h.empty:
        sims = (
            h["total_simulations"].iloc[-1] if "total_simulations" in h else h["simulations"].sum()
        )
        parts.append(f"{len(h)} generations, {int(sims):,} simulations")
    parts.append(
        f"{len(cal.posterior):,} particles (effective sample size "
        f"{effective_sample_size(cal.weights):.0f})"
    )
    if "seconds" in m:
        parts.append(f"wall time {duration(float(m['seconds']))}")
    line = "; ".join(parts) + "."
    if m.get("stopped_because"):
        line += f" Stopped because: {m['stopped_because']}."
    return line


def to_markdown(
    cal: Calibration,
    targets: list[TargetCheck],
    parameters: list[ParameterCheck],
    figures: dict[str, str],
) -> str:
    """The calibration report in Markdown, figures embedded from ``plots/`` by path."""
    name = cal.manifest.get("name", cal.out.name)
    prior_col = cal.prior_predictive is not None
    lines = [f"# Calibration `{name}`", "", *banner(cal), context_line(cal), ""]
    lines += [f"**In short.** {' '.join(bottom_line(targets, parameters))}", ""]
    lines += ["## Does the model reproduce the record?", ""]
    header = ["target (unit)", "observed", "model: median [90%]"]
    header += ["before calibration: 90%"] if prior_col else []
    header += ["draws in band (below / above)", "verdict"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for t in targets:
        unit = f" ({t.unit})" if t.unit else ""
        row = [f"{t.label}{unit}", band_text(t.low, t.high)]
        row += [f"{number(t.median)} {interval(t.q_low, t.q_high)}" if t.draws else "n/a"]
        row += [interval(t.prior_low, t.prior_high)] if prior_col else []
        row += [
            f"{_share(t.inside)} ({_share(t.below)} / {_share(t.above)})" if t.draws else "n/a",
            _emphasis(t.verdict),
        ]
        lines.append("| " + " | ".join(row) + " |")
    draws = max((t.draws for t in targets), default=0)
    lines += [
        "",
        f"*Model: the posterior predictive distribution, {draws:,} fresh simulations at "
        "parameter sets drawn from the posterior by weight; its median and the 5% to 95% "
        "range of the draws. "
        + ("Before calibration: the same for simulations at prior draws. " if prior_col else "")
        + "Verdict: where the observed band sits against that 90% range; the model is too "
        "high (low) when the whole 90% range lies above (below) the band.*",
        "",
        "## What the record says about the parameters",
        "",
        "| parameter | prior (uniform) | posterior: median [90%] | width against prior | verdict |",
        "|---|---|---|---|---|",
    ]
    for p in parameters:
        lines.append(
            f"| {p.label} (`{p.name}`) | {interval(p.prior_low, p.prior_high)} | "
            f"{number(p.median)} {interval(p.q_low, p.q_high)} | x{p.ratio:.2f} | {p.verdict} |"
        )
    lines += [
        "",
        "*Posterior: weighted quantiles of the final generation's particles. Width against "
        "prior: the posterior's 90% interval over the prior's 90% interval; under "
        f"x{CONSTRAINED_RATIO:.2f} the parameter is {CONSTRAINED}, otherwise it is "
        f"{AS_WIDE}: the targets do not pin it down.*",
        "",
        "## Figures",
        "",
    ]
    for file, caption in figures.items():
        lines += [f"![{caption}]({PLOTS}/{file})", "", f"*{caption}*", ""]
    lines += _history_section(cal) + _targets_section(cal) + _methods_section(cal)
    return "\n".join(lines) + "\n"


def _history_section(cal: Calibration) -> list[str]:
    h = cal.history
    if h.empty:
        return []
    lines = [
        "<details>",
        "<summary>Generation history</summary>",
        "",
        "| generation | epsilon | acceptance rate | effective sample size | particles | "
        "simulations | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in h.to_dict("records"):
        lines.append(
            f"| {int(r['generation'])} | {number(float(r['epsilon']))} | "
            f"{float(r['acceptance_rate']):.3f} | {float(r['ess']):.0f} | "
            f"{int(r.get('particles', 0))} | {int(r.get('simulations', 0)):,} | "
            f"{float(r.get('seconds', float('nan'))):.0f} |"
        )
    return [*lines, "", "</details>", ""]


def _targets_section(cal: Calibration) -> list[str]:
    lines = [
        "<details>",
        "<summary>Targets and their sources</summary>",
        "",
        "| target | observed | distance scale | fact | source | note |",
        "|---|---|---:|---|---|---|",
    ]
    for t, check in zip(cal.targets.to_dict("records"), target_checks(cal), strict=True):
        cells = [
            f"{_text(t.get('label')) or t['name']} (`{t['name']}`)",
            band_text(check.low, check.high),
            number(float(t["scale"])) if "scale" in t else "n/a",
            *(_text(t.get(k)) for k in ("fact", "source", "note")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", "</details>", ""]


def _text(value: object) -> str:
    """A free-text cell of targets.csv for a table: empty if missing, no column breaks."""
    return "" if value is None or pd.isna(value) else str(value).replace("|", "/")


def _methods_section(cal: Calibration) -> list[str]:
    command = cal.manifest.get("command")
    lines = [
        "<details>",
        "<summary>Methods</summary>",
        "",
        "Approximate Bayesian computation with sequential Monte Carlo (pyABC): each "
        "generation accepts parameter sets whose simulated targets lie within a shrinking "
        "distance (epsilon) of the record, each target's difference divided by its distance "
        "scale. The posterior is the final generation's weighted particles.",
        "",
        "- Weighted quantiles: each particle sits at the midpoint of its step of the "
        "weighted cumulative distribution, linear in between (with equal weights, the "
        "Hazen quantile).",
        f"- Constrained by the record: posterior 90% width under x{CONSTRAINED_RATIO:.2f} "
        "of the prior's 90% width.",
        "- Predictive check: draws in band counts draws inside the observed band (ends "
        "included); for a point fact that is the draws equal to it, and the shares below "
        "and above say on which side the model falls.",
    ]
    if command:
        lines.append(f"- Command: `{command}`")
    return [*lines, "", "</details>", ""]


def write_calibration_report(out: Path) -> Path:
    """Write plots/*.png, report.md and report.html into calibration directory ``out``.

    Returns the path of report.html. A calibration still running gets the same report
    under a banner saying it is partial. CompareError if ``out`` is not a calibration
    directory or a file the report needs is missing or damaged.
    """
    out = Path(out)
    cal = read_calibration(out)
    targets = target_checks(cal)
    parameters = parameter_checks(cal)
    figures = draw_figures(cal, targets, parameters, out / PLOTS)
    text = to_markdown(cal, targets, parameters, figures)
    return write_report(out, text)
