"""`scenarios compare` and `scenarios experiment`, end to end on a short horizon."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import CONFIGS, ROOT

from scenarios.experiment.compare import CompareError, compare, load_run

pytestmark = pytest.mark.slow

SHORT = ["--replications", "12", "--steps", "30"]


def scenarios(*args: str, cwd: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "scenarios", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short runs: baseline and trilateral share a seed; `other_seed` does not."""
    root = tmp_path_factory.mktemp("runs")
    specs = {
        "baseline": ("baseline.yaml", "1"),
        "trilateral": ("trilateral.yaml", "1"),
        "other_seed": ("trilateral.yaml", "2"),
        "longer": ("baseline.yaml", "1"),
    }
    out = {}
    for name, (config, seed) in specs.items():
        steps = ["--steps", "40"] if name == "longer" else []
        res = scenarios(
            "run",
            str(CONFIGS / config),
            *SHORT,
            *steps,
            "--seed",
            seed,
            "--out",
            str(root / name),
            cwd=root,
        )
        assert res.returncode == 0, res.stderr
        out[name] = root / name
    return out


def test_common_seeds_give_paired_differences(runs: dict[str, Path]) -> None:
    cmp = compare([load_run(runs["baseline"]), load_run(runs["trilateral"])])
    diff = cmp.table[(cmp.table.statistic == "difference")]
    assert set(diff.method) == {"paired t"}
    assert cmp.paired["trilateral"]
    assert diff.variance_reduction.notna().any()


def test_different_seeds_give_welch(runs: dict[str, Path]) -> None:
    cmp = compare([load_run(runs["baseline"]), load_run(runs["other_seed"])])
    assert set(cmp.table[cmp.table.statistic == "difference"].method) == {"Welch t"}
    assert cmp.table.variance_reduction.isna().all()


def test_precision_warning_says_how_many_replications(runs: dict[str, Path]) -> None:
    cmp = compare([load_run(runs["baseline"]), load_run(runs["trilateral"])], precision=0.001)
    assert cmp.warnings
    w = cmp.warnings[0]
    assert w.needed > w.replications
    assert f"{w.needed:,}" in w.message()


