"""Sensitivity indices from a finished sweep (SALib), averaged over replications.

- Sobol': first-order S1 and total ST (and S2 when the design has it) with bootstrap
  95% intervals (Saltelli et al. 2010; Jansen 1999 for ST).
- Morris: mu*, its bootstrap interval, mu and sigma (Morris 1991; Campolongo et al. 2007).
- LHS and grid: Spearman rank correlation of the outcome with each parameter, with a
  Fisher-z 95% interval, and binned means for partial-dependence curves.

Indices are never clipped: a negative index, or an interval that straddles zero, is
flagged in the ``flag`` column (estimation noise or too few samples), not hidden.

Replication noise. An outcome is averaged over the replications of each point; what is
left of the replications' own randomness in a point's mean is noise that the indices
read as parameter influence. :func:`noise_table` estimates it from the spread within
points: with within-point variance s2 and r replications, the noise in a point mean has
variance s2 / r, and its *share* of the variance V of the point means is s2 / (r V).
Noise alone gives a Jansen total index ST of about that share (for every parameter:
ST_obs = (1 - share) ST + share), and a Morris mu* of about 2 sqrt(s2 / r) / (sqrt(pi)
delta) (the mean absolute difference of two noisy outputs over the step delta of the
normalised grid); S1 and Spearman are only attenuated. :func:`flag_noise` flags an ST or
mu* whose interval reaches down to that noise level ("noise": noise alone could explain
it). ``replications_needed`` is the number that would bring the share to
:data:`NOISE_TARGET`, from the estimated variance of the true point means (V - s2 / r).
A sweep's points share their replication seeds (common random numbers): the part of a
run's deviation common to every point with that seed shifts all point means alike and
moves no index, so s2 is then the point x replication interaction variance (the residual
mean square of the two-way layout), not the plain within-point variance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

# SALib and SciPy are imported where the indices are computed: a sweep's workers use this
# module's figure helpers (partial dependence, lever ranks) and never load them (0.5 s).
COLUMNS = ["outcome", "parameter", "index", "value", "ci_low", "ci_high", "flag"]

# The sharing levers: the parameters a policy on intelligence sharing sets or depends on
# directly. A parameter counts as one if its dotted config path starts with one of these:
# the `sharing` section (policy per directed link, compartmentalisation, sanitisation,
# warnings), `trust` (priors per directed pair, default, dynamics) and `exploitation`
# (how far a receiver exploits a sender's material). The sweep report says where each of
# them ranks among all the sweep's parameters, outcome by outcome.
SHARING_LEVER_PREFIXES: tuple[str, ...] = ("sharing.", "trust.", "exploitation.")

# The share of the variance of point means that replication noise may make up before the
# sweep report asks for more replications (module docstring).
NOISE_TARGET = 0.05
NOISE_COLUMNS = [
    "outcome",
    "replications",
    "within_variance",
    "means_variance",
    "noise_share",
    "replications_needed",
]


def noise_table(results: pd.DataFrame, outcomes: list[str], replications: int) -> pd.DataFrame:
    """Per outcome: within-point variance, variance of point means, noise share, need.

    ``results`` has one row per run with its ``point`` (and ``replication``, when the
    points share seeds); each point has ``replications`` runs. ``replications_needed``
    is NaN when the point means vary no more than noise would make them (no parameter
    effect is visible at this size).
    """
    grouped = results.groupby("point")[outcomes]
    within = grouped.var(ddof=1).mean() if replications > 1 else pd.Series(np.nan, outcomes)
    if replications > 1 and "replication" in results:
        # Common random numbers: a seed's shift shared by every point moves no index; the
        # noise is the point x replication interaction (two-way residual mean square).
        y = results[outcomes]
        rep = results.groupby("replication")[outcomes].transform("mean")
        resid = y - grouped.transform("mean") - rep + y.mean()
        within = (resid**2).sum() / ((results.point.nunique() - 1) * (replications - 1))
    means = grouped.mean().var(ddof=1)
    rows = []
    for outcome in outcomes:
        s2, v = float(within[outcome]), float(means[outcome])
        noise = s2 / replications
        share = noise / v if v > 0 else (math.nan if s2 != s2 else 1.0)
        signal = v - noise
        needed = math.ceil(s2 / (NOISE_TARGET * signal)) if signal > 0 and s2 == s2 else math.nan
        rows.append(
            {
                "outcome": outcome,
                "replications": replications,
                "within_variance": s2,
                "means_variance": v,
                "noise_share": min(share, 1.0) if share == share else math.nan,
                "replications_needed": max(needed, replications) if needed == needed else needed,
            }
        )
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)


def noise_levels(noise: pd.DataFrame, levels: int) -> dict[str, dict[str, float]]:
    """Per outcome, what noise alone gives: ST (its share) and mu* (see the docstring)."""
    delta = levels / (2 * (levels - 1))
    out = {}
    for row in noise.itertuples():
        sd = (
            math.sqrt(row.within_variance / row.replications)
            if row.within_variance == row.within_variance
            else math.nan
        )
        out[row.outcome] = {"ST": row.noise_share, "mu_star": 2 * sd / (math.sqrt(math.pi) * delta)}
    return out


def flag_noise(indices: pd.DataFrame, noise: pd.DataFrame, levels: int = 4) -> pd.DataFrame:
    """``indices`` with ST and mu* flagged "noise" where noise alone could explain them."""
    floors = noise_levels(noise, levels)
    out = indices.copy()
    for i, row in out.iterrows():
        floor = floors.get(row["outcome"], {}).get(row["index"])
        if floor is None or floor != floor or row["flag"]:
            continue
        if row["ci_low"] <= floor:
            out.at[i, "flag"] = "noise"
    return out


def point_means(results: pd.DataFrame, outcomes: list[str], n_points: int) -> pd.DataFrame:
    """Mean of each outcome over the replications of each sample point (rows = points)."""
    means = results.groupby("point")[outcomes].mean()
    return means.reindex(range(n_points))


def _flag(value: float, low: float, high: float) -> str:
    if math.isnan(value):
        return "undefined"
    if value < 0:
        return "negative"
    if low <= 0 <= high:
        return "ci includes 0"
    return ""


def _row(outcome: str, parameter: str, index: str, value: float, conf: float) -> dict:
    low, high = value - conf, value + conf
    return {
        "outcome": outcome,
        "parameter": parameter,
        "index": index,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "flag": _flag(value, low, high),
    }


def load_analysis(method: str) -> None:
    """Import what computing ``method``'s indices needs (SALib's analysis or SciPy).

    Call it before computing indices on several threads: two threads importing the same
    module at once can see it half-initialised.
    """
    if method == "sobol":
        from SALib.analyze import sobol  # noqa: F401
    elif method == "morris":
        from SALib.analyze import morris  # noqa: F401
    else:
        from scipy import stats  # noqa: F401


# Bootstrap resamples of the Sobol' and Morris confidence intervals.
RESAMPLES = 1000


def sobol_indices(
    problem: dict[str, Any], y: np.ndarray, outcome: str, second_order: bool, seed: int
) -> list[dict]:
    """S1 and ST (and S2) of one outcome from a Saltelli design's outputs."""
    from SALib.analyze import sobol as sobol_analyze

    res = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=second_order,
        num_resamples=RESAMPLES,
        conf_level=0.95,
        # SALib draws from numpy's global generator for a seed of 0 (``if seed:``): a
        # generator of the seed is reproducible for 0 too, and the same stream otherwise.
        seed=np.random.default_rng(seed),
    )
    rows = []
    for j, name in enumerate(problem["names"]):
        rows.append(_row(outcome, name, "S1", float(res["S1"][j]), float(res["S1_conf"][j])))
        rows.append(_row(outcome, name, "ST", float(res["ST"][j]), float(res["ST_conf"][j])))
    if second_order:
        names = problem["names"]
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append(
                    _row(
                        outcome,
                        f"{names[i]} x {names[j]}",
                        "S2",
                        float(res["S2"][i, j]),
                        float(res["S2_conf"][i, j]),
                    )
                )
    return rows


