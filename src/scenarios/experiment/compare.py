"""Compare stored runs: estimates per scenario, differences against a baseline, precision.

Reads run directories only (never runs a model). Runs are comparable when they have the
same horizon and the same outcome columns (hence the same countries and actors). When
two runs used the same replication seeds (common random numbers) their differences are
paired; otherwise Welch's unpaired interval is used, and the method is reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from scenarios.experiment import store
from scenarios.experiment.ensemble import recorded_ensemble
from scenarios.experiment.errors import CompareError
from scenarios.experiment.stats import (
    Estimate,
    clustered_mean_ci,
    clustered_rate_ci,
    mean_ci,
    paired_difference,
    pairing_variance_reduction,
    q_values,
    replications_needed,
    variance_components,
    welch_difference,
    wilson,
)
from scenarios.labels import territory_label

if TYPE_CHECKING:
    from scenarios.report.weekly import Weekly

RISK_PREFIX = "attack_risk__"
# summary.parquet columns that say which replication it is, not what happened in it
# (draw and particle: runs over a posterior ensemble).
NOT_OUTCOMES = frozenset({"replication", "seed", "draw", "particle"})
CORE_ACTORS = ("us", "russia", "taliban")
# Outcomes kept per target country (``<prefix><country>``), which can be labelled by territory.
COUNTRY_PREFIXES = (
    "attacks_successful__",
    "attacks_attempted__",
    RISK_PREFIX,
    "fatalities__",
    "mass_casualty_attacks__",
    "attack_change__",
    "final_strength__",
)


def territories(config: Any) -> dict[str, list[str]]:
    """Actor -> countries of the regions under its jurisdiction, in the config's actor order.

    ``config`` is a resolved config as a mapping (``StoredRun.config``, a manifest's
    ``config``) or a ``ScenarioConfig``. Actors holding no region are left out.
    """
    if hasattr(config, "model_dump"):
        config = config.model_dump(mode="json")
    found: dict[str, list[str]] = {str(a): [] for a in config.get("actors", {})}
    for region in config.get("regions", {}).values():
        actor, country = region.get("jurisdiction"), region.get("country")
        if actor in found and country is not None and str(country) not in found[actor]:
            found[actor].append(str(country))
    return {actor: countries for actor, countries in found.items() if countries}


def country_labels(territory: Mapping[str, list[str]]) -> dict[str, str]:
    """Country -> "country (actor)" for every actor's territory, in actor order."""
    holders: dict[str, list[str]] = {}
    for actor, countries in territory.items():
        for country in countries:
            holders.setdefault(country, []).append(actor)
    return {c: f"{c} ({', '.join(actors)})" for c, actors in holders.items()}


def outcome_label(outcome: str, territory: Mapping[str, list[str]]) -> str:
    """The outcome's human label, with the actor whose territory it is kept for.

    From :mod:`scenarios.labels`, e.g. "Attacks in the West (US)".
    """
    return territory_label(outcome, territory)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class _StoredRegion(_Lenient):
    country: StrictStr
    jurisdiction: StrictStr | None = None


class _StoredConfig(_Lenient):
    """The parts of a run's recorded config that a comparison reads."""

    run: dict[str, Any]
    actors: dict[str, Any]
    regions: dict[str, _StoredRegion]


class RunManifest(_Lenient):
    """The keys of a finished run's manifest.json that a comparison reads, and their types."""

    kind: Literal["run"] | None = None  # None: written before manifests had a kind
    scenario: StrictStr
    label: StrictStr | None = None
    steps: StrictInt
    replication_seeds: list[StrictInt]
    config: _StoredConfig


