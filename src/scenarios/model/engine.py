"""The compiled week: every weekly process of the model in one numba function.

``ScenarioModel`` (the Mesa model) owns the state and stays the face of the simulation;
this module is its engine. One call of :func:`advance` runs weeks until a stop week:
crackdown and pressure, recruitment, attrition, relocation and new plots
(``kernels.threat_week``, ``kernels.place_plots``), the intelligence contest
(``kernels.intel_week``), splits and removals of cells, trust and coverage bookkeeping,
and the week's record. A run (``ScenarioModel.run``) is one call per span of weeks with
fixed interventions; ``ScenarioModel.step`` is one call per week, followed by the sync
of the Mesa agents.

Everything travels as a few records (``NamedTuple`` s of arrays and scalars):

- :class:`Geo`: the region structure (never changes);
- :class:`Params`: the parameters in force (one per set of active interventions);
- :class:`World`: the mutable state besides cells and plots (crackdown, trust, coverage,
  what this week's pressure implies, counters);
- ``kernels.CellState`` and ``kernels.PlotState``: cells and plots as parallel arrays;
- ``kernels.Tallies``: what happened this week; ``outcomes.Records``: the weekly outputs.

Adding a mechanism means a field in one record and a few lines in one function. The
engine cannot grow arrays: when the cell or plot table is full, or a size limit would be
passed, :func:`advance` returns a status and the model grows the table (or raises) and
calls again; the week resumes at the phase where it stopped (``World.counters[PHASE]``).

The arithmetic reproduces the numpy code it replaced operation for operation (row sums
of the targeting weights follow numpy's pairwise summation), so outputs are bit-identical
to those of the step-by-step Python model (``tests/reference``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from scenarios.model import intel, kernels
from scenarios.model.outcomes import ACTOR_OUTCOMES, PAIR_OUTCOMES, SCALAR_OUTCOMES, Records

# ``World.counters``: the week, the phase reached within it, table sizes, a count that
# passed a limit, and the plot rows in use (``N_ROWS``: inside :func:`advance`, rows
# ``0..N_ROWS`` hold the ``N_PLOTS`` live plots and resolved ones not yet compacted away;
# outside it the rows are compact, ``N_ROWS == N_PLOTS``).
WEEK, PHASE, N_PLOTS, N_CELLS, N_LIVE, NEW_PLOTS, OVER_LIMIT, N_ROWS = range(8)
N_COUNTERS = 8
# ``World.flows``: the decaying count of recent successful attacks, plots started.
PROPAGANDA, PLOTS_STARTED = range(2)
# Phases of a week (``World.counters[PHASE]``).
BEGIN, PLOTS, CELLS = range(3)
# What :func:`advance` returns.
DONE, GROW_PLOTS, GROW_CELLS, LIMIT_PLOTS, LIMIT_CELLS = range(5)

# Rows of ``Records.scalar`` and ``Records.actor``, by outcome name.
R_PLOTS_STARTED = SCALAR_OUTCOMES.index("plots_started")
R_PLOTS_DETECTED = SCALAR_OUTCOMES.index("plots_detected")
R_PLOTS_INTERDICTED = SCALAR_OUTCOMES.index("plots_interdicted")
R_UNINFORMED = SCALAR_OUTCOMES.index("interdicted_without_intelligence")
R_ABANDONED = SCALAR_OUTCOMES.index("plots_abandoned")
R_WARNINGS_ISSUED = SCALAR_OUTCOMES.index("warnings_issued")
R_WARNINGS_HEEDED = SCALAR_OUTCOMES.index("warnings_heeded")
R_ATTACKS_DESPITE_WARNING = SCALAR_OUTCOMES.index("attacks_despite_warning")
R_LEAKS = SCALAR_OUTCOMES.index("leaks")
R_STRENGTH = SCALAR_OUTCOMES.index("strength")
R_CELLS = SCALAR_OUTCOMES.index("cells")
R_LIVE_PLOTS = SCALAR_OUTCOMES.index("live_plots")
R_EXPLOITATION_AGAINST = ACTOR_OUTCOMES.index("exploitation_against")
R_LEAKS_OF = ACTOR_OUTCOMES.index("leaks_of")
R_INTERDICTED_BY = ACTOR_OUTCOMES.index("interdicted_by")
R_AFTER_WARNING = ACTOR_OUTCOMES.index("interdicted_after_warning")
R_HEALTH = ACTOR_OUTCOMES.index("coverage_health")
R_CRACKDOWN = ACTOR_OUTCOMES.index("crackdown")
# ``Records.pair`` rows follow ``outcomes.PAIR_OUTCOMES``; ``country`` rows follow
# ``outcomes.COUNTRY_OUTCOMES``, which are ``kernels.Tallies.by_country``'s rows.
assert PAIR_OUTCOMES == ("shared", "interdicted_with_shared", "trust")


class Geo(NamedTuple):
    """Region structure (``R`` regions, ``A`` actors); never changes during a run."""

    jurisdiction: np.ndarray  # [R] int64 actor ruling the region, -1 unmodelled
    jurisdiction_or_0: np.ndarray  # [R] int64, -1 replaced by 0
    has_jurisdiction: np.ndarray  # [R] 1.0 where a modelled actor rules, else 0.0
    country_of: np.ndarray  # [R] int64 country index
    same_country: np.ndarray  # [R, R] bool
    adjacency: np.ndarray  # [R, R] bool
    home: np.ndarray  # [A, R] bool: the region is in the actor's jurisdiction
    uniform_cdf: np.ndarray  # [1, R] targeting when no region is admissible
    severity_edges: np.ndarray  # [E] int64 fatality thresholds of the severity tail
    # The actors ``0, 1, ..., A - 1`` (see :func:`actor_indices`): as a tuple for
    # ``SPECIALISED_ACTORS`` actors, whose length is part of its numba type, so that the
    # week is compiled for that count and every loop over actors has a constant trip
    # count (unrolled, per-actor values in registers rather than scratch memory); as an
    # array otherwise, one compiled week for every other count.
    actors: tuple[int, ...] | np.ndarray


# The actor count the compiled week is specialised for: that of the shipped scenarios
# (the US, Russia, the Taliban, Iran and Pakistan). Measured on the baseline, the
# specialised week is x1.06 the speed of the generic one (benchmarks/run_bench.py);
# a specialisation per count would cost a compilation (about 40 s) for each count used.
SPECIALISED_ACTORS = 5


def actor_indices(n_actors: int) -> tuple[int, ...] | np.ndarray:
    """``Geo.actors``: a tuple for :data:`SPECIALISED_ACTORS` actors, else an array."""
    if n_actors == SPECIALISED_ACTORS:
        return tuple(range(n_actors))
    return np.arange(n_actors)


class Params(NamedTuple):
    """Parameters in force (``params.Parameters`` plus the scalars the week reads)."""

    recruitment_pool: np.ndarray  # [R] [0, 1]
    hardening: np.ndarray  # [R] probability an attempt fails
    host_security: np.ndarray  # [R] weekly hazard of an uninformed interdiction
    host_pressure: np.ndarray  # [R] standing host-state pressure [0, 1]
    home_weight: np.ndarray  # [R] pull of the home country as a base
    target_base: np.ndarray  # [R, R] unnormalised targeting weight
    coverage: np.ndarray  # [A, R] weekly detection probability before the crackdown
    reach: np.ndarray  # [A, R] interdiction capacity before the crackdown
    receptivity: np.ndarray  # [A]
    counter_intelligence: np.ndarray  # [A]
    duty_to_warn: np.ndarray  # [A] bool
    crackdown_intensity: np.ndarray  # [A] target level [0, 1]
    crackdown_buildup: np.ndarray  # [A] weekly approach rate [0, 1]
    crackdown_coverage_boost: np.ndarray  # [A] relative coverage gain at crackdown 1
    region_crackdown_attrition: np.ndarray  # [R] extra attrition at crackdown 1
    share_policy: np.ndarray  # [A, A]
    exploit_ab: np.ndarray  # [A, A]
    leak: np.ndarray  # [A]
    trust_prior: np.ndarray  # [A, A]
    no_warning: np.ndarray  # [A] False: duty to warn during spin-up
    shared_value: float
    attrition_rate: float  # weekly probability a fighter is lost
    host_attrition: float
    pressure_aversion: float
    displacement: float
    recruitment_rate: float
    carrying_capacity: float
    propaganda_boost: float
    propaganda_memory: float
    relocation_rate: float
    relocation_cost: float
    plots_per_fighter: float
    disruption_retention: float
    lifetime_domestic: float  # weeks
    lifetime_external: float  # weeks
    lifetime_shape: int
    split_size: int  # fighters
    fighters_lost: int  # per interdiction
    learning: float
    interdiction_hazard: float
    interdiction_crackdown_boost: float
    trust_sensitivity: float
    warning_quality: float
    tipoff_effect: float
    tipoff_opsec_gain: float
    coverage_damage: float
    coverage_recovery: float
    severity_exponent: float
    severity_minimum: int
    severity_cap: int
    mass_threshold: int
    forgetting: float
    bad_weight: float
    prior_weight: float


class World(NamedTuple):
    """Mutable state besides cells and plots, and what this week's pressure implies."""

    crackdown_level: np.ndarray  # [A] [0, 1]
    coverage_health: np.ndarray  # [A] share of coverage not burned [0, 1]
    good: np.ndarray  # [A, A] Beta-reputation evidence
    bad: np.ndarray  # [A, A]
    trust: np.ndarray  # [A, A] expected trust (truster, trustee)
    new_good: np.ndarray  # [A, A] this week's evidence
    new_bad: np.ndarray  # [A, A]
    pressure: np.ndarray  # [R] this week's pressure on cells [0, 1]
    attrition: np.ndarray  # [R] this week's attrition
    appeal: np.ndarray  # [R] this week's weight of a region as a base
    target_cdf: np.ndarray  # [R, R] this week's cumulative targeting distribution
    coverage: np.ndarray  # [A, R] this week's coverage (crackdown included)
    reach: np.ndarray  # [A, R] this week's reach (crackdown included)
    weight: np.ndarray  # [R] scratch: one origin's targeting weights
    share_prob: np.ndarray  # [A, A] this week's probability a new detection flows a -> b
    seen: np.ndarray  # [R, R, A] scratch of the intelligence week
    reach_pair: np.ndarray  # [R, R, A] scratch of the intelligence week
    new: np.ndarray  # [A] bool scratch of the intelligence week
    flows: np.ndarray  # [2] float: PROPAGANDA, PLOTS_STARTED
    counters: np.ndarray  # [N_COUNTERS] int64: WEEK, PHASE, N_PLOTS, N_CELLS, ...


