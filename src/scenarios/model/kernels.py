"""Compiled weekly kernels (numba) and the keyed random numbers they draw.

The model's weekly processes loop over tens of cells, hundreds of live plots and a
handful of actors. In numpy each such process costs dozens of small calls; compiled loops
cost a fraction of that, which is what makes thousands of replications per sweep
affordable. Kernels take a few records (``NamedTuple`` s of arrays) rather than dozens of
positional arrays: adding a mechanism means adding a field to one record.

Randomness is counter-based (Salmon et al. 2011, "Parallel random numbers: as easy as 1,
2, 3"): every draw is a hash of the replication's root key, the entity it concerns (a
cell or a plot, each with its own 64-bit key), the week and the decision (process and
index, e.g. "collection by actor 2"). Nothing is consumed from a shared stream, so a
change of one lever changes only the draws of the entities and decisions it touches:
common random numbers hold draw by draw, which is what makes paired comparisons between
scenarios sharp. The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_FROM_UNIT = 9007199254740992.0  # 2**53
_INVERSION_LIMIT = 30.0
# Shortcuts skip a transcendental function when a bound settles the outcome: "u <= 1 - x
# - _SURELY" implies "u <= exp(-x)" despite rounding (errors are below 1e-15 here), so the
# result is bit for bit the one the full computation gives.
_SURELY = 1e-12
_WEEK_OFFSET = 1 << 20  # weeks of spin-up are negative; keys need a non-negative counter
_PROCESS_STRIDE = 1 << 20  # indices per process (pairs of actors, plots of a cell in a week)

# Decisions, each with its own keyed sub-stream.
RECRUITMENT, ATTRITION, RELOCATION, DESTINATION, RELOCATION_LOSS = range(5)
PLOT_COUNT, PLOT_KEY, TARGET, LIFETIME = range(5, 9)
COLLECTION, SHARING, EXPLOITATION, LEAKAGE, NOTICE, WARNING = range(9, 15)
INTERDICTION, UNINFORMED, SUCCESS, SEVERITY, CELL_KEY = range(15, 20)
PLOT_GAP = 20

# The helpers the weekly loops call are inlined by numba (``inline="always"``), not left
# to LLVM: it sometimes kept ``age_key`` a call in the plot loop of the compiled week,
# which spills every register the loop holds around each call (3% of a replication).


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijective 64-bit hash with full avalanche."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def bits(key: np.uint64, process: int, index: int) -> np.uint64:
    """64 random bits for decision (``process``, ``index``) of the entity keyed ``key``."""
    return mix64(key + _GOLDEN * np.uint64(process * _PROCESS_STRIDE + index + 1))


@njit(cache=True, inline="always")
def draw(key: np.uint64, process: int, index: int) -> float:
    """A uniform double in [0, 1) for decision (``process``, ``index``) of ``key``."""
    return float(bits(key, process, index) >> _S11) * _TO_UNIT


@njit(cache=True, inline="always")
def chance(key: np.uint64, process: int, index: int, p: float) -> bool:
    """``draw(key, process, index) < p``, without scaling the draw to [0, 1).

    Exactly the same test: the draw is ``m * 2**-53`` for an integer ``m < 2**53``, whose
    conversion to a double is exact, and multiplying by a power of two is exact (``p`` is
    a probability or a hazard: no overflow; NaN and infinities compare as before), so
    ``m * 2**-53 < p`` if and only if ``m < p * 2**53``. The scaling of ``p`` does not wait
    for the hash, which leaves one multiplication fewer on the path from hash to branch.
    """
    return float(bits(key, process, index) >> _S11) < p * _FROM_UNIT


@njit(cache=True, inline="always")
def week_mix(week: int) -> np.uint64:
    """What a week (or an age, in weeks) adds to every entity's key in that week."""
    return mix64(_GOLDEN * np.uint64(week + _WEEK_OFFSET))


@njit(cache=True, inline="always")
def keyed(key: np.uint64, mix: np.uint64) -> np.uint64:
    """The key of the entity keyed ``key`` in the week whose ``week_mix`` is ``mix``."""
    return mix64(key ^ mix)


@njit(cache=True, inline="always")
def week_key(key: np.uint64, week: int) -> np.uint64:
    """The key of one entity in one week (``week`` may be negative: spin-up)."""
    return keyed(key, week_mix(week))


