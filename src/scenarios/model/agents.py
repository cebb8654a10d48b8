"""Mesa agents: ISIS-K cells placed on regions, and the state actors.

For speed the weekly processes are vectorised over all cells at once, so a cell's state
lives in a struct-of-arrays (:class:`~scenarios.model.tables.CellTable`) and a
:class:`ThreatCell` agent is a view on its row. The Mesa idioms still hold: cells are
``CellAgent`` s on the region network, ``model.agents_by_type[ThreatCell].agg("strength",
sum)`` works, and the dashboard reads agents, not arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent
from mesa.discrete_space import CellAgent

if TYPE_CHECKING:
    from scenarios.model.model import ScenarioModel


# A cell plotting at less than exp(-0.5), about 61%, of its rate counts as disrupted.
DISRUPTED = 0.5


class ThreatCell(CellAgent):
    """An ISIS-K cell on a region: recruits, plots, gets disrupted, splits, dies."""

    def __init__(self, model: ScenarioModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot
        model.cells.agents[slot] = self
        self.cell = model.region_cells[int(model.cells.region[slot])]

    @property
    def strength(self) -> int:
        """Fighters in the cell."""
        return int(self.model.cells.strength[self.slot])

    @property
    def capability(self) -> float:
        """Ability to bring a plot to an attack [0, 1]."""
        return float(self.model.cells.capability[self.slot])

    @property
    def opsec(self) -> float:
        """Fraction of detection hazard the cell evades [0, 1]."""
        return float(self.model.cells.opsec[self.slot])

    @property
    def region(self) -> str:
        """Region id where the cell is based."""
        return self.model.geometry.ids[int(self.model.cells.region[self.slot])]

    @property
    def state(self) -> str:
        """``disrupted`` after an interdiction, ``plotting`` with live plots, or ``recruiting``."""
        table = self.model.cells
        if table.disruption[self.slot] > DISRUPTED:
            return "disrupted"
        return "plotting" if table.plotting[self.slot] else "recruiting"

    def relocate(self, region: int) -> None:
        """Move the cell's base to another region (its agent follows the table's row)."""
        self.model.cells.region[self.slot] = region
        self.cell = self.model.region_cells[region]


class StateActor(Agent):
    """A state (US, Russia, Taliban...) that collects, shares, warns, interdicts and trusts."""

    def __init__(self, model: ScenarioModel, name: str, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.index = index

    @property
    def coverage_health(self) -> float:
        """Share of its collection coverage not burned by partners' misuse [0, 1]."""
        return float(self.model.coverage_health[self.index])

    @property
    def crackdown(self) -> float:
        """Current crackdown intensity in its jurisdiction [0, 1]."""
        return float(self.model.crackdown_level[self.index])

    def trust_in(self, other: str) -> float:
        """Expected trust of this actor in ``other`` [0, 1]."""
        return float(self.model.trust[self.index, self.model.actor_ids.index(other)])
