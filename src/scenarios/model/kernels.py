"""Compiled weekly kernels (numba) and the random streams they draw from.

The model's weekly processes loop over tens of cells, tens of live plots and a handful of
actors. In numpy each such process costs dozens of small calls; compiled loops cost a
fraction of that, which is what makes thousands of replications per sweep affordable.

Randomness: each process has its own stream, a SplitMix64 generator (Steele, Lea &
Flood 2014) whose 64-bit state is seeded from a child of the replication's
``numpy.random.SeedSequence``. Streams are rows of one ``uint64`` array owned by the
model, so there is no global random state and common random numbers hold per process.
Poisson and binomial variates use inversion for small means and a normal approximation
above ``_INVERSION_LIMIT``.
"""

from __future__ import annotations

import math

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
_INVERSION_LIMIT = 30.0

# Stream rows (see ScenarioModel.STREAMS for the seeding order).
RECRUITMENT, PLOTS, COLLECTION, SHARING, WARNING, RESOLUTION, SEVERITY, ACTIVATION = range(8)
N_STREAMS = 8


def seed_streams(seq: np.random.SeedSequence) -> np.ndarray:
    """One uint64 SplitMix64 state per process stream, from a replication's SeedSequence."""
    return np.array(
        [child.generate_state(1, np.uint64)[0] for child in seq.spawn(N_STREAMS)], dtype=np.uint64
    )


@njit(cache=True)
def uniform(state: np.ndarray, k: int) -> float:
    """Next double in [0, 1) from stream ``k`` (SplitMix64, 53-bit mantissa)."""
    state[k] += _GOLDEN
    z = state[k]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * _TO_UNIT


@njit(cache=True)
def normal(state: np.ndarray, k: int) -> float:
    """Standard normal variate (Box-Muller, one of the pair)."""
    u1 = 1.0 - uniform(state, k)
    u2 = uniform(state, k)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def poisson(state: np.ndarray, k: int, lam: float) -> int:
    """Poisson variate with mean ``lam`` >= 0."""
    if lam <= 0.0:
        return 0
    if lam > _INVERSION_LIMIT:
        return max(0, round(lam + math.sqrt(lam) * normal(state, k)))
    u = uniform(state, k)
    p = math.exp(-lam)
    cdf = p
    x = 0
    while u > cdf and x < 1000:
        x += 1
        p *= lam / x
        cdf += p
    return x