@intrinsic
def borrow(typingctx: Any, record: types.BaseTuple) -> Any:
    """The same record, its arrays without reference counts (views the caller keeps alive).

    Every array numba passes around carries a reference count, updated atomically each
    time a record is handed to an inlined phase or a kernel: some hundreds of atomic
    operations a week, a tenth of a replication. :func:`advance` holds the real records
    for the whole call, so inside it the phases can work on borrowed views instead, whose
    counts numba skips (a null ``meminfo``). Never return or store a borrowed array.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (value,) = args
        out = value
        for i, member in enumerate(record.types):
            if isinstance(member, types.Array):
                array = context.make_array(member)(
                    context, builder, value=builder.extract_value(value, i)
                )
                array.meminfo = cgutils.get_null_value(array.meminfo.type)
                array.parent = cgutils.get_null_value(array.parent.type)
                out = builder.insert_value(out, array._getvalue(), i)
        return out

    return record(record), codegen


# ----------------------------------------------------------------------------------------
# The week's phases
# ----------------------------------------------------------------------------------------


@njit(cache=True)
def pairwise_sum(a: np.ndarray) -> float:
    """Sum as numpy sums a short contiguous row (blocks of eight, then the remainder)."""
    n = len(a)
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    # Eight running sums in registers (numpy's unrolled loop), not a scratch array.
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - (n % 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@njit(cache=True, inline="always")
def derive_pressure(world: World, prm: Params, geo: Geo) -> None:
    """Derive the week's attrition, base appeal, targeting, coverage and reach.

    Pressure in a region combines the crackdown of the actor ruling it and the host
    state's standing pressure; it adds attrition, makes the region a less appealing base
    and displaces targeting of the home country abroad. A crackdown raises its actor's
    coverage and reach at home.
    """
    n_r = len(geo.jurisdiction)
    pressure = world.pressure
    for r in range(n_r):
        level = world.crackdown_level[geo.jurisdiction_or_0[r]] * geo.has_jurisdiction[r]
        pressure[r] = 1.0 - (1.0 - level) * (1.0 - prm.host_pressure[r])
        world.attrition[r] = min(
            1.0,
            prm.attrition_rate
            + prm.region_crackdown_attrition[r] * level
            + prm.host_attrition * prm.host_pressure[r],
        )
        world.appeal[r] = (
            prm.recruitment_pool[r]
            * prm.home_weight[r]
            * (1.0 - prm.pressure_aversion * pressure[r])
        )
    weight = world.weight
    for o in range(n_r):
        for t in range(n_r):
            factor = 1.0 - prm.displacement * pressure[o] if geo.same_country[o, t] else 1.0
            weight[t] = prm.target_base[o, t] * factor
        total = pairwise_sum(weight)
        acc = 0.0
        for t in range(n_r):
            acc += weight[t]
            world.target_cdf[o, t] = acc / total if total > 0 else geo.uniform_cdf[0, t]
    for a in range(len(world.crackdown_level)):
        coverage_gain = 1.0 + prm.crackdown_coverage_boost[a] * world.crackdown_level[a]
        reach_gain = 1.0 + prm.interdiction_crackdown_boost * world.crackdown_level[a]
        for r in range(n_r):
            home = geo.home[a, r]
            world.coverage[a, r] = min(1.0, prm.coverage[a, r] * (coverage_gain if home else 1.0))
            world.reach[a, r] = min(1.0, prm.reach[a, r] * (reach_gain if home else 1.0))


@njit(cache=True, inline="always")
def update_crackdown(world: World, prm: Params, geo: Geo) -> None:
    """Crackdown intensity moves toward its target at the configured build-up rate."""
    level = world.crackdown_level
    for a in range(len(level)):
        level[a] += prm.crackdown_buildup[a] * (prm.crackdown_intensity[a] - level[a])
    derive_pressure(world, prm, geo)


@njit(cache=True, inline="always")
def live_cells(cells: kernels.CellState, world: World) -> np.ndarray:
    """Slots of cells that still have fighters, written to ``cells.live`` (a view)."""
    n = 0
    for s in range(world.counters[N_CELLS]):
        if cells.alive[s]:
            cells.live[n] = s
            n += 1
    world.counters[N_LIVE] = n
    return cells.live[:n]


@njit(cache=True, inline="always")
def threat_phase(week: int, world: World, cells: kernels.CellState, prm: Params, geo: Geo) -> None:
    """Cells recruit and lose fighters, relocate, and count their new plots."""
    slots = live_cells(cells, world)
    strength = 0
    for s in slots:
        strength += cells.strength[s]
    crowding = max(0.0, 1.0 - strength / prm.carrying_capacity)
    propaganda = world.flows[PROPAGANDA]
    boost = 1.0 + prm.propaganda_boost * propaganda / (1.0 + propaganda)
    tw = kernels.ThreatWeek(
        prm.recruitment_pool,
        world.attrition,
        world.appeal,
        geo.adjacency,
        prm.recruitment_rate * crowding * boost,
        prm.relocation_rate,
        prm.relocation_cost,
        prm.plots_per_fighter,
        prm.disruption_retention,
        world.weight,
    )
    _, n_plots = kernels.threat_week(week, slots, cells, tw, cells.new_plots)
    world.counters[NEW_PLOTS] = n_plots
    world.flows[PLOTS_STARTED] = n_plots


@njit(cache=True, inline="always")
def reset_plot_rows(plots: kernels.PlotState, start: int, end: int) -> None:
    """Fresh state for plot rows ``start..end``: nobody knows, warned or tipped anything."""
    for row in range(start, end):
        plots.tipped[row] = False
        plots.warned[row] = False
        plots.ignored_by[row] = -1
        for a in range(plots.own.shape[1]):
            plots.own[row, a] = False
            plots.knowledge[row, a] = 0.0
            plots.source[row, a] = -1


@njit(cache=True, inline="always")
def place_phase(
    week: int,
    world: World,
    cells: kernels.CellState,
    plots: kernels.PlotState,
    prm: Params,
    geo: Geo,
) -> None:
    """Append this week's new plots (the table has room): targets, lifetimes, fresh rows."""
    start = world.counters[N_ROWS]
    reset_plot_rows(plots, start, start + world.counters[NEW_PLOTS])
    birth = kernels.PlotBirth(
        world.target_cdf,
        geo.same_country,
        prm.lifetime_domestic,
        prm.lifetime_external,
        prm.lifetime_shape,
    )
    n_live = world.counters[N_LIVE]
    world.counters[N_ROWS] = kernels.place_plots(
        week, cells.live[:n_live], cells.new_plots, cells, birth, start, plots
    )
    world.counters[N_PLOTS] += world.counters[NEW_PLOTS]


