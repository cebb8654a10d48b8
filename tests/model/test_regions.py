"""The region network: hop distances of our own search equal networkx's; lazy graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import CONFIGS

from scenarios.config import load_config
from scenarios.model.regions import build_geometry, hop_matrix


@st.composite
def connected_networks(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """A connected network: a random spanning tree plus random extra edges, as neighbours."""
    n = draw(st.integers(min_value=1, max_value=12))
    ids = tuple(f"r{i}" for i in range(n))
    neighbours: list[list[str]] = [[] for _ in ids]
    for i in range(1, n):
        neighbours[i].append(ids[draw(st.integers(0, i - 1))])
    for a, b in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))):
        if a != b:
            neighbours[a].append(ids[b])
    return ids, tuple(tuple(x) for x in neighbours)


@settings(max_examples=200, deadline=None)
@given(connected_networks())
def test_hops_are_networkx_shortest_path_lengths(
    network: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]],
) -> None:
    ids, neighbours = network
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((a, b) for a, others in zip(ids, neighbours, strict=True) for b in others)
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    expected = np.array([[lengths[a][b] for b in ids] for a in ids], dtype=np.int64)
    np.testing.assert_array_equal(hop_matrix(ids, neighbours), expected)


def test_the_shipped_geometry_graph_and_layout() -> None:
    cfg = load_config(CONFIGS / "baseline.yaml")
    geometry = build_geometry(cfg)
    assert list(geometry.graph.nodes) == list(cfg.regions)
    for rid, region in cfg.regions.items():
        for other in region.neighbours:
            assert geometry.graph.has_edge(rid, other)
    assert geometry.graph.number_of_edges() == int(geometry.adjacency.sum()) // 2
    assert set(geometry.positions) == set(cfg.regions)
    configured = {k: v.position for k, v in cfg.regions.items() if v.position is not None}
    assert len(configured) == len(cfg.regions)  # every shipped region has its position
    assert geometry.positions == configured
