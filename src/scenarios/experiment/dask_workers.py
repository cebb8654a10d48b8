"""Worker plugin of a sweep's embedded Dask cluster (imported only where Dask is)."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class WatchDriver(WorkerPlugin):
    """An embedded worker exits when the driver process is gone.

    Embedded workers are children of a fork server, not of the driver (see
    ``workers.start_fork_server``); like the workers of ``scenarios run`` they watch the
    driver's pid and ask the kernel for SIGKILL when their parent dies
    (:func:`scenarios.experiment.processes.watch_driver`).
    """

    name = "scenarios-watch-driver"

    def __init__(self, driver_pid: int) -> None:
        self.driver_pid = driver_pid

    def setup(self, worker: Any) -> None:
        """Start watching (in every worker, also one its nanny restarts)."""
        from scenarios.experiment.processes import watch_driver

        watch_driver(self.driver_pid)
