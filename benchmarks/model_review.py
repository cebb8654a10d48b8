"""Reproduce the six findings of the model review (F1-F6) with figures, on the new model.

Usage, from the repository root:

    python benchmarks/model_review.py [-n 200] [--seed 20240322] [--only F1,F3] [--workers 2]

Each finding prints one block: every figure, with a reference beside it in brackets:
``[review: ...]`` the review's figure (model as reviewed), ``[before: ...]`` the same
script's figure on the reviewed model (``model_review_before.txt``), ``[record: ...]`` the
historical record, ``[config: ...]`` the configured value, ``[expected: ...]`` what the
overrides imply. The findings:

F1 geography: where the fighters end up, where the attacks fall;
F2 knowledge-blind interdiction: interdictions that needed no intelligence, who interdicts
   (the Taliban crackdown's share), what removing the uninformed hazard does, and what
   ``threat.displacement`` does to the outward shift;
F3 plot lifetimes: mean age of plots at resolution (Kaplan: about 39 weeks);
F4 the value of sharing: trilateral vs baseline (overall and per partner), the structural
   ceiling, and a clean test among trustworthy partners;
F5 common random numbers: how well replications of paired scenarios correlate;
F6 calibration levels against the 2022-2024 record.

Every figure comes from the runner's output columns (``final_strength__<country>``,
``interdicted_by__<actor>``, ``interdicted_without_intelligence``,
``interdicted_after_warning__<actor>``, ``interdicted_with_shared__<source>__<actor>``,
``plot_age_at_attack_mean``, ``plot_age_at_interdiction_mean`` and their ``__domestic`` /
``__abroad`` variants). One fallback remains: without ``final_strength__<country>``
columns, F1 reads the fighters by country from direct ``ScenarioModel`` runs (same seeds
as the runner). The instrumented copy of the old weekly kernel, which supplied the other
figures on the reviewed model, is gone: the new kernels cannot be patched that way and
report those figures themselves. The reviewed model's figures are kept in
``benchmarks/model_review_before.txt``; a figure the model at hand cannot give prints "n/a".

Percent changes are paired by replication: the mean of per-replication differences over
the reference mean, +- the half-width of a 95% t interval of the paired differences.
Every (config, overrides) pair is run once and cached.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from scenarios.config import ConfigError, ScenarioConfig, load_config
from scenarios.experiment.runner import RunResult, run_scenario

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = "baseline.yaml"
HISTORICAL = "historical_2022_2024.yaml"
TRILATERAL = "trilateral.yaml"
FINDINGS = ("F1", "F2", "F3", "F4", "F5", "F6")
KAPLAN_WEEKS = 39.0  # Kaplan (2010): plots live about 9 months
PARTNERS = ("us", "russia", "taliban")

Overrides = tuple[str, ...]
SHORT: dict[str, str] = {}  # long override -> its label in the run log


# ----------------------------------------------------------------------------------------
# Formatting and statistics
# ----------------------------------------------------------------------------------------


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, signed: bool = False, digits: int = 1) -> str:
    """A fraction as a percentage, or "n/a"."""
    if _missing(x):
        return "n/a"
    return f"{100 * x:+.{digits}f}%" if signed else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 1) -> str:
    """A number, or "n/a"."""
    return "n/a" if _missing(x) else f"{x:.{digits}f}"


def row(label: str, value: str, ref: str = "", kind: str = "review") -> None:
    """One figure: label, value, and the reference value (review or record) beside it."""
    tail = f"   [{kind}: {ref}]" if ref else ""
    print(f"  {label:<62} {value:>20}{tail}")


def note(text: str) -> None:
    """An explanatory line under a block."""
    print(f"    ({text})")


def paired_change(ref: pd.Series, alt: pd.Series) -> tuple[float, float] | None:
    """Paired relative change of ``alt`` over ``ref``: (mean change, 95% CI half-width)."""
    a = np.asarray(ref, dtype=float)
    b = np.asarray(alt, dtype=float)
    if len(a) != len(b) or len(a) < 2 or a.mean() == 0:
        return None
    d = b - a
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return float(d.mean() / a.mean()), float(half / abs(a.mean()))


def change_text(change: tuple[float, float] | None) -> str:
    """``-1.3% +- 1.1%`` or "n/a"."""
    if change is None:
        return "n/a"
    return f"{100 * change[0]:+.1f}% ± {100 * change[1]:.1f}%"


def band(values: pd.Series | NDArray[np.float64], digits: int = 0) -> str:
    """Median (5-95% band)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return "n/a"
    q5, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
    return f"{q50:.{digits}f} ({q5:.{digits}f}–{q95:.{digits}f})"