@njit(cache=True, inline="always")
def intel_phase(
    week: int,
    world: World,
    cells: kernels.CellState,
    plots: kernels.PlotState,
    prm: Params,
    geo: Geo,
    tallies: kernels.Tallies,
) -> None:
    """Collection, sharing, misuse, warnings, then interdiction versus maturation.

    The scenario's levers (sharing and warnings) act from ``run.start`` (week 0) on, so
    spin-up is the same for every scenario that differs only in them.
    """
    tallies.counts[:] = 0.0
    tallies.by_pair[:] = 0.0
    tallies.by_actor[:] = 0.0
    tallies.by_country[:] = 0.0
    levers = week >= 0
    share_prob = world.share_prob
    n_a = len(share_prob)
    for a in range(n_a):
        for b in range(n_a):
            # A pair without a sharing policy shares nothing: policy 0 times trust^k (finite
            # and >= 0, as trust is in [0, 1] and k > 0) is +0.0, so skip the power (a libm
            # pow call per pair and week; most pairs have no policy).
            policy = prm.share_policy[a, b]
            share_prob[a, b] = (
                intel.share_probability(policy, world.trust[a, b], prm.trust_sensitivity)
                if levers and policy != 0.0
                else 0.0
            )
    iw = kernels.IntelWeek(
        world.coverage,
        world.reach,
        prm.host_security,
        prm.hardening,
        geo.jurisdiction,
        geo.country_of,
        share_prob,
        prm.exploit_ab,
        prm.leak,
        prm.counter_intelligence,
        prm.receptivity,
        prm.duty_to_warn if levers else prm.no_warning,
        world.trust,
        prm.shared_value,
        prm.warning_quality,
        prm.interdiction_hazard,
        prm.tipoff_effect,
        prm.tipoff_opsec_gain,
        prm.coverage_damage,
        prm.fighters_lost,
        prm.learning,
        prm.severity_exponent,
        prm.severity_minimum,
        prm.severity_cap,
        prm.mass_threshold,
        geo.severity_edges,
        geo.actors,
        world.seen,
        world.reach_pair,
        world.new,
    )
    cells.plotting[:] = False
    world.counters[N_PLOTS] = kernels.intel_week(
        week, world.counters[N_ROWS], plots, cells, iw, world.coverage_health, tallies
    )
    world.flows[PROPAGANDA] += tallies.counts[kernels.SUCCESSFUL]


