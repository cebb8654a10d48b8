"""A sweep whose run fails inside a worker: exit 2, one message, a state `--resume` finishes.

The failure is reported in one message that names the sample point, with no worker
traceback on the terminal; the chunks that finished are kept, the manifest says
``failed`` (never ``complete``), and once the cause is gone `--resume` finishes the sweep
with the same results as an uninterrupted one. A run that fails for a reason in its
parameters (the model's size limits) fails the same way on every try, and the message
says to narrow the ranges instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import CONFIGS, cli_in_process

from scenarios.experiment import executor
from scenarios.experiment.executor import read_results

SWEEP = (
    f"name: t\nbase: {CONFIGS / 'baseline.yaml'}\n"
    "method: lhs\nsamples: 8\nreplications: 2\nseed: 3\nsteps: 10\nchunk_size: 2\n"
    "parameters:\n  threat.plot_rate: {bounds: [0.5, 1.5]}\n"
    "outcomes: [attacks_successful]\n"
)
FAILING_POINT = 5


@contextmanager
def threaded_pool(workers: int) -> Iterator[Any]:
    """Workers in this process (threads), so that the test's patches reach them."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


main = cli_in_process  # scenarios ARGS in this process: (exit code, stderr)


def one_message(message: str, *fragments: str) -> str:
    for noise in ("Traceback", "Compute Failed", "distributed.", "internal error"):
        assert noise not in message, message
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, message
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} missing from: {errors[0]}"
    return errors[0]


def test_a_run_failing_in_a_worker_fails_the_sweep_cleanly_and_resume_finishes_it(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import scenarios.model.simulation as model_module

    monkeypatch.setattr(executor, "local_pool", threaded_pool)
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SWEEP, encoding="utf-8")
    reference, out = tmp_path / "reference", tmp_path / "out"
    code, message = main(monkeypatch, capfd, "sweep", spec, "--out", reference)
    assert code == 0, message

    run_replication = model_module.run_replication
    failing_plot_rate = float(pd.read_parquet(reference / "design.parquet").iloc[FAILING_POINT, 1])

    def fails_at_one_point(config: Any, *args: Any, **kwargs: Any) -> Any:
        if config.threat.plot_rate == failing_plot_rate:
            raise OSError("simulated loss of the shared file system")
        return run_replication(config, *args, **kwargs)

    monkeypatch.setattr(model_module, "run_replication", fails_at_one_point)
    code, message = main(monkeypatch, capfd, "sweep", spec, "--out", out)
    assert code == 2, message
    line = one_message(
        message, f"sample point {FAILING_POINT}", "simulated loss", "--resume", str(out)
    )
    assert "threat.plot_rate=" in line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert "simulated loss" in manifest["error"]
    assert not (out / "indices.csv").exists()
    kept = len(list((out / "parts").glob("chunk-*.parquet")))
    assert 0 < kept < 8, "the chunks that finished are kept; the failed one is not"

    monkeypatch.setattr(model_module, "run_replication", run_replication)  # the cause is gone
    code, message = main(monkeypatch, capfd, "sweep", spec, "--resume", "--out", out)
    assert code == 0, message
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    pd.testing.assert_frame_equal(read_results(out), read_results(reference))
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "indices.csv"), pd.read_csv(reference / "indices.csv")
    )


@pytest.mark.slow
def test_a_point_past_the_model_limits_fails_the_sweep_with_one_message(tmp_path: Path) -> None:
    """On the real local workers (processes): no worker traceback on the terminal."""
    (tmp_path / "base.yaml").write_text(
        f"extends: {CONFIGS / 'baseline.yaml'}\nname: crowded\n"
        "threat: {fighters: 200000, cells: 5000, carrying_capacity: 1000000,"
        " recruitment_rate: 1, fighters_lost_per_interdiction: 0}\n"
        "run: {burn_in: 10}\n",
        encoding="utf-8",
    )
    (tmp_path / "sweep.yaml").write_text(
        "name: crowded\nbase: base.yaml\nmethod: lhs\nsamples: 6\nreplications: 1\n"
        "steps: 5\nchunk_size: 1\nparameters:\n  threat.plot_rate: {bounds: [50, 100]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "SCENARIOS_DEBUG"}
    command = ["sweep", "sweep.yaml", "--workers", "1", "--out", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**env, "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stderr
    line = one_message(result.stderr, "sample point", "MAX_LIVE_PLOTS", "new --out")
    assert "--resume" not in line  # it would fail the same way
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
