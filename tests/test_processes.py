"""No process outlives the command that started it: SIGKILL, SIGTERM, run and viz."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from tests.conftest import CONFIGS

pytestmark = pytest.mark.slow


def session(sid: int) -> list[psutil.Process]:
    """Live (not zombie) processes of a session."""
    alive = []
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def wait_until(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@contextlib.contextmanager
def started(*args: str) -> Iterator[subprocess.Popen]:
    """Start `scenarios ARGS` in its own session; kill whatever is left at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenarios", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for child in session(proc.pid):
            with contextlib.suppress(psutil.Error):
                child.kill()
        proc.communicate(timeout=30)


def long_run(out: Path) -> tuple[str, ...]:
    return (
        "run",
        str(CONFIGS / "baseline.yaml"),
        "-n",
        "2000",
        "--workers",
        "2",
        "--out",
        str(out),
    )


def workers_started(proc: subprocess.Popen) -> bool:
    return len(session(proc.pid)) >= 4  # driver, resource tracker, fork server, workers


def test_workers_die_when_the_run_is_killed(tmp_path: Path) -> None:
    with started(*long_run(tmp_path / "run")) as proc:
        assert wait_until(lambda: workers_started(proc), 60)
        proc.kill()  # SIGKILL: no handler runs in the driver
        proc.wait(timeout=10)
        assert wait_until(lambda: not session(proc.pid), 10), session(proc.pid)


def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with started(*long_run(out)) as proc:
        assert wait_until(lambda: workers_started(proc), 60)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 130
        assert "interrupted" in stderr
        assert "Traceback" not in stderr
        assert wait_until(lambda: not session(proc.pid), 10), session(proc.pid)
    assert not (out / "manifest.json").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2),
    ):
        return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_dashboard_server_stops_with_viz(sig: signal.Signals) -> None:
    port = free_port()
    with started("viz", "--port", str(port)) as proc:
        assert wait_until(lambda: serving(port), 120), "dashboard did not start"
        proc.send_signal(sig)
        proc.wait(timeout=20)
        assert wait_until(lambda: not serving(port), 10)
        assert wait_until(lambda: not session(proc.pid), 10), session(proc.pid)


def test_stopped_pools_leave_no_manager_thread_for_the_exit_hook() -> None:
    """stop_workers waits for the pool's manager thread, which shutdown() alone does not:
    otherwise CPython's exit hook can race it closing its wake-up pipe and print a
    "Bad file descriptor" traceback after a clean interrupt."""
    from concurrent.futures import ProcessPoolExecutor

    from scenarios.experiment.pool import worker_context
    from scenarios.experiment.processes import stop_workers

    pool = ProcessPoolExecutor(max_workers=2, mp_context=worker_context())
    busy = [pool.submit(time.sleep, 30) for _ in range(4)]
    assert wait_until(lambda: any(f.running() for f in busy), 30)
    manager = pool._executor_manager_thread
    assert manager is not None
    assert manager.is_alive()
    stop_workers(pool)
    assert not manager.is_alive()


def test_interrupts_are_held_while_a_worker_launches_then_delivered() -> None:
    """A Ctrl-C or SIGTERM during a worker's launch arrives once the child has its data."""
    from scenarios.experiment import processes
    from scenarios.experiment.pool import interrupts_held

    previous = signal.getsignal(signal.SIGTERM)
    processes.sigterm_as_interrupt()
    finished = []

    def launch() -> None:
        with interrupts_held():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)
            finished.append(True)  # not interrupted in the block

    try:
        with pytest.raises(KeyboardInterrupt):
            launch()
        assert finished == [True]
        assert signal.getsignal(signal.SIGTERM) is processes._interrupt  # restored
    finally:
        signal.signal(signal.SIGTERM, previous)
