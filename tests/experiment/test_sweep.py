"""Sweeps: designs, sensitivity analysis, bad sweep files, execution (pool, Dask), resume."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import latin, morris, sobol
from SALib.test_functions import Ishigami
from tests.conftest import (
    CONFIGS,
    ROOT,
    external_dask_cluster,
    free_port,
    kill_group,
    modules_loaded,
)

from scenarios.config import ConfigError
from scenarios.experiment import designs
from scenarios.experiment.executor import PARTS, read_results
from scenarios.experiment.sensitivity import analyse
from scenarios.experiment.sweep import load_sweep

PROBLEM = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1], [2, 5], [-1, 1]]}
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


@pytest.mark.parametrize("seed", [0, 7])
def test_designs_match_salib_for_the_same_seed(seed: int) -> None:
    np.testing.assert_array_equal(
        designs.sobol(PROBLEM, 16, seed),
        sobol.sample(PROBLEM, 16, calc_second_order=False, seed=seed),
    )
    np.testing.assert_array_equal(
        designs.sobol(PROBLEM, 16, seed, second_order=True), sobol.sample(PROBLEM, 16, seed=seed)
    )
    np.testing.assert_array_equal(
        designs.morris_design(PROBLEM, 5, seed, levels=4),
        morris.sample(PROBLEM, 5, num_levels=4, seed=seed),
    )
    np.testing.assert_array_equal(
        designs.lhs(PROBLEM, 20, seed), latin.sample(PROBLEM, 20, seed=seed)
    )


def test_seed_zero_is_not_no_seed() -> None:
    assert not np.array_equal(designs.lhs(PROBLEM, 20, 0), designs.lhs(PROBLEM, 20, 1))
    np.testing.assert_array_equal(designs.lhs(PROBLEM, 20, 0), designs.lhs(PROBLEM, 20, 0))


def test_grid_covers_bounds_and_size() -> None:
    x = designs.grid(PROBLEM, 3, 0)
    assert x.shape == (27, 3) == (designs.design_size("grid", 3, 3), 3)
    assert x.min(axis=0).tolist() == [0, 2, -1]
    assert x.max(axis=0).tolist() == [1, 5, 1]
    assert designs.design_size("sobol", 16, 3) == len(designs.sobol(PROBLEM, 16, 0))
    assert designs.design_size("morris", 5, 3) == len(designs.morris_design(PROBLEM, 5, 0))


def test_sobol_analysis_recovers_ishigami_indices() -> None:
    x = designs.sobol(ISHIGAMI, 2048, 1)
    y = Ishigami.evaluate(x)
    idx = analyse("sobol", ISHIGAMI, x, {"y": y}, seed=1).set_index(["parameter", "index"])
    # analytical values for a = 7, b = 0.1 (Ishigami & Homma 1990)
    expected = {
        ("x1", "S1"): 0.3139,
        ("x2", "S1"): 0.4424,
        ("x3", "S1"): 0.0,
        ("x1", "ST"): 0.5576,
        ("x2", "ST"): 0.4424,
        ("x3", "ST"): 0.2437,
    }
    for key, value in expected.items():
        assert idx.loc[key, "value"] == pytest.approx(value, abs=0.04), key
        assert idx.loc[key, "ci_low"] - 0.02 <= value <= idx.loc[key, "ci_high"] + 0.02, key
    # x3 has no first-order effect: its S1 interval straddles zero and is flagged
    assert idx.loc[("x3", "S1"), "flag"] in {"ci includes 0", "negative"}


def test_morris_ranks_ishigami_parameters() -> None:
    x = designs.morris_design(ISHIGAMI, 100, 3)
    idx = analyse("morris", ISHIGAMI, x, {"y": Ishigami.evaluate(x)}, seed=3)
    mu = idx[idx["index"] == "mu_star"].set_index("parameter")["value"]
    sigma = idx[idx["index"] == "sigma"].set_index("parameter")["value"]
    assert mu["x1"] > mu["x3"] > 0
    assert mu["x2"] > 0
    assert sigma["x3"] > 0  # x3 acts only through its interaction with x1


def test_rank_correlation_finds_a_monotone_effect() -> None:
    x = designs.lhs(PROBLEM, 200, 5)
    y = 3 * x[:, 0] + 0.01 * x[:, 2]
    idx = analyse("lhs", PROBLEM, x, {"y": y}).set_index("parameter")
    assert idx.loc["a", "value"] > 0.95
    assert idx.loc["b", "flag"] == "ci includes 0"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: t\nbase: {CONFIGS / 'baseline.yaml'}\n" + body)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "method: sobol\nsamples: 100\nparameters: {trust.forgetting: {bounds: [0.9, 0.99]}}\n",
            "power of two",
        ),
        (
            "method: lhs\nsamples: 10\nparameters: {trust.forgetting: {bounds: [0.99, 0.9]}}\n",
            "low must be below high",
        ),
        (
            "method: lhs\nsamples: 10\nparameters: {trust.forgeting: {bounds: [0.9, 0.99]}}\n",
            "trust.forgeting: not a config path",
        ),
        (
            "method: lhs\nsamples: 10\nparameters: {sharing.policy.us.china: {bounds: [0, 1]}}\n",
            "china",
        ),
        (
            "method: lhs\nsamples: 10\nparameters: {trust.forgetting: {bounds: [0.9, 1.5]}}\n",
            "bound 1.5 is not a valid value",
        ),
        (
            "method: anneal\nsamples: 10\nparameters: {trust.forgetting: {bounds: [0.9, 1]}}\n",
            "method",
        ),
        (
            "method: lhs\nsamples: 10\nreplicatons: 2\n"
            "parameters: {trust.forgetting: {bounds: [0.9, 1]}}\n",
            "unknown key",
        ),
        (  # a quoted "inf" gets past the YAML reader; the sweep schema refuses it
            "method: lhs\nsamples: 10\n"
            'parameters: {threat.disruption_weeks: {bounds: [1, "inf"]}}\n',
            "finite",
        ),
    ],
)
def test_bad_sweep_files_are_config_errors(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        load_sweep(write(tmp_path, body))


@pytest.mark.parametrize(
    ("key", "value"),
    [("name", ".."), ("name", "."), ("outcomes", "[../attacks_successful]")],
)
def test_sweep_names_must_be_plain(tmp_path: Path, key: str, value: str) -> None:
    body = "method: lhs\nsamples: 4\nparameters: {trust.forgetting: {bounds: [0.9, 0.99]}}\n"
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: {value if key == 'name' else 't'}\nbase: {CONFIGS / 'baseline.yaml'}\n"
        + body
        + (f"outcomes: {value}\n" if key == "outcomes" else "")
    )
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}")
    assert value.strip("[]") in message
    assert "plain name" in message


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (  # only draws from the normal's tails leave [0, 1]; the bounds are not ends
            "  trust.forgetting: {bounds: [0.95, 0.2], distribution: norm}\n",
            "trust.forgetting=1.",
        ),
        (  # both ends are valid alone; some mid-range combinations put minimum above cap
            "  severity.minimum: {bounds: [1, 90]}\n  severity.cap: {bounds: [30, 100]}\n",
            "must be >= severity.minimum",
        ),
    ],
)
def test_every_sample_point_is_validated_up_front(
    tmp_path: Path, parameters: str, expected: str
) -> None:
    path = write(tmp_path, "method: lhs\nsamples: 40\nparameters:\n" + parameters)
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    message = str(info.value)
    assert re.search(r"sample point \d+ is not a valid config", message), message
    assert expected in message


def test_misspelt_outcome_is_refused_with_suggestions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "method: lhs\nsamples: 4\nparameters: {trust.forgetting: {bounds: [0.9, 0.99]}}\n"
        "outcomes: [attacks_successful, final_trust__us__rusia]\n",
    )
    with pytest.raises(ConfigError, match=r"outcomes\[1\]: 'final_trust__us__rusia'") as info:
        load_sweep(path)
    assert "did you mean final_trust__us__russia" in str(info.value)


@pytest.mark.parametrize("steps", [10, 110])
def test_outcome_columns_are_those_of_a_run(steps: int) -> None:
    from scenarios.config import load_config
    from scenarios.experiment.experiment import outcome_columns
    from scenarios.model.simulation import run_replication

    config = load_config(CONFIGS / "trilateral.yaml", [("run.steps", steps)])
    _, summary = run_replication(config, 1)
    assert outcome_columns(config) == list(summary)


def test_shipped_sweeps_validate() -> None:
    for path in sorted((ROOT / "configs" / "sweeps").glob("*.yaml")):
        spec, _ = load_sweep(path)
        assert spec.n_points() == len(spec.design())
    sobol_spec, _ = load_sweep(ROOT / "configs" / "sweeps" / "sharing_trust_sobol.yaml")
    assert 8 <= len(sobol_spec.parameters) <= 12


# ----------------------------------------------------------------------------------------
# End to end (subprocesses; local process pools, Dask clusters on 127.0.0.1)
# ----------------------------------------------------------------------------------------

TINY = (
    "method: lhs\nsamples: 12\nreplications: 2\nseed: 3\nsteps: 20\nchunk_size: 2\n"
    "parameters:\n  threat.plot_rate: {bounds: [0.5, 1.5]}\n"
    "  interdiction.hazard: {bounds: [0.1, 0.5]}\n"
    "outcomes: [attacks_successful, plots_interdicted]\n"
)


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An uninterrupted tiny sweep on the local workers."""
    root = tmp_path_factory.mktemp("sweep")
    spec = write(root, TINY)
    res = cli("sweep", str(spec), "--workers", "2", "--out", str(root / "ref"), cwd=root)
    assert res.returncode == 0, res.stderr
    return spec, root / "ref"


