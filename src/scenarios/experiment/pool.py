"""Worker processes that never re-run the caller's ``__main__``.

``multiprocessing.spawn.get_preparation_data`` tells every spawned or fork-server child
how to re-create the parent's ``__main__`` (``init_main_from_path`` for a script,
``init_main_from_name`` for ``python -m``), and the child's ``spawn.prepare`` re-runs
that script or module as ``__mp_main__`` before it does any work. A script without an
``if __name__ == "__main__":`` guard then starts the pool again from inside the child,
which multiprocessing refuses while the child bootstraps: the child dies and the pool
breaks (BrokenProcessPool). A plain script calling ``scenarios.run(..., workers=2)``
would crash that way, and re-running a user's script in each worker is slow and may
have side effects even when it does not crash.

The replications' workers need nothing from ``__main__``: they run
``scenarios.experiment.runner._run_chunk`` on a ``ScenarioConfig`` (importable from the
package) and the pool initializer ``scenarios.experiment.processes.watch_driver``. So
:class:`NoMainForkServerContext` drops those two keys for its own processes, and each
worker keeps the fork server's ``__main__`` (the ``python -c`` of the fork server).

Why this is safe:

- Only processes started through this context are affected; ``multiprocessing``'s
  global state (start method, fork server preload, ``sys.modules``) is not changed, and
  other pools in the same process behave as before.
- The start method is still ``forkserver``: workers are forked from a single-threaded
  server, never from the (possibly multi-threaded: Jupyter, Dask, numba) caller, which
  is why ``fork`` is not used.
- The fork server itself never imports ``__main__``: its preload reads the key
  ``main_path``, which ``get_preparation_data`` does not produce (CPython 3.12 to 3.14).
- What is lost: objects defined in ``__main__`` cannot be sent to these workers. None
  are: progress callbacks stay in the caller.

:meth:`_NoMainPopen._launch_child` is CPython's ``popen_forkserver.Popen._launch`` (the
same in 3.12, 3.13 and 3.14) with the one change; ``tests/test_api.py`` runs an unguarded
script with two workers to check it. :meth:`_NoMainPopen._launch` runs it with interrupts
held (:func:`interrupts_held`).
"""

from __future__ import annotations

import io
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import forkserver, popen_forkserver, spawn, util
from multiprocessing.context import (
    ForkServerContext,
    ForkServerProcess,
    reduction,
    set_spawning_popen,
)
from typing import Any

# What spawn.get_preparation_data sends for the child to re-create the parent's __main__.
MAIN_KEYS = ("init_main_from_path", "init_main_from_name")


def preparation_data(name: str) -> dict[str, Any]:
    """``spawn.get_preparation_data`` without the instructions to re-run ``__main__``."""
    data = spawn.get_preparation_data(name)
    for key in MAIN_KEYS:
        data.pop(key, None)
    return data


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block has run, then deliver them (main thread).

    A worker's launch asks the fork server for a child, then writes the child what to
    run. An interrupt between the two left a child reading a closed pipe, which printed
    a traceback after the driver's clean "interrupted" (seen with SIGTERM under load).
    Held, the interrupt arrives once the child has its data, and is handled as before.
    Elsewhere than in the main thread (which alone runs signal handlers) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, _: held.append(signum)) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(held):
            signal.raise_signal(sig)  # to the handler now in place


class _NoMainPopen(popen_forkserver.Popen):
    """Starts a fork-server child that is not told about the parent's ``__main__``."""

    def _launch(self, process_obj: Any) -> None:
        with interrupts_held():
            self._launch_child(process_obj)

    def _launch_child(self, process_obj: Any) -> None:
        prep_data = preparation_data(process_obj._name)  # the one change from CPython's
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # As in CPython: a duplicate of the data pipe's write end is the parent's sentinel.
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _NoMainProcess(ForkServerProcess):
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj: Any) -> _NoMainPopen:  # noqa: N802 (multiprocessing's name)
        return _NoMainPopen(process_obj)


class NoMainForkServerContext(ForkServerContext):
    """The ``forkserver`` start method, without re-running the caller's ``__main__``.

    For ``ProcessPoolExecutor(mp_context=...)``: works from a plain script without an
    ``if __name__ == "__main__":`` guard, from ``python -m`` and from Jupyter.
    """

    Process = _NoMainProcess  # type: ignore[assignment]


def worker_context() -> NoMainForkServerContext:
    """The multiprocessing context of the replications' process pool."""
    return NoMainForkServerContext()