@njit(cache=True, inline="always")
def compact_plots(world: World, plots: kernels.PlotState, geo: Geo) -> None:
    """Drop the rows of resolved plots: rows ``0..N_PLOTS`` are the live plots, in order."""
    world.counters[N_ROWS] = kernels.compact_plots(plots, world.counters[N_ROWS], geo.actors)


@njit(cache=True, inline="always")
def cells_after_split(world: World, cells: kernels.CellState, prm: Params) -> tuple[int, int]:
    """Live cells after this week's splits and removals, and cells about to split."""
    live = 0
    splitting = 0
    for s in range(world.counters[N_CELLS]):
        if cells.alive[s]:
            live += 1
            if cells.strength[s] > prm.split_size:
                splitting += 1
            elif cells.strength[s] <= 0:
                live -= 1
    return live + splitting, splitting


@njit(cache=True, inline="always")
def split_and_remove(world: World, cells: kernels.CellState, prm: Params) -> None:
    """Large cells split in two; cells emptied by attrition or interdiction leave.

    The new cell's key comes from its parent's key and the parent's split count
    (``kernels.split_key``), so it is the same cell in every scenario.
    """
    n = world.counters[N_CELLS]
    size = n
    for s in range(n):
        if cells.alive[s] and cells.strength[s] > prm.split_size:
            half = cells.strength[s] // 2
            cells.strength[s] -= half
            cells.splits[s] += 1
            new = size
            size += 1
            cells.alive[new] = True
            cells.key[new] = kernels.split_key(cells.key[s], cells.splits[s])
            cells.splits[new] = 0
            cells.region[new] = cells.region[s]
            cells.strength[new] = half
            cells.capability[new] = cells.capability[s]
            cells.opsec[new] = cells.opsec[s]
            cells.disruption[new] = cells.disruption[s]
            cells.plotting[new] = False
            cells.plots_started[new] = 0
            cells.plot_gap[new] = kernels.plot_gap(cells.key[new], 0)
    for s in range(n):
        if cells.alive[s] and cells.strength[s] <= 0:
            cells.strength[s] = 0
            cells.alive[s] = False
    world.counters[N_CELLS] = size


