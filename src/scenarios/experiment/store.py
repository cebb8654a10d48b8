"""Run directories: manifest.json, summary.parquet, timeseries.parquet, plots, report.

A run is written into a hidden staging directory beside its destination and renamed into
place only once every file is written, and the manifest's ``status`` says ``complete``
only then. An interrupted or failed run removes its staging directory, so nothing that
looks complete is ever left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.experiment.errors import OutputError

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
SUMMARY = "summary.parquet"
TIMESERIES = "timeseries.parquet"


def package_versions() -> dict[str, str]:
    """Versions of the packages that determine results."""
    versions = {"python": platform.python_version()}
    for name in ("scenarios", "mesa", "numpy", "numba", "pandas", "pyarrow", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def model_fingerprint() -> str:
    """SHA-256 of the model's source files: a run made by other model code is not reused."""
    import hashlib

    model_dir = Path(__file__).resolve().parents[1] / "model"
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def git_commit(cwd: Path | None = None) -> str | None:
    """The current git commit of the working tree, if any."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def check_writable(parent: Path) -> None:
    """Fail early, before any work, if runs cannot be written under ``parent``."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"--out {parent}: not writable ({exc.strerror or exc})") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet through a temporary name (deterministic bytes for identical data)."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    os.replace(tmp, path)


def write_json(obj: Any, path: Path) -> None:
    """Pretty JSON through a temporary name."""
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode())


@contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a staging directory that becomes ``final`` on success and vanishes on failure."""
    if final.exists():
        raise OutputError(f"{final}: already exists; choose another --out")
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def default_run_dir(results: Path, name: str) -> Path:
    """``results/<name>-<UTC timestamp>`` (suffixed if taken)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = results / f"{name}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = results / f"{name}-{stamp}-{k}"
    return path


def now() -> str:
    """UTC time stamp for manifests."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run directory."""
    return json.loads((run_dir / MANIFEST).read_text())
