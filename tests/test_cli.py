"""The `scenarios` command end to end, in subprocesses, so real exit codes are checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from tests.conftest import cli_exit_code, run_cli

from scenarios.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = CONFIGS / "baseline.yaml"
PLOTS = ("attacks_by_country", "attack_risk", "strength", "trust", "severity")
SHORT = ("--replications", "2", "--steps", "10")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SCENARIOS_DEBUG", "SCENARIOS_TABLE_MARKDOWN"):
        env.pop(name, None)
    return env


def scenarios(
    *args: Any, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m scenarios ARGS`` and capture its output."""
    return run_cli(*args, cwd=cwd, timeout=timeout)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def read_frames(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.read_parquet(run_dir / "summary.parquet"),
        pd.read_parquet(run_dir / "timeseries.parquet"),
    )


def leftovers(folder: Path) -> list[Path]:
    """Staging directories or temporary files anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.endswith((".partial", ".tmp"))]


# --------------------------------------------------------------------------------------
# Help, schema, validate
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ((), ["run", "validate", "schema", "outcomes", "--version"]),
        (
            ("run",),
            [
                "--replications",
                "--seed",
                "--steps",
                "--set",
                "--out",
                "--workers",
                "--no-timeseries",
            ],
        ),
        (("validate",), ["--set", "experiment files", "sweep files"]),
        (("schema",), ["JSON Schema"]),
        (("outcomes",), ["--config", "label", "unit", "meaning"]),
    ],
    ids=["top", "run", "validate", "schema", "outcomes"],
)
def test_help(verb: tuple[str, ...], expected: list[str]) -> None:
    result = scenarios(*verb, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    for fragment in expected:
        assert fragment in result.stdout, f"{fragment!r} not in help of {verb}"
    no_traceback(result)


def test_help_paragraphs_are_reflowed_to_the_width() -> None:
    """Docstrings' source line breaks do not reach --help (rich wraps to the width)."""
    from scenarios import cli

    for info in cli.app.registered_commands:
        assert info.help, info.callback
        for paragraph in info.help.split("\n\n"):
            assert "\n" not in paragraph, paragraph


def test_usage_error_exits_2_without_traceback() -> None:
    result = scenarios("run", "--no-such-option")
    assert result.returncode == 2
    assert "--no-such-option" in result.stderr
    no_traceback(result)


