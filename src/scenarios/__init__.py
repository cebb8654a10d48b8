"""scenarios: an agent-based policy simulator of intelligence sharing against ISIS-K.

The Python API (:mod:`scenarios.api`), imported on first use so that ``import scenarios``
stays fast (no model, numba or Mesa until a run starts)::

    import scenarios

    result = scenarios.run("configs/baseline.yaml", replications=20, steps=52)
    result.summary            # one row per replication, as summary.parquet
    result.save("results/baseline-api")   # the run directory `scenarios run --out` writes
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from scenarios.api import ConfigError, RunResult, compare, load_config, run

__all__ = ["ConfigError", "RunResult", "__version__", "compare", "load_config", "run"]

_API = frozenset({"ConfigError", "RunResult", "compare", "load_config", "run"})


def __getattr__(name: str) -> Any:
    """Load the API (:mod:`scenarios.api`) on first access to one of its names."""
    if name in _API:
        from scenarios import api

        return getattr(api, name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
