"""The fork server that a sweep's local workers are forked from.

Light on purpose (standard library only): `scenarios sweep` starts the server first
thing, so that it loads the model (with its compiled code) and the sweep report while
the driver reads and checks the sweep; then every worker forked from it starts with all
of them loaded (``executor.local_pool``, and ``executor.dask_client`` for an embedded
Dask cluster, whose server also loads Dask).
"""

from __future__ import annotations

import importlib.util
import multiprocessing
from multiprocessing import forkserver

# Ignores SIGINT in the fork server while it loads the rest (Ctrl-C is the driver's).
FIRST = "scenarios.experiment.fork_server_init"
# What a pool's workers need besides the model: the Parquet writer and the data frames.
PRELOAD = ("numpy", "pandas", "pyarrow")
# What distributed itself preloads in a fork server (distributed.utils.get_mp_context:
# distributed.versions' packages), without importing distributed to find out.
DASK_PRELOAD = (
    "distributed",
    "dask",
    "msgpack",
    "cloudpickle",
    "tornado",
    "toolz",
    "numpy",
    "pandas",
    "lz4",
)
# The model and its compiled code (a warm-up replication), and the sweep report whose
# figures the workers draw (``warm`` also loads its matplotlib).
WARM_MODULES = ("scenarios.experiment.warm", "scenarios.report.sweep_report")


def start_fork_server(dask: bool = False) -> None:
    """Start this process's fork server now, preloading :data:`WARM_MODULES` in it.

    Returns at once: the server imports in the background. With ``dask`` it also loads
    what Dask's workers need (:data:`DASK_PRELOAD`). Does nothing if the fork server is
    already running (then its workers load what is missing on their first chunk). The
    server ends with this process.
    """
    wanted = DASK_PRELOAD if dask else PRELOAD
    preload = [name for name in wanted if importlib.util.find_spec(name) is not None]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([FIRST, *preload, *WARM_MODULES])
    forkserver.ensure_running()
