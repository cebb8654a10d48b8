"""Mesa agents: ISIS-K cells placed on regions, and the state actors.

For speed the weekly processes are vectorised over all cells at once, so a cell's state
lives in a struct-of-arrays (:class:`CellTable`) and a :class:`ThreatCell` agent is a
view on its row. The Mesa idioms still hold: cells are ``CellAgent`` s on the region
network, ``model.agents_by_type[ThreatCell].agg("strength", sum)`` works, and the
dashboard reads agents, not arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from mesa import Agent
from mesa.discrete_space import CellAgent

from scenarios.model import engine, kernels  # compiled: loaded under their keyed cache

if TYPE_CHECKING:
    from scenarios.model.model import ScenarioModel


# A cell plotting at less than exp(-0.5), about 61%, of its rate counts as disrupted.
DISRUPTED = 0.5


class CellTable:
    """Struct-of-arrays state of every ISIS-K cell ever created (slots are never reused).

    The number of slots in use lives in ``counters[engine.N_CELLS]``, shared with the
    compiled week, which appends the cells that split off; ``agents[slot]`` is the
    cell's Mesa agent (``ScenarioModel`` keeps them in sync).
    """

    _DTYPES: ClassVar[dict[str, type]] = {
        "alive": np.bool_,
        "key": np.uint64,  # keys its random draws (kernels)
        "splits": np.int64,  # cells split off it so far
        "region": np.int64,
        "strength": np.int64,  # fighters
        "capability": np.float64,  # [0, 1]
        "opsec": np.float64,  # [0, 1]
        "disruption": np.float64,  # >= 0; plots start at exp(-disruption) of the rate
        "plotting": np.bool_,  # has at least one live plot
        "plots_started": np.int64,  # plots started so far: ordinal of its next plot
        "plot_gap": np.float64,  # cumulative plot intensity before its next plot (kernels)
        "live": np.int64,  # scratch of the compiled week
        "new_plots": np.int64,  # scratch of the compiled week
    }

    def __init__(self, capacity: int, counters: np.ndarray) -> None:
        self._counters = counters
        self.state = kernels.CellState(
            *(np.zeros(capacity, dtype=d) for d in self._DTYPES.values())
        )
        self.agents: list[ThreatCell | None] = []

    def __getattr__(self, name: str) -> np.ndarray:
        """A column by name, e.g. ``cells.strength`` (``state`` is replaced when it grows)."""
        if name in kernels.CellState._fields:
            return getattr(self.__dict__["state"], name)
        raise AttributeError(name)

    @property
    def size(self) -> int:
        """Slots in use (live and dead cells)."""
        return int(self._counters[engine.N_CELLS])

    def grow(self, capacity: int) -> None:
        """Make room for at least ``capacity`` slots (doubling), keeping every row."""
        old = self.state
        if capacity <= len(old.key):
            return
        capacity = max(capacity, 2 * len(old.key))
        self.state = kernels.CellState(*(np.zeros(capacity, dtype=a.dtype) for a in old))
        for a, b in zip(old, self.state, strict=True):
            b[: len(a)] = a

    def add(
        self,
        key: np.uint64,
        region: int,
        strength: int,
        capability: float,
        opsec: float,
        disruption: float = 0.0,
    ) -> int:
        """Append a cell row and return its slot."""
        slot = self.size
        self.grow(slot + 1)
        s = self.state
        s.alive[slot] = True
        s.key[slot] = key
        s.region[slot] = region
        s.strength[slot] = strength
        s.capability[slot] = capability
        s.opsec[slot] = opsec
        s.disruption[slot] = disruption
        s.plots_started[slot] = 0
        s.plot_gap[slot] = kernels.plot_gap(s.key[slot], 0)
        self._counters[engine.N_CELLS] = slot + 1
        return slot

    def add_many(
        self,
        keys: np.ndarray,
        region: np.ndarray,
        strength: np.ndarray,
        capability: np.ndarray,
        opsec: np.ndarray,
    ) -> None:
        """Append one row per cell (what :meth:`add` does, for many cells at once)."""
        start = self.size
        stop = start + len(keys)
        self.grow(stop)
        s = self.state
        rows = slice(start, stop)
        s.alive[rows] = True
        s.key[rows] = keys
        s.region[rows] = region
        s.strength[rows] = strength
        s.capability[rows] = capability
        s.opsec[rows] = opsec
        s.disruption[rows] = 0.0
        s.plots_started[rows] = 0
        s.plot_gap[rows] = kernels.first_plot_gaps(keys)
        self._counters[engine.N_CELLS] = stop

    def arrays(self) -> kernels.CellState:
        """The columns the compiled kernels read and write (views, not copies)."""
        return self.state

    def live_slots(self) -> np.ndarray:
        """Slots of cells that still have fighters."""
        return np.flatnonzero(self.state.alive[: self.size])


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
