"""The region network: topology, distances and per-region attribute arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from scenarios.config import ScenarioConfig, hops_from, undirected

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class RegionGeometry:
    """Structure that never changes during a run (interventions cannot alter it).

    The network as a networkx graph (:attr:`graph`) and the layout (:attr:`positions`) are
    built on first use: the Mesa model and the dashboard use them, a replication does not
    (a sweep's workers then never import networkx, a tenth of a second of their start).
    """

    ids: tuple[str, ...]
    countries: tuple[str, ...]
    country_of: NDArray[np.int64]  # region -> country index
    jurisdiction: NDArray[np.int64]  # region -> actor index, -1 when unmodelled
    jurisdiction_or_0: NDArray[np.int64]  # same, with -1 replaced by 0 (for gathers)
    has_jurisdiction: NDArray[np.float64]  # 1.0 where a modelled actor rules, else 0.0
    hops: NDArray[np.int64]  # shortest-path hops between regions
    adjacency: NDArray[np.bool_]  # [R, R] neighbours
    neighbours: tuple[tuple[str, ...], ...]  # each region's configured neighbours
    configured_positions: dict[str, tuple[float, float]]  # regions' `position`, where set

    same_country: NDArray[np.bool_]  # [origin, target] both regions in one country

    @cached_property
    def graph(self) -> nx.Graph:
        """The region network as an undirected networkx graph (nodes in config order)."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(self.ids)
        for rid, others in zip(self.ids, self.neighbours, strict=True):
            graph.add_edges_from((rid, n) for n in others)
        return graph

    @cached_property
    def positions(self) -> dict[str, tuple[float, float]]:
        """Layout for drawing: the configured positions, or a circle if any is missing."""
        if len(self.configured_positions) == len(self.ids):
            return dict(self.configured_positions)
        import networkx as nx

        return {k: tuple(v) for k, v in nx.circular_layout(self.graph).items()}


def hop_matrix(ids: tuple[str, ...], neighbours: tuple[tuple[str, ...], ...]) -> NDArray[np.int64]:
    """[R, R] shortest-path hops of a connected undirected network.

    ``neighbours[i]``: the regions ``ids[i]`` borders (an edge counts both ways). Config
    validation makes the network connected.
    """
    adjacent = undirected({rid: list(others) for rid, others in zip(ids, neighbours, strict=True)})
    rows = [hops_from(adjacent, rid) for rid in ids]
    if any(len(row) < len(ids) for row in rows):
        raise ValueError("the region network is disconnected")
    return np.array([[row[other] for other in ids] for row in rows], dtype=np.int64)


def build_geometry(config: ScenarioConfig) -> RegionGeometry:
    """Country and jurisdiction indices, hop distances from a validated config."""
    ids = tuple(config.regions)
    countries = tuple(dict.fromkeys(r.country for r in config.regions.values()))
    actors = list(config.actors)
    neighbours = tuple(tuple(r.neighbours) for r in config.regions.values())
    hops = hop_matrix(ids, neighbours)
    country_of = np.array([countries.index(r.country) for r in config.regions.values()])
    jurisdiction = np.array(
        [actors.index(r.jurisdiction) if r.jurisdiction else -1 for r in config.regions.values()]
    )
    return RegionGeometry(
        ids=ids,
        countries=countries,
        country_of=country_of,
        same_country=country_of[:, None] == country_of[None, :],
        jurisdiction=jurisdiction,
        jurisdiction_or_0=np.maximum(jurisdiction, 0),
        has_jurisdiction=(jurisdiction >= 0).astype(np.float64),
        hops=hops,
        adjacency=hops == 1,
        neighbours=neighbours,
        configured_positions={
            rid: region.position
            for rid, region in config.regions.items()
            if region.position is not None
        },
    )