@dataclass
class StoredRun:
    """A finished run directory, read from disk."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    _timeseries: pd.DataFrame | None = field(default=None, repr=False)
    _weekly: Weekly | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """The scenario name (or the directory name when names collide)."""
        return str(self.manifest.get("label") or self.manifest["scenario"])

    @property
    def seeds(self) -> list[int]:
        """Per-replication seeds."""
        return [int(s) for s in self.manifest.get("replication_seeds", [])]

    @property
    def has_timeseries(self) -> bool:
        """Whether the run kept its weekly series (not written with ``--no-timeseries``)."""
        return store.has_timeseries(self.manifest)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Every weekly outcome of every replication (read on first use; large runs: big).

        Figures use :attr:`weekly`, which reads one column at a time. CompareError if the
        run kept no timeseries.
        """
        if self._timeseries is None:
            self._require_timeseries()
            self._timeseries = pd.read_parquet(self.path / store.TIMESERIES)
        return self._timeseries

    @property
    def weekly(self) -> Weekly | None:
        """The weekly series, read one column at a time; None if the run kept none."""
        if not self.has_timeseries:
            return None
        if self._weekly is None:
            from scenarios.report.weekly import ParquetWeekly

            self._require_timeseries()
            self._weekly = ParquetWeekly(self.path / store.TIMESERIES)
        return self._weekly

    def _require_timeseries(self) -> None:
        if not self.has_timeseries:
            raise CompareError(
                f"{self.path}: this run kept no weekly series (it was run with "
                f"--no-timeseries, run.timeseries: false), so it has no {store.TIMESERIES}; "
                "re-run it without that option to compare weekly series"
            )
        if not (self.path / store.TIMESERIES).is_file():
            raise CompareError(f"{self.path}: {store.TIMESERIES} is missing; re-run it")

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config recorded in the manifest."""
        return dict(self.manifest.get("config", {}))


def load_run(path: Path) -> StoredRun:
    """Read a complete run directory; refuse anything else with a clear message."""
    if not path.is_dir():
        raise CompareError(f"{path}: not a run directory (does not exist)")
    manifest_path = path / store.MANIFEST
    if not manifest_path.exists():
        raise CompareError(f"{path}: no {store.MANIFEST}; is this a run directory?")
    manifest = store.read_manifest(path)  # ManifestError (a CompareError) if damaged
    kind = store.manifest_kind(manifest)
    if kind in store.KINDS and kind != "run":
        hint = "; its runs are in runs/<label>" if kind == "experiment" else ""
        raise CompareError(f"{path}: is a {kind} directory, not a run directory{hint}")
    if manifest.get("status") != "complete":
        raise CompareError(
            f"{path}: run status is {manifest.get('status')!r}, not 'complete'; re-run it"
        )
    store.manifest_fields(RunManifest, manifest, path)
    try:
        summary = pd.read_parquet(path / store.SUMMARY)
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path / store.SUMMARY}: unreadable ({exc})") from None
    run = StoredRun(path, manifest, summary)
    if run.has_timeseries and not (path / store.TIMESERIES).is_file():
        raise CompareError(f"{path}: {store.TIMESERIES} is missing; re-run it")
    return run


def check_comparable(runs: list[StoredRun]) -> None:
    """Refuse runs with different horizons, outcomes or regions."""
    if len(runs) < 2:
        raise CompareError("compare needs at least two run directories")
    first = runs[0]
    columns = set(first.summary.columns) - NOT_OUTCOMES
    for run in runs[1:]:
        if run.manifest.get("steps") != first.manifest.get("steps"):
            raise CompareError(
                f"different horizons: {first.path} has {first.manifest.get('steps')} weeks, "
                f"{run.path} has {run.manifest.get('steps')}; compare runs of equal length"
            )
        start_a = first.config.get("run", {}).get("start")
        start_b = run.config.get("run", {}).get("start")
        if start_a != start_b:
            raise CompareError(
                f"different start dates: {first.path} starts {start_a}, {run.path} {start_b}"
            )
        other = set(run.summary.columns) - NOT_OUTCOMES
        if other != columns:
            only_a = sorted(columns - other)[:5]
            only_b = sorted(other - columns)[:5]
            raise CompareError(
                f"different outcomes (regions, countries or actors differ): {first.path} "
                f"has {only_a or 'nothing extra'}, {run.path} has {only_b or 'nothing extra'}"
            )
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        for run in runs:
            run.manifest["label"] = run.path.name


def default_outcomes(
    summary: pd.DataFrame, territory: Mapping[str, list[str]] | None = None
) -> list[str]:
    """Outcomes an analyst compares first: attacks, deaths, risk, exposure, trust.

    With ``territory`` (see :func:`territories`), successful attacks and attack risk on
    each actor's territory follow the totals, in actor order.
    """
    cols = set(summary.columns)
    home = list(country_labels(territory or {}))
    picks = ["attacks_successful"]
    picks += [f"attacks_successful__{c}" for c in home]
    picks += ["fatalities", "mass_casualty_attacks", "share_interdicted"]
    picks += [f"{RISK_PREFIX}{c}" for c in home]
    picks += sorted(c for c in cols if c.startswith(RISK_PREFIX) and c not in picks)
    picks += [f"ci_exposure__{a}" for a in CORE_ACTORS if f"ci_exposure__{a}" in cols]
    picks += [
        f"final_trust__{a}__{b}"
        for a in CORE_ACTORS
        for b in CORE_ACTORS
        if a != b and f"final_trust__{a}__{b}" in cols
    ]
    return [p for p in picks if p in cols]


def is_event(outcome: str) -> bool:
    """Event outcomes are probabilities estimated from replication-years."""
    return outcome.startswith(RISK_PREFIX)


def attack_risk(summary: pd.DataFrame, country: str) -> Estimate:
    """Share of simulated years with a mass-casualty attack in ``country``, pooled.

    Wilson interval over replication-years; over a posterior ensemble (a ``draw``
    column) the cluster-robust interval over parameter draws instead.
    """
    hits = summary[f"mass_casualty_years__{country}"].to_numpy(dtype=float)
    years = summary["years"].to_numpy(dtype=float)
    if "draw" in summary:
        return clustered_rate_ci(hits, years, summary["draw"].to_numpy())
    return wilson(float(hits.sum()), float(years.sum()))


def estimate(summary: pd.DataFrame, outcome: str) -> tuple[Estimate, str]:
    """Point estimate and 95% interval of one outcome for one run, and the method.

    Over a posterior ensemble (a ``draw`` column) the interval counts each parameter
    draw as one unit ("t over draws", "cluster over draws"): replications of one draw
    share their parameters and are not independent.
    """
    draws = summary["draw"].to_numpy() if "draw" in summary else None
    if is_event(outcome):
        country = outcome.removeprefix(RISK_PREFIX)
        if draws is not None:
            return attack_risk(summary, country), "cluster over draws"
        return attack_risk(summary, country), "Wilson"
    if draws is not None:
        return clustered_mean_ci(summary[outcome].to_numpy(dtype=float), draws), "t over draws"
    return mean_ci(summary[outcome].to_numpy()), "t"


Verdict = Literal["lower", "higher", "cannot be told apart"]
FALSE_DISCOVERY_RATE = 0.05  # differences called clear: q < this (Benjamini-Hochberg)


@dataclass(frozen=True)
class Effect:
    """One scenario against the baseline on one outcome, with what can be said of it.

    ``verdict`` is lower or higher when the difference's Benjamini-Hochberg q-value over
    every difference of the comparison is below :data:`FALSE_DISCOVERY_RATE`, otherwise
    "cannot be told apart". ``size`` is the difference worth telling (the precision
    asked for: a share of the baseline level for means, absolute for probabilities) and
    ``needed`` the replications whose interval would be that narrow. The relative change
    is shown only when ``relative_supported``: the baseline level is clear of zero with an
    interval no wider than half of it; otherwise read the absolute difference.
    """

    scenario: str
    outcome: str
    baseline: Estimate
    level: Estimate
    diff: Estimate
    relative: Estimate
    method: str
    p_value: float
    q_value: float
    size: float
    needed: int
    variance_reduction: float
    # Over a shared posterior ensemble: shares of the difference's variance over
    # replications from the parameters (between draws) and from chance (within draws).
    parameter_share: float = math.nan
    chance_share: float = math.nan
    # Replications per unit of ``diff.n``: over an ensemble the difference is estimated from
    # per-draw means (``diff.n`` draws of this many replications each), otherwise 1.
    per_unit: int = 1

    @property
    def replications(self) -> int:
        """The replications behind the difference."""
        return self.diff.n * self.per_unit

    @property
    def verdict(self) -> Verdict:
        """Lower / higher / cannot be told apart at this number of replications."""
        if math.isnan(self.q_value) or self.q_value >= FALSE_DISCOVERY_RATE:
            return "cannot be told apart"
        return "lower" if self.diff.value < 0 else "higher"

    @property
    def relative_supported(self) -> bool:
        """Whether the baseline level supports a relative change (see the class)."""
        b = self.baseline
        return b.value > 0 and b.low > 0 and b.half_width <= 0.5 * b.value

    @property
    def too_imprecise(self) -> bool:
        """The interval of the difference is wider than ``+/- size`` and not clear."""
        return self.verdict == "cannot be told apart" and self.needed > self.replications


@dataclass(frozen=True)
class PrecisionWarning:
    """A difference that cannot be told from zero, and the replications that could."""

    scenario: str
    outcome: str
    label: str
    half_width: float
    wanted: float
    replications: int
    needed: int

    def message(self) -> str:
        """One short line for the terminal and the report."""
        return (
            f"{self.scenario}, {self.label}: difference +/- {self.half_width:.3g}; about "
            f"{self.needed:,} replications (have {self.replications:,}) to tell a "
            f"difference of {self.wanted:.3g}"
        )


TABLE_COLUMNS = [
    "scenario",
    "outcome",
    "statistic",
    "value",
    "ci_low",
    "ci_high",
    "method",
    "n",
    "variance_reduction",
    "p_value",
    "q_value",
    "verdict",
    "replications_needed",
    "note",
]
# Added to comparison.csv when scenarios ran over one posterior ensemble (difference rows).
ENSEMBLE_COLUMNS = ["parameter_share", "chance_share"]
RELATIVE_NOTE = "baseline level too small or imprecise for a relative change: read difference"


@dataclass
class Comparison:
    """Everything `compare` computes, as a tidy table plus warnings."""

    runs: list[StoredRun]
    baseline: StoredRun
    outcomes: list[str]
    table: pd.DataFrame  # columns TABLE_COLUMNS, one row per statistic
    warnings: list[PrecisionWarning]
    paired: dict[str, bool]  # scenario label -> paired with the baseline?
    territory: dict[str, list[str]] = field(default_factory=dict)  # actor -> countries
    effects: list[Effect] = field(default_factory=list)  # every scenario x outcome difference
    # The posterior ensemble the baseline ran over (its manifest's record), None if none.
    ensemble: dict[str, Any] | None = None
    # Scenario labels paired with the baseline over that same ensemble (shares computed).
    ensemble_paired: list[str] = field(default_factory=list)

    def label(self, outcome: str) -> str:
        """The outcome's human label, with the actor whose territory it is kept for."""
        return outcome_label(outcome, self.territory)

    def others(self) -> list[str]:
        """Labels of the scenarios compared with the baseline, in order."""
        return [run.label for run in self.runs if run is not self.baseline]

    def effect(self, scenario: str, outcome: str) -> Effect:
        """The difference of ``scenario`` from the baseline on ``outcome`` (KeyError if none)."""
        for e in self.effects:
            if e.scenario == scenario and e.outcome == outcome:
                return e
        raise KeyError((scenario, outcome))

    def without_timeseries(self) -> list[str]:
        """Labels of the runs that kept no weekly series (written with ``--no-timeseries``)."""
        return [run.label for run in self.runs if not run.has_timeseries]

    def timeseries_note(self) -> str | None:
        """Why the weekly figures are left out of the comparison; None if they are not."""
        missing = self.without_timeseries()
        if not missing:
            return None
        return (
            f"Weekly figures (envelopes over time, trust trajectories) are left out: "
            f"{', '.join(missing)} kept no {store.TIMESERIES} (run with --no-timeseries, "
            "run.timeseries: false). The outcomes compared come from summary.parquet and "
            "are unaffected; re-run those scenarios without that option for weekly figures."
        )

    def variance_reduction(self, scenario: str, outcome: str) -> float:
        """Variance reduction pairing achieved for this difference (NaN when unpaired)."""
        return float(self.value(scenario, outcome, "difference").variance_reduction)

    def value(self, scenario: str, outcome: str, statistic: str) -> pd.Series:
        """One row of the table (value, ci_low, ci_high, method, n, variance_reduction)."""
        t = self.table
        row = t[(t.scenario == scenario) & (t.outcome == outcome) & (t.statistic == statistic)]
        if row.empty:
            raise KeyError((scenario, outcome, statistic))
        return row.iloc[0]