def test_schema_prints_json_schema_with_descriptions() -> None:
    result = scenarios("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    for section in ("sharing", "trust", "run", "regions", "actors", "exploitation"):
        assert section in properties
    for section in ("sharing", "trust"):
        ref = properties[section]["$ref"].rsplit("/", 1)[-1]
        definition = schema["$defs"][ref]
        assert definition["description"]
        assert definition["additionalProperties"] is False
        for name, field in definition["properties"].items():
            assert field.get("description"), f"{section}.{name} has no description"
    policy = schema["$defs"][properties["sharing"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert "[0, 1]" in policy["policy"]["description"]
    assert policy["compartmentalisation"]["maximum"] == 1.0


def in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: object,
    columns: int | None = None,
) -> tuple[int, str, str]:
    """``scenarios ARGS`` in this process: exit code, stdout, stderr (COLUMNS=columns)."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    code = cli_exit_code(monkeypatch, *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scenarios import __version__

    code, out, err = in_process(monkeypatch, capsys, "--version")
    assert code == 0, err
    assert out.strip() == f"scenarios {__version__}"


def test_outcomes_lists_every_family_with_label_unit_and_meaning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scenarios.labels import describe, known_bases

    code, out, err = in_process(monkeypatch, capsys, "outcomes", columns=80)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    flat = " ".join(out.split())
    for family in ("attacks_successful__<country>", "final_trust__<actor>__<other>"):
        assert family in out
    assert "Attacks in <country> (attacks): Successful attacks in <country>" in flat
    assert "Trust of <actor> in <other> at the end (0-1)" in flat
    info = describe("share_interdicted")
    assert f"{info.label} ({info.unit}): {info.meaning}" in flat
    listed = {line.split("__")[0] for line in out.splitlines() if line and line[0] != " "}
    weekly_only = {"strength", "cells", "live_plots", "coverage_health", "crackdown", "trust"}
    assert set(known_bases()) - weekly_only <= listed
    assert "qcountryq" not in out.lower()
    assert "qkq" not in out.lower()


def test_outcomes_of_a_config_are_its_summary_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scenarios.experiment.experiment import outcome_columns
    from scenarios.labels import label

    code, out, err = in_process(monkeypatch, capsys, "outcomes", "--config", BASELINE)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 120  # piped: PIPED_WIDTH
    columns = outcome_columns(load_config(BASELINE))
    first_words = [line.split()[0] for line in out.splitlines()[1:] if line[:1] not in (" ", "")]
    assert first_words == columns
    assert label("attack_risk__afghanistan") in out


def test_output_width_honours_columns_else_120_when_piped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from scenarios import cli

    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli._width(io.StringIO()) == cli.PIPED_WIDTH == 120
    monkeypatch.setenv("COLUMNS", "132")
    assert cli._width(io.StringIO()) == 132


EXPERIMENT = ROOT / "experiments" / "cooperation_options.yaml"
SWEEP = CONFIGS / "sweeps" / "morris_screening.yaml"


@pytest.mark.parametrize(
    ("path", "kind", "verb"),
    [(EXPERIMENT, "an experiment file", "experiment"), (SWEEP, "a sweep file", "sweep")],
    ids=["experiment", "sweep"],
)
def test_run_given_another_kind_of_file_says_which_command_runs_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    path: Path,
    kind: str,
    verb: str,
) -> None:
    out_dir = tmp_path / "run"
    code, _, err = in_process(monkeypatch, capsys, "run", path, "--out", out_dir)
    assert code == 2
    message = " ".join(err.split())
    assert f"{path} is {kind}" in message
    assert f"`scenarios {verb} {path}`" in message
    assert "allowed" not in message  # not the scenario loader's list of keys
    assert len(err) < 400
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("verb", "path", "message"),
    [
        ("experiment", SWEEP, "is a sweep file, not an experiment file"),
        ("experiment", BASELINE, "is a scenario config, not an experiment file"),
        ("sweep", EXPERIMENT, "is an experiment file, not a sweep file"),
        ("sweep", BASELINE, "is a scenario config, not a sweep file"),
    ],
    ids=["experiment-sweep", "experiment-config", "sweep-experiment", "sweep-config"],
)
def test_experiment_and_sweep_given_another_kind_of_file(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    verb: str,
    path: Path,
    message: str,
) -> None:
    code, _, err = in_process(monkeypatch, capsys, verb, path, "--out", tmp_path / "x")
    assert code == 2
    flat = " ".join(err.split())
    assert f"{path} {message}" in flat
    command = {"sweep": "sweep", "experiment": "experiment"}.get(
        "sweep" if path == SWEEP else "experiment" if path == EXPERIMENT else "", "run"
    )
    assert f"`scenarios {command} {path}`" in flat
    assert list(tmp_path.iterdir()) == []


def test_a_broken_experiment_file_is_not_taken_for_another_kind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: typo\nbaseline: a\nscenarois: {a: x.yaml}\n")
    code, _, err = in_process(monkeypatch, capsys, "experiment", typo, "--out", tmp_path / "x")
    assert code == 2
    assert "scenarios: required key is missing" in err  # the experiment loader's message
    assert "run it with" not in err


def test_validate_every_kind_of_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(monkeypatch, capsys, "validate", BASELINE, EXPERIMENT, SWEEP)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"ok {BASELINE}: scenario config baseline")
    assert lines[1].startswith(f"ok {EXPERIMENT}: experiment file cooperation_options, 5 scenarios")
    assert lines[2].startswith(f"ok {SWEEP}: sweep file morris_screening, morris")


def test_validate_a_broken_experiment_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"name: broken\nbaseline: base\nscenarios:\n  base: {BASELINE}\n"
        f"  other: {CONFIGS / 'trilateral.yaml'}\nreplications: 1\n"
    )
    code, out, err = in_process(monkeypatch, capsys, "validate", broken, BASELINE)
    assert code == 2
    message = " ".join(err.split())
    assert message.startswith("invalid experiment file:"), message
    assert "broken.yaml" in message
    assert "replications" in message
    assert out.startswith(f"ok {BASELINE}")


def test_validate_a_broken_sweep_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken_sweep.yaml"
    broken.write_text(
        f"name: broken\nbase: {BASELINE}\nmethod: lhs\nsamples: 4\n"
        "parameters:\n  sharing.nope: {bounds: [0, 1]}\n"
    )
    code, _, err = in_process(monkeypatch, capsys, "validate", broken)
    assert code == 2
    message = " ".join(err.split())
    assert message.startswith("invalid sweep file:"), message
    assert "parameters.sharing.nope" in message


def test_validate_shipped_configs() -> None:
    shipped = sorted(CONFIGS.glob("*.yaml"))
    result = scenarios("validate", *shipped)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(shipped)
    assert result.stdout.count("scenario config") == len(shipped)
    no_traceback(result)


def test_validate_with_one_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {BASELINE}\nname: bad\nsharing:\n  policy:\n    us: {{russia: 1.5}}\n"
    )
    result = scenarios("validate", BASELINE, bad)
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert "sharing.policy.us.russia" in result.stderr
    assert "1.5" in result.stderr
    assert "ok " in result.stdout  # the good file is still reported
    no_traceback(result)


def test_validate_checks_set_overrides() -> None:
    result = scenarios("validate", BASELINE, "--set", "trust.forgetting=7")
    assert result.returncode == 2
    assert "trust.forgetting" in result.stderr
    no_traceback(result)


# --------------------------------------------------------------------------------------
# run: end to end, reproducibility
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One short run of the baseline, shared by the end-to-end and reproducibility tests."""
    out = tmp_path_factory.mktemp("e2e") / "run-seed7"
    result = run_cli(
        "run", BASELINE, *SHORT, "--seed", "7", "--out", out, extra_env={"COLUMNS": "80"}
    )
    assert result.returncode == 0, result.stderr
    return result, out


@pytest.mark.slow
def test_run_writes_a_complete_run_directory(
    first_run: tuple[subprocess.CompletedProcess, Path],
) -> None:
    result, out = first_run
    no_traceback(result)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    expected = load_config(BASELINE, ["run.replications=2", "run.seed=7", "run.steps=10"]).digest()
    assert manifest["config_hash"] == expected
    assert manifest["root_seed"] == 7
    seeds = manifest["replication_seeds"]
    assert len(seeds) == 2
    assert len(set(seeds)) == 2
    assert all(isinstance(s, int) and s >= 0 for s in seeds)
    assert manifest["config"]["run"]["steps"] == 10
    assert manifest["config"]["run"]["replications"] == 2

    summary, timeseries = read_frames(out)
    assert len(summary) == 2
    assert list(summary.columns[:2]) == ["replication", "seed"]
    assert summary["replication"].tolist() == [0, 1]
    assert summary["seed"].tolist() == seeds
    assert len(summary.columns) > 2  # outcomes follow
    assert len(timeseries) == 2 * 10
    assert {"replication", "step"} <= set(timeseries.columns)
    pairs = set(zip(timeseries["replication"], timeseries["step"], strict=True))
    assert pairs == {(r, s) for r in range(2) for s in range(10)}

    report = (out / "report.md").read_text()
    # Per-partner rows: each actor's territory, labelled, in actor order, then the total.
    attacks = [line for line in report.splitlines() if line.startswith("| Attacks")]
    assert [line.split(" | ")[0] for line in attacks] == [
        "| Attacks in the West (US)",
        "| Attacks in Russia",
        "| Attacks in Afghanistan (Taliban)",
        "| Attacks in Iran",
        "| Attacks in Pakistan",
        "| Attacks in Central Asia",
        "| Attacks, total",
    ]
    assert "| Attack risk in the West (US) |" in report
    assert "Attacks in the West (US)" in result.stdout
    # At 80 columns: nothing wider, no label cut short.
    assert max(len(line) for line in result.stdout.splitlines()[:-1]) <= 80
    assert "…" not in result.stdout
    for name in PLOTS:
        png = out / "plots" / f"{name}.png"
        assert png.is_file(), png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"plots/{name}.png" in report

    assert leftovers(out.parent) == []
    assert [p.name for p in out.parent.iterdir()] == [out.name]

    # The table of key outcomes, then the run directory's path on one line.
    assert "95%" in result.stdout
    assert "baseline" in result.stdout
    assert str(out) in result.stdout.splitlines()[-1]


@pytest.mark.slow
def test_same_seed_same_files_whatever_the_workers(
    first_run: tuple[subprocess.CompletedProcess, Path], tmp_path: Path
) -> None:
    _, out = first_run
    again = tmp_path / "again"
    parallel = tmp_path / "parallel"
    for target, workers in ((again, "1"), (parallel, "2")):
        result = scenarios(
            "run", BASELINE, *SHORT, "--seed", "7", "--workers", workers, "--out", target
        )
        assert result.returncode == 0, result.stderr

    summary, timeseries = read_frames(out)
    for other in (again, parallel):
        other_summary, other_timeseries = read_frames(other)
        assert_frame_equal(summary, other_summary)
        assert_frame_equal(timeseries, other_timeseries)
        for name in ("summary.parquet", "timeseries.parquet"):
            assert (out / name).read_bytes() == (other / name).read_bytes(), name
        manifest = json.loads((other / "manifest.json").read_text())
        assert (
            manifest["config_hash"]
            == json.loads((out / "manifest.json").read_text())["config_hash"]
        )


@pytest.mark.slow
def test_different_seed_different_data(
    first_run: tuple[subprocess.CompletedProcess, Path], tmp_path: Path
) -> None:
    _, out = first_run
    other = tmp_path / "seed8"
    result = scenarios("run", BASELINE, *SHORT, "--seed", "8", "--out", other)
    assert result.returncode == 0, result.stderr

    summary, timeseries = read_frames(out)
    other_summary, other_timeseries = read_frames(other)
    assert summary["seed"].tolist() != other_summary["seed"].tolist()
    outcomes = [c for c in timeseries.columns if c not in ("replication", "step", "date")]
    assert not timeseries[outcomes].equals(other_timeseries[outcomes])
    assert (out / "timeseries.parquet").read_bytes() != (other / "timeseries.parquet").read_bytes()
    manifests = [json.loads((d / "manifest.json").read_text()) for d in (out, other)]
    assert manifests[0]["config_hash"] != manifests[1]["config_hash"]


# --------------------------------------------------------------------------------------
# run: bad input exits 2, names the key path, and leaves nothing behind
# --------------------------------------------------------------------------------------


def _child(folder: Path, body: str) -> Path:
    path = folder / "scenario.yaml"
    path.write_text(f"extends: {BASELINE}\nname: child\n{body}", encoding="utf-8")
    return path


def _prepare(case: str, folder: Path) -> tuple[list[str], Path]:
    """Set up one bad-input case in ``folder``: the command's arguments and its --out."""
    out = folder / "run"
    config: Path = BASELINE
    extra: list[str] = []
    match case:
        case "malformed_yaml":
            config = folder / "malformed.yaml"
            config.write_text("name: x\nrun:\n  steps: 10\n replications: 2\n")
        case "unknown_key":
            config = _child(folder, "sharing:\n  polcy: {us: {russia: 0.5}}\n")
        case "wrong_type":
            config = _child(folder, "run:\n  burn_in: many\n")
        case "probability_out_of_range":
            config = _child(folder, "sharing:\n  policy:\n    us: {russia: 1.5}\n")
        case "unknown_actor_in_matrix":
            config = _child(folder, "trust:\n  initial:\n    us: {china: 0.5}\n")
        case "missing_extends":
            config = folder / "orphan.yaml"
            config.write_text("extends: no_such_parent.yaml\nname: orphan\n")
        case "circular_extends":
            config = folder / "a.yaml"
            config.write_text("extends: b.yaml\nname: a\n")
            (folder / "b.yaml").write_text("extends: a.yaml\nname: b\n")
        case "set_unknown_path":
            extra = ["--set", "sharing.nope=1"]
        case "set_without_equals":
            extra = ["--set", "sharing.compartmentalisation"]
        case "set_out_of_range":
            extra = ["--set", "sharing.compartmentalisation=2"]
        case "zero_replications":
            return ["run", str(BASELINE), "--replications", "0", "--out", str(out)], out
        case "missing_config":
            config = folder / "nowhere.yaml"
        case "out_below_a_file":
            (folder / "afile").write_text("not a directory\n")
            out = folder / "afile" / "run"
        case "out_exists":
            out.mkdir()
            (out / "keep.txt").write_text("mine\n")
        case _:
            raise ValueError(f"unknown case {case!r}")
    return ["run", str(config), *SHORT, *extra, "--out", str(out)], out


BAD_RUNS: dict[str, list[str]] = {
    "malformed_yaml": ["malformed YAML", "line 4", "malformed.yaml"],
    "unknown_key": ["sharing.polcy", "unknown key", "policy"],
    "wrong_type": ["run.burn_in", "many", "integer"],
    "probability_out_of_range": ["sharing.policy.us.russia", "1.5", "less than or equal to 1"],
    "unknown_actor_in_matrix": ["trust.initial.us", "china", "allowed"],
    "missing_extends": ["extends", "no_such_parent.yaml", "not found"],
    "circular_extends": ["extends", "circular", "a.yaml", "b.yaml"],
    "set_unknown_path": ["--set", "sharing.nope", "not a config path"],
    "set_without_equals": ["--set", "sharing.compartmentalisation", "KEY=VALUE"],
    "set_out_of_range": ["sharing.compartmentalisation", "2", "less than or equal to 1"],
    "zero_replications": ["run.replications", "0", "greater than or equal to 1"],
    "missing_config": ["nowhere.yaml", "not found"],
    "out_below_a_file": ["--out", "afile", "not writable"],
    "out_exists": ["--out", "already exists"],
}


@pytest.fixture(scope="module")
def bad_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[subprocess.CompletedProcess, Path, Path, set[Path]]]:
    """Run every bad-input case once, concurrently (each pays the start-up cost)."""
    prepared = {}
    for case in BAD_RUNS:
        folder = tmp_path_factory.mktemp(case)
        args, out = _prepare(case, folder)
        prepared[case] = (args, folder, out, set(folder.rglob("*")))
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) + 1)) as pool:
        futures = {
            case: pool.submit(scenarios, *args, cwd=folder)
            for case, (args, folder, _, _) in prepared.items()
        }
        return {
            case: (futures[case].result(), folder, out, before)
            for case, (_, folder, out, before) in prepared.items()
        }


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_exits_2_and_leaves_nothing(
    bad_runs: dict[str, tuple[subprocess.CompletedProcess, Path, Path, set[Path]]], case: str
) -> None:
    result, folder, out, before = bad_runs[case]
    assert result.returncode == 2, (result.stdout, result.stderr)
    no_traceback(result)
    message = result.stderr.strip()
    assert message.startswith("error:"), message
    assert "\n\n" not in message  # one paragraph
    for fragment in BAD_RUNS[case]:
        assert fragment in message, f"{fragment!r} missing from: {message}"

    # Nothing was created: no run directory, no staging directory, no temporary file.
    assert set(folder.rglob("*")) == before
    assert leftovers(folder) == []
    if case == "out_exists":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    elif case == "out_below_a_file":
        assert (folder / "afile").is_file()
    else:
        assert not out.exists()