@pytest.mark.slow
def test_sweep_writes_parts_indices_and_report(reference: tuple[Path, Path]) -> None:
    spec, out = reference
    results = read_results(out)
    assert len(results) == 24
    assert len(list((out / PARTS).glob("chunk-*.parquet"))) == 12
    assert results["run"].tolist() == list(range(24))
    # common random numbers across points: replication r has the same seed at every point
    assert results.groupby("replication")["seed"].nunique().eq(1).all()
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices.parameter) == {"threat.plot_rate", "interdiction.hazard"}
    html = (out / "report.html").read_text()
    # the overview heatmap, and the dependence overview of the outcomes with a clear driver
    figures = {p.name for p in (out / "plots").glob("*.png")}
    assert "sensitivity_overview.png" in figures
    assert figures <= {"sensitivity_overview.png", "dependence_overview.png"}
    assert html.count("data:image/png;base64,") == len(figures)
    report = (out / "report.md").read_text()
    assert "- Base scenario: `baseline` (" in report  # the base's name, then its path
    assert "No parameter of this sweep is a sharing lever" in report
    again = cli("sweep", str(spec), "--out", str(out), cwd=out.parent)
    assert again.returncode == 2
    assert "--resume" in again.stderr


@pytest.mark.slow
def test_sweep_killed_then_resumed_gives_identical_results(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, ref = reference
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios",
            "sweep",
            str(spec),
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(list((out / PARTS).glob("chunk-*.parquet"))) >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the sweep never wrote a part")
    finally:
        kill_group(proc)
    parts = len(list((out / PARTS).glob("chunk-*.parquet")))
    assert 3 <= parts < 12, "killed part-way"
    res = cli("sweep", str(spec), "--workers", "2", "--resume", "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(read_results(out), read_results(ref))
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "indices.csv"), pd.read_csv(ref / "indices.csv")
    )