@njit(cache=True, inline="always")
def trust_phase(world: World, prm: Params) -> None:
    """Beta reputation with forgetting; burned coverage recovers; propaganda fades."""
    n_a = len(world.good)
    for a in range(n_a):
        for b in range(n_a):
            good, bad = intel.update_evidence(
                world.good[a, b],
                world.bad[a, b],
                world.new_good[a, b],
                world.new_bad[a, b],
                prm.forgetting,
                prm.bad_weight,
            )
            world.good[a, b] = good
            world.bad[a, b] = bad
            world.trust[a, b] = intel.trust_expectation(
                good, bad, prm.trust_prior[a, b], prm.prior_weight
            )
            world.new_good[a, b] = 0.0
            world.new_bad[a, b] = 0.0
    health = world.coverage_health
    for a in range(len(health)):
        health[a] += prm.coverage_recovery * (1.0 - health[a])
    world.flows[PROPAGANDA] *= prm.propaganda_memory


@njit(cache=True, inline="always")
def record(
    week: int,
    world: World,
    cells: kernels.CellState,
    geo: Geo,
    tallies: kernels.Tallies,
    out: Records,
) -> None:
    """Write this week's outcomes into row ``week`` of the records."""
    counts, by_pair = tallies.counts, tallies.by_pair
    s = out.scalar
    s[R_PLOTS_STARTED, week] = world.flows[PLOTS_STARTED]
    s[R_PLOTS_DETECTED, week] = counts[kernels.DETECTED]
    s[R_WARNINGS_ISSUED, week] = counts[kernels.WARNINGS_ISSUED]
    s[R_WARNINGS_HEEDED, week] = counts[kernels.WARNINGS_HEEDED]
    s[R_PLOTS_INTERDICTED, week] = counts[kernels.INTERDICTED]
    s[R_UNINFORMED, week] = counts[kernels.UNINFORMED_INTERDICTIONS]
    s[R_ABANDONED, week] = counts[kernels.ABANDONED]
    s[R_ATTACKS_DESPITE_WARNING, week] = counts[kernels.ATTACKS_DESPITE_WARNING]
    s[R_LEAKS, week] = by_pair[kernels.LEAKED].sum()
    strength = 0
    live = 0
    level = out.country_level[0, week]
    level[:] = 0.0
    for c in range(world.counters[N_CELLS]):
        if cells.alive[c]:
            strength += cells.strength[c]
            live += 1
            level[geo.country_of[cells.region[c]]] += cells.strength[c]
    s[R_STRENGTH, week] = strength
    s[R_CELLS, week] = live
    s[R_LIVE_PLOTS, week] = world.counters[N_PLOTS]
    out.country[:, week] = tallies.by_country
    a = out.actor
    n_a = len(world.crackdown_level)
    for i in range(n_a):
        a[R_EXPLOITATION_AGAINST, week, i] = by_pair[kernels.EXPLOITED, i].sum()
        a[R_LEAKS_OF, week, i] = by_pair[kernels.LEAKED, i].sum()
    a[R_INTERDICTED_BY, week] = tallies.by_actor[kernels.INTERDICTED_BY]
    a[R_AFTER_WARNING, week] = tallies.by_actor[kernels.INTERDICTED_AFTER_WARNING]
    a[R_HEALTH, week] = world.coverage_health
    a[R_CRACKDOWN, week] = world.crackdown_level
    out.pair[0, week] = by_pair[kernels.SHARED]
    out.pair[1, week] = by_pair[kernels.INTERDICTED_WITH_SHARED]
    out.pair[2, week] = world.trust