# --------------------------------------------------------------------------------------
# run: interruption, internal errors
# --------------------------------------------------------------------------------------


def _default_sigint() -> None:
    # A child started from a non-interactive shell may inherit SIGINT as ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_interrupted_run_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    out = tmp_path / "big"
    staging = tmp_path / ".big.partial"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios",
            "run",
            str(BASELINE),
            "--replications",
            "2000",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        assert staging.exists(), "the run never started writing"
        time.sleep(0.5)  # let it get into the replications
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    manifest = out / "manifest.json"
    assert not (manifest.exists() and json.loads(manifest.read_text())["status"] == "complete")
    assert not out.exists()
    assert not staging.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "debug"])
def test_internal_error_exits_1(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    debug: bool,
) -> None:
    import scenarios.experiment.run as run_module
    from scenarios import cli

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(run_module, "execute_run", broken)
    if debug:
        monkeypatch.setenv("SCENARIOS_DEBUG", "1")
    else:
        monkeypatch.delenv("SCENARIOS_DEBUG", raising=False)
    out = tmp_path / "run"
    argv = ["scenarios", "run", str(BASELINE), *SHORT, "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)

    with pytest.raises(SystemExit) as info:
        cli.main()

    assert info.value.code == 1
    captured = capsys.readouterr()
    assert "internal error" in captured.err
    assert "RuntimeError" in captured.err
    assert "simulated failure" in captured.err
    assert ("Traceback" in captured.err) is debug
    assert "Traceback" not in captured.out
    assert not out.exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------
# run: output safety (plain names, output locks)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "ABSOLUTE", "..", "."])
def test_name_must_be_a_plain_name_and_nothing_is_written_outside(
    tmp_path: Path, name: str
) -> None:
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    if name == "ABSOLUTE":
        name = str(tmp_path / "absolute")
    result = scenarios("run", BASELINE, *SHORT, "--set", f"name={name}", cwd=work)
    assert result.returncode == 2, (result.stdout, result.stderr)
    no_traceback(result)
    message = result.stderr.strip()
    assert message.startswith("error:"), message
    assert "\n\n" not in message
    for fragment in ("name", json.dumps(name), "plain name"):
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*")] == [
        Path("a"),
        Path("a") / "work",
    ]


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    assert path.exists(), f"{path} never appeared"


