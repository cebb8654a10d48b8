"""One replication's state and its compiled weeks, without Mesa.

:class:`Simulation` holds the world, the cell and plot tables and the records of one
replication, and runs the compiled week (``engine``) between changes of the active
interventions. :func:`run_replication` runs one to its end: nothing observes its weeks,
so it needs no Mesa model, agents or network, and a process that only runs replications
(a sweep's or a run's workers) never imports Mesa.
:class:`~scenarios.model.model.ScenarioModel` is a Simulation and a Mesa model, for
stepping, the dashboard and ``mesa.batch_run``; the outputs are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scenarios.config import ModelLimitError, ScenarioConfig, set_dotted
from scenarios.model import engine, kernels
from scenarios.model.outcomes import SEVERITY_EDGES, Recorder, summarise
from scenarios.model.params import Parameters, compile_parameters
from scenarios.model.regions import RegionGeometry, build_geometry
from scenarios.model.tables import CellTable, PlotTable

__all__ = [
    "MAX_LIVE_CELLS",
    "MAX_LIVE_PLOTS",
    "ModelLimitError",
    "Simulation",
    "engine_params",
    "prepare",
    "run_replication",
]

# Sizes the model is built for. Live plots and live cells are arrays walked every week,
# so their number is a run's time and memory; parameters inside the schema's bounds can
# still multiply into millions of either (the largest group recruiting and plotting at
# the highest rates), a run of minutes and gigabytes per replication. The shipped
# scenarios stay below 500 live plots and 100 live cells. Checked once a week, before
# anything is allocated: a run that would pass a limit stops with ModelLimitError, which
# names the parameters that drive it (exit code 2 on the command line).
MAX_LIVE_PLOTS = 200_000
MAX_LIVE_CELLS = 50_000


@dataclass(frozen=True)
class Epoch:
    """A span of weeks with a fixed set of active interventions."""

    start: int
    active: tuple[int, ...]


class Prepared:
    """What every replication of one config shares, built once (see :func:`prepare`).

    The engine's region structure (``geo``), the regions' share of the initial cells,
    the epochs of interventions, and the compiled parameters of each set of active
    interventions with their engine records: all read-only in a replication.
    """

    def __init__(
        self, config: ScenarioConfig, geometry: RegionGeometry, parameters: Parameters
    ) -> None:
        self.config = config
        self.geometry = geometry
        self.parameters = parameters
        n_a, n_r = len(config.actors), len(geometry.ids)
        self.geo = engine.Geo(
            jurisdiction=geometry.jurisdiction,
            jurisdiction_or_0=geometry.jurisdiction_or_0,
            has_jurisdiction=geometry.has_jurisdiction,
            country_of=geometry.country_of,
            same_country=geometry.same_country,
            adjacency=geometry.adjacency,
            home=geometry.jurisdiction[None, :] == np.arange(n_a)[:, None],
            uniform_cdf=np.arange(1, n_r + 1)[None, :] / n_r,
            severity_edges=np.array(SEVERITY_EDGES, dtype=np.int64),
            actors=engine.actor_indices(n_a),
        )
        t = config.threat
        weights = np.array([t.initial_distribution.get(r, 0.0) for r in geometry.ids])
        if weights.sum() == 0:
            weights = np.ones(n_r)
        self.initial_region_p = weights / weights.sum()  # [R] share of the initial cells
        self.epochs = _plan_epochs(config)
        self.compiled: dict[tuple[int, ...], Parameters] = {(): parameters}
        self.engine_params: dict[int, engine.Params] = {}

    def parameters_for(self, active: tuple[int, ...]) -> Parameters:
        """Compiled parameters with the given interventions applied (cached)."""
        if active not in self.compiled:
            raw = self.config.model_dump(mode="python")
            for i in active:
                for path, value in self.config.interventions[i].set.items():
                    set_dotted(raw, path, value)
            changed = ScenarioConfig.model_validate(raw)
            self.compiled[active] = compile_parameters(changed, self.geometry)
        return self.compiled[active]

    def params(self, p: Parameters) -> engine.Params:
        """The engine's record of ``p`` (one of :attr:`compiled`), cached."""
        key = id(p)
        if key not in self.engine_params:
            self.engine_params[key] = engine_params(p)
        return self.engine_params[key]