def morris_indices(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, outcome: str, levels: int, seed: int
) -> list[dict]:
    """mu* (with its bootstrap interval), mu and sigma of one outcome."""
    from SALib.analyze import morris as morris_analyze

    res = morris_analyze.analyze(
        problem, x, y, num_resamples=RESAMPLES, conf_level=0.95, num_levels=levels, seed=seed
    )
    rows = []
    for j, name in enumerate(problem["names"]):
        rows.append(
            _row(outcome, name, "mu_star", float(res["mu_star"][j]), float(res["mu_star_conf"][j]))
        )
        for key in ("mu", "sigma"):
            v = float(res[key][j])
            rows.append(
                {
                    "outcome": outcome,
                    "parameter": name,
                    "index": key,
                    "value": v,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "flag": "",
                }
            )
    return rows


def rank_correlations(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, outcome: str
) -> list[dict]:
    """Spearman correlation of the outcome with each parameter, Fisher-z 95% interval."""
    from scipy import stats

    rows = []
    n = len(y)
    for j, name in enumerate(problem["names"]):
        if np.ptp(x[:, j]) == 0 or np.ptp(y) == 0:
            rho = math.nan
        else:
            rho = float(stats.spearmanr(x[:, j], y).statistic)
        if n > 3 and not math.isnan(rho) and abs(rho) < 1:
            z, half = math.atanh(rho), 1.96 / math.sqrt(n - 3)
            low, high = math.tanh(z - half), math.tanh(z + half)
        else:
            low = high = rho
        rows.append(
            {
                "outcome": outcome,
                "parameter": name,
                "index": "spearman",
                "value": rho,
                "ci_low": low,
                "ci_high": high,
                "flag": "" if math.isnan(rho) or not low <= 0 <= high else "ci includes 0",
            }
        )
    return rows