def pooled_share(summary: pd.DataFrame, part: str, whole: str) -> float:
    """``sum(part) / sum(whole)`` over replications, or NaN."""
    if part not in summary or whole not in summary:
        return float("nan")
    total = summary[whole].sum()
    return float(summary[part].sum() / total) if total else float("nan")


# ----------------------------------------------------------------------------------------
# Direct inspection of ScenarioModel runs (worker side): the F1 fallback
# ----------------------------------------------------------------------------------------


def _inspect_chunk(
    config: ScenarioConfig, indices: list[int], seeds: list[int]
) -> list[dict[str, Any]]:
    """Run replications as the runner does, keeping the model to read its final cells."""
    from scenarios.experiment.seeds import replication_sequence
    from scenarios.model.model import ScenarioModel
    from scenarios.model.params import compile_parameters
    from scenarios.model.regions import build_geometry

    geometry = build_geometry(config)
    parameters = compile_parameters(config, geometry)
    n_c = len(geometry.countries)
    out = []
    for i, seed in zip(indices, seeds, strict=True):
        model = ScenarioModel(
            config, replication_sequence(seed), geometry=geometry, parameters=parameters
        )
        columns = model.run()
        cells = model.cells
        live = cells.live_slots()
        by_country = np.bincount(
            model.geometry.country_of[cells.region[live]],
            weights=cells.strength[live].astype(float),
            minlength=n_c,
        )
        out.append(
            {
                "replication": i,
                "attacks_successful": float(np.sum(columns["attacks_successful"])),
                "strength": by_country,
            }
        )
        model.remove_all_agents()
    return out


@dataclass
class Inspection:
    """Final fighters by country, per replication, from direct runs."""

    countries: tuple[str, ...]
    strength: pd.DataFrame  # replication x country
    attacks_successful: pd.Series


# ----------------------------------------------------------------------------------------
# Runs, cached
# ----------------------------------------------------------------------------------------