# ----------------------------------------------------------------------------------------
# Weeks
# ----------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def run_weeks(
    stop: int,
    world: World,
    cells: kernels.CellState,
    plots: kernels.PlotState,
    prm: Params,
    geo: Geo,
    spin_up: kernels.Tallies,
    recorded: kernels.Tallies,
    out: Records,
    max_plots: int,
    max_cells: int,
) -> int:
    """The weeks of :func:`advance`; plot rows may hold resolved plots when it returns.

    Resolved plots are compacted away when they fill half the rows in use, or when the
    table would otherwise need to grow.
    """
    c = world.counters
    while c[WEEK] < stop:
        week = c[WEEK]
        tallies = recorded if week >= 0 else spin_up
        if c[PHASE] == BEGIN:
            update_crackdown(world, prm, geo)
            threat_phase(week, world, cells, prm, geo)
            c[PHASE] = PLOTS
        if c[PHASE] == PLOTS:
            need = c[N_PLOTS] + c[NEW_PLOTS]
            if c[NEW_PLOTS] > 0 and need > max_plots:
                c[OVER_LIMIT] = need
                return LIMIT_PLOTS
            if c[N_ROWS] + c[NEW_PLOTS] > len(plots.key):
                compact_plots(world, plots, geo)
                if need > len(plots.key):
                    return GROW_PLOTS
            place_phase(week, world, cells, plots, prm, geo)
            intel_phase(week, world, cells, plots, prm, geo, tallies)
            if c[N_ROWS] >= 2 * c[N_PLOTS]:
                compact_plots(world, plots, geo)
            c[PHASE] = CELLS
        live, splitting = cells_after_split(world, cells, prm)
        if live > max_cells:
            c[OVER_LIMIT] = live
            return LIMIT_CELLS
        if c[N_CELLS] + splitting > len(cells.key):
            return GROW_CELLS
        split_and_remove(world, cells, prm)
        trust_phase(world, prm)
        if week >= 0:
            record(week, world, cells, geo, tallies, out)
        c[PHASE] = BEGIN
        c[WEEK] += 1
    return DONE


