"""Load the model and its compiled code in the fork server of a sweep's local workers.

Imported once by that fork server (``workers.start_fork_server``): every worker forked
from it then starts with the model imported and numba's compiled code loaded, instead of
each worker importing and loading them on its first chunk. A tiny replication of a
two-region scenario does the loading. Nothing here is needed for correctness: if it
fails, workers load the model on their first chunk as before.
"""

from __future__ import annotations

import contextlib
from typing import Any

TINY: dict[str, Any] = {
    "name": "warm-up",
    "run": {"steps": 2, "burn_in": 1, "replications": 1},
    "regions": {
        "a": {"country": "home", "jurisdiction": "state", "neighbours": ["b"]},
        "b": {"country": "abroad"},
    },
    # as many actors as the shipped scenarios: the compiled week specialised for that
    # count is the one loaded (engine.SPECIALISED_ACTORS; other counts share another)
    "actors": {
        "state": {"coverage": {"a": 0.1}, "reach": {"a": 0.5}},
        "partner": {"coverage": {"b": 0.1}, "reach": {"b": 0.5}},
        "third": {},
        "fourth": {},
        "fifth": {},
    },
    "threat": {
        "home_country": "home",
        "fighters": 40,
        "cells": 2,
        "target_preference": {"home": 1.0, "abroad": 1.0},
    },
    "sharing": {"policy": {"state": {"partner": 0.5}, "partner": {"state": 0.5}}},
    "interventions": [
        {"name": "w", "start": "2025-01-13", "set": {"actors.state.crackdown.intensity": 0.5}}
    ],
}


def warm_up() -> None:
    """Run one tiny replication (imports the model, loads its compiled code)."""
    from scenarios.config import ScenarioConfig
    from scenarios.model.simulation import run_replication

    run_replication(ScenarioConfig.model_validate(TINY), 0)


def warm_figures() -> None:
    """Load matplotlib, which the sweep report loads only to draw (its workers draw).

    Not SALib or SciPy: the driver computes the indices (it has loaded both to draw the
    design), so the workers, which start once this server has loaded, never need them.
    """
    from scenarios.report.sweep_report import pyplot

    pyplot()


with contextlib.suppress(Exception):  # an optimisation only: workers load the model later
    warm_up()
with contextlib.suppress(Exception):  # likewise: workers load them when they first draw
    warm_figures()
