"""The `scenarios` command's entry point (also ``python -m scenarios``).

Two things around the command line interface (:mod:`scenarios.cli`) that only an entry
point can do:

- **A sweep's workers start loading first.** They are forked from a fork server that
  loads the model and its compiled code (``experiment.workers.start_fork_server``, a
  second or more). Started here, before the CLI is imported (Typer, Rich, the config
  schema: about a third of a second), that loading overlaps the whole of the driver's
  own start instead of most of it.
- **The process ends without tearing down its objects one by one.** After the command
  has finished (its files written and closed, its output printed), Python's normal exit
  frees every module and object it loaded: 0.27 s after a sweep, whose driver has loaded
  pandas, SciPy and SALib. :func:`quick_exit` does what matters of that exit (waits for
  threads, runs the ``atexit`` handlers, flushes stdout and stderr) and then ends the
  process at once.

Standard library only, until the CLI is imported.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

# Python's own exit status when it cannot flush stdout at exit (a closed pipe, say).
FLUSH_FAILED = 120


def starts_local_workers(args: list[str]) -> bool:
    """Whether the command line ``args`` (without the program) runs a sweep on local workers.

    Not with ``--scheduler`` (the workers are a Dask cluster's) nor for help; an argument
    the CLI then refuses only costs a fork server that exits with this process.
    """
    if not args or args[0] != "sweep":
        return False
    return not any(
        a in ("--help", "-h") or a == "--scheduler" or a.startswith("--scheduler=") for a in args
    )


def start_workers_early(args: list[str]) -> None:
    """Start the fork server of a sweep's local workers now, if ``args`` run one."""
    if starts_local_workers(args):
        from scenarios.experiment.workers import start_fork_server

        start_fork_server()


def exit_status(code: object) -> int:
    """The process exit status of ``SystemExit(code)``, as Python computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)  # SystemExit("message"): printed, status 1
    return 1


def quick_exit(status: int) -> NoReturn:
    """End the process like Python's exit does, minus freeing every object one by one.

    In Python's order: ``threading._shutdown`` (what the interpreter calls first: it tells
    thread pools to finish, then waits for the threads that are not daemons), the
    ``atexit`` handlers (multiprocessing stops its helpers there, ``weakref.finalize``
    removes temporary directories, logging flushes), stdout and stderr flushed; then
    ``os._exit``. Every file the CLI writes is closed (and renamed into place) before its
    command returns, so nothing is left unwritten.
    """
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            if stream is sys.stdout and status == 0:
                status = FLUSH_FAILED
    os._exit(status)


def main() -> NoReturn:
    """The console script `scenarios`: start a sweep's workers, run the CLI, exit quickly."""
    start_workers_early(sys.argv[1:])
    from scenarios.cli import main as cli_main

    try:
        cli_main()
        status = 0
    except SystemExit as exc:
        status = exit_status(exc.code)
    quick_exit(status)
