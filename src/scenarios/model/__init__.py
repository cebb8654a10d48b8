"""The Mesa model. Knows nothing of files, sweeps or the CLI.

The package loads lazily: ``scenarios.model.outcomes`` (the names of the outcomes, which
a sweep's or an experiment's driver needs) does not load Mesa or the compiled kernels.
The compiled modules (``kernels``, ``intel``, ``engine``) are loaded together, under
their keyed numba cache (:mod:`scenarios.model._numba_cache`), the first time any of
them, ``ScenarioModel`` or ``run_replication`` (which does not load Mesa) is asked for;
import them as ``from scenarios.model import engine``, never as
``import scenarios.model.engine``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios.model.model import ScenarioModel
    from scenarios.model.simulation import run_replication

__all__ = ["ScenarioModel", "run_replication"]

COMPILED = ("kernels", "intel", "engine")  # in dependency order


def _load_compiled() -> None:
    from scenarios.model._numba_cache import keyed_cache

    with keyed_cache():  # before anything else imports the compiled modules
        for name in COMPILED:
            importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    if name in COMPILED:
        _load_compiled()
        return importlib.import_module(f"{__name__}.{name}")
    if name == "run_replication":  # without Mesa (what runs, sweeps and workers need)
        from scenarios.model import simulation

        return simulation.run_replication
    if name in __all__:
        from scenarios.model import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