@njit(cache=True)
def week_mixes(n: int) -> np.ndarray:
    """``week_mix`` of 0, 1, ..., n - 1."""
    mixes = np.empty(n, dtype=np.uint64)
    for i in range(n):
        mixes[i] = week_mix(i)
    return mixes


# ``week_mix`` of plot ages (a plot's draws are keyed by its age): one lookup instead of
# a hash for every live plot every week; older plots compute theirs.
_AGE_MIXES = week_mixes(1024)


@njit(cache=True, inline="always")
def age_key(key: np.uint64, age: int) -> np.uint64:
    """``week_key(key, age)`` of a plot of that age (>= 0), from the table when it is there."""
    # An unsigned index (the age is >= 0): numba skips the wraparound of negative ones.
    mix = _AGE_MIXES[np.uint64(age)] if age < len(_AGE_MIXES) else week_mix(age)
    return keyed(key, mix)


@njit(cache=True)
def cell_key(root: np.uint64, index: int) -> np.uint64:
    """Key of the ``index``-th initial cell of a replication."""
    return bits(root, CELL_KEY, index)


@njit(cache=True)
def split_key(parent: np.uint64, nth: int) -> np.uint64:
    """Key of the ``nth`` cell to split off ``parent``.

    It depends on neither the week nor the slot, so a split that comes a week earlier or
    later in another scenario still yields the same new cell, with the same draws.
    """
    return bits(parent, CELL_KEY, nth)


@njit(cache=True, inline="always")
def plot_gap(cell: np.uint64, nth: int) -> float:
    """Cumulative plot intensity between a cell's ``nth`` plot and the next (unit exponential).

    Keyed by the cell and the plot's ordinal, not the week: plots arrive when the cell's
    cumulative intensity passes these gaps (a time-changed unit-rate Poisson process), so
    a scenario in which the cell plots at a slightly different rate starts the same plots,
    a little earlier or later, instead of different ones.
    """
    return -math.log(1.0 - draw(cell, PLOT_GAP, nth))


@njit(cache=True)
def initial_cell_keys(root: np.uint64, n: int) -> np.ndarray:
    """Keys of a replication's ``n`` initial cells (``cell_key`` of 0, 1, ...)."""
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        keys[i] = cell_key(root, i)
    return keys


@njit(cache=True)
def first_plot_gaps(keys: np.ndarray) -> np.ndarray:
    """``plot_gap(key, 0)`` of each cell key: the intensity before its first plot."""
    gaps = np.empty(len(keys))
    for i in range(len(keys)):
        gaps[i] = plot_gap(keys[i], 0)
    return gaps


@njit(cache=True, inline="always")
def plot_key(cell: np.uint64, nth: int) -> np.uint64:
    """Key of the ``nth`` plot (from 0) a cell starts; independent of the week."""
    return bits(cell, PLOT_KEY, nth)


@njit(cache=True)
def normal(key: np.uint64, process: int) -> float:
    """Standard normal variate (Box-Muller on indices 1 and 2 of the decision)."""
    u1 = 1.0 - draw(key, process, 1)
    u2 = draw(key, process, 2)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, inline="always")
def poisson(key: np.uint64, process: int, lam: float) -> int:
    """Poisson variate with mean ``lam`` >= 0, by inversion of one keyed uniform.

    Inversion is monotone in ``lam`` for a fixed draw, so a small change of the mean
    changes the count of few entities (normal approximation above ``_INVERSION_LIMIT``).
    """
    if lam <= 0.0:
        return 0
    if lam > _INVERSION_LIMIT:
        return max(0, round(lam + math.sqrt(lam) * normal(key, process)))
    u = draw(key, process, 0)
    if u <= 1.0 - lam - _SURELY:
        return 0  # u <= 1 - lam <= exp(-lam): no exp needed
    if lam < 1.0:
        # Taylor bounds: 1 - lam + lam^2/2 - lam^3/6 <= exp(-lam) <= 1 - lam + lam^2/2.
        # Below the lower bound the count is 0; above the upper one it is at least 1, and
        # it is 1 below a lower bound of P(X <= 1) = exp(-lam) (1 + lam). As above, the
        # margin _SURELY exceeds the rounding errors of the bounds and of the full
        # computation (< 1e-15 for lam < 1), so the count is the one it computes.
        half_square = 0.5 * lam * lam
        upper = 1.0 - lam + half_square
        lower = upper - half_square * lam / 3.0
        if u <= lower - _SURELY:
            return 0
        if u > upper + _SURELY and u <= lower * (1.0 + lam) - _SURELY:
            return 1
    p = math.exp(-lam)
    cdf = p
    x = 0
    while u > cdf and x < 1000:
        x += 1
        p *= lam / x
        cdf += p
    return x


