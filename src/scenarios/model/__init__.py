"""The Mesa model. Knows nothing of files, sweeps or the CLI."""

from scenarios.model.model import ScenarioModel, run_replication

__all__ = ["ScenarioModel", "run_replication"]