@njit(cache=True)
def binomial(state: np.ndarray, k: int, n: int, p: float) -> int:
    """Binomial variate: successes in ``n`` trials of probability ``p``."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(state, k, n, 1.0 - p)
    mean = n * p
    if mean > _INVERSION_LIMIT:
        x = round(mean + math.sqrt(mean * (1.0 - p)) * normal(state, k))
        return min(n, max(0, x))
    u = uniform(state, k)
    q = 1.0 - p
    prob = q**n
    cdf = prob
    x = 0
    ratio = p / q
    while u > cdf and x < n:
        prob *= (n - x) / (x + 1.0) * ratio
        x += 1
        cdf += prob
    return x


# ----------------------------------------------------------------------------------------
# Threat: recruitment, attrition, relocation, plot counts
# ----------------------------------------------------------------------------------------


@njit(cache=True)
def threat_week(
    rng: np.ndarray,
    week: int,
    slots: np.ndarray,
    region: np.ndarray,
    strength: np.ndarray,
    capability: np.ndarray,
    disrupted_until: np.ndarray,
    recruitment_pool: np.ndarray,
    region_crackdown: np.ndarray,
    region_attrition: np.ndarray,
    adjacency: np.ndarray,
    recruit_scale: float,
    attrition_rate: float,
    relocation_rate: float,
    plots_per_fighter: float,
    moved: np.ndarray,
    new_plots: np.ndarray,
) -> tuple[int, int]:
    """One week for every live cell: recruit, lose fighters, maybe relocate, count new plots.

    ``recruit_scale`` folds the recruitment rate, crowding and propaganda into one factor;
    ``region_attrition`` is the crackdown's extra attrition per region. Writes the region a
    cell moved to into ``moved`` (-1 if it stayed) and its new plot count into ``new_plots``;
    returns (cells moved, plots started).
    """
    n_regions = len(recruitment_pool)
    n_moved = 0
    n_plots = 0
    weights = np.empty(n_regions)
    for i in range(len(slots)):
        s = slots[i]
        r = region[s]
        recruits = poisson(rng, RECRUITMENT, recruit_scale * recruitment_pool[r] * strength[s])
        loss_p = min(1.0, attrition_rate + region_attrition[r])
        losses = binomial(rng, RECRUITMENT, strength[s], loss_p)
        strength[s] = strength[s] + recruits - losses
        moved[i] = -1
        pressure = relocation_rate * region_crackdown[r]
        if pressure > 0.0 and uniform(rng, ACTIVATION) < pressure:
            total = 0.0
            for j in range(n_regions):
                w = 0.0
                if adjacency[r, j]:
                    w = recruitment_pool[j] * (1.0 - region_crackdown[j]) + 1e-9
                weights[j] = w
                total += w
            u = uniform(rng, ACTIVATION) * total
            acc = 0.0
            for j in range(n_regions):
                acc += weights[j]
                if weights[j] > 0.0 and u < acc:
                    moved[i] = j
                    region[s] = j
                    n_moved += 1
                    break
        new_plots[i] = 0
        if strength[s] > 0 and disrupted_until[s] <= week:
            new_plots[i] = poisson(rng, PLOTS, plots_per_fighter * strength[s] * capability[s])
            n_plots += new_plots[i]
    return n_moved, n_plots


@njit(cache=True)
def place_plots(
    rng: np.ndarray,
    slots: np.ndarray,
    counts: np.ndarray,
    region: np.ndarray,
    target_base: np.ndarray,
    same_country: np.ndarray,
    region_crackdown: np.ndarray,
    displacement: float,
    start: int,
    origin: np.ndarray,
    target: np.ndarray,
    cell: np.ndarray,
    age: np.ndarray,
) -> int:
    """Append new plots from rows ``start`` on; return the new plot count.

    The target of a plot from origin o is drawn with weight ``target_base[o, t]``, cut by
    ``displacement x crackdown(o)`` when t is in o's country (pressure at home pushes
    targeting abroad).
    """
    n_regions = target_base.shape[1]
    target_cdf = np.empty((n_regions, n_regions))
    for o in range(n_regions):
        total = 0.0
        for t in range(n_regions):
            w = target_base[o, t]
            if same_country[o, t]:
                w *= 1.0 - displacement * region_crackdown[o]
            total += w
            target_cdf[o, t] = total
        for t in range(n_regions):
            # No admissible target (all weights 0): choose uniformly rather than divide by 0.
            target_cdf[o, t] = target_cdf[o, t] / total if total > 0.0 else (t + 1.0) / n_regions
    row = start
    for i in range(len(slots)):
        for _ in range(counts[i]):
            o = region[slots[i]]
            u = uniform(rng, PLOTS)
            t = 0
            while t < n_regions - 1 and u >= target_cdf[o, t]:
                t += 1
            origin[row] = o
            target[row] = t
            cell[row] = slots[i]
            age[row] = 0
            row += 1
    return row


# ----------------------------------------------------------------------------------------
# Intelligence: collection, sharing, misuse, warning, interdiction vs maturation
# ----------------------------------------------------------------------------------------


@njit(cache=True)
def plot_reach(
    o: int,
    t: int,
    reach: np.ndarray,
    jurisdiction: np.ndarray,
    home_boost: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each actor's interdiction capacity over a plot from ``o`` against ``t``, into ``out``."""
    for a in range(reach.shape[0]):
        x = max(reach[a, o], reach[a, t])
        if jurisdiction[o] == a or jurisdiction[t] == a:
            x = min(1.0, x * home_boost[a])
        out[a] = x