class Review:
    """Runs each (config, overrides) once, through the runner or by direct inspection."""

    def __init__(self, replications: int, seed: int, workers: int) -> None:
        self.n = replications
        self.seed = seed
        self.workers = workers
        self._configs: dict[tuple[str, Overrides], ScenarioConfig | None] = {}
        self._runs: dict[tuple[str, Overrides], RunResult | None] = {}
        self._inspections: dict[tuple[str, Overrides], Inspection | None] = {}
        self._pool: ProcessPoolExecutor | None = None
        self.log: list[str] = []

    def config(self, name: str, overrides: Overrides = ()) -> ScenarioConfig | None:
        key = (name, overrides)
        if key not in self._configs:
            common = [f"run.replications={self.n}", f"run.seed={self.seed}"]
            try:
                self._configs[key] = load_config(CONFIGS / name, [*common, *overrides])
            except ConfigError as exc:
                print(f"[{name} {' '.join(overrides)}: config rejected: {exc}]", file=sys.stderr)
                self._configs[key] = None
        return self._configs[key]

    def run(self, name: str, overrides: Overrides = ()) -> RunResult | None:
        key = (name, overrides)
        if key not in self._runs:
            cfg = self.config(name, overrides)
            result = None
            if cfg is not None:
                start = time.perf_counter()
                result = run_scenario(cfg, workers=self.workers)
                self._log(f"run {name}", overrides, start)
            self._runs[key] = result
        return self._runs[key]

    def inspect(self, name: str, overrides: Overrides = ()) -> Inspection | None:
        """Direct ScenarioModel runs (same seeds as the runner), or None if unsupported."""
        key = (name, overrides)
        if key not in self._inspections:
            self._inspections[key] = self._inspect(name, overrides)
        return self._inspections[key]

    def _inspect(self, name: str, overrides: Overrides) -> Inspection | None:
        cfg = self.config(name, overrides)
        if cfg is None:
            return None
        from scenarios.experiment.seeds import replication_seeds
        from scenarios.model.regions import build_geometry

        start = time.perf_counter()
        seeds = replication_seeds(cfg.run.seed, cfg.run.replications)
        size = max(1, len(seeds) // (4 * self.workers))
        jobs = [list(range(i, min(len(seeds), i + size))) for i in range(0, len(seeds), size)]
        try:
            if self.workers > 1 and len(jobs) > 1:
                if self._pool is None:
                    context = multiprocessing.get_context("forkserver")
                    self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
                futures = [
                    self._pool.submit(_inspect_chunk, cfg, j, [seeds[i] for i in j]) for j in jobs
                ]
                rows = [r for f in futures for r in f.result()]
            else:
                rows = _inspect_chunk(cfg, list(range(len(seeds))), seeds)
        except (AttributeError, TypeError, ImportError, ValueError, KeyError) as exc:
            print(f"[direct inspection of {name} not possible: {exc!r}]", file=sys.stderr)
            return None
        self._log(f"inspection {name}", overrides, start)
        rows.sort(key=lambda r: r["replication"])
        countries = build_geometry(cfg).countries
        index = pd.Index([r["replication"] for r in rows], name="replication")
        strength = pd.DataFrame([r["strength"] for r in rows], index=index, columns=countries)
        attacks = pd.Series([r["attacks_successful"] for r in rows], index=index)
        return Inspection(tuple(countries), strength, attacks)

    def close(self) -> None:
        """Shut the inspection workers down."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def consistent(self, name: str, overrides: Overrides, inspection: Inspection) -> str:
        """Whether the direct runs reproduce the runner's replications exactly."""
        run = self.run(name, overrides)
        if run is None:
            return "n/a"
        same = np.array_equal(
            run.summary["attacks_successful"].to_numpy(), inspection.attacks_successful.to_numpy()
        )
        return "yes" if same else "NO"

    def _log(self, what: str, overrides: Overrides, start: float) -> None:
        extra = " ".join(SHORT.get(o, o) for o in overrides)
        if len(extra) > 150:
            extra = f"{extra[:147]}..."
        line = f"{what} {extra}".strip() + f": {time.perf_counter() - start:.1f} s"
        self.log.append(line)
        print(f"[{line}]", file=sys.stderr, flush=True)


def countries_of(summary: pd.DataFrame, prefix: str) -> list[str]:
    """Countries (or actors) with a ``<prefix>__<name>`` column, in column order."""
    return [c.split("__", 1)[1] for c in summary.columns if c.startswith(f"{prefix}__")]


def col_sum(summary: pd.DataFrame, prefix: str) -> pd.Series | None:
    """Row sum of every ``<prefix>__*`` column, or None if there is none."""
    cols = [c for c in summary.columns if c.startswith(f"{prefix}__")]
    return summary[cols].sum(axis=1) if cols else None


# ----------------------------------------------------------------------------------------
# F1 geography
# ----------------------------------------------------------------------------------------


def fighter_shares(review: Review, name: str) -> tuple[pd.DataFrame, str] | None:
    """Final fighters by country per replication, and where the figure came from."""
    run = review.run(name)
    if run is None:
        return None
    countries = countries_of(run.summary, "final_strength")
    if countries:
        frame = run.summary[[f"final_strength__{c}" for c in countries]]
        frame.columns = pd.Index(countries)
        return frame, "final_strength__<country> columns"
    inspection = review.inspect(name)
    if inspection is None:
        return None
    source = "direct inspection of ScenarioModel cells; reproduces runner: "
    return inspection.strength, source + review.consistent(name, (), inspection)


def print_shares(review: Review, name: str, refs: dict[str, str]) -> None:
    got = fighter_shares(review, name)
    if got is None:
        row(f"{name}: fighter shares by country", "n/a")
        return
    frame, source = got
    total = frame.sum(axis=1)
    share = frame.div(total.where(total > 0), axis=0)
    print(f"  {name}: final fighters by country (median share over replications)")
    for c in frame.columns:
        row(f"  {c}", pct(float(share[c].median()), digits=0), refs.get(c, ""))
    row("  total fighters at the end, median (5–95%)", band(total))
    note(source)


def finding_1(review: Review) -> None:
    print("F1 Geography: where the fighters end up, where the attacks fall")
    print_shares(
        review,
        HISTORICAL,
        {
            "afghanistan": "0%; record: largest share",
            "pakistan": "56%",
            "central_asia": "32%",
            "iran": "11%",
        },
    )
    print_shares(review, BASELINE, {"pakistan": "69%"})
    run = review.run(BASELINE)
    if run is None:
        row("baseline: share of successful attacks in Pakistan + Iran", "n/a", "61%")
        return
    s = run.summary
    cols = [f"attacks_successful__{c}" for c in ("pakistan", "iran")]
    if all(c in s for c in cols) and s["attacks_successful"].sum() > 0:
        pooled = s[cols].sum().sum() / s["attacks_successful"].sum()
        per_rep = (s[cols].sum(axis=1) / s["attacks_successful"].where(lambda x: x > 0)).median()
    else:
        pooled = per_rep = float("nan")
    row("baseline: successful attacks in Pakistan + Iran (pooled)", pct(pooled, digits=0), "61%")
    row("  same, median over replications", pct(per_rep, digits=0))
    by_country = {
        c: s[f"attacks_successful__{c}"].sum() for c in countries_of(s, "attacks_successful")
    }
    total = sum(by_country.values())
    if total:
        parts = ", ".join(f"{c} {100 * v / total:.0f}%" for c, v in by_country.items())
        note(f"baseline attack shares: {parts}")


# ----------------------------------------------------------------------------------------
# F2 knowledge-blind interdiction
# ----------------------------------------------------------------------------------------


def blind_removal_overrides(cfg: ScenarioConfig) -> Overrides | None:
    """Overrides that switch off the hazard that interdicts plots nobody knows of.

    The reviewed model had two such hazards (crackdown ``plot_disruption`` and
    ``host_security``); the new one has only ``regions.<region>.host_security``.
    """
    out = [
        f"regions.{r}.host_security=0"
        for r, spec in cfg.regions.items()
        if hasattr(spec, "host_security")
    ]
    return tuple(out) or None


def interdiction_decomposition(review: Review, name: str) -> None:
    """Pooled shares of interdictions by actor, and uninformed ones."""
    run = review.run(name)
    label = name.removesuffix(".yaml")
    if run is None or "plots_interdicted" not in run.summary:
        row(f"{label}: interdictions by taliban / all", "n/a")
        return
    s = run.summary
    row(
        f"{label}: interdictions by taliban / all",
        pct(pooled_share(s, "interdicted_by__taliban", "plots_interdicted"), digits=0),
    )
    actors = countries_of(s, "interdicted_by")
    parts = [
        f"{a} {pct(pooled_share(s, f'interdicted_by__{a}', 'plots_interdicted'), digits=1)}"
        for a in actors
    ]
    if "interdicted_without_intelligence" in s:
        uninformed = pooled_share(s, "interdicted_without_intelligence", "plots_interdicted")
        parts.append(f"uninformed {pct(uninformed, digits=1)}")
    note(
        f"interdicted_by__<actor> / plots_interdicted, pooled: {', '.join(parts)}; "
        f"per replication {s['plots_interdicted'].mean():.0f} interdictions"
    )


def finding_2(review: Review) -> None:
    print("F2 Knowledge-blind interdiction")
    run = review.run(BASELINE)
    cfg = review.config(BASELINE)
    if run is not None and "interdicted_without_intelligence" in run.summary:
        s = run.summary
        share = pooled_share(s, "interdicted_without_intelligence", "plots_interdicted")
        row("baseline: interdictions without any intelligence", pct(share, digits=1), "56%")
        row(
            "  per replication: all / without intelligence",
            f"{s['plots_interdicted'].mean():.1f} / "
            f"{s['interdicted_without_intelligence'].mean():.1f}",
            "2098.4 / 1174.7",
            "before",
        )
        note(
            "interdicted_without_intelligence / plots_interdicted, pooled: uninformed "
            "host_security interdictions; every other interdiction is by an actor that knew "
            "of the plot"
        )
    else:
        row("baseline: interdictions without any intelligence", "n/a", "56%")
        note("no interdicted_without_intelligence column")
    # Who interdicts: the crackdown's share.
    interdiction_decomposition(review, BASELINE)
    interdiction_decomposition(review, HISTORICAL)
    # Removing the uninformed hazard.
    ref = "+70%"
    overrides = None if cfg is None else blind_removal_overrides(cfg)
    off = None if run is None or overrides is None else review.run(BASELINE, overrides)
    if run is None or off is None:
        row("successful attacks, blind hazards removed (paired)", "n/a", ref)
    else:
        change = paired_change(run.summary["attacks_successful"], off.summary["attacks_successful"])
        row("successful attacks, blind hazards removed (paired)", change_text(change), ref)
        if "interdicted_without_intelligence" in off.summary:
            left = off.summary["interdicted_without_intelligence"].mean()
            row("  uninformed interdictions left per replication", num(left), "0", "expected")
        note(
            "overrides: host_security=0 for every region; the new model has no crackdown "
            "plot_disruption (the crackdown acts through coverage and reach)"
        )
    # Displacement and the outward shift (historical).
    hist = review.run(HISTORICAL)
    hcfg = review.config(HISTORICAL)
    if hist is None or hcfg is None or not hasattr(hcfg.threat, "displacement"):
        row("historical: outward shift, with vs without displacement", "n/a", "no change")
        return
    nodisp = review.run(HISTORICAL, ("threat.displacement=0",))
    cols = ("share_abroad_first_year", "share_abroad_last_year")
    if nodisp is None or not all(c in hist.summary for c in cols):
        row("historical: outward shift, with vs without displacement", "n/a", "no change")
        return

    def shift(s: pd.DataFrame) -> pd.Series:
        return s["share_abroad_last_year"] - s["share_abroad_first_year"]

    with_d, without_d = shift(hist.summary), shift(nodisp.summary)
    row("historical: median shift abroad, last - first year", pct(with_d.median(), True), "")
    row("  same with threat.displacement=0", pct(without_d.median(), True), "no change")
    d = (without_d - with_d).dropna()
    if len(d) > 1:
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        row(
            "  paired difference of the shift (points)", f"{100 * d.mean():+.1f} ± {100 * half:.1f}"
        )
    a = hist.summary
    b = nodisp.summary
    row(
        "  share abroad in the last year, median: with / without",
        f"{pct(a['share_abroad_last_year'].median(), digits=0)} / "
        f"{pct(b['share_abroad_last_year'].median(), digits=0)}",
    )


# ----------------------------------------------------------------------------------------
# F3 plot lifetimes
# ----------------------------------------------------------------------------------------


def finding_3(review: Review) -> None:
    print("F3 Plot lifetimes")
    run = review.run(BASELINE)
    cfg = review.config(BASELINE)
    if run is None or cfg is None:
        row("baseline: mean plot age at resolution (weeks)", "n/a", "4.2")
        return
    s, ts = run.summary, run.timeseries
    configured = {
        "domestic": getattr(cfg.threat, "plot_lifetime_domestic", None),
        "abroad": getattr(cfg.threat, "plot_lifetime_external", None),
    }
    for label, col, ref in (
        ("attack", "plot_age_at_attack_mean", "4.2 (all plots)"),
        ("interdiction", "plot_age_at_interdiction_mean", ""),
    ):
        row(
            f"baseline: mean plot age at {label} (weeks)",
            num(s[col].mean()) if col in s else "n/a",
            ref,
        )
        for part, mean in configured.items():
            c = f"{col}__{part}"
            cref = f"mean lifetime {mean:g}" if mean is not None and label == "attack" else ""
            row(f"  {part} plots", num(s[c].mean()) if c in s else "n/a", cref, "config")
    note(
        "plot_age_at_*_mean columns, mean over replications; domestic = target in the "
        "origin country. The configured mean is that of the lifetime drawn at birth; plots "
        "that reach it unstopped are a selection (long-lived plots are more often interdicted)"
    )
    little = float("nan")
    if {"live_plots", "plots_started"} <= set(ts.columns):
        started = ts["plots_started"].mean()
        little = ts["live_plots"].mean() / started if started else float("nan")
    row("baseline: mean plot lifetime, Little's law L / lambda (weeks)", num(little), "4.2")
    note("mean live_plots over mean plots_started per week, recorded weeks, all replications")
    row("Kaplan (2010): about 9 months", num(KAPLAN_WEEKS, 0))


# ----------------------------------------------------------------------------------------
# F4 the value of sharing
# ----------------------------------------------------------------------------------------


def policy_override(members: Sequence[str], value: float) -> str:
    """``sharing.policy`` with ``value`` between every ordered pair of ``members``."""
    policy = ", ".join(
        f"{a}: {{{', '.join(f'{b}: {value}' for b in members if b != a)}}}" for a in members
    )
    text = f"sharing.policy={{{policy}}}"
    SHORT[text] = f"sharing.policy=<{value} among {'/'.join(members)}>"
    return text


def ceiling_overrides(cfg: ScenarioConfig, members: Sequence[str]) -> Overrides:
    """Full sharing among ``members`` with no trust throttle, misuse or leakage."""
    out = [policy_override(members, 1.0)]
    if hasattr(cfg.sharing, "trust_sensitivity"):
        out.append("sharing.trust_sensitivity=0.01")
    else:
        out += ["trust.default=1.0", "trust.initial={}"]
    if hasattr(cfg, "exploitation"):
        out.append("exploitation={}")
    if hasattr(getattr(cfg, "counterintelligence", None), "leakage"):
        out.append("counterintelligence.leakage={}")
    return tuple(out)


# Trustworthy partners: high uniform trust, no misuse, no leakage to the threat.
TRUSTWORTHY: Overrides = (
    "trust.initial={}",
    "trust.default=0.9",
    "exploitation={}",
    "counterintelligence.leakage={}",
)


def credited_to_shared(review: Review, name: str, overrides: Overrides = ()) -> tuple[str, str]:
    """Interdictions credited to shared material per replication, and its source."""
    run = review.run(name, overrides)
    if run is None:
        return "n/a", "did not run"
    s = run.summary
    shared = col_sum(s, "interdicted_with_shared")
    if shared is None:
        return "n/a", "no interdicted_with_shared__* columns"
    warned = col_sum(s, "interdicted_after_warning")
    tail = "" if warned is None else f"; another {warned.mean():.1f} came via a heeded warning"
    return num(shared.mean()), f"interdicted_with_shared__*{tail} (interdicted_after_warning__*)"


def finding_4(review: Review) -> None:
    print("F4 The value of sharing (paired changes of successful attacks vs baseline)")
    base = review.run(BASELINE)
    tri = review.run(TRILATERAL)
    cfg = review.config(BASELINE)
    if base is None or cfg is None:
        print("  n/a: baseline did not run")
        return
    a = base.summary
    if tri is not None:
        b = tri.summary
        row(
            "trilateral: all successful attacks",
            change_text(paired_change(a["attacks_successful"], b["attacks_successful"])),
            "-1.3% ± 1.1%",
        )
        col = "attacks_successful__russia"
        ru = paired_change(a[col], b[col]) if col in a and col in b else None
        row("trilateral: successful attacks in Russia", change_text(ru), "-0.6% ± 7%")
        print("  trilateral vs baseline, per partner's territory")
        levels = []
        for country in ("afghanistan", "russia", "west"):
            for prefix, what in (("attacks_successful", "attacks"), ("attack_risk", "attack_risk")):
                c = f"{prefix}__{country}"
                change = paired_change(a[c], b[c]) if c in a and c in b else None
                row(f"    {country}: {what}", change_text(change))
                if c in a:
                    levels.append(f"{what} {country} {a[c].mean():.2f}")
        note(
            "attack_risk = share of years with a mass-casualty attack there; baseline means: "
            + ", ".join(levels)
        )
    else:
        row("trilateral: all successful attacks", "n/a", "-1.3% ± 1.1%")
    actors = list(cfg.actors)
    three = [x for x in PARTNERS if x in actors]
    five = [x for x in (*PARTNERS, "iran", "pakistan") if x in actors]
    ceilings = (
        ("ceiling: full sharing us/russia/taliban", three, "-7.7%"),
        ("ceiling: pooling among all five actors", five, "-25.5%"),
    )
    for label, members, ref in ceilings:
        over = ceiling_overrides(cfg, members)
        run = review.run(BASELINE, over)
        change = None
        if run is not None:
            change = paired_change(a["attacks_successful"], run.summary["attacks_successful"])
        row(label, change_text(change), ref)
    note(
        "ceiling = baseline + sharing.policy 1.0 among the members, trust throttle off "
        "(trust_sensitivity=0.01), exploitation={}, counterintelligence.leakage={}"
    )
    # Clean test: trustworthy partners, full sharing vs none, everything else equal.
    full_over = (policy_override(three, 1.0), *TRUSTWORTHY)
    none_over = (policy_override(three, 0.0), *TRUSTWORTHY)
    full, none = review.run(BASELINE, full_over), review.run(BASELINE, none_over)
    print("  trustworthy partners: policy 1.0 vs 0 among us/russia/taliban (paired)")
    for label, col in (
        ("successful attacks in Russia", "attacks_successful__russia"),
        ("all successful attacks", "attacks_successful"),
    ):
        change = None
        if full is not None and none is not None and col in full.summary:
            change = paired_change(none.summary[col], full.summary[col])
        row(f"    {label}", change_text(change))
        if change is not None:
            excludes = abs(change[0]) > change[1]
            note(
                f"means {none.summary[col].mean():.2f} without, {full.summary[col].mean():.2f} "
                f"with sharing; 95% CI excludes 0: {'yes' if excludes else 'no'}"
            )
    note(
        "both arms: baseline + " + " ".join(TRUSTWORTHY) + "; trust throttle as configured "
        "(share probability = policy x trust)"
    )
    print("  interdictions credited to shared material, per replication (mean)")
    for label, name, over, ref, kind in (
        ("trilateral", TRILATERAL, (), "88.5", "review"),
        ("ceiling, three actors", BASELINE, ceiling_overrides(cfg, three), "243.7", "before"),
        ("ceiling, five actors", BASELINE, ceiling_overrides(cfg, five), "629.2", "before"),
        ("trustworthy partners, full sharing", BASELINE, full_over, "", ""),
    ):
        value, source = credited_to_shared(review, name, over)
        row(f"  {label}", value, ref, kind)
        note(source)
    if tri is not None:
        shared = col_sum(tri.summary, "shared")
        if shared is not None:
            row(
                "  trilateral: items shared per replication (mean)",
                num(shared.mean()),
                "378.0",
                "before",
            )


# ----------------------------------------------------------------------------------------
# F5 common random numbers
# ----------------------------------------------------------------------------------------


def finding_5(review: Review) -> None:
    print("F5 Common random numbers: baseline vs trilateral, replication by replication")
    base, tri = review.run(BASELINE), review.run(TRILATERAL)
    refs = {
        "attacks_successful": "0.50",
        "attacks_successful__russia": "0.04",
        "attacks_successful__afghanistan": "",
    }
    for col, ref in refs.items():
        if base is None or tri is None or col not in base.summary or col not in tri.summary:
            row(f"{col}: Pearson r", "n/a", ref)
            continue
        x = base.summary[col].to_numpy(float)
        y = tri.summary[col].to_numpy(float)
        same = np.array_equal(base.summary["seed"], tri.summary["seed"])
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() and y.std() else float("nan")
        vd = np.var(y - x, ddof=1)
        gain = (np.var(x, ddof=1) + np.var(y, ddof=1)) / vd if vd else float("nan")
        row(f"{col}: Pearson r", num(r, 2), ref)
        row("  variance reduction (var a + var b) / var(b - a)", num(gain, 2))
        if not same:
            note("replication seeds differ between the two runs")
    note("variance reduction 1.0 = no gain from pairing; 1 / (1 - r) for equal variances")


# ----------------------------------------------------------------------------------------
# F6 calibration levels
# ----------------------------------------------------------------------------------------


def window_totals(ts: pd.DataFrame, col: str, start: str, end: str) -> pd.Series:
    """Per-replication sum of ``col`` over weeks dated within [start, end]."""
    mask = (ts["date"] >= pd.Timestamp(start)) & (ts["date"] <= pd.Timestamp(end))
    reps = pd.Index(sorted(ts["replication"].unique()))
    return ts.loc[mask].groupby("replication")[col].sum().reindex(reps, fill_value=0.0)


def finding_6(review: Review) -> None:
    print("F6 Calibration levels, historical 2022-2024 (median, 5–95% band)")
    run = review.run(HISTORICAL)
    if run is None:
        print("  n/a: historical did not run")
        return
    s, ts = run.summary, run.timeseries
    col = "attacks_successful__afghanistan"
    if "date" in ts and col in ts:
        for label, start, end, ref in (
            ("Afghanistan, 2023-08-01..2023-11-07", "2023-08-01", "2023-11-07", "3; record 8"),
            ("Afghanistan, 2022-08-01..2022-11-07", "2022-08-01", "2022-11-07", "record 27"),
        ):
            row(f"successful attacks, {label}", band(window_totals(ts, col, start, end)), ref)
    else:
        row("successful attacks in Afghanistan, windows", "n/a", "3 vs 8; 27")
    col = "fatalities__afghanistan"
    if "date" in ts and col in ts:
        deaths = window_totals(ts, col, "2022-01-01", "2022-12-31")
        row(
            "deaths in Afghanistan, calendar 2022",
            band(deaths),
            "GTI 2023: IS-K caused 422",
            "record",
        )
    else:
        row("deaths in Afghanistan, calendar 2022", "n/a", "GTI 2023: IS-K caused 422", "record")
    if "date" in ts and "attacks_successful" in ts:
        year = ts.assign(year=ts["date"].dt.year)
        total = year[year["year"] == 2024].groupby("replication")["attacks_successful"].sum()
        row(
            "successful attacks, calendar 2024, all countries", band(total), "43 (30–54); record 60"
        )
        by_year = (
            year.groupby(["replication", "year"])[
                [c for c in ts.columns if c.startswith("attacks_successful__")]
            ]
            .sum()
            .groupby("year")
            .median()
        )
        by_year.columns = [c.split("__", 1)[1] for c in by_year.columns]
        print("  median successful attacks per calendar year and country:")
        print("\n".join("    " + line for line in by_year.round(1).to_string().splitlines()))
    end = ts["date"].max().date() if "date" in ts and len(ts) else "the last week"
    for label, col, ref in (
        (
            "strength at the end of 2024, Afghanistan",
            "final_strength__afghanistan",
            "UN 2025: ~2000",
        ),
        ("strength at the end of 2024, all countries", "final_strength", "band 1,500–6,000"),
    ):
        row(label, band(s[col]) if col in s else "n/a", ref, "record")
    note(f"final_strength* columns: fighters at the end of the week starting {end}")
    print(
        "  mass-casualty attacks despite a warning (mean per replication; "
        "share of replications with >= 1)"
    )
    countries = countries_of(s, "mass_casualty_despite_warning")
    refs = {"pakistan": "most", "iran": "~never", "russia": "~never"}
    for c in countries:
        v = s[f"mass_casualty_despite_warning__{c}"]
        row(f"  {c}", f"{v.mean():.2f}; {pct((v >= 1).mean(), digits=0)}", refs.get(c, ""))
    if not countries:
        row("  by country", "n/a")
    note(
        "mass_casualty_despite_warning counts attacks on plots about which any warning was "
        "sent, heeded or not (the reviewed model's 'ignored' split came from its "
        "instrumented kernel and is not available)"
    )


# ----------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[Review], None]] = {
    "F1": finding_1,
    "F2": finding_2,
    "F3": finding_3,
    "F4": finding_4,
    "F5": finding_5,
    "F6": finding_6,
}


def parse_only(text: str | None) -> list[str]:
    """``F1,F3`` -> ["F1", "F3"]; all findings when empty."""
    if not text:
        return list(FINDINGS)
    chosen = [t.strip().upper() for t in text.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in RUNNERS]
    if unknown:
        raise SystemExit(f"--only: unknown finding(s) {', '.join(unknown)}; use F1..F6")
    return [f for f in FINDINGS if f in chosen]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--replications", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240322)
    parser.add_argument("--only", default=None, help="comma-separated findings, e.g. F1,F3")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    findings = parse_only(args.only)
    start = time.perf_counter()
    import scenarios

    print(
        f"Model review: {', '.join(findings)}; {args.replications} replications, "
        f"root seed {args.seed}; scenarios from {Path(scenarios.__file__).parent}"
    )
    review = Review(args.replications, args.seed, args.workers)
    try:
        for f in findings:
            print()
            RUNNERS[f](review)
    finally:
        review.close()
    print()
    print(f"runs: {len(review.log)}; total time {time.perf_counter() - start:.0f} s")
    for line in review.log:
        print(f"  {line}")


if __name__ == "__main__":
    main()
