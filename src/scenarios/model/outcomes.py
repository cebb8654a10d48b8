"""What every run records: weekly outcome arrays, and per-replication summaries.

Weekly outcomes are kept in preallocated numpy arrays (one row per recorded week), not
in a DataCollector, so a replication costs no per-step allocation. Column names are flat:
``attacks_successful__russia`` (per country), ``exploitation_against__us`` (per actor),
``trust__us__taliban`` (per directed pair, truster first).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

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


class Records(NamedTuple):
    """Weekly outputs, one row (or column) per recorded week (see :class:`Recorder`)."""

    scalar: np.ndarray  # [len(SCALAR_OUTCOMES), S]
    country: np.ndarray  # [len(COUNTRY_OUTCOMES), S, C]
    country_level: np.ndarray  # [len(COUNTRY_LEVELS), S, C]
    actor: np.ndarray  # [len(ACTOR_OUTCOMES), S, A]
    pair: np.ndarray  # [len(PAIR_OUTCOMES), S, A, A] shared, interdicted with shared, trust


class Recorder:
    """Preallocated weekly outcome arrays for one replication.

    Each family is one contiguous block (``blocks``, a :class:`Records` the compiled
    week writes into); the dicts ``scalar``, ``country``, ``country_level``, ``actor``
    and ``pair`` are views on it by outcome name.
    """

    def __init__(self, steps: int, countries: Sequence[str], actors: Sequence[str]) -> None:
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

    def matrix(self) -> NDArray[np.float64]:
        """Every weekly column as one ``[column, week]`` array, rows in ``_column_names`` order.

        One contiguous array filled block by block (a few numpy calls, whatever the number
        of countries and actors).
        """
        b = self.blocks
        steps = self.steps
        n_c, n_a = len(self.countries), len(self.actors)
        totals, scalar, by_country, country_level, actor, pair = _matrix_rows(n_c, n_a)
        out = np.empty((pair.stop, steps))
        weeks_last = out[by_country].reshape(len(COUNTRY_OUTCOMES), n_c, steps)
        weeks_last[:] = b.country.transpose(0, 2, 1)
        # All-country totals: counts, so summing countries week by week is exact.
        np.sum(weeks_last, axis=1, out=out[totals])
        out[scalar] = b.scalar
        out[country_level].reshape(len(COUNTRY_LEVELS), n_c, steps)[:] = b.country_level.transpose(
            0, 2, 1
        )
        out[actor].reshape(len(ACTOR_OUTCOMES), n_a, steps)[:] = b.actor.transpose(0, 2, 1)
        pairs = b.pair.reshape(len(PAIR_OUTCOMES), steps, n_a * n_a)[:, :, _off_diagonal(n_a)]
        out[pair].reshape(len(PAIR_OUTCOMES), -1, steps)[:] = pairs.transpose(0, 2, 1)
        return out

    def columns(self, matrix: NDArray[np.float64] | None = None) -> dict[str, NDArray[np.float64]]:
        """Flat ``{column: weekly array}`` in a stable order (``_column_names``).

        The arrays are the rows of :meth:`matrix` (contiguous, weeks last), or of
        ``matrix`` when given (that of this recorder, already built).
        """
        matrix = self.matrix() if matrix is None else matrix
        return dict(zip(_column_names(self.countries, self.actors), matrix, strict=True))


def summarise(
    recorder: Recorder, home_country: str, matrix: NDArray[np.float64] | None = None
) -> dict[str, float]:
    """Per-replication outcomes analysts compare, from a finished replication's records.

    One entry per weekly column (:meth:`Recorder.columns`, same order): its sum over the
    run, or for levels such as ``strength__<country>`` its value in the last week, named
    ``final_...``. Then the run's severity tail and plot ages, and derived outcomes.
    ``attack_risk__<country>`` is the share of whole simulated years (52-week blocks; the
    whole run if shorter) with at least one mass-casualty attack there: averaged over
    replications it estimates the annual probability of such an attack.
    ``plot_age_at_attack_mean`` and ``plot_age_at_interdiction_mean`` (weeks, also
    ``__domestic`` and ``__abroad``: target in the origin's country or not) come from the
    run's ``plot_ages`` sums and counts. ``matrix``: the recorder's :meth:`Recorder.matrix`
    if already built.

    Sums are taken over the rows of :meth:`Recorder.matrix` at once (a few numpy calls,
    not one per column); every summed outcome is a count, so the order of summation cannot
    change a bit of it.
    """
    countries, actors = recorder.countries, recorder.actors
    steps = recorder.steps
    m = recorder.matrix() if matrix is None else matrix
    values: list[float] = np.where(_level_rows(countries, actors), m[:, -1], m.sum(axis=1)).tolist()
    out = dict(zip(_summary_names(countries, actors), values, strict=True))

    for edge, count in zip(SEVERITY_EDGES, recorder.severity_ccdf.tolist(), strict=True):
        out[f"attacks_with_fatalities_ge__{edge}"] = count
    ages = recorder.plot_ages.tolist()  # [attack, interdiction][domestic, abroad][sum, n]
    for label, ((home_sum, home_n), (abroad_sum, abroad_n)) in zip(
        ("attack", "interdiction"), ages, strict=True
    ):
        out[f"plot_age_at_{label}_mean"] = _ratio(home_sum + abroad_sum, home_n + abroad_n)
        out[f"plot_age_at_{label}_mean__domestic"] = _ratio(home_sum, home_n)
        out[f"plot_age_at_{label}_mean__abroad"] = _ratio(abroad_sum, abroad_n)
    strength = recorder.scalar["strength"]
    out["min_strength"] = float(strength.min())
    out["max_strength"] = float(strength.max())
    resolved = out["plots_interdicted"] + out["attacks_attempted"]
    out["share_interdicted"] = out["plots_interdicted"] / resolved if resolved else float("nan")
    n_years = max(1, steps // WEEKS_PER_YEAR)
    block = WEEKS_PER_YEAR if steps >= WEEKS_PER_YEAR else steps
    mass = recorder.country["mass_casualty_attacks"][: n_years * block]
    years_hit = (mass.reshape(n_years, block, len(countries)).sum(axis=1) > 0).sum(axis=0)
    successes = recorder.country["attacks_successful"]
    first = successes[:HALF_YEAR].sum(axis=0).tolist()
    last = successes[-HALF_YEAR:].sum(axis=0).tolist()
    out["years"] = float(n_years)
    for j, (c, hit) in enumerate(zip(countries, years_hit.tolist(), strict=True)):
        out[f"mass_casualty_years__{c}"] = float(hit)
        out[f"attack_risk__{c}"] = float(hit) / n_years
        if steps >= 2 * HALF_YEAR:
            out[f"attack_change__{c}"] = (
                (last[j] - first[j]) / first[j] if first[j] else float("nan")
            )
    for a in actors:
        out[f"ci_exposure__{a}"] = out[f"exploitation_against__{a}"] + out[f"leaks_of__{a}"]
    if steps >= 2 * WEEKS_PER_YEAR:
        total = successes.sum(axis=1)
        home = successes[:, countries.index(home_country)]
        for label, window in (
            ("first", slice(0, WEEKS_PER_YEAR)),
            ("last", slice(-WEEKS_PER_YEAR, None)),
        ):
            n = float(total[window].sum())
            out[f"share_abroad_{label}_year"] = (
                (n - float(home[window].sum())) / n if n else float("nan")
            )
    return out


@functools.cache
def _matrix_rows(n_countries: int, n_actors: int) -> tuple[slice, ...]:
    """Rows of each family in :meth:`Recorder.matrix`, in ``_column_names`` order.

    All-country totals, scalars, per country, country levels, per actor, per pair.
    """
    sizes = [len(COUNTRY_OUTCOMES), len(SCALAR_OUTCOMES), len(COUNTRY_OUTCOMES) * n_countries]
    sizes += [len(COUNTRY_LEVELS) * n_countries, len(ACTOR_OUTCOMES) * n_actors]
    sizes += [len(PAIR_OUTCOMES) * n_actors * (n_actors - 1)]
    stops = np.cumsum(sizes).tolist()
    return tuple(slice(a, b) for a, b in zip([0, *stops[:-1]], stops, strict=True))


@functools.cache
def _off_diagonal(n_actors: int) -> NDArray[np.intp]:
    """Flat indices of the ``[A, A]`` pairs other than (a, a), truster first."""
    return np.flatnonzero(~np.eye(n_actors, dtype=np.bool_))


@functools.cache
def _level_rows(countries: tuple[str, ...], actors: tuple[str, ...]) -> NDArray[np.bool_]:
    """Which weekly columns are levels (summarised by their last week, not summed)."""
    return np.array([name.split("__", 1)[0] in LEVELS for name in _column_names(countries, actors)])


@functools.cache
def _summary_names(countries: tuple[str, ...], actors: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the per-column entries of :func:`summarise`, in :meth:`Recorder.columns` order."""
    return tuple(
        f"final_{name}" if name.split("__", 1)[0] in LEVELS else name
        for name in _column_names(countries, actors)
    )


@functools.cache
def _column_names(countries: tuple[str, ...], actors: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the weekly columns (:meth:`Recorder.columns`), in order."""
    names = [*COUNTRY_OUTCOMES, *SCALAR_OUTCOMES]
    names += [f"{name}__{c}" for name in COUNTRY_OUTCOMES for c in countries]
    names += [f"{name}__{c}" for name in COUNTRY_LEVELS for c in countries]
    names += [f"{name}__{a}" for name in ACTOR_OUTCOMES for a in actors]
    names += [
        f"{name}__{a}__{b}"
        for name in PAIR_OUTCOMES
        for i, a in enumerate(actors)
        for j, b in enumerate(actors)
        if i != j
    ]
    return tuple(names)


def summary_columns(
    steps: int, countries: Sequence[str], actors: Sequence[str], home_country: str
) -> list[str]:
    """The columns :func:`summarise` gives a run of this shape, without running the model.

    Summarises an all-zero :class:`Recorder` of the same steps, countries and actors: the
    names come from the same code as a real run's, so they cannot drift from it.
    """
    return list(summarise(Recorder(steps, countries, actors), home_country))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")
