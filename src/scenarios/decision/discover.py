"""Scenario discovery: the region of parameter space where a condition on outcomes holds.

PRIM (the Patient Rule Induction Method; Friedman and Fisher 1999), as implemented in EMA
Workbench's analysis module, peels a box off the sample space of a finished sweep, a
little at a time, keeping the points where the condition holds (the *cases of
interest*). Each step of the peeling trajectory trades *coverage* (the share of all cases
of interest that lie in the box) for *density* (the share of the points in the box that
are cases of interest). We pick the box of highest coverage whose density reaches the
requested level (else the densest), and say it in words.

The condition is a pandas expression over each point's outcome means (the mean over its
replications), e.g. ``attack_risk__russia < 0.2 and ci_exposure__us < 20``; a sweep's
paired effects (``effect:attack_risk__russia``) are written ``effect__attack_risk__russia``
or in their own name, which is translated.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.config import ConfigError

DENSITY = 0.8  # default density the chosen box must reach


@dataclass
class Box:
    """A box of parameter space: its limits on the restricted parameters and its stats."""

    limits: dict[str, tuple[float, float]]  # restricted parameter -> (low, high)
    coverage: float  # share of the cases of interest inside the box
    density: float  # share of the box's points that are cases of interest
    mass: float  # share of all points inside the box
    step: int  # position on the peeling trajectory
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per step


def condition_mask(means: pd.DataFrame, where: str) -> np.ndarray:
    """Evaluate ``where`` on the point means: a boolean per point (ConfigError if bad)."""
    expression = re.sub(r"effect:(\w+)", r"effect__\1", where)
    frame = means.rename(columns=lambda c: c.replace("effect:", "effect__"))
    try:
        result = frame.eval(expression)
    except Exception as exc:  # pandas raises many kinds on a bad expression
        known = ", ".join(frame.columns[:8])
        raise ConfigError(
            f"--where {where!r}: cannot evaluate it on the sweep's outcomes ({type(exc).__name__}: "
            f"{exc}); outcomes: {known}{', ...' if len(frame.columns) > 8 else ''}"
        ) from None
    if not isinstance(result, pd.Series) or result.dtype != bool:
        raise ConfigError(f"--where {where!r}: not a condition (it gives no true/false per point)")
    return result.to_numpy()


def find_box(x: pd.DataFrame, y: np.ndarray, density: float = DENSITY) -> Box:
    """PRIM on points ``x`` (parameter columns) with cases of interest ``y``."""
    if y.sum() == 0:
        raise ConfigError("the condition holds at no sample point: there is nothing to find")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench's notices on optional extras
        try:
            from ema_workbench.analysis import prim
        except ImportError:
            raise ConfigError(
                "scenarios discover needs EMA Workbench (its PRIM): pip install -e '.[discover]'"
            ) from None

    algorithm = prim.Prim(x.reset_index(drop=True), np.asarray(y, dtype=bool), mass_min=0.05)
    box = algorithm.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    good = trajectory.index[trajectory.density >= density]
    step = (
        int(good[trajectory.loc[good, "coverage"].argmax()])
        if len(good)
        else int(trajectory.density.idxmax())
    )
    lims = box.box_lims[step]
    initial = box.box_lims[0]
    limits = {
        name: (float(lims.loc[0, name]), float(lims.loc[1, name]))
        for name in x.columns
        if not np.isclose(lims.loc[0, name], initial.loc[0, name])
        or not np.isclose(lims.loc[1, name], initial.loc[1, name])
    }
    row = trajectory.loc[step]
    return Box(limits, float(row.coverage), float(row.density), float(row.mass), step, trajectory)


def describe(box: Box, bounds: dict[str, tuple[float, float]], where: str) -> str:
    """The box in words: "<where> holds at 84% of the points when `a` is above 0.6 and ..."."""
    parts = []
    for name, (low, high) in box.limits.items():
        lo_b, hi_b = bounds[name]
        above = not np.isclose(low, lo_b)
        below = not np.isclose(high, hi_b)
        if above and below:
            parts.append(f"`{name}` is between {low:.3g} and {high:.3g}")
        elif above:
            parts.append(f"`{name}` is above {low:.3g}")
        elif below:
            parts.append(f"`{name}` is below {high:.3g}")
    where_words = " and ".join(parts) if parts else "anywhere in the sampled ranges"
    return (
        f"`{where}` holds at {box.density:.0%} of the points when {where_words} (density); "
        f"that box holds {box.coverage:.0%} of all the points where it holds (coverage) and "
        f"{box.mass:.0%} of all points."
    )


def discover(sweep_dir: Path, where: str, out: Path, density: float = DENSITY) -> tuple[Box, str]:
    """PRIM on a finished sweep's point means; trajectory.csv, box.csv, report in ``out``."""
    from scenarios.experiment import store
    from scenarios.experiment.executor import DESIGN, read_results
    from scenarios.experiment.sweep import SweepSpec

    manifest = store.read_manifest(sweep_dir)
    if store.manifest_kind(manifest) != "sweep" or manifest.get("status") != "complete":
        raise ConfigError(f"{sweep_dir}: not a finished sweep directory")
    spec = SweepSpec.model_validate(
        {k: v for k, v in manifest["spec"].items() if k in SweepSpec.model_fields}
    )
    design = pd.read_parquet(sweep_dir / DESIGN)
    results = read_results(sweep_dir)
    outcomes = [
        c
        for c in results.columns
        if c not in ("run", "point", "replication", "seed", "draw", "particle")
        and not c.startswith("param:")
    ]
    means = results.groupby("point")[outcomes].mean().reindex(design["point"])
    y = condition_mask(means.reset_index(drop=True), where)
    names = list(spec.parameters)
    x = design[[f"param:{n}" for n in names]].set_axis(names, axis=1)
    box = find_box(x, y, density)
    bounds = {n: (float(x[n].min()), float(x[n].max())) for n in names}
    sentence = describe(box, bounds, where)
    out.mkdir(parents=True, exist_ok=True)
    store.write_atomic(out / "trajectory.csv", box.trajectory.to_csv(index_label="step").encode())
    limits = pd.DataFrame(
        [{"parameter": n, "low": lo, "high": hi} for n, (lo, hi) in box.limits.items()]
    )
    store.write_atomic(out / "box.csv", limits.to_csv(index=False).encode())
    return box, sentence
