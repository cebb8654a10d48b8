"""What every run records: weekly outcome arrays, and per-replication summaries.

Weekly outcomes are kept in preallocated numpy arrays (one row per recorded week), not
in a DataCollector, so a replication costs no per-step allocation. Column names are flat:
``attacks_successful__russia`` (per country), ``exploitation_against__us`` (per actor),
``trust__us__taliban`` (per directed pair, truster first).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

WEEKS_PER_YEAR = 52
HALF_YEAR = 26

SCALAR_OUTCOMES: tuple[str, ...] = (
    "plots_started",
    "plots_detected",
    "plots_interdicted",
    "interdicted_without_intelligence",
    "plots_abandoned",
    "warnings_issued",
    "warnings_heeded",
    "attacks_despite_warning",
    "leaks",
    "strength",
    "cells",
    "live_plots",
)
COUNTRY_OUTCOMES: tuple[str, ...] = (
    "attacks_attempted",
    "attacks_successful",
    "fatalities",
    "mass_casualty_attacks",
    "mass_casualty_despite_warning",
)
# Levels per country (fighters based there), recorded weekly.
COUNTRY_LEVELS: tuple[str, ...] = ("strength",)
# Fatality thresholds of the per-replication severity tail (successful attacks >= edge).
SEVERITY_EDGES: tuple[int, ...] = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
ACTOR_OUTCOMES: tuple[str, ...] = (
    "exploitation_against",
    "leaks_of",
    "interdicted_by",
    "interdicted_after_warning",
    "coverage_health",
    "crackdown",
)
PAIR_OUTCOMES: tuple[str, ...] = ("shared", "interdicted_with_shared", "trust")
# Levels (not flows): summarised by their final value, not summed.
LEVELS = frozenset({"strength", "cells", "live_plots", "coverage_health", "crackdown", "trust"})


class Recorder:
    """Preallocated weekly outcome arrays for one replication.

    Each family is one contiguous block (``blocks``, an ``engine.Records`` the compiled
    week writes into); the dicts ``scalar``, ``country``, ``country_level``, ``actor``
    and ``pair`` are views on it by outcome name.
    """

    def __init__(self, steps: int, countries: Sequence[str], actors: Sequence[str]) -> None:
        from scenarios.model.engine import Records

        self.steps = steps
        self.countries = tuple(countries)
        self.actors = tuple(actors)
        n_c, n_a = len(countries), len(actors)
        self.blocks = Records(
            scalar=np.zeros((len(SCALAR_OUTCOMES), steps)),
            country=np.zeros((len(COUNTRY_OUTCOMES), steps, n_c)),
            country_level=np.zeros((len(COUNTRY_LEVELS), steps, n_c)),
            actor=np.zeros((len(ACTOR_OUTCOMES), steps, n_a)),
            pair=np.zeros((len(PAIR_OUTCOMES), steps, n_a, n_a)),
        )
        b = self.blocks
        self.scalar = dict(zip(SCALAR_OUTCOMES, b.scalar, strict=True))
        self.country = dict(zip(COUNTRY_OUTCOMES, b.country, strict=True))
        self.country_level = dict(zip(COUNTRY_LEVELS, b.country_level, strict=True))
        self.actor = dict(zip(ACTOR_OUTCOMES, b.actor, strict=True))
        self.pair = dict(zip(PAIR_OUTCOMES, b.pair, strict=True))
        self.severity_ccdf = np.zeros(len(SEVERITY_EDGES))  # whole run, not weekly
        # Whole run: [attack, interdiction] x [domestic, abroad] x [sum of ages, count].
        self.plot_ages = np.zeros((2, 2, 2))

    def columns(self) -> dict[str, NDArray[np.float64]]:
        """Flat ``{column: weekly array}`` in a stable order."""
        cols: dict[str, NDArray[np.float64]] = {}
        for name in COUNTRY_OUTCOMES:
            cols[name] = self.country[name].sum(axis=1)
        cols.update(self.scalar)
        for name in COUNTRY_OUTCOMES:
            for j, c in enumerate(self.countries):
                cols[f"{name}__{c}"] = self.country[name][:, j]
        for name in COUNTRY_LEVELS:
            for j, c in enumerate(self.countries):
                cols[f"{name}__{c}"] = self.country_level[name][:, j]
        for name in ACTOR_OUTCOMES:
            for j, a in enumerate(self.actors):
                cols[f"{name}__{a}"] = self.actor[name][:, j]
        for name in PAIR_OUTCOMES:
            for i, a in enumerate(self.actors):
                for j, b in enumerate(self.actors):
                    if i != j:
                        cols[f"{name}__{a}__{b}"] = self.pair[name][:, i, j]
        return cols


def summarise(
    columns: dict[str, NDArray[np.float64]],
    countries: Sequence[str],
    actors: Sequence[str],
    home_country: str,
    severity_ccdf: NDArray[np.float64],
    plot_ages: NDArray[np.float64],
) -> dict[str, float]:
    """Per-replication outcomes analysts compare, from the weekly columns.

    ``attack_risk__<country>`` is the share of whole simulated years (52-week blocks; the
    whole run if shorter) with at least one mass-casualty attack there: averaged over
    replications it estimates the annual probability of such an attack.
    ``plot_age_at_attack_mean`` and ``plot_age_at_interdiction_mean`` (weeks, also
    ``__domestic`` and ``__abroad``: target in the origin's country or not) come from the
    run's ``plot_ages`` sums and counts; levels such as ``strength__<country>`` become
    ``final_...`` (their value in the last week).
    """
    steps = len(columns["plots_started"])
    out: dict[str, float] = {}
    for name, series in columns.items():
        base = name.split("__", 1)[0]
        out[name if base not in LEVELS else f"final_{name}"] = float(
            series[-1] if base in LEVELS else series.sum()
        )
    for edge, count in zip(SEVERITY_EDGES, severity_ccdf, strict=True):
        out[f"attacks_with_fatalities_ge__{edge}"] = float(count)
    for label, row in (("attack", 0), ("interdiction", 1)):
        sums, n = plot_ages[row, :, 0], plot_ages[row, :, 1]
        out[f"plot_age_at_{label}_mean"] = _ratio(sums.sum(), n.sum())
        out[f"plot_age_at_{label}_mean__domestic"] = _ratio(sums[0], n[0])
        out[f"plot_age_at_{label}_mean__abroad"] = _ratio(sums[1], n[1])
    out["min_strength"] = float(columns["strength"].min())
    out["max_strength"] = float(columns["strength"].max())
    resolved = out["plots_interdicted"] + out["attacks_attempted"]
    out["share_interdicted"] = out["plots_interdicted"] / resolved if resolved else float("nan")
    n_years = max(1, steps // WEEKS_PER_YEAR)
    block = WEEKS_PER_YEAR if steps >= WEEKS_PER_YEAR else steps
    out["years"] = float(n_years)
    for c in countries:
        mc = columns[f"mass_casualty_attacks__{c}"][: n_years * block].reshape(n_years, block)
        years_hit = float((mc.sum(axis=1) > 0).sum())
        out[f"mass_casualty_years__{c}"] = years_hit
        out[f"attack_risk__{c}"] = years_hit / n_years
        attacks = columns[f"attacks_successful__{c}"]
        if steps >= 2 * HALF_YEAR:
            first, last = attacks[:HALF_YEAR].sum(), attacks[-HALF_YEAR:].sum()
            out[f"attack_change__{c}"] = (last - first) / first if first else float("nan")
    for a in actors:
        out[f"ci_exposure__{a}"] = out[f"exploitation_against__{a}"] + out[f"leaks_of__{a}"]
    if steps >= 2 * WEEKS_PER_YEAR:
        total = columns["attacks_successful"]
        home = columns[f"attacks_successful__{home_country}"]
        for label, window in (
            ("first", slice(0, WEEKS_PER_YEAR)),
            ("last", slice(-WEEKS_PER_YEAR, None)),
        ):
            n = total[window].sum()
            out[f"share_abroad_{label}_year"] = (
                float((n - home[window].sum()) / n) if n else float("nan")
            )
    return out


def summary_columns(
    steps: int, countries: Sequence[str], actors: Sequence[str], home_country: str
) -> list[str]:
    """The columns :func:`summarise` gives a run of this shape, without running the model.

    Summarises an all-zero :class:`Recorder` of the same steps, countries and actors: the
    names come from the same code as a real run's, so they cannot drift from it.
    """
    recorder = Recorder(steps, countries, actors)
    return list(
        summarise(
            recorder.columns(),
            countries,
            actors,
            home_country,
            recorder.severity_ccdf,
            recorder.plot_ages,
        )
    )


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")
