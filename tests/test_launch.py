"""The entry point: a sweep's workers start before the CLI loads; the quick exit loses nothing.

The CLI tests run the command as users do, ``python -m scenarios`` (this entry point), so
their checks of exit codes, messages and files also cover :func:`launch.quick_exit`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import __version__, launch


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sweep", "s.yaml"], True),
        (["sweep", "s.yaml", "--workers", "1", "--resume"], True),
        (["sweep", "s.yaml", "--scheduler", "tcp://127.0.0.1:8786"], False),
        (["sweep", "s.yaml", "--scheduler=tcp://127.0.0.1:8786"], False),
        (["sweep", "--help"], False),
        (["sweep", "-h"], False),
        (["run", "c.yaml", "--workers", "2"], False),
        (["links", "c.yaml"], False),
        ([], False),
    ],
)
def test_only_a_sweep_on_local_workers_starts_them_early(args: list[str], expected: bool) -> None:
    assert launch.starts_local_workers(args) is expected


def test_exit_status_follows_python(capsys: pytest.CaptureFixture[str]) -> None:
    assert launch.exit_status(None) == 0
    assert launch.exit_status(2) == 2
    assert launch.exit_status(130) == 130
    assert launch.exit_status(256 + 3) == 3
    assert launch.exit_status("a message") == 1
    assert "a message" in capsys.readouterr().err


def test_the_fork_server_starts_before_the_cli_is_imported() -> None:
    code = """
import sys
from multiprocessing import forkserver
from scenarios.launch import start_workers_early
start_workers_early(["sweep", "s.yaml"])
print(forkserver._forkserver._forkserver_pid is not None)
heavy = ("typer", "rich", "pydantic", "numpy", "scenarios.cli")
print(sorted(m for m in heavy if m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] == "True"
    assert out[1] == "[]"  # nothing heavy in the driver before the CLI itself


def test_quick_exit_waits_for_threads_ends_pools_runs_atexit_and_flushes(tmp_path: Path) -> None:
    code = f"""
import atexit, sys, threading, time
from pathlib import Path
from scenarios.launch import quick_exit
out = Path({str(tmp_path)!r})
atexit.register(lambda: (out / "atexit").write_text("ran"))
def late():
    time.sleep(0.3)
    (out / "thread").write_text("done")
threading.Thread(target=late).start()
from concurrent.futures import ThreadPoolExecutor
idle = ThreadPoolExecutor(1)  # left running: its thread waits for work until told to end
idle.submit(lambda: None).result()
sys.stdout.write("x" * 100000)  # more than a pipe holds: still buffered when exiting
sys.stderr.write("to stderr")
quick_exit(3)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 3
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert result.stdout == "x" * 100000
    assert result.stderr == "to stderr"


def test_console_script_exit_codes_and_output(tmp_path: Path) -> None:
    version = subprocess.run(
        [sys.executable, "-m", "scenarios", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0
    assert version.stdout.strip() == f"scenarios {__version__}"
    missing = subprocess.run(
        [sys.executable, "-m", "scenarios", "run", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr
