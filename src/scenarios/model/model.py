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
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Network
from numpy.typing import NDArray

from scenarios.config import ScenarioConfig, set_dotted
from scenarios.model import intel, kernels
from scenarios.model.agents import CellTable, StateActor, ThreatCell
from scenarios.model.outcomes import SEVERITY_EDGES, Recorder, summarise
from scenarios.model.params import Parameters, compile_parameters
from scenarios.model.regions import RegionGeometry, build_geometry


class PlotTable:
    """Live plots as parallel arrays: abstract events with an origin, target and age.

    Also what each actor knows of each plot (value in [0, 1]) and who told it (-1 = itself).
    """

    _FIELDS = (
        "origin",
        "target",
        "cell",
        "age",
        "tipped",
        "warned",
        "ignored_by",
        "own",
        "knowledge",
        "source",
    )

    def __init__(self, n_actors: int, capacity: int = 256) -> None:
        self.n = 0
        self.origin = np.zeros(capacity, dtype=np.int64)
        self.target = np.zeros(capacity, dtype=np.int64)
        self.cell = np.zeros(capacity, dtype=np.int64)  # owning cell's slot
        self.age = np.zeros(capacity, dtype=np.int64)  # weeks
        self.tipped = np.zeros(capacity, dtype=bool)  # leaked to the threat
        self.warned = np.zeros(capacity, dtype=bool)  # a duty-to-warn message was sent
        self.ignored_by = np.full(capacity, -1, dtype=np.int64)  # sender of an ignored warning
        self.own = np.zeros((capacity, n_actors), dtype=bool)  # detected by own collection
        self.knowledge = np.zeros((capacity, n_actors))
        self.source = np.full((capacity, n_actors), -1, dtype=np.int64)

    def reserve(self, k: int) -> int:
        """Make room for ``k`` new plots, reset their rows, and return the first row."""
        if self.n + k > len(self.origin):
            capacity = max(2 * len(self.origin), self.n + k)
            for name in self._FIELDS:
                old = getattr(self, name)
                new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        rows = slice(self.n, self.n + k)
        self.tipped[rows] = False
        self.warned[rows] = False
        self.ignored_by[rows] = -1
        self.own[rows] = False
        self.knowledge[rows] = 0.0
        self.source[rows] = -1
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
            children seed Mesa's own ``rng``, the set-up draws, and one compiled stream per
            weekly process (see ``kernels``).
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
        self.rng_streams = kernels.seed_streams(process_seq)
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
        for r, size, cap, ops in zip(regions, sizes, capability, opsec, strict=True):
            slot = self.cells.add(int(r), int(size), float(cap), float(ops), self.week)
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
        """Per-region crackdown level, extra attrition and plot disruption; home reach boost."""
        p = self.p
        geo = self.geometry
        level = self.crackdown_level[geo.jurisdiction_or_0] * geo.has_jurisdiction
        self._region_crackdown = level
        self._region_attrition = p.region_crackdown_attrition * level
        self._region_disruption = p.region_crackdown_disruption * level
        self._home_boost = 1.0 + self.p.config.interdiction.crackdown_boost * self.crackdown_level

    def _threat_week(self) -> None:
        """Cells recruit and lose fighters, relocate under pressure, split, die, start plots."""
        t = self.p.config.threat
        cells = self.cells
        slots = cells.live_slots()
        crowding = max(0.0, 1.0 - cells.strength[slots].sum() / t.carrying_capacity)
        boost = 1.0 + t.propaganda_boost * self.propaganda / (1.0 + self.propaganda)
        moved = np.empty(len(slots), dtype=np.int64)
        new_plots = np.empty(len(slots), dtype=np.int64)
        n_moved, n_plots = kernels.threat_week(
            self.rng_streams,
            self.week,
            slots,
            cells.region,
            cells.strength,
            cells.capability,
            cells.disrupted_until,
            self.p.recruitment_pool,
            self._region_crackdown,
            self._region_attrition,
            self.geometry.adjacency,
            t.recruitment_rate * crowding * boost,
            t.attrition_rate,
            t.relocation_rate,
            t.plot_rate / 100.0,
            moved,
            new_plots,
        )
        if n_moved:
            for slot, region in zip(slots[moved >= 0], moved[moved >= 0], strict=True):
                agent = cells.agents[slot]
                if agent is not None:
                    agent.cell = self.region_cells[int(region)]
        self._place_plots(slots, new_plots, n_plots)

    def _place_plots(self, slots: NDArray[np.int64], counts: NDArray[np.int64], total: int) -> None:
        """Append this week's new plots, targets drawn from strategy displaced by pressure."""
        self._flows["plots_started"] = float(total)
        if total == 0:
            return
        plots = self.plots
        start = plots.reserve(total)
        plots.n = kernels.place_plots(
            self.rng_streams,
            slots,
            counts,
            self.cells.region,
            self.p.target_base,
            self.geometry.same_country,
            self._region_crackdown,
            self.p.config.threat.displacement,
            start,
            plots.origin,
            plots.target,
            plots.cell,
            plots.age,
        )

    def _split_and_remove(self) -> None:
        """Large cells split in two; cells emptied by attrition or interdiction leave."""
        cells = self.cells
        slots = cells.live_slots()
        strength = cells.strength[slots]
        for slot in slots[strength > self.p.config.threat.split_size]:
            half = int(cells.strength[slot]) // 2
            cells.strength[slot] -= half
            new = cells.add(
                int(cells.region[slot]),
                half,
                float(cells.capability[slot]),
                float(cells.opsec[slot]),
                int(cells.disrupted_until[slot]),
            )
            ThreatCell(self, new)
        for slot in slots[strength <= 0]:
            self._remove_cell(int(slot))

    def _remove_cell(self, slot: int) -> None:
        """A cell with no fighters left leaves the model."""
        cells = self.cells
        cells.strength[slot] = 0
        cells.alive[slot] = False
        agent = cells.agents[slot]
        if agent is not None:
            agent.remove()
            cells.agents[slot] = None

    def _intel_week(self) -> None:
        """Collection, sharing, misuse, warnings, then interdiction versus maturation."""
        p = self.p
        cfg = self.p.config
        plots, cells = self.plots, self.cells
        n_a, n_c = len(self.actor_ids), len(self.geometry.countries)
        counts = np.zeros(7)
        by_pair = np.zeros((3, n_a, n_a))
        by_country = np.zeros((5, n_c))
        ccdf = self.recorder.severity_ccdf if self.week >= 0 else np.zeros(len(SEVERITY_EDGES))
        share_prob = intel.share_probability(
            p.share_policy, self.trust, cfg.sharing.trust_sensitivity
        )
        cells.plotting[:] = False
        t, sev, ci = cfg.threat, cfg.severity, cfg.counterintelligence
        plots.n = kernels.intel_week(
            self.rng_streams,
            self.week,
            plots.n,
            plots.origin,
            plots.target,
            plots.cell,
            plots.age,
            plots.tipped,
            plots.warned,
            plots.ignored_by,
            plots.own,
            plots.knowledge,
            plots.source,
            cells.opsec,
            cells.strength,
            cells.capability,
            cells.disrupted_until,
            cells.plotting,
            self.geometry.jurisdiction,
            self.geometry.country_of,
            p.hardening,
            p.host_security,
            self._region_disruption,
            p.coverage,
            p.reach,
            self._home_boost,
            self.coverage_health,
            share_prob,
            p.exploit_ab,
            p.leak,
            p.counter_intelligence,
            p.receptivity,
            p.duty_to_warn,
            self.trust,
            p.shared_value,
            cfg.sharing.warning_quality,
            cfg.interdiction.hazard,
            ci.tipoff_effect,
            ci.tipoff_opsec_gain,
            ci.coverage_damage,
            t.maturation_hazard_domestic,
            t.maturation_hazard_external,
            round(t.fighters_lost_per_interdiction),
            t.disruption_weeks,
            t.learning,
            sev.exponent,
            sev.minimum,
            sev.cap,
            sev.mass_casualty_threshold,
            self._severity_edges,
            counts,
            by_pair,
            by_country,
            self._new_good,
            self._new_bad,
            ccdf,
        )
        self.propaganda += counts[6]
        self._flows.update(counts=counts, by_pair=by_pair, by_country=by_country)

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
        f = self._flows
        counts, by_pair, by_country = f["counts"], f["by_pair"], f["by_country"]
        s = rec.scalar
        s["plots_started"][week] = f.get("plots_started", 0.0)
        s["plots_detected"][week] = counts[0]
        s["warnings_issued"][week] = counts[1]
        s["warnings_heeded"][week] = counts[2]
        s["plots_interdicted"][week] = counts[3]
        s["plots_abandoned"][week] = counts[5]
        s["attacks_despite_warning"][week] = counts[4]
        s["leaks"][week] = by_pair[2].sum()
        live = self.cells.live_slots()
        s["strength"][week] = self.cells.strength[live].sum()
        s["cells"][week] = len(live)
        s["live_plots"][week] = self.plots.n
        c = rec.country
        c["attacks_attempted"][week] = by_country[0]
        c["attacks_successful"][week] = by_country[1]
        c["fatalities"][week] = by_country[2]
        c["mass_casualty_attacks"][week] = by_country[3]
        c["mass_casualty_despite_warning"][week] = by_country[4]
        a = rec.actor
        a["exploitation_against"][week] = by_pair[1].sum(axis=1)
        a["leaks_of"][week] = by_pair[2].sum(axis=1)
        a["coverage_health"][week] = self.coverage_health
        a["crackdown"][week] = self.crackdown_level
        rec.pair["shared"][week] = by_pair[0]
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
    )
    model.remove_all_agents()
    return columns, summary
