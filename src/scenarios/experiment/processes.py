"""Worker processes that never outlive the run that started them.

A process pool's workers are children of a fork server, not of the driver, so when the
driver is killed (SIGKILL, or a crash) nothing tells them. Each worker therefore watches
the driver's pid and exits as soon as it is gone; on Linux it also asks the kernel for
SIGKILL when its own parent dies. SIGTERM to the driver is turned into the same
``KeyboardInterrupt`` as Ctrl-C, so the verbs' interrupt handling (keep what is finished,
say how to resume, leave nothing that looks complete) applies to both.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from types import FrameType

_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.5  # seconds between checks that the driver is still alive


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (True when the system cannot say)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


def die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watch thread still covers it
        return


def watch_driver(driver_pid: int) -> None:
    """Pool initializer: exit this worker within ``WATCH_INTERVAL`` s of the driver's death."""
    die_with_parent()

    def watch() -> None:
        while True:
            if not pid_alive(driver_pid):
                os._exit(1)
            time.sleep(WATCH_INTERVAL)

    threading.Thread(target=watch, name="watch-driver", daemon=True).start()


MANAGER_JOIN_TIMEOUT = 10.0  # seconds to wait for a stopped pool's manager thread


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool at once (after an interrupt or error; results are dropped).

    Terminates the workers, cancels queued work and waits (at most
    ``MANAGER_JOIN_TIMEOUT`` s) for the pool's manager thread to wind down. Without that
    wait the interpreter's exit hook for process pools can race the manager thread
    closing its wake-up pipe, and print "Bad file descriptor" after a clean interrupt
    (CPython 3.12.1).
    """
    # The executor keeps its workers and manager thread in private attributes; there is
    # no public way to stop a chunk in progress. Without it the workers would finish
    # their chunks first.
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None and manager.is_alive():
        manager.join(MANAGER_JOIN_TIMEOUT)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def sigterm_as_interrupt() -> None:
    """Handle SIGTERM like Ctrl-C in this (main) thread."""
    signal.signal(signal.SIGTERM, _interrupt)