def _plan_epochs(config: ScenarioConfig) -> tuple[Epoch, ...]:
    """Weeks at which the set of active interventions changes."""
    ivs = config.interventions
    bounds = {0} | {max(0, config.step_of(iv.start)) for iv in ivs}
    bounds |= {max(0, config.step_of(iv.end)) for iv in ivs if iv.end is not None}
    epochs = []
    for start in sorted(bounds):
        active = tuple(
            i
            for i, iv in enumerate(ivs)
            if config.step_of(iv.start) <= start
            and (iv.end is None or start < config.step_of(iv.end))
        )
        epochs.append(Epoch(start, active))
    return tuple(epochs)


# The configs last prepared from given geometry and parameters objects, newest last (a
# loop of replications passes the same objects every time; a contrast sweep alternates
# two arms, a few coalitions or candidates may alternate likewise).
_recent_prepared: list[Prepared] = []
RECENT_PREPARED = 4


def prepare(
    config: ScenarioConfig,
    geometry: RegionGeometry | None = None,
    parameters: Parameters | None = None,
) -> Prepared:
    """What the replications of ``config`` share; reused while the same objects come back.

    With ``geometry`` and ``parameters`` given (as in a loop of replications), the last
    :data:`RECENT_PREPARED` results are kept and returned again for the same three objects
    (the same objects, not equal ones: the cache holds them, so none is reused for another).
    """
    if geometry is None or parameters is None:
        geometry = geometry or build_geometry(config)
        return Prepared(config, geometry, parameters or compile_parameters(config, geometry))
    for prepared in _recent_prepared:
        if (
            prepared.config is config
            and prepared.geometry is geometry
            and prepared.parameters is parameters
        ):
            return prepared
    prepared = Prepared(config, geometry, parameters)
    _recent_prepared.append(prepared)
    del _recent_prepared[:-RECENT_PREPARED]
    return prepared


def seed_streams(
    seed: np.random.SeedSequence | int,
) -> tuple[np.random.SeedSequence, np.random.SeedSequence, np.random.SeedSequence]:
    """A replication's three seed streams: a Mesa model's ``rng``, set-up draws, processes.

    The same for a :class:`Simulation` and a ``ScenarioModel`` of the same seed, which is
    why their outputs are the same.
    """
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    mesa_seq, setup_seq, process_seq = seq.spawn(3)
    return mesa_seq, setup_seq, process_seq