def compare(
    runs: list[StoredRun],
    baseline: StoredRun | None = None,
    outcomes: list[str] | None = None,
    precision: float = 0.1,
    probability_precision: float = 0.05,
) -> Comparison:
    """Estimates, differences against the baseline, verdicts and precision checks.

    Every scenario's difference from the baseline on every outcome is one test; their
    p-values are adjusted together (Benjamini-Hochberg) for the verdicts. A difference
    that cannot be told apart and whose interval is wider than the size worth telling
    gives a :class:`PrecisionWarning` with the replications that would tell it.

    Args:
        runs: comparable runs (checked here).
        baseline: the reference run (default: the first).
        outcomes: summary columns to compare (default: :func:`default_outcomes`).
        precision: difference worth telling for a mean, relative to the baseline level
            (0 < precision; 0.1 = a tenth of the baseline).
        probability_precision: difference worth telling for a probability (absolute).
    """
    check_comparable(runs)
    base = baseline or runs[0]
    territory = territories(base.config)
    chosen = outcomes or default_outcomes(base.summary, territory)
    missing = [o for o in chosen if o not in base.summary.columns and not is_event(o)]
    missing += [
        o
        for o in chosen
        if is_event(o) and f"mass_casualty_years__{o.removeprefix(RISK_PREFIX)}" not in base.summary
    ]
    if missing:
        known = ", ".join(default_outcomes(base.summary, territory)[:8])
        raise CompareError(
            f"--outcomes: unknown outcome(s) {', '.join(missing)}; outcomes are summary.parquet "
            f"columns, e.g. {known}"
        )
    rows: list[dict[str, Any]] = []
    paired: dict[str, bool] = {}
    pending: list[tuple[dict[str, Any], dict[str, Any], Effect]] = []
    ensemble_paired: list[str] = []
    for run in runs:
        is_paired = run.seeds == base.seeds and len(run.seeds) == len(run.summary)
        paired[run.label] = is_paired
        draws = shared_draws(base, run) if is_paired and run is not base else None
        if draws is not None:
            ensemble_paired.append(run.label)
        for outcome in chosen:
            est, method = estimate(run.summary, outcome)
            rows.append(
                _row(
                    run.label, outcome, "probability" if is_event(outcome) else "mean", est, method
                )
            )
            if not is_event(outcome):
                rows.append(_spread_row(run.label, outcome, run.summary[outcome].dropna()))
            if run is base:
                continue
            series = _per_replication(run.summary, outcome)
            base_series = _per_replication(base.summary, outcome)
            per_unit = 1
            if draws is not None:
                # replications of one parameter draw are not independent: the interval
                # and test are those of the per-draw means (one value per draw)
                diff = paired_difference(draw_means(base_series, draws), draw_means(series, draws))
                per_unit = max(1, round(len(series) / max(diff.diff.n, 1)))
            else:
                diff = (paired_difference if is_paired else welch_difference)(base_series, series)
            base_est = estimate(base.summary, outcome)[0]
            size = (
                probability_precision
                if is_event(outcome)
                else precision * (abs(base_est.value) or abs(est.value))
            )
            effect = Effect(
                scenario=run.label,
                outcome=outcome,
                baseline=base_est,
                level=est,
                diff=diff.diff,
                relative=diff.relative,
                method=diff.method,
                p_value=diff.p_value,
                q_value=math.nan,
                size=size,
                needed=(replications_needed(diff.diff, size) if size > 0 else diff.diff.n)
                * per_unit,
                variance_reduction=(
                    pairing_variance_reduction(base_series, series) if is_paired else math.nan
                ),
                per_unit=per_unit,
            )
            if draws is not None:
                split = variance_components(series - base_series, draws)
                effect = replace(
                    effect,
                    parameter_share=split.parameter_share,
                    chance_share=split.chance_share,
                )
            difference = _row(run.label, outcome, "difference", diff.diff, diff.method)
            relative = _row(
                run.label, outcome, "relative_change", diff.relative, f"{diff.method}, bootstrap"
            )
            rows += [difference, relative]
            pending.append((difference, relative, effect))
    effects = []
    for (difference, relative, effect), q in zip(
        pending, q_values([e.p_value for _, _, e in pending]), strict=True
    ):
        effect = replace(effect, q_value=q)
        effects.append(effect)
        if ensemble_paired:
            difference.update(
                parameter_share=effect.parameter_share, chance_share=effect.chance_share
            )
        difference.update(
            variance_reduction=effect.variance_reduction,
            p_value=effect.p_value,
            q_value=q,
            verdict=effect.verdict,
            replications_needed=effect.needed,
        )
        if not effect.relative_supported:
            relative["note"] = RELATIVE_NOTE
    warnings = [
        PrecisionWarning(
            e.scenario,
            e.outcome,
            outcome_label(e.outcome, territory),
            e.diff.half_width,
            e.size,
            e.replications,
            e.needed,
        )
        for e in effects
        if e.too_imprecise
    ]
    columns = TABLE_COLUMNS + (ENSEMBLE_COLUMNS if ensemble_paired else [])
    table = pd.DataFrame(rows, columns=columns)
    for text in ("verdict", "note"):
        table[text] = table[text].astype(object).where(table[text].notna(), "")
    table["replications_needed"] = table["replications_needed"].astype("Int64")
    return Comparison(
        runs,
        base,
        chosen,
        table,
        warnings,
        paired,
        territory,
        effects,
        recorded_ensemble(base.manifest),
        ensemble_paired,
    )


