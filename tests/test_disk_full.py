"""A full disk (ENOSPC) or an exhausted quota (EDQUOT) while outputs are written.

The command exits 2 with one message naming the condition and the file, and leaves
nothing that looks complete: no run directory, no staging directory, no temporary file,
no lock, no manifest saying ``complete``. The failure is simulated in this process by
making the Parquet, JSON or figure writes raise the OSError a full device gives.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import matplotlib.figure
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.conftest import CONFIGS, cli_in_process

BASELINE = CONFIGS / "baseline.yaml"
SHORT = ("--replications", "2", "--steps", "10")


main = cli_in_process  # scenarios ARGS in this process: (exit code, stderr)


def full(code: int, *, filename: bool) -> Any:
    """A replacement for a write method that fails as a full device does."""

    def write(self: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        if filename:  # as open() reports it
            raise OSError(code, os.strerror(code), str(path))
        raise OSError(code, os.strerror(code))  # as pyarrow reports it: no file name

    return write


def leftovers(folder: Path) -> list[Path]:
    """Staging directories, temporary files and locks anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.endswith((".partial", ".tmp", ".lock"))]


def complete_manifests(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("manifest.json"):
        if json.loads(path.read_text()).get("status") == "complete":
            found.append(path)
    return found


def one_message(code: int, message: str, *fragments: str) -> None:
    assert code == 2, message
    assert "Traceback" not in message
    assert "internal error" not in message
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, message  # one message, after any progress lines
    assert message.strip().endswith(errors[0])
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} missing from: {message}"


@pytest.mark.parametrize(
    ("code", "target", "fragments"),
    [
        (errno.ENOSPC, "parquet", ["no space left on device", ".parquet"]),
        (errno.EDQUOT, "parquet", ["disk quota exceeded", ".parquet"]),
        (errno.ENOSPC, "figure", ["no space left on device", ".png"]),
        (errno.ENOSPC, "stream", ["no space left on device", "timeseries"]),
    ],
    ids=["ENOSPC-parquet", "EDQUOT-parquet", "ENOSPC-figure", "ENOSPC-streamed-timeseries"],
)
def test_run_on_a_full_disk_exits_2_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    code: int,
    target: str,
    fragments: list[str],
) -> None:
    if target == "parquet":
        monkeypatch.setattr(pd.DataFrame, "to_parquet", full(code, filename=False))
    elif target == "stream":  # the weekly series are written row group by row group
        monkeypatch.setattr(pq.ParquetWriter, "write_table", full(code, filename=False))
    else:
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full(code, filename=True))
    out = tmp_path / "run"
    status, message = main(monkeypatch, capsys, "run", BASELINE, *SHORT, "--out", out)
    one_message(status, message, *fragments, str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # no run, no staging directory, no lock


def test_experiment_on_a_full_disk_exits_2_and_does_not_look_complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "experiment.yaml"
    spec.write_text(
        "name: small\n"
        f"scenarios: {{baseline: {BASELINE}, trilateral: {CONFIGS / 'trilateral.yaml'}}}\n"
        "baseline: baseline\nreplications: 2\nsteps: 10\n",
        encoding="utf-8",
    )
    to_parquet = pd.DataFrame.to_parquet
    calls: list[object] = []

    def fills_up(frame: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) > 1:  # the first scenario's summary fits, the second's does not
            full(errno.ENOSPC, filename=False)(frame, path)
        to_parquet(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fills_up)
    out = tmp_path / "out"
    status, message = main(monkeypatch, capsys, "experiment", spec, "--out", out)
    one_message(status, message, "no space left on device")
    assert complete_manifests(out) == [out / "runs" / "baseline" / "manifest.json"]
    assert not (out / "runs" / "trilateral").exists()
    assert not (out / "report.html").exists()
    assert leftovers(tmp_path) == []


def test_sweep_on_a_full_disk_exits_2_before_it_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"name: small\nbase: {BASELINE}\nmethod: lhs\nsamples: 4\nreplications: 1\n"
        "steps: 10\nparameters:\n  sharing.compartmentalisation: {bounds: [0.1, 0.9]}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(pd.DataFrame, "to_parquet", full(errno.ENOSPC, filename=False))
    out = tmp_path / "out"
    status, message = main(monkeypatch, capsys, "sweep", sweep, "--out", out)
    one_message(status, message, "no space left on device", "design.parquet")
    assert not out.exists()  # so the same command can simply be run again
    assert leftovers(tmp_path) == []


def test_compare_on_a_full_disk_exits_2_and_does_not_look_complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    runs = []
    for name in ("baseline", "trilateral"):
        runs.append(tmp_path / name)
        status, message = main(
            monkeypatch, capsys, "run", CONFIGS / f"{name}.yaml", *SHORT, "--out", runs[-1]
        )
        assert status == 0, message
    write_bytes = Path.write_bytes

    def fills_up(path: Path, data: bytes) -> int:
        if path.name == ".comparison.csv.tmp":  # its first file after the manifest
            write_bytes(path, data[: len(data) // 2])  # part of it fits
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", fills_up)
    out = tmp_path / "comparison"
    status, message = main(monkeypatch, capsys, "compare", *runs, "--out", out)
    one_message(status, message, "no space left on device", "comparison.csv")
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert not (out / "comparison.csv").exists()
    assert not (out / "report.html").exists()
    assert leftovers(tmp_path) == []
