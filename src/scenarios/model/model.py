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

import functools

import mesa
import numpy as np
from mesa.discrete_space import Network
from numpy.typing import NDArray

from scenarios.config import ModelLimitError, ScenarioConfig
from scenarios.model.agents import StateActor, ThreatCell
from scenarios.model.params import Parameters
from scenarios.model.regions import RegionGeometry
from scenarios.model.simulation import (
    MAX_LIVE_CELLS,
    MAX_LIVE_PLOTS,
    Simulation,
    prepare,
    run_replication,
    seed_streams,
)

__all__ = [
    "MAX_LIVE_CELLS",
    "MAX_LIVE_PLOTS",
    "ModelLimitError",
    "ScenarioModel",
    "run_replication",
]


class ScenarioModel(Simulation, mesa.Model):
    """ISIS-K, the Taliban, the US and Russia (and any other configured actors), weekly.

    The weekly processes run in compiled code (``engine``); :class:`Simulation` owns
    their state and switches parameters when interventions start or end; this Mesa model
    keeps its agents (cells on the region network, state actors) in sync with the state
    after every ``step()`` and at the end of ``run()``.

    Args:
        config: a validated scenario.
        seed: a ``numpy.random.SeedSequence`` for this replication (or an int); its
            children seed Mesa's own ``rng``, the set-up draws, and the root key of every
            keyed draw of the weekly processes (see ``kernels``).
        geometry: precomputed region structure (optional, saves set-up time in loops).
        parameters: precompiled arrays for ``config`` (optional, likewise).
        cell_agents: give every cell a Mesa agent on the region network (default), or
            keep cells in the table only (``False``). Outputs are the same.
    """

    def __init__(
        self,
        config: ScenarioConfig,
        seed: np.random.SeedSequence | int = 0,
        *,
        geometry: RegionGeometry | None = None,
        parameters: Parameters | None = None,
        cell_agents: bool = True,
    ) -> None:
        mesa_seq, setup_seq, process_seq = seed_streams(seed)
        mesa.Model.__init__(self, rng=mesa_seq)
        self.cell_agents = cell_agents
        self._build(config, setup_seq, process_seq, prepare(config, geometry, parameters))

    def _add_actors(self) -> None:
        """The state actors, one Mesa agent each."""
        self.actors_list = [StateActor(self, a, i) for i, a in enumerate(self.actor_ids)]

    @functools.cached_property
    def space(self) -> Network:
        """The regions as nodes of a Mesa network (built when first used).

        A headless replication (``cell_agents=False``) never needs it.
        """
        return Network(
            self.geometry.graph, random=self.random, layout=dict(self.geometry.positions)
        )

    @functools.cached_property
    def region_cells(self) -> list[mesa.discrete_space.Cell]:
        """The network's cell of each region, in region order."""
        return [self.space[rid] for rid in self.geometry.ids]

    def step(self) -> None:
        """Advance the world one week (the compiled week), then sync the Mesa agents."""
        self._advance(self.week + 1)
        self._sync_agents()

    def run(self) -> dict[str, NDArray[np.float64]]:
        """Spin up, run the recorded weeks and return the weekly outcome columns.

        The weeks between changes of the active interventions run in one compiled call
        each; Mesa's clock (``steps``, ``time``) advances by the weeks run, and the agents
        are synced at the end.
        """
        weeks = self.config.run.steps - self.week
        self._advance(self.config.run.steps)
        self.steps += weeks
        self.time += weeks
        self._sync_agents()
        return self.recorder.columns()

    def _sync_agents(self) -> None:
        """Mesa agents follow the cell table: new cells join, moved ones move, dead ones go."""
        if not self.cell_agents:
            return
        cells = self.cells
        agents = cells.agents
        agents.extend([None] * (cells.size - len(agents)))
        for slot in range(cells.size):
            agent = agents[slot]
            if cells.alive[slot]:
                if agent is None:
                    ThreatCell(self, slot)
                elif agent.cell is not self.region_cells[int(cells.region[slot])]:
                    agent.relocate(int(cells.region[slot]))
            elif agent is not None:
                agent.remove()
                agents[slot] = None
