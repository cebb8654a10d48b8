"""The cell and plot tables: struct-of-arrays state shared with the compiled week.

Without Mesa: a :class:`~scenarios.model.simulation.Simulation` keeps its cells and plots
here only; a :class:`~scenarios.model.model.ScenarioModel` also gives each live cell a
Mesa agent (``CellTable.agents``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from scenarios.model import engine, kernels  # compiled: loaded under their keyed cache

if TYPE_CHECKING:
    from scenarios.model.agents import ThreatCell


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
        "damping": np.float64,  # scratch of the compiled week
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


class PlotTable:
    """Live plots as parallel arrays: abstract events with an origin, target and lifetime.

    Also what each actor knows of each plot (value in [0, 1]) and who told it (-1 = itself,
    ``a`` = shared by actor a, ``A + a`` = warned by actor a). Fields: ``kernels.PlotState``.
    The number of live plots lives in ``counters[engine.N_PLOTS]``, shared with the
    compiled week.
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
        "visit": np.int64,  # scratch of the compiled week
    }
    _PER_ACTOR: ClassVar[dict[str, type]] = {
        "own": np.bool_,
        "knowledge": np.float64,
        "source": np.int64,
    }

    def __init__(self, n_actors: int, counters: np.ndarray, capacity: int = 256) -> None:
        self._counters = counters
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

    @property
    def n(self) -> int:
        """Live plots (rows ``0..n`` of the arrays)."""
        return int(self._counters[engine.N_PLOTS])

    @n.setter
    def n(self, value: int) -> None:
        self._counters[engine.N_PLOTS] = value

    def grow(self, capacity: int) -> None:
        """Make room for at least ``capacity`` rows (doubling), keeping the live ones."""
        if capacity <= len(self.arrays.key):
            return
        grown = self._allocate(max(2 * len(self.arrays.key), capacity))
        for old, new in zip(self.arrays, grown, strict=True):
            new[: self.n] = old[: self.n]
        self.arrays = grown

    def reserve(self, k: int) -> int:
        """Make room for ``k`` new plots, reset their rows, and return the first row."""
        self.grow(self.n + k)
        engine.reset_plot_rows(self.arrays, self.n, self.n + k)
        return self.n
