"""The Python API (scenarios.load_config / run / compare, RunResult.save).

What it promises: the same configs, errors and results as the CLI; no files unless
saved; the CLI's run directory from ``save``; workers > 1 from a plain script without an
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import ROOT, cli_in_process

import scenarios
from scenarios.config import ConfigError
from scenarios.experiment import store
from scenarios.experiment.compare import compare as compare_stored
from scenarios.experiment.compare import load_run

BASELINE = ROOT / "configs" / "baseline.yaml"
TRILATERAL = ROOT / "configs" / "trilateral.yaml"
SMALL = {"replications": 3, "steps": 8, "seed": 11}


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run this interpreter, with this environment (PYTHONPATH included), in ``cwd``."""
    env = dict(os.environ)
    env.pop("SCENARIOS_DEBUG", None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def baseline() -> scenarios.RunResult:
    return scenarios.run(BASELINE, **SMALL)


@pytest.fixture(scope="module")
def trilateral() -> scenarios.RunResult:
    return scenarios.run(TRILATERAL, **SMALL)


def test_import_is_light() -> None:
    code = (
        "import sys, scenarios; "
        "print(sorted(m for m in ('numba', 'mesa', 'pandas', 'scenarios.config', "
        "'scenarios.api') if m in sys.modules))"
    )
    result = _python(["-c", code], ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert {"run", "compare", "load_config", "RunResult", "ConfigError"} <= set(dir(scenarios))
    with pytest.raises(AttributeError):
        _ = scenarios.no_such_name  # type: ignore[attr-defined]


@pytest.mark.slow
def test_unguarded_script_with_two_workers(tmp_path: Path, baseline: scenarios.RunResult) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import pandas as pd
            import scenarios

            result = scenarios.run({str(BASELINE)!r}, workers=2, **{SMALL!r})
            digest = int(pd.util.hash_pandas_object(result.summary).sum())
            print("attacks", result.summary["attacks_successful"].sum(), digest)
            """
        )
    )
    result = _python([str(script)], tmp_path)
    assert result.returncode == 0, result.stderr
    digest = int(pd.util.hash_pandas_object(baseline.summary).sum())
    expected = f"attacks {baseline.summary['attacks_successful'].sum()} {digest}"
    # One line: the workers did not re-run the script (they would print it again).
    assert result.stdout.splitlines() == [expected]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unguarded.py"]


def test_run_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = scenarios.run(BASELINE, replications=2, steps=4)
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path / "results").exists()
    assert result.path is None
    assert len(result.summary) == 2
    assert result.timeseries is not None
    assert len(result.timeseries) == 2 * 4


def test_result_matches_the_cli_and_save_writes_its_run_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    baseline: scenarios.RunResult,
) -> None:
    cli_dir = tmp_path / "cli"
    args = ["-n", SMALL["replications"], "--steps", SMALL["steps"], "--seed", SMALL["seed"]]
    code, err = cli_in_process(monkeypatch, capsys, "run", BASELINE, *args, "--out", cli_dir)
    assert code == 0, err

    api_dir = baseline.save(tmp_path / "api")
    assert api_dir == tmp_path / "api"
    assert baseline.path == api_dir
    pd.testing.assert_frame_equal(baseline.summary, pd.read_parquet(cli_dir / store.SUMMARY))
    assert baseline.timeseries is not None
    pd.testing.assert_frame_equal(baseline.timeseries, pd.read_parquet(cli_dir / store.TIMESERIES))
    # The same files, byte for byte (the manifests differ only in their times).
    cli_manifest = json.loads((cli_dir / store.MANIFEST).read_text())
    api_manifest = json.loads((api_dir / store.MANIFEST).read_text())
    assert api_manifest["files"] == cli_manifest["files"]
    assert api_manifest[store.HASHES] == cli_manifest[store.HASHES]
    for key in ("started", "finished"):
        cli_manifest.pop(key)
        api_manifest.pop(key)
    assert api_manifest == cli_manifest
    assert store.verify_files(api_dir, api_manifest) is None  # an experiment would reuse it

    with pytest.raises(store.OutputError, match="already exists"):
        baseline.save(api_dir)

    out = tmp_path / "comparison"
    code, err = cli_in_process(monkeypatch, capsys, "compare", cli_dir, api_dir, "--out", out)
    assert code == 0, err
    assert (out / "report.html").is_file()


def test_workers_do_not_change_results(baseline: scenarios.RunResult) -> None:
    again = scenarios.run(BASELINE, workers=2, **SMALL)
    pd.testing.assert_frame_equal(again.summary, baseline.summary)
    pd.testing.assert_frame_equal(again.timeseries, baseline.timeseries)


def test_compare_results_and_saved_directories(
    tmp_path: Path, baseline: scenarios.RunResult, trilateral: scenarios.RunResult
) -> None:
    table = scenarios.compare([baseline, trilateral], baseline="baseline")
    assert isinstance(table, pd.DataFrame)
    assert table.attrs["baseline"] == "baseline"
    assert table.attrs["paired"] == {"baseline": True, "trilateral": True}
    diffs = table[table.statistic == "difference"].set_index("outcome")
    assert set(table[table.statistic == "difference"].scenario) == {"trilateral"}
    # Trilateral sharing builds trust between the US, Russia and the Taliban...
    assert diffs.loc["final_trust__us__taliban", "value"] > 0
    # ...and exposes what is shared to counter-intelligence.
    assert diffs.loc["ci_exposure__taliban", "value"] > 0
    assert (diffs["method"] == "paired t").all()

    base_dir = baseline.path or baseline.save(tmp_path / "b")  # saved once per module
    tri_dir = trilateral.save(tmp_path / "t")
    from_dirs = scenarios.compare([base_dir, tri_dir])
    pd.testing.assert_frame_equal(table, from_dirs)
    cli_table = compare_stored([load_run(base_dir), load_run(tri_dir)]).table
    pd.testing.assert_frame_equal(table, cli_table)
    # Mixed, the baseline named by position, by object or by directory.
    for chosen in (1, trilateral, tri_dir, "trilateral"):
        other = scenarios.compare([baseline, tri_dir], baseline=chosen)
        assert other.attrs["baseline"] == "trilateral"
        assert set(other[other.statistic == "difference"].scenario) == {"baseline"}


def test_load_config_overrides() -> None:
    plain = scenarios.load_config(BASELINE)
    assert plain.run.steps != 30
    by_mapping = scenarios.load_config(BASELINE, {"run.steps": 30, "sharing.policy.us.russia": 0.8})
    by_strings = scenarios.load_config(BASELINE, ["run.steps=30", "sharing.policy.us.russia=0.8"])
    by_pairs = scenarios.load_config(BASELINE, [("run.steps", 30), "sharing.policy.us.russia=0.8"])
    assert by_mapping.run.steps == 30
    assert by_mapping.sharing.policy["us"]["russia"] == 0.8
    assert by_mapping.digest() == by_strings.digest() == by_pairs.digest() != plain.digest()
    # run() applies the same overrides to a path or to a loaded config.
    from scenarios.api import _resolve

    from_config, _ = _resolve(plain, ["run.steps=30", "sharing.policy.us.russia=0.8"], 2, 1, None)
    from_path, source = _resolve(
        BASELINE, ["run.steps=30", "sharing.policy.us.russia=0.8"], 2, 1, None
    )
    assert from_config.digest() == from_path.digest()
    assert source == str(BASELINE)


@pytest.mark.parametrize(
    "override",
    ["sharing.policy.us.russia=1.5", "run.no_such_key=1", "run.steps"],
)
def test_bad_override_raises_the_cli_error(
    override: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        scenarios.load_config(BASELINE, [override])
    assert scenarios.ConfigError is ConfigError
    code, err = cli_in_process(monkeypatch, capsys, "validate", BASELINE, "--set", override)
    assert code == 2
    assert " ".join(str(raised.value).split()) in " ".join(err.split())
    with pytest.raises(ConfigError, match=r"is given twice"):
        scenarios.run(BASELINE, steps=4, overrides={"run.steps": 5})


@pytest.mark.slow
def test_docs_example_runs_as_a_plain_script(tmp_path: Path) -> None:
    example = ROOT / "docs" / "api_example.py"
    assert not re.search(r"^\s*if __name__", example.read_text(), re.MULTILINE)  # no guard
    result = _python([str(example)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "final_trust__us__taliban" in result.stdout
    assert "summary.parquet" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_pool_workers_are_not_told_to_rerun_main() -> None:
    from multiprocessing import spawn

    from scenarios.experiment.pool import MAIN_KEYS, preparation_data, worker_context

    data = preparation_data("worker")
    assert not set(MAIN_KEYS) & set(data)
    assert set(data) == set(spawn.get_preparation_data("worker")) - set(MAIN_KEYS)
    assert worker_context().get_start_method() == "forkserver"


@pytest.mark.slow
def test_two_workers_from_a_jupyter_kernel(tmp_path: Path, baseline: scenarios.RunResult) -> None:
    pytest.importorskip("ipykernel")
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3", env=dict(os.environ), cwd=tmp_path)
    outputs: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            outputs.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            outputs.append(f"error {msg['content']['ename']}: {msg['content']['evalue']}")

    code = (
        "import pandas as pd, scenarios\n"
        f"r = scenarios.run({str(BASELINE)!r}, workers=2, **{SMALL!r})\n"
        "print(int(pd.util.hash_pandas_object(r.summary).sum()))\n"
    )
    try:
        reply = kc.execute_interactive(code, timeout=300, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", outputs
    assert "".join(outputs).strip() == str(int(pd.util.hash_pandas_object(baseline.summary).sum()))


def test_run_without_timeseries(tmp_path: Path, baseline: scenarios.RunResult) -> None:
    result = scenarios.run(BASELINE, overrides=["run.timeseries=false"], **SMALL)
    assert result.timeseries is None
    pd.testing.assert_frame_equal(result.summary, baseline.summary)
    saved = result.save(tmp_path / "no-timeseries")
    assert not (saved / store.TIMESERIES).exists()
    assert (saved / store.SUMMARY).is_file()
    # Two runs named baseline: told apart as compare tells run directories apart.
    table = scenarios.compare([baseline, result])
    paired = table.attrs["paired"]
    assert len(paired) == 2
    assert all(paired.values())
    assert "no-timeseries" in paired
