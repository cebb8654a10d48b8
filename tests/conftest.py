"""Shared fixtures: paths and a cached scenario runner for validation tests."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scenarios.config import ScenarioConfig, load_config
from scenarios.experiment.runner import RunResult, run_scenario

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


@pytest.fixture
def configs_dir() -> Path:
    return CONFIGS


def config(name: str, *overrides: str) -> ScenarioConfig:
    """A shipped config with overrides applied."""
    return load_config(CONFIGS / f"{name}.yaml", list(overrides))


# Under pytest-xdist the suite is already spread over the cores.
WORKERS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2


@cache
def _run(name: str, overrides: tuple[str, ...]) -> RunResult:
    return run_scenario(config(name, *overrides), workers=WORKERS)


def run(name: str, *overrides: str) -> RunResult:
    """Run (once per session, then cached) a shipped scenario with overrides."""
    return _run(name, tuple(overrides))


def summary(name: str, *overrides: str) -> pd.DataFrame:
    return run(name, *overrides).summary


# Countries and actors of configs/baseline.yaml, for synthetic summaries.
COUNTRIES = ("afghanistan", "pakistan", "iran", "central_asia", "russia", "west")
ACTORS = ("us", "russia", "taliban", "iran", "pakistan")


def synthetic_summary(attacks: dict[str, np.ndarray], seeds: list[int]) -> pd.DataFrame:
    """A summary.parquet-like frame built from per-country successful attacks (one per rep)."""
    n = len(seeds)
    total = sum(attacks.values())
    cols: dict[str, object] = {
        "replication": np.arange(n),
        "seed": seeds,
        "attacks_successful": total,
        "fatalities": 4.0 * total,
        "mass_casualty_attacks": np.floor(total / 10.0),
        "share_interdicted": 0.8 + 0.001 * total,
        "years": np.ones(n),
        "final_strength": 2000.0 + 5.0 * total,
        "final_cells": 60.0 + 0.1 * total,
    }
    for c, x in attacks.items():
        hit = (x > np.median(x)).astype(float)
        cols |= {
            f"attacks_successful__{c}": x,
            f"fatalities__{c}": 4.0 * x,
            f"mass_casualty_attacks__{c}": hit,
            f"mass_casualty_years__{c}": hit,
            f"attack_risk__{c}": hit,
        }
    for a in ACTORS:
        cols[f"exploitation_against__{a}"] = np.zeros(n)
        cols[f"ci_exposure__{a}"] = np.arange(n) % 3.0
    for a in ACTORS[:3]:
        for b in ACTORS[:3]:
            if a != b:
                cols[f"final_trust__{a}__{b}"] = np.linspace(0.2, 0.6, n)
    return pd.DataFrame(cols)


def small_optimisation(
    directory: Path, levers: int | None = None, **changes: Any
) -> tuple[Path, dict[str, Any]]:
    """The shipped policy search made tiny, written to ``directory/small.yaml``.

    ``configs/optimise/us_exposure_budget.yaml`` around ``trilateral``: 26 weeks, 2
    replications, 6 candidates x 2 generations, the front re-run on 3 fresh replications;
    ``changes`` replace keys, ``levers`` keeps only the first so many levers. Returns the
    file and its content.
    """
    import yaml

    spec = yaml.safe_load((CONFIGS / "optimise" / "us_exposure_budget.yaml").read_text())
    spec.update(
        scenario=str(CONFIGS / "trilateral.yaml"),
        steps=26,
        replications=2,
        population=6,
        generations=2,
        reevaluate=3,
    )
    spec.update(changes)
    if levers is not None:
        spec["levers"] = dict(list(spec["levers"].items())[:levers])
    path = directory / "small.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path, spec


def run_cli(
    *args: object,
    cwd: Path | None = None,
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m scenarios ARGS`` in a subprocess (real exit codes), output captured.

    Debug and table-format switches of the developer's shell are dropped, so messages are
    what a user sees.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SCENARIOS_DEBUG", "SCENARIOS_TABLE_MARKDOWN")
    }
    return subprocess.run(
        [sys.executable, "-m", "scenarios", *(str(a) for a in args)],
        cwd=cwd or ROOT,
        env={**env, **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )


def cli_exit_code(monkeypatch: pytest.MonkeyPatch, *args: object) -> int:
    """Run ``scenarios ARGS`` in this process and return its exit code."""
    from scenarios import cli

    monkeypatch.setattr(cli, "sigterm_as_interrupt", lambda: None)
    monkeypatch.delenv("SCENARIOS_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["scenarios", *(str(a) for a in args)])
    try:
        cli.main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def cli_in_process(
    monkeypatch: pytest.MonkeyPatch,
    capture: pytest.CaptureFixture[str],
    *args: object,
) -> tuple[int, str]:
    """Run ``scenarios ARGS`` in this process: its exit code and what it wrote to stderr.

    ``capture`` is pytest's ``capsys`` (Python's stderr) or ``capfd`` (file descriptor 2,
    for what subprocesses and loggers write too).
    """
    code = cli_exit_code(monkeypatch, *args)
    return code, capture.readouterr().err


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with ``start_new_session=True``, and its children."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def external_dask_cluster(workers: int = 2) -> Iterator[str]:
    """A Dask scheduler and ``workers`` one-thread workers on 127.0.0.1: its address.

    Started as separate process groups (as a user would start them) and killed, with
    their children, when the block exits.
    """
    bin_dir = Path(sys.executable).parent
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [
                str(bin_dir / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            start_new_session=True,
            **quiet,
        )
    ]
    try:
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    [
                        str(bin_dir / "dask"),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                    ],
                    start_new_session=True,
                    **quiet,
                )
            )
        from dask.distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            kill_group(proc)


def modules_loaded(imports: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has loaded after running ``imports``."""
    code = f"import sys\n{imports}\nprint(sorted(m for m in {candidates!r} if m in sys.modules))"
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return ast.literal_eval(res.stdout.strip())