@pytest.mark.slow
def test_second_run_into_the_same_out_is_refused_and_the_first_completes(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    first = subprocess.Popen(
        [
            *(sys.executable, "-m", "scenarios", "run", str(BASELINE)),
            # long enough (about 10 s) to still be simulating when the second has started
            *("--replications", "1000", "--out", str(out)),
        ],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(tmp_path / ".shared.partial", first)  # the first is simulating
        second = scenarios("run", BASELINE, *SHORT, "--out", out, cwd=tmp_path, timeout=60)
        stdout, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()

    assert second.returncode == 2, (second.stdout, second.stderr)
    no_traceback(second)
    message = second.stderr.strip()
    assert message.startswith("error:"), message
    assert "\n\n" not in message
    for fragment in ("--out", str(out), "in use", f"pid {first.pid}", "run"):
        assert fragment in message, f"{fragment!r} missing from: {message}"

    assert first.returncode == 0, stderr
    assert str(out) in stdout.splitlines()[-1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert len(pd.read_parquet(out / "summary.parquet")) == 1000
    assert all((out / name).is_file() for name in manifest["files"])
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]  # no lock, no staging left


@pytest.mark.slow
def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / ".run.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    result = scenarios("run", BASELINE, *SHORT, "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the stale lock is gone too