@njit(cache=True, inline="always")
def binomial(key: np.uint64, process: int, n: int, p: float) -> int:
    """Binomial variate: successes in ``n`` trials of probability ``p`` (inversion)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    mean = n * p
    if mean > _INVERSION_LIMIT and n * (1.0 - p) > _INVERSION_LIMIT:
        x = round(mean + math.sqrt(mean * (1.0 - p)) * normal(key, process))
        return min(n, max(0, x))
    u = draw(key, process, 0)
    if u <= 1.0 - n * p - _SURELY:
        return 0  # u <= 1 - n p <= (1 - p)^n (Bernoulli's inequality): no log or exp needed
    if mean < 1.0:
        # Bonferroni: with S_k = C(n, k) p^k, 1 - S1 + S2 - S3 <= (1 - p)^n <= 1 - S1 + S2,
        # and P(X >= 2) <= S2 (a union bound over pairs of trials), so P(X <= 1) >= 1 - S2.
        # Decided by these bounds with the margin _SURELY (rounding errors < 1e-15 for a
        # mean below 1), the count is the one the full computation gives.
        s2 = mean * (n - 1) * p * 0.5
        upper = 1.0 - mean + s2
        lower = upper - s2 * (n - 2) * p / 3.0
        if u <= lower - _SURELY:
            return 0
        if u > upper + _SURELY and u <= 1.0 - s2 - _SURELY:
            return 1
    q = 1.0 - p
    # Start from the log of q^n to stay finite for large n.
    prob = math.exp(n * math.log(q))
    cdf = prob
    x = 0
    ratio = p / q
    while u > cdf and x < n:
        prob *= (n - x) / (x + 1.0) * ratio
        x += 1
        cdf += prob
        if prob == 0.0 and x > mean:
            break
    return x


@njit(cache=True, inline="always")
def erlang(key: np.uint64, process: int, shape: int, mean: float) -> float:
    """Erlang (integer-shape gamma) variate with the given ``mean``: a sum of exponentials."""
    total = 0.0
    for j in range(shape):
        total -= math.log(1.0 - draw(key, process, j))
    return total * mean / shape


# ----------------------------------------------------------------------------------------
# Records the kernels read and write
# ----------------------------------------------------------------------------------------


class CellState(NamedTuple):
    """Every ISIS-K cell, by slot (see ``agents.CellTable``; slots are never reused)."""

    alive: np.ndarray  # bool: still has fighters
    key: np.ndarray  # uint64: random-number key
    splits: np.ndarray  # int64 cells split off it so far
    region: np.ndarray  # int64
    strength: np.ndarray  # int64 fighters
    capability: np.ndarray  # [0, 1]
    opsec: np.ndarray  # [0, 1]
    disruption: np.ndarray  # >= 0: plotting runs at exp(-disruption) of its capacity
    plotting: np.ndarray  # bool: has at least one live plot
    plots_started: np.ndarray  # int64 plots started so far: ordinal of its next plot
    plot_gap: np.ndarray  # cumulative intensity still to pass before its next plot (> 0)
    live: np.ndarray  # int64 scratch: this week's live slots (first ``N_LIVE`` entries)
    new_plots: np.ndarray  # int64 scratch: new plots of the i-th live slot this week
    damping: np.ndarray  # float scratch: exp(-disruption) of the i-th live slot this week


class ThreatWeek(NamedTuple):
    """What drives the cells this week (per region ``[R]`` unless said otherwise)."""

    recruitment_pool: np.ndarray  # [0, 1]
    attrition: np.ndarray  # weekly probability that a fighter is lost
    appeal: np.ndarray  # weight of the region as a base (>= 0)
    adjacency: np.ndarray  # [R, R] bool
    recruit_scale: float  # recruits per fighter per week at pool 1
    relocation_rate: float  # weekly probability a cell reconsiders its base
    relocation_cost: float  # fraction of fighters lost by a move; also deters moving
    plots_per_fighter: float  # plots per fighter per week at capability 1
    disruption_retention: float  # weekly retention of a cell's disruption [0, 1)
    weights: np.ndarray  # [R] scratch: weights of the bases a relocating cell considers


class PlotState(NamedTuple):
    """Live plots (rows ``0..n``): abstract events with an origin, a target and a lifetime."""

    key: np.ndarray  # uint64: random-number key
    origin: np.ndarray  # int64 region
    target: np.ndarray  # int64 region
    cell: np.ndarray  # int64 owning cell's slot; RESOLVED once the plot is over
    born: np.ndarray  # int64 week started
    matures_at: np.ndarray  # int64 week it becomes an attack unless interdicted first
    tipped: np.ndarray  # bool: leaked to the threat
    warned: np.ndarray  # bool: a duty-to-warn message was sent
    ignored_by: np.ndarray  # int64 sender of an ignored warning, or -1
    own: np.ndarray  # [P, A] bool: detected by the actor's own collection
    knowledge: np.ndarray  # [P, A] value of what the actor knows [0, 1]
    source: np.ndarray  # [P, A] int64: -1 own, a shared by a, A + a warned by a
    visit: np.ndarray  # int64 scratch of ``intel_week``: the rows of the live plots, in order


# ``PlotState.cell`` of a plot that is over (a row the engine compacts away later).
RESOLVED = -1


class PlotBirth(NamedTuple):
    """How new plots get their target and lifetime this week."""

    target_cdf: np.ndarray  # [R origin, R target] cumulative targeting distribution
    same_country: np.ndarray  # [R, R] bool
    lifetime_domestic: float  # mean weeks from start to attack, same-country plots
    lifetime_external: float  # mean weeks from start to attack, plots abroad
    lifetime_shape: int  # Erlang shape (1 = exponential)


class IntelWeek(NamedTuple):
    """Everything the intelligence contest reads this week (actors ``A``, regions ``R``)."""

    coverage: np.ndarray  # [A, R] weekly detection probability (crackdown included)
    reach: np.ndarray  # [A, R] interdiction capacity (crackdown included) [0, 1]
    host_security: np.ndarray  # [R] weekly hazard of an uninformed interdiction
    hardening: np.ndarray  # [R] probability an attempt fails
    jurisdiction: np.ndarray  # [R] actor or -1
    country_of: np.ndarray  # [R] country index
    share_prob: np.ndarray  # [A, A] probability a new detection flows a -> b
    exploit_ab: np.ndarray  # [A, A] per-item misuse of a's material by b
    leak: np.ndarray  # [A] per-item leak by the receiver
    counter_intelligence: np.ndarray  # [A]
    receptivity: np.ndarray  # [A]
    duty_to_warn: np.ndarray  # [A] bool
    trust: np.ndarray  # [A, A]
    shared_value: float
    warning_quality: float
    interdiction_hazard: float
    tipoff_effect: float
    tipoff_opsec_gain: float
    coverage_damage: float
    fighters_lost: int
    learning: float
    severity_exponent: float
    severity_minimum: int
    severity_cap: int
    mass_threshold: int
    severity_edges: np.ndarray  # int64
    actors: tuple[int, ...] | np.ndarray  # 0, ..., A - 1 (``engine.Geo.actors``)
    seen: np.ndarray  # [R, R, A] scratch: detection probability of a plot from o against t
    reach_pair: np.ndarray  # [R, R, A] scratch: reach over a plot from o against t
    new: np.ndarray  # [A] bool scratch: the actor detected the plot at hand this week


# Indices into ``Tallies.counts``.
(
    DETECTED,
    WARNINGS_ISSUED,
    WARNINGS_HEEDED,
    INTERDICTED,
    ATTACKS_DESPITE_WARNING,
    ABANDONED,
    SUCCESSFUL,
    UNINFORMED_INTERDICTIONS,
) = range(8)
N_COUNTS = 8
# First index of ``Tallies.by_pair``.
SHARED, EXPLOITED, LEAKED, INTERDICTED_WITH_SHARED = range(4)
# First index of ``Tallies.by_actor``.
INTERDICTED_BY, INTERDICTED_AFTER_WARNING = range(2)
# First index of ``Tallies.by_country``.
ATTEMPTED, SUCCEEDED, FATALITIES, MASS_CASUALTY, MASS_DESPITE_WARNING = range(5)
# ``Tallies.plot_ages``: [resolution (attack, interdiction), domestic/abroad, sum/count].
ATTACK, INTERDICTION_AGE = 0, 1


class Tallies(NamedTuple):
    """What happened this week (or, for the last two fields, over the whole run)."""

    counts: np.ndarray  # [N_COUNTS]
    by_pair: np.ndarray  # [4, A, A] shared, exploited, leaked, interdicted with shared
    by_actor: np.ndarray  # [2, A] interdicted by, interdicted after a heeded warning
    by_country: np.ndarray  # [5, C] attempted, successful, fatalities, mass, mass despite warning
    new_good: np.ndarray  # [A, A] good experiences (truster, trustee)
    new_bad: np.ndarray  # [A, A] bad experiences
    severity_ccdf: np.ndarray  # [E] successful attacks with >= edge fatalities (run)
    plot_ages: np.ndarray  # [2, 2, 2] age sums and counts in weeks (run)


# ----------------------------------------------------------------------------------------
# Threat: recruitment, attrition, relocation, plot counts
# ----------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def threat_week(
    week: int, slots: np.ndarray, cells: CellState, tw: ThreatWeek, new_plots: np.ndarray
) -> tuple[int, int]:
    """One week for every live cell: recruit, lose fighters, maybe relocate, count new plots.

    A cell reconsiders its base with probability ``relocation_rate``; it then picks among
    its region and the neighbours by ``appeal`` (recruitment, safety from pressure, the
    pull of the home country), neighbours discounted by the cost of moving, and loses that
    fraction of its fighters if it moves. Plots start at a rate proportional to strength
    and capability, cut by the cell's disruption (each interdiction adds 1, and it fades
    geometrically: a smooth recovery, so that an interdiction a week earlier or later
    changes the plot counts of a few weeks a little rather than moving a hard pause).
    Writes each cell's new plot count into ``new_plots``; returns (cells moved, plots
    started).
    """
    n_regions = len(tw.recruitment_pool)
    weights = tw.weights
    n_moved = 0
    n_plots = 0
    # The libm calls of exp(-disruption) in a loop of their own: in the loop below, each
    # call would spill and reload the many values it keeps in registers.
    damping = cells.damping
    for i in range(len(slots)):
        damping[i] = math.exp(-cells.disruption[slots[i]])
    for i in range(len(slots)):
        s = np.uint64(slots[i])  # unsigned: no wraparound of negative indices
        k = week_key(cells.key[s], week)
        r = cells.region[s]
        recruits = poisson(
            k, RECRUITMENT, tw.recruit_scale * tw.recruitment_pool[r] * cells.strength[s]
        )
        losses = binomial(k, ATTRITION, cells.strength[s], tw.attrition[r])
        cells.strength[s] += recruits - losses
        if cells.strength[s] > 0 and chance(k, RELOCATION, 0, tw.relocation_rate):
            total = 0.0
            for j in range(n_regions):
                w = 0.0
                if j == r:
                    w = tw.appeal[j]
                elif tw.adjacency[r, j]:
                    w = tw.appeal[j] * (1.0 - tw.relocation_cost)
                weights[j] = w
                total += w
            if total > 0.0:
                u = draw(k, DESTINATION, 0) * total
                acc = 0.0
                dest = r
                for j in range(n_regions):
                    acc += weights[j]
                    if weights[j] > 0.0 and u < acc:
                        dest = j
                        break
                if dest != r:
                    cells.region[s] = dest
                    cells.strength[s] -= binomial(
                        k, RELOCATION_LOSS, cells.strength[s], tw.relocation_cost
                    )
                    n_moved += 1
        new_plots[i] = 0
        if cells.strength[s] > 0:
            # The week's plot intensity is spent on the gaps to the next plots (unit
            # exponentials keyed by the cell's plot ordinal): Poisson(mean) plots this week.
            budget = tw.plots_per_fighter * cells.strength[s] * cells.capability[s] * damping[i]
            while cells.plot_gap[s] <= budget:
                budget -= cells.plot_gap[s]
                new_plots[i] += 1
                cells.plots_started[s] += 1
                cells.plot_gap[s] = plot_gap(cells.key[s], cells.plots_started[s])
            cells.plot_gap[s] -= budget
            n_plots += new_plots[i]
        cells.disruption[s] *= tw.disruption_retention
    return n_moved, n_plots


@njit(cache=True, inline="always")
def place_plots(
    week: int,
    slots: np.ndarray,
    counts: np.ndarray,
    cells: CellState,
    birth: PlotBirth,
    start: int,
    plots: PlotState,
) -> int:
    """Append new plots from row ``start`` on (rows already reset); return the new count.

    Each plot's key derives from its cell's key and its ordinal among the cell's plots
    (not the week); its target and its lifetime (Erlang, whole weeks, at least one) are
    drawn from that key, so they do not depend on any other plot.
    """
    n_regions = birth.target_cdf.shape[1]
    row = start
    for i in range(len(slots)):
        first = cells.plots_started[slots[i]] - counts[i]
        o = cells.region[slots[i]]
        for j in range(counts[i]):
            key = plot_key(cells.key[slots[i]], first + j)
            u = draw(key, TARGET, 0)
            t = 0
            while t < n_regions - 1 and u >= birth.target_cdf[o, t]:
                t += 1
            mean = birth.lifetime_domestic if birth.same_country[o, t] else birth.lifetime_external
            life = max(1, round(erlang(key, LIFETIME, birth.lifetime_shape, mean)))
            plots.key[row] = key
            plots.origin[row] = o
            plots.target[row] = t
            plots.cell[row] = slots[i]
            plots.born[row] = week
            plots.matures_at[row] = week + life
            row += 1
    return row


# ----------------------------------------------------------------------------------------
# Intelligence: collection, sharing, misuse, warning, interdiction vs maturation
# ----------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def fill_seen(seen: np.ndarray, coverage: np.ndarray, health: float, a: int) -> None:
    """Actor ``a``'s weekly detection probability of a plot from o against t, by (o, t).

    Detection at the origin or at the target; a domestic plot (o == t) is one chance.
    """
    n_regions = coverage.shape[1]
    for o in range(n_regions):
        for t in range(n_regions):
            if o == t:
                seen[o, t, a] = coverage[a, o] * health
            else:
                seen[o, t, a] = 1.0 - (1.0 - coverage[a, o] * health) * (
                    1.0 - coverage[a, t] * health
                )


@njit(cache=True, inline="always")
def intel_week(
    week: int,
    n_rows: int,
    plots: PlotState,
    cells: CellState,
    iw: IntelWeek,
    coverage_health: np.ndarray,
    tallies: Tallies,
) -> int:
    """One week of the intelligence contest over the live plots of rows ``0..n_rows``.

    Per plot: each actor's own collection; sharing of new detections (with misuse and
    leakage); duty-to-warn messages; then each actor with knowledge and reach interdicts
    at its own hazard (an independent keyed draw per actor, so one actor's extra knowledge
    never changes another's outcome), uninformed host security at a small hazard, and a
    plot that reaches its maturation week unstopped becomes an attack. A plot that is over
    is marked ``RESOLVED`` and skipped from then on (:func:`compact_plots` removes such
    rows now and then, not every week: moving every later plot's row each week cost a
    fifth of this function); returns the number of plots still live. Plots are visited in
    row order, which is the order they started in (coverage burned by misuse acts on the
    plots after it in the same week).

    One loop body, without calls that take records: in numba each such call costs a
    reference-count update of every array in every record passed, about ten times the
    work of the call itself. Inlined into the compiled week: as a function of its own,
    the week loaded from numba's cache ran 13% slower than freshly compiled.
    """
    n_actors = len(iw.actors)
    new = iw.new
    # Per (origin, target) pair rather than per plot: a plot's detection probabilities
    # and reach are one row of these tables (the detection one is redone for an actor
    # whose coverage is burned during the week).
    seen, reach_pair = iw.seen, iw.reach_pair
    n_regions = iw.coverage.shape[1]
    for a in range(n_actors):
        fill_seen(seen, iw.coverage, coverage_health[a], a)
        for o in range(n_regions):
            for t in range(n_regions):
                reach_pair[o, t, a] = max(iw.reach[a, o], iw.reach[a, t])
    counts, by_pair, by_actor, by_country = (
        tallies.counts,
        tallies.by_pair,
        tallies.by_actor,
        tallies.by_country,
    )
    # The rows of the live plots first, without a branch (a resolved row is overwritten by
    # the next one): in the loop below, a test per row for resolved plots, scattered
    # over up to half the rows, mispredicted often.
    visit = plots.visit
    n_visits = 0
    for p in range(n_rows):
        visit[n_visits] = p
        n_visits += plots.cell[p] != RESOLVED
    live = 0
    for i in range(n_visits):
        # Unsigned indices: numba skips the wraparound of negative ones (three instructions
        # per index and dimension).
        p = np.uint64(visit[i])
        c = np.uint64(plots.cell[p])
        o = np.uint64(plots.origin[p])
        t = np.uint64(plots.target[p])
        if cells.strength[c] <= 0:
            counts[ABANDONED] += 1  # the cell is gone: its plot dies with it
            plots.cell[p] = RESOLVED
            continue
        # Keyed by age, not week: a plot started later in another scenario meets the same draws.
        k = age_key(plots.key[p], week - plots.born[p])
        # Collection
        known_before = False
        any_new = False
        evade = 1.0 - cells.opsec[c]
        for a in range(n_actors):
            known_before |= plots.knowledge[p, a] > 0.0
            # No hash for an actor that already knows; no test of ``seen * evade > 0``
            # before the draw (a draw below it implies it): fewer unpredictable branches.
            new[a] = False if plots.own[p, a] else chance(k, COLLECTION, a, seen[o, t, a] * evade)
            if new[a]:
                plots.own[p, a] = True
                plots.knowledge[p, a] = 1.0
                plots.source[p, a] = -1
                any_new = True
        if any_new and not known_before:
            counts[DETECTED] += 1
        if any_new:
            # Sharing of new detections, with misuse (burning the sender's coverage) and
            # leakage (tipping the cell off).
            for a in range(n_actors):
                if not new[a]:
                    continue
                for b in range(n_actors):
                    if b == a or iw.share_prob[a, b] <= 0.0:
                        continue
                    if reach_pair[o, t, b] <= 0.0 or plots.knowledge[p, b] >= iw.shared_value:
                        continue
                    pair = a * n_actors + b
                    if draw(k, SHARING, pair) >= iw.share_prob[a, b]:
                        continue
                    by_pair[SHARED, a, b] += 1
                    plots.knowledge[p, b] = iw.shared_value
                    plots.source[p, b] = a
                    if draw(k, EXPLOITATION, pair) < iw.exploit_ab[a, b]:
                        by_pair[EXPLOITED, a, b] += 1
                        coverage_health[a] *= 1.0 - iw.coverage_damage
                        fill_seen(seen, iw.coverage, coverage_health[a], a)
                        if draw(k, NOTICE, 2 * pair) < iw.counter_intelligence[a]:
                            tallies.new_bad[a, b] += 1.0
                    if draw(k, LEAKAGE, pair) < iw.leak[b]:
                        by_pair[LEAKED, a, b] += 1
                        if not plots.tipped[p]:
                            plots.tipped[p] = True
                            cells.opsec[c] = min(0.95, cells.opsec[c] + iw.tipoff_opsec_gain)
                        if draw(k, NOTICE, 2 * pair + 1) < iw.counter_intelligence[a]:
                            tallies.new_bad[a, b] += 1.0
            # Duty to warn the state ruling the target.
            j = iw.jurisdiction[t]
            for a in range(n_actors):
                if j < 0 or not new[a] or not iw.duty_to_warn[a] or a == j:
                    continue
                if plots.knowledge[p, j] > 0.0:
                    continue
                counts[WARNINGS_ISSUED] += 1
                plots.warned[p] = True
                if draw(k, WARNING, a) < iw.receptivity[j] * iw.trust[j, a]:
                    counts[WARNINGS_HEEDED] += 1
                    plots.knowledge[p, j] = iw.warning_quality
                    plots.source[p, j] = n_actors + a
                    plots.ignored_by[p] = -1
                else:
                    plots.ignored_by[p] = a
        # Interdiction (informed, by each actor; else uninformed) versus maturation
        tip = 1.0 - iw.tipoff_effect if plots.tipped[p] else 1.0
        who = -1
        best = 0.0
        for a in range(n_actors):
            h = iw.interdiction_hazard * reach_pair[o, t, a] * plots.knowledge[p, a] * tip
            if h > best and chance(k, INTERDICTION, a, h):
                who = a
                best = h
        if who < 0 and iw.host_security[t] > 0.0 and chance(k, UNINFORMED, 0, iw.host_security[t]):
            who = n_actors
        if who < 0 and week < plots.matures_at[p]:
            cells.plotting[c] = True
            live += 1
            continue
        plots.cell[p] = RESOLVED
        outcome = INTERDICTION_AGE if who >= 0 else ATTACK
        abroad = 0 if iw.country_of[o] == iw.country_of[t] else 1
        tallies.plot_ages[outcome, abroad, 0] += week - plots.born[p]
        tallies.plot_ages[outcome, abroad, 1] += 1
        if who >= 0:
            # Interdicted by actor ``who`` (``n_actors`` = uninformed host security).
            counts[INTERDICTED] += 1
            if who == n_actors:
                counts[UNINFORMED_INTERDICTIONS] += 1
            else:
                by_actor[INTERDICTED_BY, who] += 1
                src = plots.source[p, who]
                if src >= n_actors:
                    by_actor[INTERDICTED_AFTER_WARNING, who] += 1
                    src -= n_actors
                elif src >= 0:
                    by_pair[INTERDICTED_WITH_SHARED, src, who] += 1
                if src >= 0:
                    tallies.new_good[who, src] += 1.0
                    tallies.new_good[src, who] += 1.0
            cells.strength[c] = max(0, cells.strength[c] - iw.fighters_lost)
            cells.disruption[c] += 1.0
            continue
        # Matured: an attack attempt; success, fatalities, what the warning changed.
        country = iw.country_of[t]
        by_country[ATTEMPTED, country] += 1
        key = plots.key[p]
        if draw(key, SUCCESS, 0) >= iw.hardening[t]:
            x = iw.severity_minimum * (1.0 - draw(key, SEVERITY, 0)) ** (
                -1.0 / (iw.severity_exponent - 1.0)
            )
            # Cap before converting: a heavy tail (exponent near 1) draws beyond int64.
            deaths = math.floor(min(x, float(iw.severity_cap)))
            by_country[SUCCEEDED, country] += 1
            by_country[FATALITIES, country] += deaths
            counts[SUCCESSFUL] += 1
            cells.capability[c] = min(1.0, cells.capability[c] + iw.learning)
            mass = deaths >= iw.mass_threshold
            if mass:
                by_country[MASS_CASUALTY, country] += 1
            if plots.warned[p]:
                counts[ATTACKS_DESPITE_WARNING] += 1
                if mass:
                    by_country[MASS_DESPITE_WARNING, country] += 1
            edges = iw.severity_edges
            for e in range(len(edges)):
                if deaths >= edges[e]:
                    tallies.severity_ccdf[e] += 1
        if plots.ignored_by[p] >= 0:
            tallies.new_bad[plots.ignored_by[p], iw.jurisdiction[t]] += 1.0
    return live


@njit(cache=True)
def compact_plots(plots: PlotState, n_rows: int, actors: tuple[int, ...] | np.ndarray) -> int:
    """Move the live plots of rows ``0..n_rows`` to the first rows, in order; return their count.

    ``actors`` is ``engine.Geo.actors``: as a tuple, the per-actor copies unroll.
    """
    keep = 0
    for p in range(n_rows):
        if plots.cell[p] == RESOLVED:
            continue
        if keep != p:
            plots.key[keep] = plots.key[p]
            plots.origin[keep] = plots.origin[p]
            plots.target[keep] = plots.target[p]
            plots.cell[keep] = plots.cell[p]
            plots.born[keep] = plots.born[p]
            plots.matures_at[keep] = plots.matures_at[p]
            plots.tipped[keep] = plots.tipped[p]
            plots.warned[keep] = plots.warned[p]
            plots.ignored_by[keep] = plots.ignored_by[p]
            for a in range(len(actors)):
                plots.own[keep, a] = plots.own[p, a]
                plots.knowledge[keep, a] = plots.knowledge[p, a]
                plots.source[keep, a] = plots.source[p, a]
        keep += 1
    return keep