def test_compare_cli_writes_tidy_csv_and_reports(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = scenarios(
        "compare", str(runs["baseline"]), str(runs["trilateral"]), "--out", str(out), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == [
        "scenario",
        "outcome",
        "statistic",
        "value",
        "ci_low",
        "ci_high",
        "method",
        "n",
        "variance_reduction",
        "p_value",
        "q_value",
        "verdict",
        "replications_needed",
        "note",
    ]
    assert {"mean", "median", "probability", "difference", "relative_change"} <= set(
        table.statistic
    )
    risk = table[(table.outcome == "attack_risk__russia") & (table.statistic == "probability")]
    assert set(risk.method) == {"Wilson"}
    assert "trilateral" in res.stdout
    assert "Variance reduction from pairing" in res.stdout
    assert re.search(r"│ trilateral +│ +(x[\d.,]+|inf|n/a) +│", res.stdout), res.stdout
    assert "Attacks in the West (US)" in res.stdout
    diff = table[table.statistic == "difference"]
    assert diff.variance_reduction.notna().any()
    assert table[table.statistic != "difference"].variance_reduction.isna().all()
    html = (out / "report.html").read_text()
    for name in ("envelopes", "forest", "frontier", "attacks_by_country", "trust"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 10_000
    assert html.count("data:image/png;base64,") == 5
    assert 'src="plots/' not in html  # self-contained
    assert "<summary>Methods</summary>" in html
    report = (out / "report.md").read_text()
    assert "paired t" in report
    assert "<summary>Methods</summary>" in report
    assert "Variance reduction from pairing" in report
    assert "| Attack risk in Afghanistan (Taliban) |" in report
    # The same numbers in the terminal as in the report's decision summary.
    row = next(line for line in report.splitlines() if line.startswith("| All countries |"))
    value, interval = row.split("|")[2].strip().rsplit(" ", 1)[0].split(" ", 1)
    total = next(line for line in res.stdout.splitlines() if "Attacks, total" in line)
    assert total.split()[2:4] == [value, interval.split()[0]], (total, row)


def test_compare_fits_80_columns_with_intervals_and_whole_words(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    res = scenarios(
        "compare",
        str(runs["baseline"]),
        str(runs["trilateral"]),
        str(runs["other_seed"]),
        "--out",
        str(tmp_path / "cmp"),
        cwd=tmp_path,
        columns=80,
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    # The last line names the report's path whole (scripts read it): it may be longer.
    assert out[-1].startswith("Report: ")
    lines = out[:-1] + res.stderr.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert not any("…" in line for line in lines)
    row = next(line for line in lines if line.strip().startswith("Attacks, total"))
    assert re.search(r"\[[-+][\d.,]+%?, [-+][\d.,]+%?\]", row), row  # an interval
    words = set(" ".join(lines).split())
    assert "Taliban)" in words or "(Taliban)" in words  # labels wrap between words only


@pytest.mark.parametrize(
    ("case", "expected"),
    [("longer", "different horizons"), ("missing", "does not exist"), ("partial", "complete")],
)
def test_compare_refuses_what_cannot_be_compared(
    runs: dict[str, Path], tmp_path: Path, case: str, expected: str
) -> None:
    other = runs.get(case, tmp_path / case)
    if case == "partial":
        other.mkdir()
        (other / "manifest.json").write_text(json.dumps({"status": "running"}))
    res = scenarios(
        "compare", str(runs["baseline"]), str(other), "--out", str(tmp_path / "o"), cwd=tmp_path
    )
    assert res.returncode == 2
    assert expected in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_compare_refuses_runs_with_different_regions(runs: dict[str, Path], tmp_path: Path) -> None:
    prefs = "{afghanistan: 1, pakistan: 0.6, iran: 0.5, tajikistan: 0.4, russia: 0.6, west: 0.3}"
    res = scenarios(
        "run",
        str(CONFIGS / "baseline.yaml"),
        *SHORT,
        "--seed",
        "1",
        "--set",
        "regions.central_asia.country=tajikistan",
        "--set",
        f"threat.target_preference={prefs}",
        "--out",
        str(tmp_path / "tj"),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    with pytest.raises(CompareError, match="different outcomes"):
        compare([load_run(runs["baseline"]), load_run(tmp_path / "tj")])


def test_compare_rejects_unknown_outcome(runs: dict[str, Path]) -> None:
    with pytest.raises(CompareError, match="unknown outcome"):
        compare([load_run(runs["baseline"]), load_run(runs["trilateral"])], outcomes=["nope"])


def write_experiment(folder: Path, replications: int = 10, steps: int = 30) -> Path:
    spec = folder / "exp.yaml"
    spec.write_text(
        "name: mini\n"
        "description: a short test experiment\n"
        "baseline: baseline\n"
        "scenarios:\n"
        f"  baseline: {CONFIGS / 'baseline.yaml'}\n"
        f"  trilateral: {CONFIGS / 'trilateral.yaml'}\n"
        f"  no_crackdown: {CONFIGS / 'no_crackdown.yaml'}\n"
        f"replications: {replications}\nseed: 7\nsteps: {steps}\n"
    )
    return spec


def test_experiment_runs_with_common_seeds_then_reuses(tmp_path: Path) -> None:
    spec = write_experiment(tmp_path)
    out = tmp_path / "out"
    first = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    manifests = {
        p.parent.name: json.loads(p.read_text()) for p in (out / "runs").glob("*/manifest.json")
    }
    assert set(manifests) == {"baseline", "trilateral", "no_crackdown"}
    seeds = {tuple(m["replication_seeds"]) for m in manifests.values()}
    assert len(seeds) == 1, "every scenario uses the same replication seeds"
    assert (out / "report.html").exists()
    stamp = (out / "runs" / "baseline" / "summary.parquet").stat().st_mtime_ns
    second = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("reusing the finished run") == 3
    assert (out / "runs" / "baseline" / "summary.parquet").stat().st_mtime_ns == stamp
    # a changed experiment (more replications) re-runs rather than reusing stale results
    write_experiment(tmp_path, replications=11)
    third = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert "reusing" not in third.stderr
    assert len(pd.read_parquet(out / "runs" / "baseline" / "summary.parquet")) == 11


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("name: x\nbaseline: nope\nscenarios: {a: a.yaml, b: b.yaml}\n", "baseline"),
        ("name: x\nbaseline: a\nscenarios: {a: missing.yaml, b: missing.yaml}\n", "scenarios.a"),
        ("name: x\nbaseline: a\nscenarios: {a: a.yaml}\n", "at least two"),
        (
            "name: x\nbaseline: a\nscenarios: {a: a.yaml, b: b.yaml}\nreplicatons: 3\n",
            "unknown key",
        ),
        ("name: [oops\n", "malformed YAML"),
    ],
)
def test_bad_experiment_files_exit_2(tmp_path: Path, body: str, expected: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(body)
    res = scenarios("experiment", str(spec), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert res.returncode == 2
    assert expected in res.stderr
    assert "Traceback" not in res.stderr


def test_experiment_with_a_bad_outcome_exits_2_before_running(tmp_path: Path) -> None:
    spec = write_experiment(tmp_path)
    spec.write_text(spec.read_text() + "outcomes: [fatalities, attack_risk__rusia]\n")
    out = tmp_path / "out"
    res = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "outcomes[1]: 'attack_risk__rusia' is not an outcome" in res.stderr
    assert "attack_risk__russia" in res.stderr  # the close match is suggested
    assert "Traceback" not in res.stderr
    assert not (out / "runs").exists(), "no scenario runs before the check"


def test_experiment_with_different_horizons_exits_2_before_running(tmp_path: Path) -> None:
    for name, steps in (("short", 20), ("long", 30)):
        (tmp_path / f"{name}.yaml").write_text(
            f"extends: {CONFIGS / 'baseline.yaml'}\nname: {name}\nrun: {{steps: {steps}}}\n"
        )
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: mini\nbaseline: short\nscenarios: {short: short.yaml, long: long.yaml}\n"
        "replications: 2\n"
    )
    out = tmp_path / "out"
    res = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "scenarios.long: run.steps is 30 weeks" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (out / "runs").exists(), "no scenario runs before the check"


def test_shipped_experiments_validate() -> None:
    from scenarios.experiment.experiment import load_experiment

    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        spec, configs = load_experiment(path)
        assert spec.baseline in configs
        assert {c.run.seed for c in configs.values()} == {spec.seed}


# ----------------------------------------------------------------------------------------
# Output safety: plain names, directory kinds, locks
# ----------------------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("where", "value"),
    [("label", ".."), ("label", "."), ("name", ".."), ("name", "../../escaped")],
)
def test_experiment_names_must_be_plain_and_nothing_is_deleted(
    tmp_path: Path, where: str, value: str
) -> None:
    out = tmp_path / "out"
    (out / "runs" / "other").mkdir(parents=True)
    (out / "runs" / "other" / "keep.txt").write_text("mine\n")
    (out / "keep.txt").write_text("mine\n")
    label = value if where == "label" else "second"
    name = value if where == "name" else "mini"
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        f"name: '{name}'\nbaseline: baseline\nscenarios:\n"
        f"  baseline: {CONFIGS / 'baseline.yaml'}\n"
        f"  '{label}': {CONFIGS / 'trilateral.yaml'}\n"
        "replications: 2\nseed: 7\nsteps: 5\n"
    )
    before = _snapshot(tmp_path)
    for args in (["--out", str(out)], []):  # without --out: results/experiments/<name>
        res = scenarios("experiment", str(spec), *args, cwd=out)
        assert res.returncode == 2, (res.stdout, res.stderr)
        assert "Traceback" not in res.stderr
        message = res.stderr.strip()
        assert "\n\n" not in message
        key = "scenarios: label" if where == "label" else "name ="
        for fragment in (key, value, "plain name"):
            assert fragment in message, f"{fragment!r} missing from: {message}"
        assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml", "out"]


@pytest.fixture
def other_kinds(runs: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """A run directory, and sweep and experiment directories as older versions wrote them."""
    import shutil

    run = tmp_path / "a_run"
    shutil.copytree(runs["baseline"], run)
    sweep = tmp_path / "a_sweep"
    (sweep / "parts").mkdir(parents=True)
    (sweep / "manifest.json").write_text(
        json.dumps({"status": "complete", "sweep": "t", "spec_hash": "0" * 64})
    )
    experiment = tmp_path / "an_experiment"
    shutil.copytree(runs["baseline"], experiment / "runs" / "baseline")
    for folder in (sweep, experiment):
        (folder / "report.html").write_text("<p>mine</p>\n")
        (folder / "report.md").write_text("mine\n")
        (folder / "plots").mkdir()
        (folder / "plots" / "forest.png").write_bytes(b"mine")
    return {"run": run, "sweep": sweep, "experiment": experiment}


@pytest.mark.parametrize(
    ("verb", "kind"),
    [
        ("compare", "run"),
        ("compare", "sweep"),
        ("compare", "experiment"),
        ("experiment", "run"),
        ("experiment", "sweep"),
    ],
)
def test_refuses_to_write_over_another_kind_of_directory(
    runs: dict[str, Path], other_kinds: dict[str, Path], tmp_path: Path, verb: str, kind: str
) -> None:
    target = other_kinds[kind]
    before = _snapshot(target)
    if verb == "compare":
        args = [str(runs["baseline"]), str(runs["trilateral"])]
    else:
        args = [str(write_experiment(tmp_path, replications=2, steps=5))]
    res = scenarios(verb, *args, "--out", str(target), cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    message = res.stderr.strip()
    assert "\n\n" not in message
    wanted = "comparison" if verb == "compare" else "experiment"
    for fragment in ("--out", str(target), f"a {kind} directory", f"a {wanted} is written only"):
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert _snapshot(target) == before


def test_compare_writes_over_an_earlier_comparison(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    for _ in range(2):
        res = scenarios(
            "compare",
            str(runs["baseline"]),
            str(runs["trilateral"]),
            "--out",
            str(out),
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "comparison"
    assert manifest["runs"] == [str(runs["baseline"]), str(runs["trilateral"])]
    res = scenarios("compare", str(out), str(runs["trilateral"]), cwd=tmp_path)
    assert res.returncode == 2
    assert "is a comparison directory, not a run directory" in res.stderr


def test_experiment_into_a_locked_out_is_refused(tmp_path: Path) -> None:
    from scenarios.experiment import store

    spec = write_experiment(tmp_path, replications=2, steps=5)
    out = tmp_path / "out"
    with store.output_lock(out):
        res = scenarios("experiment", str(spec), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    for fragment in ("--out", str(out), "in use", f"pid {os.getpid()}"):
        assert fragment in res.stderr, f"{fragment!r} missing from: {res.stderr}"
    assert not (out / "runs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]


@pytest.mark.parametrize("value", ["-1", "nan", "0", "inf"])
def test_compare_refuses_a_precision_that_is_not_a_positive_number(
    runs: dict[str, Path], tmp_path: Path, value: str
) -> None:
    res = scenarios(
        "compare",
        str(runs["baseline"]),
        str(runs["trilateral"]),
        f"--precision={value}",
        "--out",
        str(tmp_path / "c"),
        cwd=tmp_path,
    )
    assert res.returncode == 2
    assert "--precision" in res.stderr
    assert not (tmp_path / "c").exists()
