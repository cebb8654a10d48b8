"""The region network: topology, distances and per-region attribute arrays."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from scenarios.config import ScenarioConfig


@dataclass(frozen=True)
class RegionGeometry:
    """Structure that never changes during a run (interventions cannot alter it)."""

    ids: tuple[str, ...]
    countries: tuple[str, ...]
    country_of: NDArray[np.int64]  # region -> country index
    jurisdiction: NDArray[np.int64]  # region -> actor index, -1 when unmodelled
    jurisdiction_or_0: NDArray[np.int64]  # same, with -1 replaced by 0 (for gathers)
    has_jurisdiction: NDArray[np.float64]  # 1.0 where a modelled actor rules, else 0.0
    hops: NDArray[np.int64]  # shortest-path hops between regions
    adjacency: NDArray[np.bool_]  # [R, R] neighbours
    graph: nx.Graph
    positions: dict[str, tuple[float, float]]

    same_country: NDArray[np.bool_]  # [origin, target] both regions in one country


def build_geometry(config: ScenarioConfig) -> RegionGeometry:
    """Graph, country and jurisdiction indices, hop distances from a validated config."""
    ids = tuple(config.regions)
    countries = tuple(dict.fromkeys(r.country for r in config.regions.values()))
    actors = list(config.actors)
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    for rid, region in config.regions.items():
        graph.add_edges_from((rid, n) for n in region.neighbours)
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    hops = np.array([[lengths[a][b] for b in ids] for a in ids], dtype=np.int64)
    positions = {
        rid: region.position
        for rid, region in config.regions.items()
        if region.position is not None
    }
    if len(positions) != len(ids):
        positions = {k: tuple(v) for k, v in nx.circular_layout(graph).items()}
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
        graph=graph,
        positions=positions,
    )
