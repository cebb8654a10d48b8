"""The Mesa model: ISIS-K cells against state actors who may share intelligence.

One step is one week. The processes follow ``docs/ODD.md`` (section "Process overview
and scheduling") in this order: interventions and crackdown, recruitment and attrition,
plot generation, collection, sharing (with exploitation and leakage), duty to warn,
interdiction versus maturation, trust update, record.

References: Kaplan (2010) Terror Queues; Josang & Ismail (2002) The Beta Reputation
System; Clauset, Young & Gleditsch (2007) on the power-law severity of terrorism;
Epstein (2002) for the family of Mesa models this belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import mesa
import numpy as np
from mesa.discrete_space import Network
from numpy.typing import NDArray

from scenarios.config import ModelLimitError, ScenarioConfig, set_dotted
from scenarios.model import intel, kernels
from scenarios.model.agents import CellTable, StateActor, ThreatCell
from scenarios.model.outcomes import SEVERITY_EDGES, Recorder, summarise
from scenarios.model.params import Parameters, compile_parameters
from scenarios.model.regions import RegionGeometry, build_geometry

__all__ = [
    "MAX_LIVE_CELLS",
    "MAX_LIVE_PLOTS",
    "ModelLimitError",
    "ScenarioModel",
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


class PlotTable:
    """Live plots as parallel arrays: abstract events with an origin, target and lifetime.

    Also what each actor knows of each plot (value in [0, 1]) and who told it (-1 = itself,
    ``a`` = shared by actor a, ``A + a`` = warned by actor a). Fields: ``kernels.PlotState``.
    """

    _DTYPES: ClassVar[dict[str, type]] = {
        "key": np.uint64,
        "origin": np.int64,
        "target": np.int64,
        "cell": np.int64,
        "born": np.int64,
        "matures_at": np.int64,
        "tipped": np.bool_,
        "warned": np.bool_,
        "ignored_by": np.int64,
    }
    _PER_ACTOR: ClassVar[dict[str, type]] = {
        "own": np.bool_,
        "knowledge": np.float64,
        "source": np.int64,
    }

    def __init__(self, n_actors: int, capacity: int = 256) -> None:
        self.n = 0
        self.n_actors = n_actors
        self.arrays = self._allocate(capacity)

    def _allocate(self, capacity: int) -> kernels.PlotState:
        fields = {k: np.zeros(capacity, dtype=d) for k, d in self._DTYPES.items()}
        fields |= {
            k: np.zeros((capacity, self.n_actors), dtype=d) for k, d in self._PER_ACTOR.items()
        }
        return kernels.PlotState(**fields)

    def __getattr__(self, name: str) -> np.ndarray:
        """A column by name, e.g. ``plots.origin`` (``arrays`` is replaced when it grows)."""
        if name in kernels.PlotState._fields:
            return getattr(self.__dict__["arrays"], name)
        raise AttributeError(name)

    def reserve(self, k: int) -> int:
        """Make room for ``k`` new plots, reset their rows, and return the first row."""
        if self.n + k > len(self.arrays.key):
            grown = self._allocate(max(2 * len(self.arrays.key), self.n + k))
            for old, new in zip(self.arrays, grown, strict=True):
                new[: self.n] = old[: self.n]
            self.arrays = grown
        rows = slice(self.n, self.n + k)
        a = self.arrays
        a.tipped[rows] = False
        a.warned[rows] = False
        a.ignored_by[rows] = -1
        a.own[rows] = False
        a.knowledge[rows] = 0.0
        a.source[rows] = -1
        return self.n


@dataclass(frozen=True)
class Epoch:
    """A span of weeks with a fixed set of active interventions."""

    start: int
    active: tuple[int, ...]


class ScenarioModel(mesa.Model):
    """ISIS-K, the Taliban, the US and Russia (and any other configured actors), weekly.

    Args:
        config: a validated scenario.
        seed: a ``numpy.random.SeedSequence`` for this replication (or an int); its
            children seed Mesa's own ``rng``, the set-up draws, and the root key of every
            keyed draw of the weekly processes (see ``kernels``).
        geometry: precomputed region structure (optional, saves set-up time in loops).
        parameters: precompiled arrays for ``config`` (optional, likewise).
    """

    def __init__(
        self,
        config: ScenarioConfig,
        seed: np.random.SeedSequence | int = 0,
        *,
        geometry: RegionGeometry | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        mesa_seq, setup_seq, process_seq = seq.spawn(3)
        super().__init__(rng=mesa_seq)
        self.setup_rng = np.random.default_rng(setup_seq)
        # Root of every keyed draw of the weekly processes (see ``kernels``).
        self.root_key = process_seq.generate_state(1, np.uint64)[0]
        self.config = config
        self.geometry = geometry or build_geometry(config)
        self.base_parameters = parameters or compile_parameters(config, self.geometry)
        # ``self.p`` holds the parameters in force this week (interventions applied); read
        # behaviour from ``self.p.config`` and structure from ``self.config``.
        self.p = self.base_parameters
        self.actor_ids = tuple(config.actors)
        n_a = len(self.actor_ids)
        self.week = -config.run.burn_in  # current week index; recording starts at 0
        self._epochs = self._plan_epochs()
        self._epoch = -1
        self._compiled: dict[tuple[int, ...], Parameters] = {(): self.base_parameters}

        # Space: regions are nodes of a Mesa network.
        self.space = Network(
            self.geometry.graph, random=self.random, layout=dict(self.geometry.positions)
        )
        self.region_cells = [self.space[rid] for rid in self.geometry.ids]

        # State actors and their mutable state.
        self.actors_list = [StateActor(self, a, i) for i, a in enumerate(self.actor_ids)]
        self.coverage_health = np.ones(n_a)
        self.crackdown_level = self.p.crackdown_intensity.copy()
        self.good = np.zeros((n_a, n_a))
        self.bad = np.zeros((n_a, n_a))
        self.trust = self.p.trust_prior.copy()
        self._new_good = np.zeros((n_a, n_a))
        self._new_bad = np.zeros((n_a, n_a))
        self.propaganda = 0.0  # decaying count of recent successful attacks

        # ISIS-K cells.
        self.cells = CellTable(capacity=max(64, 2 * config.threat.cells))
        self.plots = PlotTable(n_a)
        self._place_initial_cells()

        self.recorder = Recorder(config.run.steps, self.geometry.countries, self.actor_ids)
        self._flows: dict[str, Any] = {}
        self._severity_edges = np.array(SEVERITY_EDGES, dtype=np.int64)
        # Static masks of the weekly pressure derivation ([A, R] own jurisdiction; [1, R]).
        n_r = len(self.geometry.ids)
        self._home_mask = self.geometry.jurisdiction[None, :] == np.arange(n_a)[:, None]
        self._uniform_cdf = np.arange(1, n_r + 1)[None, :] / n_r
        self._derive_pressure()

    # ----------------------------------------------------------------------------------
    # Set-up
    # ----------------------------------------------------------------------------------

    def _place_initial_cells(self) -> None:
        """Spread the initial fighters over ``threat.cells`` cells on weighted regions."""
        t = self.config.threat
        rng = self.setup_rng
        n_r = len(self.geometry.ids)
        weights = np.array([t.initial_distribution.get(r, 0.0) for r in self.geometry.ids])
        if weights.sum() == 0:
            weights = np.ones(n_r)
        regions = rng.choice(n_r, size=t.cells, p=weights / weights.sum())
        shares = rng.dirichlet(np.full(t.cells, 4.0))
        sizes = 1 + rng.multinomial(t.fighters - t.cells, shares)
        capability = np.clip(rng.normal(t.capability, 0.1, t.cells), 0.0, 1.0)
        opsec = np.clip(rng.normal(t.opsec, 0.1, t.cells), 0.0, 0.95)
        for i, (r, size, cap, ops) in enumerate(
            zip(regions, sizes, capability, opsec, strict=True)
        ):
            key = kernels.cell_key(self.root_key, i)
            slot = self.cells.add(key, int(r), int(size), float(cap), float(ops))
            ThreatCell(self, slot)

    def _plan_epochs(self) -> list[Epoch]:
        """Weeks at which the set of active interventions changes."""
        ivs = self.config.interventions
        bounds = {0} | {max(0, self.config.step_of(iv.start)) for iv in ivs}
        bounds |= {max(0, self.config.step_of(iv.end)) for iv in ivs if iv.end is not None}
        epochs = []
        for start in sorted(bounds):
            active = tuple(
                i
                for i, iv in enumerate(ivs)
                if self.config.step_of(iv.start) <= start
                and (iv.end is None or start < self.config.step_of(iv.end))
            )
            epochs.append(Epoch(start, active))
        return epochs

    def _parameters_for(self, active: tuple[int, ...]) -> Parameters:
        """Compiled parameters with the given interventions applied (cached)."""
        if active not in self._compiled:
            raw = self.config.model_dump(mode="python")
            for i in active:
                for path, value in self.config.interventions[i].set.items():
                    set_dotted(raw, path, value)
            changed = ScenarioConfig.model_validate(raw)
            self._compiled[active] = compile_parameters(changed, self.geometry)
        return self._compiled[active]

    # ----------------------------------------------------------------------------------
    # The weekly step
    # ----------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the world one week."""
        self._apply_interventions()
        self._update_crackdown()
        self._flows = {}
        self._threat_week()
        self._intel_week()
        self._split_and_remove()
        self._update_trust()
        if self.week >= 0:
            self._record(self.week)
        self.week += 1

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
        self.good[:] = 0.0
        self.bad[:] = 0.0
        self.trust = self.p.trust_prior.copy()
        self.coverage_health[:] = 1.0

    def _update_crackdown(self) -> None:
        """Crackdown intensity moves toward its target at the configured build-up rate."""
        p = self.p
        self.crackdown_level += p.crackdown_buildup * (p.crackdown_intensity - self.crackdown_level)
        self._derive_pressure()

    def _derive_pressure(self) -> None:
        """Derive this week's pressure on cells, base appeal, targeting, coverage and reach.

        Pressure in a region combines the crackdown of the actor ruling it and the host
        state's standing pressure; it adds fighter attrition, makes the region a less
        appealing base and displaces targeting of the home country abroad. A crackdown
        raises its actor's collection coverage and reach at home: it stops plots through
        intelligence, not by a hazard that needs no knowledge of them.
        """
        p = self.p
        geo = self.geometry
        cfg = p.config
        t = cfg.threat
        level = self.crackdown_level[geo.jurisdiction_or_0] * geo.has_jurisdiction
        pressure = 1.0 - (1.0 - level) * (1.0 - p.host_pressure)
        self._attrition = np.minimum(
            1.0,
            t.attrition_rate
            + p.region_crackdown_attrition * level
            + t.host_attrition * p.host_pressure,
        )
        self._appeal = p.recruitment_pool * p.home_weight * (1.0 - t.pressure_aversion * pressure)
        weight = p.target_base * np.where(
            geo.same_country, 1.0 - t.displacement * pressure[:, None], 1.0
        )
        total = weight.sum(axis=1, keepdims=True)
        self._target_cdf = np.where(
            total > 0,
            np.cumsum(weight, axis=1) / np.where(total > 0, total, 1.0),
            self._uniform_cdf,  # no admissible target: any region
        )
        # Crackdown gains apply in the actor's own jurisdiction.
        home = self._home_mask
        coverage_gain = 1.0 + p.crackdown_coverage_boost * self.crackdown_level
        reach_gain = 1.0 + cfg.interdiction.crackdown_boost * self.crackdown_level
        self._coverage = np.minimum(1.0, p.coverage * np.where(home, coverage_gain[:, None], 1.0))
        self._reach = np.minimum(1.0, p.reach * np.where(home, reach_gain[:, None], 1.0))

    def _threat_week(self) -> None:
        """Cells recruit and lose fighters, relocate, start plots."""
        t = self.p.config.threat
        cells = self.cells
        slots = cells.live_slots()
        crowding = max(0.0, 1.0 - cells.strength[slots].sum() / t.carrying_capacity)
        boost = 1.0 + t.propaganda_boost * self.propaganda / (1.0 + self.propaganda)
        week = kernels.ThreatWeek(
            recruitment_pool=self.p.recruitment_pool,
            attrition=self._attrition,
            appeal=self._appeal,
            adjacency=self.geometry.adjacency,
            recruit_scale=t.recruitment_rate * crowding * boost,
            relocation_rate=t.relocation_rate,
            relocation_cost=t.relocation_cost,
            plots_per_fighter=t.plot_rate / 100.0,
            disruption_retention=1.0 - 1.0 / t.disruption_weeks if t.disruption_weeks else 0.0,
        )
        before = cells.region[slots].copy()
        new_plots = np.empty(len(slots), dtype=np.int64)
        n_moved, n_plots = kernels.threat_week(self.week, slots, cells.arrays(), week, new_plots)
        if n_moved:
            for slot in slots[cells.region[slots] != before]:
                agent = cells.agents[slot]
                if agent is not None:  # the kernel moved it; move its Mesa agent too
                    agent.relocate(int(cells.region[slot]))
        self._place_plots(slots, new_plots, n_plots)

    def _place_plots(self, slots: NDArray[np.int64], counts: NDArray[np.int64], total: int) -> None:
        """Append this week's new plots: targets from strategy displaced by pressure."""
        self._flows["plots_started"] = float(total)
        if total == 0:
            return
        plots = self.plots
        t = self.p.config.threat
        if plots.n + total > MAX_LIVE_PLOTS:
            raise self._limit_error(
                "live plots",
                plots.n + total,
                MAX_LIVE_PLOTS,
                f"plots start at threat.plot_rate = {t.plot_rate:g} per 100 fighters a week "
                "and live for threat.plot_lifetime_domestic and _external weeks",
            )
        birth = kernels.PlotBirth(
            target_cdf=self._target_cdf,
            same_country=self.geometry.same_country,
            lifetime_domestic=t.plot_lifetime_domestic,
            lifetime_external=t.plot_lifetime_external,
            lifetime_shape=t.plot_lifetime_shape,
        )
        start = plots.reserve(total)
        plots.n = kernels.place_plots(
            self.week, slots, counts, self.cells.arrays(), birth, start, plots.arrays
        )

    def _split_and_remove(self) -> None:
        """Large cells split in two; cells emptied by attrition or interdiction leave."""
        cells = self.cells
        slots = cells.live_slots()
        strength = cells.strength[slots]
        split_size = self.p.config.threat.split_size
        splitting = slots[strength > split_size]
        live = len(slots) + len(splitting) - int(np.count_nonzero(strength <= 0))
        if live > MAX_LIVE_CELLS:
            raise self._limit_error(
                "live cells",
                live,
                MAX_LIVE_CELLS,
                f"a cell splits in two above threat.split_size = {split_size} fighters",
            )
        for slot in splitting:
            half = int(cells.strength[slot]) // 2
            cells.strength[slot] -= half
            cells.splits[slot] += 1
            new = cells.add(
                kernels.split_key(cells.key[slot], int(cells.splits[slot])),
                int(cells.region[slot]),
                half,
                float(cells.capability[slot]),
                float(cells.opsec[slot]),
                float(cells.disruption[slot]),
            )
            ThreatCell(self, new)
        for slot in slots[strength <= 0]:
            self._remove_cell(int(slot))

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

    def _remove_cell(self, slot: int) -> None:
        """A cell with no fighters left leaves the model."""
        cells = self.cells
        cells.strength[slot] = 0
        cells.alive[slot] = False
        agent = cells.agents[slot]
        if agent is not None:
            agent.remove()
            cells.agents[slot] = None

    @property
    def levers_active(self) -> bool:
        """Whether the scenario's intelligence levers apply (from ``run.start`` on).

        During spin-up nobody shares or warns, so spin-up is identical for every scenario
        that differs only in sharing policy, trust, exploitation, leakage or
        compartmentalisation: their paired replications start from the same world.
        """
        return self.week >= 0

    def _intel_week(self) -> None:
        """Collection, sharing, misuse, warnings, then interdiction versus maturation."""
        p = self.p
        cfg = p.config
        plots, cells = self.plots, self.cells
        n_a = len(self.actor_ids)
        recording = self.week >= 0
        tallies = kernels.Tallies(
            counts=np.zeros(kernels.N_COUNTS),
            by_pair=np.zeros((4, n_a, n_a)),
            by_actor=np.zeros((2, n_a)),
            by_country=np.zeros((5, len(self.geometry.countries))),
            new_good=self._new_good,
            new_bad=self._new_bad,
            severity_ccdf=self.recorder.severity_ccdf
            if recording
            else np.zeros(len(SEVERITY_EDGES)),
            plot_ages=self.recorder.plot_ages if recording else np.zeros((2, 2, 2)),
        )
        levers = self.levers_active
        share_prob = intel.share_probability(
            p.share_policy, self.trust, cfg.sharing.trust_sensitivity
        )
        sev, ci = cfg.severity, cfg.counterintelligence
        week = kernels.IntelWeek(
            coverage=self._coverage,
            reach=self._reach,
            host_security=p.host_security,
            hardening=p.hardening,
            jurisdiction=self.geometry.jurisdiction,
            country_of=self.geometry.country_of,
            share_prob=share_prob if levers else np.zeros_like(share_prob),
            exploit_ab=p.exploit_ab,
            leak=p.leak,
            counter_intelligence=p.counter_intelligence,
            receptivity=p.receptivity,
            duty_to_warn=p.duty_to_warn if levers else np.zeros_like(p.duty_to_warn),
            trust=self.trust,
            shared_value=p.shared_value,
            warning_quality=cfg.sharing.warning_quality,
            interdiction_hazard=cfg.interdiction.hazard,
            tipoff_effect=ci.tipoff_effect,
            tipoff_opsec_gain=ci.tipoff_opsec_gain,
            coverage_damage=ci.coverage_damage,
            fighters_lost=round(cfg.threat.fighters_lost_per_interdiction),
            learning=cfg.threat.learning,
            severity_exponent=sev.exponent,
            severity_minimum=sev.minimum,
            severity_cap=sev.cap,
            mass_threshold=sev.mass_casualty_threshold,
            severity_edges=self._severity_edges,
        )
        cells.plotting[:] = False
        plots.n = kernels.intel_week(
            self.week, plots.n, plots.arrays, cells.arrays(), week, self.coverage_health, tallies
        )
        self.propaganda += tallies.counts[kernels.SUCCESSFUL]
        self._flows["tallies"] = tallies

    def _update_trust(self) -> None:
        """Beta reputation with forgetting; misuse and ignored warnings weigh heavier."""
        tc = self.p.config.trust
        self.good, self.bad = intel.update_evidence(
            self.good, self.bad, self._new_good, self._new_bad, tc.forgetting, tc.bad_weight
        )
        self.trust = intel.trust_expectation(
            self.good, self.bad, self.p.trust_prior, tc.prior_weight
        )
        self._new_good[:] = 0.0
        self._new_bad[:] = 0.0
        recovery = self.p.config.counterintelligence.coverage_recovery
        self.coverage_health += recovery * (1.0 - self.coverage_health)
        self.propaganda *= self.p.config.threat.propaganda_memory

    def _record(self, week: int) -> None:
        """Write this week's outcomes into the recorder's row ``week``."""
        rec = self.recorder
        tl: kernels.Tallies = self._flows["tallies"]
        counts, by_pair, by_actor, by_country = tl.counts, tl.by_pair, tl.by_actor, tl.by_country
        s = rec.scalar
        s["plots_started"][week] = self._flows.get("plots_started", 0.0)
        s["plots_detected"][week] = counts[kernels.DETECTED]
        s["warnings_issued"][week] = counts[kernels.WARNINGS_ISSUED]
        s["warnings_heeded"][week] = counts[kernels.WARNINGS_HEEDED]
        s["plots_interdicted"][week] = counts[kernels.INTERDICTED]
        s["interdicted_without_intelligence"][week] = counts[kernels.UNINFORMED_INTERDICTIONS]
        s["plots_abandoned"][week] = counts[kernels.ABANDONED]
        s["attacks_despite_warning"][week] = counts[kernels.ATTACKS_DESPITE_WARNING]
        s["leaks"][week] = by_pair[kernels.LEAKED].sum()
        live = self.cells.live_slots()
        s["strength"][week] = self.cells.strength[live].sum()
        s["cells"][week] = len(live)
        s["live_plots"][week] = self.plots.n
        c = rec.country
        for name, row in (
            ("attacks_attempted", kernels.ATTEMPTED),
            ("attacks_successful", kernels.SUCCEEDED),
            ("fatalities", kernels.FATALITIES),
            ("mass_casualty_attacks", kernels.MASS_CASUALTY),
            ("mass_casualty_despite_warning", kernels.MASS_DESPITE_WARNING),
        ):
            c[name][week] = by_country[row]
        countries = self.geometry.country_of[self.cells.region[live]]
        rec.country_level["strength"][week] = np.bincount(
            countries, weights=self.cells.strength[live], minlength=len(self.geometry.countries)
        )
        a = rec.actor
        a["exploitation_against"][week] = by_pair[kernels.EXPLOITED].sum(axis=1)
        a["leaks_of"][week] = by_pair[kernels.LEAKED].sum(axis=1)
        a["interdicted_by"][week] = by_actor[kernels.INTERDICTED_BY]
        a["interdicted_after_warning"][week] = by_actor[kernels.INTERDICTED_AFTER_WARNING]
        a["coverage_health"][week] = self.coverage_health
        a["crackdown"][week] = self.crackdown_level
        rec.pair["shared"][week] = by_pair[kernels.SHARED]
        rec.pair["interdicted_with_shared"][week] = by_pair[kernels.INTERDICTED_WITH_SHARED]
        rec.pair["trust"][week] = self.trust

    # ----------------------------------------------------------------------------------
    # Running
    # ----------------------------------------------------------------------------------

    def run(self) -> dict[str, NDArray[np.float64]]:
        """Spin up, run the recorded weeks and return the weekly outcome columns."""
        self.run_for(self.config.run.burn_in + self.config.run.steps)
        return self.recorder.columns()

    @property
    def strength(self) -> int:
        """Current ISIS-K strength (fighters)."""
        return int(self.cells.strength[self.cells.live_slots()].sum())


def run_replication(
    config: ScenarioConfig,
    seed: np.random.SeedSequence | int,
    geometry: RegionGeometry | None = None,
    parameters: Parameters | None = None,
) -> tuple[dict[str, NDArray[np.float64]], dict[str, float]]:
    """Run one replication; return (weekly columns, summary row)."""
    model = ScenarioModel(config, seed, geometry=geometry, parameters=parameters)
    columns = model.run()
    summary = summarise(
        columns,
        model.geometry.countries,
        model.actor_ids,
        config.threat.home_country,
        model.recorder.severity_ccdf,
        model.recorder.plot_ages,
    )
    model.remove_all_agents()
    return columns, summary
