"""Seeds: one root seed spawns one independent seed per replication.

Replication ``i`` of every scenario run with the same root seed gets the same seed, so
scenarios compared in one experiment use common random numbers (Law & Kelton).
"""

from __future__ import annotations

import numpy as np


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Per-replication 63-bit integer seeds spawned from ``root_seed`` (stable, order-free)."""
    children = np.random.SeedSequence(root_seed).spawn(replications)
    seeds = []
    for child in children:
        hi, lo = child.generate_state(2, np.uint32)
        seeds.append(int((int(hi) << 31) ^ int(lo)))
    return seeds


def replication_sequence(seed: int) -> np.random.SeedSequence:
    """The SeedSequence a replication's model is built from."""
    return np.random.SeedSequence(seed)