@pytest.mark.slow
def test_sweep_on_an_external_dask_cluster(reference: tuple[Path, Path], tmp_path: Path) -> None:
    spec, ref = reference
    with external_dask_cluster(2) as address:
        out = tmp_path / "remote"
        res = cli("sweep", str(spec), "--scheduler", address, "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"scheduler {address}" in res.stderr
    pd.testing.assert_frame_equal(read_results(out), read_results(ref))
    # analysed here in the driver; the reference's figures were drawn by its workers
    files = ["indices.csv", "report.md", "report.html"]
    files += [f"plots/{p.name}" for p in sorted((ref / "plots").glob("*.png"))]
    assert len(files) > 3
    for name in files:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


@pytest.mark.slow
def test_pool_and_dask_write_the_same_parts(tmp_path: Path) -> None:
    """The local process pool and an embedded Dask cluster write byte-identical parts.

    Whatever the executor and the number of workers: every run is determined by its sample
    point and seed, and a part by its chunk's runs.
    """
    from scenarios.experiment.executor import execute_sweep

    spec, raw_base = load_sweep(write(tmp_path, TINY))
    outs = {}
    for backend, workers in (("pool", 2), ("dask", 2), ("pool", 1)):
        out = outs[backend, workers] = tmp_path / f"{backend}-{workers}"
        execute_sweep(spec, raw_base, out, workers=workers, backend=backend)  # type: ignore[arg-type]
    names = sorted(p.name for p in (outs["pool", 2] / PARTS).iterdir())
    assert len(names) == 12  # 12 points x 2 replications in chunks of 2
    for out in outs.values():
        assert sorted(p.name for p in (out / PARTS).iterdir()) == names
        for name in names:
            assert (out / PARTS / name).read_bytes() == (
                outs["pool", 2] / PARTS / name
            ).read_bytes()
        assert (out / "design.parquet").read_bytes() == (
            outs["pool", 2] / "design.parquet"
        ).read_bytes()


def test_unreachable_scheduler_is_bad_input(tmp_path: Path) -> None:
    spec = write(tmp_path, TINY)
    port = free_port()
    res = cli(
        "sweep",
        str(spec),
        "--scheduler",
        f"tcp://127.0.0.1:{port}",
        "--out",
        str(tmp_path / "x"),
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert "cannot connect" in res.stderr


@pytest.mark.slow
def test_ctrl_c_keeps_finished_chunks_and_says_how_to_resume(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, _ = reference
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios",
            "sweep",
            str(spec),
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while len(list((out / PARTS).glob("chunk-*.parquet"))) < 2:
            assert time.monotonic() < deadline, "the sweep never wrote a part"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr
    assert "Traceback" not in stderr
    assert len(list((out / PARTS).glob("chunk-*.parquet"))) >= 2


@pytest.mark.parametrize("resume", [False, True])
def test_sweep_into_a_locked_out_is_refused(tmp_path: Path, resume: bool) -> None:
    from scenarios.experiment import store

    spec = write(tmp_path, TINY)
    out = tmp_path / "out"
    with store.output_lock(out):
        res = cli(
            "sweep",
            str(spec),
            "--out",
            str(out),
            *(["--resume"] if resume else []),
            cwd=tmp_path,
            timeout=120,
        )
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    for fragment in ("--out", str(out), "in use", f"pid {os.getpid()}"):
        assert fragment in res.stderr, f"{fragment!r} missing from: {res.stderr}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.yaml"]


def test_sweep_with_a_bad_outcome_exits_2_before_running(tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: t\nbase: {CONFIGS / 'baseline.yaml'}\n"
        + TINY.replace("plots_interdicted", "plots_interdictd")
    )
    out = tmp_path / "out"
    res = cli("sweep", str(path), "--workers", "1", "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "'plots_interdictd' is not an outcome" in res.stderr
    assert "plots_interdicted" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists(), "nothing runs (or is marked complete) before the check"


def test_the_fork_servers_warm_up_runs() -> None:
    """The warm-up the workers' fork server imports is a valid scenario that runs.

    (At import its errors are suppressed: a sweep then only starts slower.)
    """
    from scenarios.experiment import warm, workers

    warm.warm_up()
    warm.warm_figures()
    assert "scenarios.experiment.warm" in workers.WARM_MODULES


def test_the_sweep_driver_does_not_load_the_analysis_or_matplotlib() -> None:
    """`scenarios sweep` and its report module import neither SALib, SciPy nor matplotlib.

    The driver loads SALib and SciPy only to draw the design (while the workers' fork
    server loads the model), then computes the indices with them; matplotlib never.
    """
    loaded = modules_loaded(
        "import scenarios.cli, scenarios.report.sweep_report, scenarios.experiment.executor",
        ("matplotlib", "SALib", "scipy.stats", "dask", "networkx"),
    )
    assert loaded == [], loaded


def test_the_workers_preload_leaves_salib_and_scipy_to_the_driver() -> None:
    """The fork server's preload (the workers' start-up) and the figure helpers the
    workers run load matplotlib but not SALib or SciPy's statistics (half a second), nor
    Mesa: replications run as a Simulation (0.2 s), nor networkx (0.1 s)."""
    loaded = modules_loaded(
        "from scenarios.experiment import workers\n"
        "for name in workers.WARM_MODULES: __import__(name)\n"
        "from scenarios.experiment.sensitivity import lever_ranks, partial_dependence",
        ("matplotlib", "SALib", "scipy.stats", "mesa", "numba", "networkx"),
    )
    assert loaded == ["matplotlib", "numba"], loaded


@pytest.mark.slow
def test_sweep_workers_die_when_the_driver_is_killed(tmp_path: Path) -> None:
    from tests.test_processes import session, wait_until

    spec = write(
        tmp_path,
        "method: lhs\nsamples: 4000\nreplications: 2\nsteps: 260\n"
        "parameters: {threat.plot_rate: {bounds: [0.5, 1.5]}}\n"
        "outcomes: [attacks_successful]\n",
    )
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenarios", "sweep", str(spec), "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: any((out / PARTS).glob("chunk-*.parquet")), 120)
        assert len(session(proc.pid)) >= 4  # driver, fork server, resource tracker, workers
        proc.kill()  # SIGKILL: no handler runs in the driver
        proc.wait(timeout=10)
        assert wait_until(lambda: not session(proc.pid), 15), session(proc.pid)
    finally:
        kill_group(proc)


@pytest.mark.parametrize("second_order", [False, True])
def test_independent_rows_of_a_saltelli_design_are_its_base_rows(second_order: bool) -> None:
    """Between two base rows A and B, every row copies A but for one (or two) values."""
    from scenarios.experiment.sensitivity import independent_rows

    x = designs.sobol(ISHIGAMI, 16, 2, second_order=second_order)
    rows = independent_rows("sobol", len(x), 3, second_order)
    step = 8 if second_order else 5
    assert rows.tolist() == sorted([*range(0, len(x), step), *range(step - 1, len(x), step)])
    for a in range(0, len(x), step):
        for between in range(a + 1, a + step - 1):
            assert 1 <= int((x[between] != x[a]).sum()) <= 3
        assert int((x[a + step - 1] != x[a]).sum()) == 3  # B: a draw of its own


def test_independent_rows_of_morris_are_the_trajectory_starts() -> None:
    from scenarios.experiment.sensitivity import independent_rows

    x = designs.morris_design(ISHIGAMI, 10, 3)
    rows = independent_rows("morris", len(x), 3)
    assert rows.tolist() == list(range(0, len(x), 4))
    for start in rows:  # within a trajectory each step moves one parameter
        for k in range(start + 1, start + 4):
            assert int((x[k] != x[k - 1]).sum()) == 1
    assert independent_rows("lhs", 7, 3).tolist() == list(range(7))


def test_sobol_intervals_are_reproducible_with_seed_zero() -> None:
    """SALib takes a seed of 0 as none (numpy's global generator); ours is a seed."""
    x = designs.sobol(ISHIGAMI, 64, 0)
    y = {"y": Ishigami.evaluate(x)}
    first = analyse("sobol", ISHIGAMI, x, y, seed=0)
    np.random.seed(123)  # the global generator's state must not matter
    pd.testing.assert_frame_equal(analyse("sobol", ISHIGAMI, x, y, seed=0), first)