@njit(cache=True)
def intel_week(
    rng: np.ndarray,
    week: int,
    n_plots: int,
    # plots
    origin: np.ndarray,
    target: np.ndarray,
    cell: np.ndarray,
    age: np.ndarray,
    tipped: np.ndarray,
    warned: np.ndarray,
    ignored_by: np.ndarray,
    own: np.ndarray,
    knowledge: np.ndarray,
    source: np.ndarray,
    # cells
    cell_opsec: np.ndarray,
    cell_strength: np.ndarray,
    cell_capability: np.ndarray,
    cell_disrupted_until: np.ndarray,
    cell_plotting: np.ndarray,
    # regions
    jurisdiction: np.ndarray,
    country_of: np.ndarray,
    hardening: np.ndarray,
    host_security: np.ndarray,
    region_disruption: np.ndarray,
    # actors
    coverage: np.ndarray,
    reach: np.ndarray,
    home_boost: np.ndarray,
    coverage_health: np.ndarray,
    share_prob: np.ndarray,
    exploit_ab: np.ndarray,
    leak: np.ndarray,
    counter_intelligence: np.ndarray,
    receptivity: np.ndarray,
    duty_to_warn: np.ndarray,
    trust: np.ndarray,
    # scalars
    shared_value: float,
    warning_quality: float,
    interdiction_hazard: float,
    tipoff_effect: float,
    tipoff_opsec_gain: float,
    coverage_damage: float,
    maturation_domestic: float,
    maturation_external: float,
    fighters_lost: int,
    disruption_weeks: int,
    learning: float,
    severity_exponent: float,
    severity_minimum: int,
    severity_cap: int,
    mass_threshold: int,
    severity_edges: np.ndarray,
    # outputs
    counts: np.ndarray,
    by_pair: np.ndarray,
    by_country: np.ndarray,
    new_good: np.ndarray,
    new_bad: np.ndarray,
    severity_ccdf: np.ndarray,
) -> int:
    """One week of the intelligence contest over every live plot; returns plots still live.

    ``counts`` receives [detected, warnings issued, warnings heeded, interdicted,
    successful attacks despite warning, plots abandoned by destroyed cells, successful
    attacks];
    ``by_pair[k, a, b]`` the shared (k=0), exploited (1) and leaked (2) items from a to b;
    ``by_country[k, c]`` attempted (0), successful (1), fatalities (2), mass-casualty (3),
    mass-casualty despite a warning (4); ``severity_ccdf[e]`` counts successful attacks
    with at least ``severity_edges[e]`` fatalities.
    Resolved plots are removed by compacting the plot arrays in place.
    """
    n_actors = coverage.shape[0]
    reach_p = np.empty(n_actors)
    hazards = np.empty(n_actors + 1)
    new = np.zeros(n_actors, dtype=np.bool_)
    keep = 0
    for p in range(n_plots):
        o = origin[p]
        t = target[p]
        c = cell[p]
        if cell_strength[c] <= 0:
            counts[5] += 1  # the cell is gone: its plot dies with it
            continue
        # Collection
        known_before = False
        any_new = False
        evade = 1.0 - cell_opsec[c]
        for a in range(n_actors):
            if knowledge[p, a] > 0.0:
                known_before = True
            new[a] = False
            if not own[p, a]:
                h = coverage_health[a]
                if o == t:
                    seen = coverage[a, o] * h
                else:
                    seen = 1.0 - (1.0 - coverage[a, o] * h) * (1.0 - coverage[a, t] * h)
                if uniform(rng, COLLECTION) < seen * evade:
                    new[a] = True
                    own[p, a] = True
                    knowledge[p, a] = 1.0
                    source[p, a] = -1
                    any_new = True
        if any_new and not known_before:
            counts[0] += 1
        plot_reach(o, t, reach, jurisdiction, home_boost, reach_p)
        if any_new:
            # Sharing, misuse and leakage
            for a in range(n_actors):
                if not new[a]:
                    continue
                for b in range(n_actors):
                    if b == a or share_prob[a, b] <= 0.0:
                        continue
                    if reach_p[b] <= 0.0 or knowledge[p, b] >= shared_value:
                        continue
                    if uniform(rng, SHARING) >= share_prob[a, b]:
                        continue
                    by_pair[0, a, b] += 1
                    knowledge[p, b] = shared_value
                    source[p, b] = a
                    if uniform(rng, SHARING) < exploit_ab[a, b]:
                        by_pair[1, a, b] += 1
                        coverage_health[a] *= 1.0 - coverage_damage
                        if uniform(rng, SHARING) < counter_intelligence[a]:
                            new_bad[a, b] += 1.0
                    if uniform(rng, SHARING) < leak[b]:
                        by_pair[2, a, b] += 1
                        if not tipped[p]:
                            tipped[p] = True
                            cell_opsec[c] = min(0.95, cell_opsec[c] + tipoff_opsec_gain)
                        if uniform(rng, SHARING) < counter_intelligence[a]:
                            new_bad[a, b] += 1.0
            # Duty to warn
            j = jurisdiction[t]
            if j >= 0:
                for a in range(n_actors):
                    if not new[a] or not duty_to_warn[a] or a == j or knowledge[p, j] > 0.0:
                        continue
                    counts[1] += 1
                    warned[p] = True
                    if uniform(rng, WARNING) < receptivity[j] * trust[j, a]:
                        counts[2] += 1
                        knowledge[p, j] = warning_quality
                        source[p, j] = a
                        ignored_by[p] = -1
                    else:
                        ignored_by[p] = a
        # Interdiction versus maturation (competing weekly hazards)
        tip = 1.0 - tipoff_effect if tipped[p] else 1.0
        survive = 1.0
        for a in range(n_actors):
            h = interdiction_hazard * reach_p[a] * knowledge[p, a] * tip
            hazards[a] = h
            survive *= 1.0 - h
        disruption = max(region_disruption[o], region_disruption[t])
        other = 1.0 - (1.0 - host_security[t]) * (1.0 - disruption)
        hazards[n_actors] = other
        survive *= 1.0 - other
        h_total = 1.0 - survive
        alpha = maturation_domestic if country_of[o] == country_of[t] else maturation_external
        u = uniform(rng, RESOLUTION)
        if u < h_total:
            counts[3] += 1
            total = 0.0
            for a in range(n_actors + 1):
                total += hazards[a]
            pick = uniform(rng, RESOLUTION) * total
            acc = 0.0
            who = n_actors
            for a in range(n_actors + 1):
                acc += hazards[a]
                if pick < acc:
                    who = a
                    break
            if who < n_actors and source[p, who] >= 0:
                new_good[who, source[p, who]] += 1.0
                new_good[source[p, who], who] += 1.0
            cell_strength[c] = max(0, cell_strength[c] - fighters_lost)
            cell_disrupted_until[c] = week + disruption_weeks
        elif u < h_total + (1.0 - h_total) * alpha:
            country = country_of[t]
            by_country[0, country] += 1
            if uniform(rng, SEVERITY) >= hardening[t]:
                x = severity_minimum * (1.0 - uniform(rng, SEVERITY)) ** (
                    -1.0 / (severity_exponent - 1.0)
                )
                deaths = min(math.floor(x), severity_cap)
                by_country[1, country] += 1
                by_country[2, country] += deaths
                counts[6] += 1
                cell_capability[c] = min(1.0, cell_capability[c] + learning)
                mass = deaths >= mass_threshold
                if mass:
                    by_country[3, country] += 1
                if warned[p]:
                    counts[4] += 1
                    if mass:
                        by_country[4, country] += 1
                for e in range(len(severity_edges)):
                    if deaths >= severity_edges[e]:
                        severity_ccdf[e] += 1
            if ignored_by[p] >= 0:
                new_bad[ignored_by[p], jurisdiction[t]] += 1.0
        else:
            # Still live: compact into row ``keep``.
            age[keep] = age[p] + 1
            if keep != p:
                origin[keep] = o
                target[keep] = t
                cell[keep] = c
                tipped[keep] = tipped[p]
                warned[keep] = warned[p]
                ignored_by[keep] = ignored_by[p]
                for a in range(n_actors):
                    own[keep, a] = own[p, a]
                    knowledge[keep, a] = knowledge[p, a]
                    source[keep, a] = source[p, a]
            cell_plotting[c] = True
            keep += 1
    return keep