@njit(cache=True)
def advance(
    stop: int,
    world: World,
    cells: kernels.CellState,
    plots: kernels.PlotState,
    prm: Params,
    geo: Geo,
    spin_up: kernels.Tallies,
    recorded: kernels.Tallies,
    out: Records,
    max_plots: int,
    max_cells: int,
) -> int:
    """Run weeks until ``world.counters[WEEK]`` reaches ``stop``; return a status.

    ``DONE`` when it got there; ``GROW_PLOTS`` or ``GROW_CELLS`` when a table is full
    (grow it and call again: the week resumes where it stopped); ``LIMIT_PLOTS`` or
    ``LIMIT_CELLS`` when the count in ``counters[OVER_LIMIT]`` would pass ``max_plots``
    or ``max_cells``. Spin-up weeks (negative) tally into ``spin_up``, recorded weeks
    into ``recorded`` and ``out``.
    """
    # The records stay alive for the whole call: the phases use borrowed views.
    world = borrow(world)
    cells = borrow(cells)
    plots = borrow(plots)
    prm = borrow(prm)
    geo = borrow(geo)
    spin_up = borrow(spin_up)
    recorded = borrow(recorded)
    out = borrow(out)
    world.counters[N_ROWS] = world.counters[N_PLOTS]  # compact between calls
    status = run_weeks(
        stop, world, cells, plots, prm, geo, spin_up, recorded, out, max_plots, max_cells
    )
    compact_plots(world, plots, geo)
    return status