def analyse(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y_by_outcome: dict[str, np.ndarray],
    *,
    second_order: bool = False,
    levels: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """Tidy indices for every outcome (columns: :data:`COLUMNS`)."""
    rows: list[dict] = []
    for outcome, y in y_by_outcome.items():
        y = np.asarray(y, dtype=float)
        match method:
            case "sobol":
                rows += sobol_indices(problem, y, outcome, second_order, seed)
            case "morris":
                rows += morris_indices(problem, x, y, outcome, levels, seed)
            case "lhs" | "grid":
                rows += rank_correlations(problem, x, y, outcome)
            case _:
                raise ValueError(f"unknown method {method!r}")
    return pd.DataFrame(rows, columns=COLUMNS)


def importance(indices: pd.DataFrame) -> pd.DataFrame:
    """Per outcome, parameters ranked by ST, mu* or |Spearman| (whichever the method has)."""
    for key in ("ST", "mu_star", "spearman"):
        sel = indices[indices["index"] == key]
        if not sel.empty:
            sel = sel.assign(score=sel["value"].abs())
            return sel.sort_values(["outcome", "score"], ascending=[True, False])
    return indices.iloc[0:0]


def is_sharing_lever(parameter: str) -> bool:
    """Whether a parameter path is a sharing lever (see :data:`SHARING_LEVER_PREFIXES`)."""
    return parameter.startswith(SHARING_LEVER_PREFIXES)


def lever_ranks(indices: pd.DataFrame) -> pd.DataFrame:
    """Where each sharing lever ranks among all parameters, per outcome.

    Parameters are ranked by :func:`importance` (ST, mu* or |Spearman|, whichever the
    method has; largest first). ``rank`` is 1 plus the number of parameters with a larger
    score, so tied parameters share a rank and ``ties`` says with how many others; an
    undefined (NaN) score has no rank (NaN). Columns: ``outcome``, ``parameter``,
    ``index`` (the ranking index), ``value``, ``score``, ``rank``, ``ties``, ``of``
    (parameters ranked for that outcome), ``zero`` (how many of them score exactly 0: no
    measured effect), ``top`` and ``top_score`` (the first-ranked parameter and its
    score). Rows follow the outcomes' order in ``indices`` and, within an outcome, the
    ranking.
    """
    ranked = importance(indices)
    columns = [
        *("outcome", "parameter", "index", "value", "score", "rank", "ties", "of"),
        *("zero", "top", "top_score"),
    ]
    rows = []
    for outcome in indices["outcome"].drop_duplicates():
        sel = ranked[ranked["outcome"] == outcome]
        if sel.empty:
            continue
        scores = sel["score"].to_numpy(dtype=float)
        for row in sel.to_dict("records"):
            if not is_sharing_lever(row["parameter"]):
                continue
            score = float(row["score"])
            defined = not math.isnan(score)
            rows.append(
                {
                    **{k: row[k] for k in ("outcome", "parameter", "index", "value")},
                    "score": score,
                    "rank": int((scores > score).sum()) + 1 if defined else math.nan,
                    "ties": int((scores == score).sum()) - 1 if defined else 0,
                    "of": len(sel),
                    "zero": int((scores == 0).sum()),
                    "top": sel["parameter"].iloc[0],
                    "top_score": float(sel["score"].iloc[0]),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def independent_rows(
    method: str, n_rows: int, n_parameters: int, second_order: bool = False
) -> np.ndarray:
    """Rows of a design that are separate draws, for tests that assume independent points.

    Sobol' (Saltelli): the A and B base rows of each block of D + 2 (2D + 2 with S2) rows;
    the rows between them copy all but one or two of their values. Morris: the first row
    of each trajectory of D + 1 rows (each next row moves one parameter). LHS and grid:
    every row.
    """
    rows = np.arange(n_rows)
    if method == "sobol":
        step = (2 if second_order else 1) * n_parameters + 2
        return rows[(rows % step == 0) | (rows % step == step - 1)]
    if method == "morris":
        return rows[rows % (n_parameters + 1) == 0]
    return rows


def directions(x: pd.DataFrame, y: pd.DataFrame) -> pd.DataFrame:
    """Which way each outcome (column of ``y``) moves with each parameter (column of ``x``).

    +1 or -1: the sign of the Spearman rank correlation over the sample points, where its
    Fisher-z 95% interval excludes 0; else 0 (no monotone association shown, e.g. no
    effect, too few points, or an effect that rises then falls). Rows: outcomes. The
    interval assumes independent points: pass a design's :func:`independent_rows`.
    """
    n = len(x)
    out = pd.DataFrame(0, index=y.columns, columns=x.columns)
    if n < 4:
        return out
    ranks = np.column_stack([x.rank().to_numpy(float), y.rank().to_numpy(float)])
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.corrcoef(ranks, rowvar=False)[x.shape[1] :, : x.shape[1]]
    clear = np.abs(np.arctanh(np.clip(rho, -0.999999, 0.999999))) > 1.96 / math.sqrt(n - 3)
    out[:] = np.where(clear & np.isfinite(rho), np.sign(rho), 0).astype(int)
    return out


def partial_dependence(x: np.ndarray, y: np.ndarray, bins: int = 8) -> pd.DataFrame:
    """Mean outcome (and its standard error) in equal-count bins of one parameter."""
    frame = pd.DataFrame({"x": x, "y": y})
    frame["bin"] = pd.qcut(frame["x"], q=min(bins, frame["x"].nunique()), duplicates="drop")
    grouped = frame.groupby("bin", observed=True)
    return pd.DataFrame(
        {
            "x": grouped["x"].mean(),
            "mean": grouped["y"].mean(),
            "se": grouped["y"].std(ddof=1) / np.sqrt(grouped["y"].count()),
        }
    ).reset_index(drop=True)
