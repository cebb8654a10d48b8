"""The Mesa model. Knows nothing of files, sweeps or the CLI."""

from scenarios.model._numba_cache import keyed_cache

with keyed_cache():  # before anything else imports the compiled modules
    from scenarios.model import engine, intel, kernels  # noqa: F401

from scenarios.model.model import ScenarioModel, run_replication

__all__ = ["ScenarioModel", "run_replication"]