class Simulation:
    """The state of one replication and its compiled weeks, without Mesa.

    :class:`ScenarioModel` is this and a Mesa model; :func:`run_replication` runs one of
    these alone, as nothing observes its weeks (no Mesa model, agents or network). The
    outputs are the same either way. Arguments as :class:`ScenarioModel`'s.
    """

    def __init__(
        self,
        config: ScenarioConfig,
        seed: np.random.SeedSequence | int = 0,
        *,
        geometry: RegionGeometry | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        _, setup_seq, process_seq = seed_streams(seed)  # the first seeds a Mesa model's rng
        self._build(config, setup_seq, process_seq, prepare(config, geometry, parameters))

    def _build(
        self,
        config: ScenarioConfig,
        setup_seq: np.random.SeedSequence,
        process_seq: np.random.SeedSequence,
        prepared: Prepared,
    ) -> None:
        """Set up the world, cells and records of week ``-burn_in``."""
        self.setup_rng = np.random.default_rng(setup_seq)
        # Root of every keyed draw of the weekly processes (see ``kernels``).
        self.root_key = process_seq.generate_state(1, np.uint64)[0]
        self.config = config
        self.prepared = prepared
        self.geometry = prepared.geometry
        self.base_parameters = prepared.parameters
        # ``self.p`` holds the parameters in force this week (interventions applied); read
        # behaviour from ``self.p.config`` and structure from ``self.config``.
        self.p = self.base_parameters
        self.actor_ids = tuple(config.actors)
        n_a = len(self.actor_ids)
        n_r = len(self.geometry.ids)
        self._epochs = prepared.epochs
        self._epoch = -1
        self.geo = prepared.geo
        self.world = engine.World(
            crackdown_level=self.p.crackdown_intensity.copy(),
            coverage_health=np.ones(n_a),
            good=np.zeros((n_a, n_a)),
            bad=np.zeros((n_a, n_a)),
            trust=self.p.trust_prior.copy(),
            new_good=np.zeros((n_a, n_a)),
            new_bad=np.zeros((n_a, n_a)),
            pressure=np.zeros(n_r),
            attrition=np.zeros(n_r),
            appeal=np.zeros(n_r),
            target_cdf=np.zeros((n_r, n_r)),
            coverage=np.zeros((n_a, n_r)),
            reach=np.zeros((n_a, n_r)),
            weight=np.zeros(n_r),
            share_prob=np.zeros((n_a, n_a)),
            seen=np.zeros((n_r, n_r, n_a)),
            reach_pair=np.zeros((n_r, n_r, n_a)),
            new=np.zeros(n_a, dtype=np.bool_),
            flows=np.zeros(2),
            counters=np.zeros(engine.N_COUNTERS, dtype=np.int64),
        )
        self.week = -config.run.burn_in  # current week index; recording starts at 0

        # State actors, and ISIS-K cells.
        self._add_actors()
        self.cells = CellTable(max(64, 2 * config.threat.cells), self.world.counters)
        self.plots = PlotTable(n_a, self.world.counters)
        self._place_initial_cells()

        self.recorder = Recorder(config.run.steps, self.geometry.countries, self.actor_ids)
        weekly = {
            "counts": np.zeros(kernels.N_COUNTS),
            "by_pair": np.zeros((4, n_a, n_a)),
            "by_actor": np.zeros((2, n_a)),
            "by_country": np.zeros((5, len(self.geometry.countries))),
            "new_good": self.world.new_good,
            "new_bad": self.world.new_bad,
        }
        # Spin-up weeks tally into scratch; recorded weeks add to the run's severity tail
        # and plot ages.
        self._spin_up_tallies = kernels.Tallies(
            **weekly, severity_ccdf=np.zeros(len(SEVERITY_EDGES)), plot_ages=np.zeros((2, 2, 2))
        )
        self._recorded_tallies = kernels.Tallies(
            **weekly,
            severity_ccdf=self.recorder.severity_ccdf,
            plot_ages=self.recorder.plot_ages,
        )
        engine.derive_pressure(self.world, self._params(), self.geo)

    def _add_actors(self) -> None:
        """Hook: a Mesa model adds its state-actor agents here (none without Mesa)."""

    def _sync_agents(self) -> None:
        """Hook: a Mesa model syncs its cell agents with the table here (none without Mesa)."""

    # ----------------------------------------------------------------------------------
    # State, as Python sees it (views on the engine's arrays)
    # ----------------------------------------------------------------------------------

    @property
    def week(self) -> int:
        """Current week index: negative during spin-up, 0 at ``run.start``."""
        return int(self.world.counters[engine.WEEK])

    @week.setter
    def week(self, value: int) -> None:
        self.world.counters[engine.WEEK] = value

    @property
    def crackdown_level(self) -> NDArray[np.float64]:
        """[A] current crackdown intensity of each actor in its jurisdiction [0, 1]."""
        return self.world.crackdown_level

    @property
    def coverage_health(self) -> NDArray[np.float64]:
        """[A] share of each actor's collection not burned by partners' misuse [0, 1]."""
        return self.world.coverage_health

    @property
    def trust(self) -> NDArray[np.float64]:
        """[A, A] expected trust of truster in trustee [0, 1]."""
        return self.world.trust

    @property
    def propaganda(self) -> float:
        """Decaying count of recent successful attacks (boosts recruitment)."""
        return float(self.world.flows[engine.PROPAGANDA])

    @property
    def tallies(self) -> kernels.Tallies:
        """What happened in the last intelligence week (spin-up or recorded)."""
        return self._recorded_tallies if self.week >= 0 else self._spin_up_tallies

    # ----------------------------------------------------------------------------------
    # Set-up
    # ----------------------------------------------------------------------------------

    def _place_initial_cells(self) -> None:
        """Spread the initial fighters over ``threat.cells`` cells on weighted regions."""
        t = self.config.threat
        rng = self.setup_rng
        n_r = len(self.geometry.ids)
        regions = rng.choice(n_r, size=t.cells, p=self.prepared.initial_region_p)
        shares = rng.dirichlet(np.full(t.cells, 4.0))
        sizes = 1 + rng.multinomial(t.fighters - t.cells, shares)
        capability = np.clip(rng.normal(t.capability, 0.1, t.cells), 0.0, 1.0)
        opsec = np.clip(rng.normal(t.opsec, 0.1, t.cells), 0.0, 0.95)
        self.cells.add_many(
            kernels.initial_cell_keys(self.root_key, t.cells), regions, sizes, capability, opsec
        )
        self._sync_agents()

    def _parameters_for(self, active: tuple[int, ...]) -> Parameters:
        """Compiled parameters with the given interventions applied (cached)."""
        return self.prepared.parameters_for(active)

    def _params(self) -> engine.Params:
        """The engine's record of the parameters in force (``self.p``), cached."""
        return self.prepared.params(self.p)

    # ----------------------------------------------------------------------------------
    # Weeks
    # ----------------------------------------------------------------------------------

    def _advance(self, stop: int) -> None:
        """Run the compiled week until week ``stop``, switching epochs on the way."""
        while self.week < stop:
            if self.world.counters[engine.PHASE] == engine.BEGIN:
                self._apply_interventions()
            until = min(stop, self._next_switch())
            status = engine.advance(
                until,
                self.world,
                self.cells.arrays(),
                self.plots.arrays,
                self._params(),
                self.geo,
                self._spin_up_tallies,
                self._recorded_tallies,
                self.recorder.blocks,
                MAX_LIVE_PLOTS,
                MAX_LIVE_CELLS,
            )
            self._handle(status)

    def _next_switch(self) -> int:
        """First week after this one at which the active interventions may change."""
        later = [e.start for e in self._epochs if e.start > self.week]
        return min(later) if later else self.config.run.steps

    def _handle(self, status: int) -> None:
        """Grow a full table, or stop at a size limit, as the engine asks."""
        counters = self.world.counters
        if status == engine.GROW_PLOTS:
            self.plots.grow(self.plots.n + int(counters[engine.NEW_PLOTS]))
        elif status == engine.GROW_CELLS:
            self.cells.grow(2 * self.cells.size)
        elif status == engine.LIMIT_PLOTS:
            t = self.p.config.threat
            raise self._limit_error(
                "live plots",
                int(counters[engine.OVER_LIMIT]),
                MAX_LIVE_PLOTS,
                f"plots start at threat.plot_rate = {t.plot_rate:g} per 100 fighters a week "
                "and live for threat.plot_lifetime_domestic and _external weeks",
            )
        elif status == engine.LIMIT_CELLS:
            split_size = self.p.config.threat.split_size
            raise self._limit_error(
                "live cells",
                int(counters[engine.OVER_LIMIT]),
                MAX_LIVE_CELLS,
                f"a cell splits in two above threat.split_size = {split_size} fighters",
            )

    def _apply_interventions(self) -> None:
        """Switch parameters when an intervention starts or ends (dates map to weeks)."""
        if self.week < 0:
            return
        index = self._epoch
        while index + 1 < len(self._epochs) and self._epochs[index + 1].start <= self.week:
            index += 1
        if index != self._epoch:
            self._epoch = index
            self.p = self._parameters_for(self._epochs[index].active)
        if self.week == 0:
            self._end_spin_up()

    def _end_spin_up(self) -> None:
        """Recording starts: relations restart from the configured priors at ``run.start``.

        Spin-up fills the plot pipeline and lets cells settle; trust evidence and burned
        coverage accumulated meanwhile are discarded so that ``trust.initial`` is the
        trust at the start date, as analysts configure it.
        """
        w = self.world
        w.good[:] = 0.0
        w.bad[:] = 0.0
        w.trust[:] = self.p.trust_prior
        w.coverage_health[:] = 1.0

    # One phase of the week at a time, for tests and inspection (``step`` runs them all).

    def _threat_week(self) -> None:
        """Cells recruit and lose fighters, relocate, start plots (this week's phase)."""
        params = self._params()
        engine.threat_phase(self.week, self.world, self.cells.arrays(), params, self.geo)
        self.plots.grow(self.plots.n + int(self.world.counters[engine.NEW_PLOTS]))
        self.world.counters[engine.N_ROWS] = self.plots.n
        engine.place_phase(
            self.week, self.world, self.cells.arrays(), self.plots.arrays, params, self.geo
        )

    def _intel_week(self) -> None:
        """Collection, sharing, misuse, warnings, interdiction versus maturation."""
        self.world.counters[engine.N_ROWS] = self.plots.n
        engine.intel_phase(
            self.week,
            self.world,
            self.cells.arrays(),
            self.plots.arrays,
            self._params(),
            self.geo,
            self.tallies,
        )
        engine.compact_plots(self.world, self.plots.arrays, self.geo)

    def _update_trust(self) -> None:
        """Beta reputation with forgetting; burned coverage recovers; propaganda fades."""
        engine.trust_phase(self.world, self._params())

    def _limit_error(self, what: str, count: int, limit: int, cause: str) -> ModelLimitError:
        """The error that stops a run about to pass one of the model's size limits."""
        t = self.p.config.threat
        when = f"week {self.week}" + (" (spin-up)" if self.week < 0 else "")
        return ModelLimitError(
            f"{when}: {count:,} {what} would pass the model's limit of {limit:,} "
            f"(MAX_LIVE_{what.split()[-1].upper()}); {cause}, and the group's strength "
            f"follows threat.fighters = {t.fighters:,}, threat.recruitment_rate = "
            f"{t.recruitment_rate:g} and threat.carrying_capacity = {t.carrying_capacity:,.0f}. "
            "Lower these: the model is built for a few hundred plots and cells"
        )

    @property
    def levers_active(self) -> bool:
        """Whether the scenario's intelligence levers apply (from ``run.start`` on).

        During spin-up nobody shares or warns, so spin-up is identical for every scenario
        that differs only in sharing policy, trust, exploitation, leakage or
        compartmentalisation: their paired replications start from the same world.
        """
        return self.week >= 0

    @property
    def strength(self) -> int:
        """Current ISIS-K strength (fighters)."""
        return int(self.cells.strength[self.cells.live_slots()].sum())


def engine_params(p: Parameters) -> engine.Params:
    """The engine's record of compiled parameters: arrays as they are, scalars typed."""
    cfg = p.config
    t, sev, ci, tr = cfg.threat, cfg.severity, cfg.counterintelligence, cfg.trust
    return engine.Params(
        recruitment_pool=p.recruitment_pool,
        hardening=p.hardening,
        host_security=p.host_security,
        host_pressure=p.host_pressure,
        home_weight=p.home_weight,
        target_base=p.target_base,
        coverage=p.coverage,
        reach=p.reach,
        receptivity=p.receptivity,
        counter_intelligence=p.counter_intelligence,
        duty_to_warn=p.duty_to_warn,
        crackdown_intensity=p.crackdown_intensity,
        crackdown_buildup=p.crackdown_buildup,
        crackdown_coverage_boost=p.crackdown_coverage_boost,
        region_crackdown_attrition=p.region_crackdown_attrition,
        share_policy=p.share_policy,
        exploit_ab=p.exploit_ab,
        leak=p.leak,
        trust_prior=p.trust_prior,
        no_warning=np.zeros_like(p.duty_to_warn),
        shared_value=float(p.shared_value),
        attrition_rate=float(t.attrition_rate),
        host_attrition=float(t.host_attrition),
        pressure_aversion=float(t.pressure_aversion),
        displacement=float(t.displacement),
        recruitment_rate=float(t.recruitment_rate),
        carrying_capacity=float(t.carrying_capacity),
        propaganda_boost=float(t.propaganda_boost),
        propaganda_memory=float(t.propaganda_memory),
        relocation_rate=float(t.relocation_rate),
        relocation_cost=float(t.relocation_cost),
        plots_per_fighter=t.plot_rate / 100.0,
        disruption_retention=1.0 - 1.0 / t.disruption_weeks if t.disruption_weeks else 0.0,
        lifetime_domestic=float(t.plot_lifetime_domestic),
        lifetime_external=float(t.plot_lifetime_external),
        lifetime_shape=int(t.plot_lifetime_shape),
        split_size=int(t.split_size),
        fighters_lost=round(t.fighters_lost_per_interdiction),
        learning=float(t.learning),
        interdiction_hazard=float(cfg.interdiction.hazard),
        interdiction_crackdown_boost=float(cfg.interdiction.crackdown_boost),
        trust_sensitivity=float(cfg.sharing.trust_sensitivity),
        warning_quality=float(cfg.sharing.warning_quality),
        tipoff_effect=float(ci.tipoff_effect),
        tipoff_opsec_gain=float(ci.tipoff_opsec_gain),
        coverage_damage=float(ci.coverage_damage),
        coverage_recovery=float(ci.coverage_recovery),
        severity_exponent=float(sev.exponent),
        severity_minimum=int(sev.minimum),
        severity_cap=int(sev.cap),
        mass_threshold=int(sev.mass_casualty_threshold),
        forgetting=float(tr.forgetting),
        bad_weight=float(tr.bad_weight),
        prior_weight=float(tr.prior_weight),
    )


def run_replication(
    config: ScenarioConfig,
    seed: np.random.SeedSequence | int,
    geometry: RegionGeometry | None = None,
    parameters: Parameters | None = None,
) -> tuple[dict[str, NDArray[np.float64]], dict[str, float]]:
    """Run one replication; return (weekly columns, summary row).

    Nothing observes its weeks, so it runs as a :class:`Simulation` (no Mesa model, agents
    or network), spin-up and recorded weeks in one compiled call per epoch of
    interventions; the outputs are those of ``ScenarioModel(config, seed).run()``.
    """
    simulation = Simulation(config, seed, geometry=geometry, parameters=parameters)
    simulation._advance(config.run.steps)
    recorder = simulation.recorder
    matrix = recorder.matrix()
    return recorder.columns(matrix), summarise(recorder, config.threat.home_country, matrix)