def shared_draws(base: StoredRun, run: StoredRun) -> Any:
    """The draw of each replication when both runs are over the same posterior ensemble.

    Same posterior (hash), parameters, replications per draw and draws, and the same
    draw in every row: then replication i of both used the same parameters and a
    difference's variance can be split by draw. None otherwise.
    """
    a, b = recorded_ensemble(base.manifest), recorded_ensemble(run.manifest)
    if a is None or b is None:
        return None
    keys = ("posterior_sha256", "parameters", "replications_per_draw", "draws")
    if any(a.get(k) != b.get(k) for k in keys):
        return None
    if "draw" not in base.summary or "draw" not in run.summary:
        return None
    draws = base.summary["draw"].to_numpy()
    if len(draws) != len(run.summary) or not (draws == run.summary["draw"].to_numpy()).all():
        return None
    return draws


def _spread_row(scenario: str, outcome: str, x: pd.Series) -> dict[str, Any]:
    """The median and 5-95% range of an outcome over replications (not an interval)."""
    return {
        "scenario": scenario,
        "outcome": outcome,
        "statistic": "median",
        "value": float(x.median()) if len(x) else math.nan,
        "ci_low": float(x.quantile(0.05)) if len(x) else math.nan,
        "ci_high": float(x.quantile(0.95)) if len(x) else math.nan,
        "method": "5-95% of replications",
        "n": len(x),
        "variance_reduction": math.nan,
    }


def draw_means(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over the replications of each parameter draw, by draw."""
    return pd.Series(values).groupby(draws).mean().to_numpy()


def _per_replication(summary: pd.DataFrame, outcome: str) -> Any:
    """Per-replication values; for event outcomes, each replication's share of years hit."""
    return summary[outcome].to_numpy(dtype=float)


def _row(scenario: str, outcome: str, statistic: str, est: Estimate, method: str) -> dict:
    return {
        "scenario": scenario,
        "outcome": outcome,
        "statistic": statistic,
        "value": est.value,
        "ci_low": est.low,
        "ci_high": est.high,
        "method": method,
        "n": est.n,
        "variance_reduction": math.nan,
    }
