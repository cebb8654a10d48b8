"""Run directories: manifest.json, summary.parquet, timeseries.parquet, plots, report.

A run is written into a hidden staging directory beside its destination and renamed into
place only once every file is written, and the manifest's ``status`` says ``complete``
only then. An interrupted or failed run removes its staging directory, so nothing that
looks complete is ever left behind.

Safety by construction:

- nothing is deleted or renamed unless it lies strictly inside the directory it belongs
  to, after resolving both paths (:func:`remove_tree`, :func:`staged_directory`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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


# --------------------------------------------------------------------------------------
# Containment: never delete or rename outside the directory a path belongs to
# --------------------------------------------------------------------------------------


def strictly_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` lies strictly inside ``root`` once both are resolved.

    Resolving follows symbolic links and removes ``..``, so ``root/..``, ``root/.`` and a
    link pointing out of ``root`` are all outside.
    """
    resolved, base = path.resolve(), root.resolve()
    return resolved != base and resolved.is_relative_to(base)


def _require_inside(path: Path, root: Path, action: str) -> None:
    if not strictly_inside(path, root) or path.name in ("", ".", ".."):
        raise OutputError(
            f"refusing to {action} {path}: it is not strictly inside {root} "
            f"(it resolves to {path.resolve()})"
        )


def remove_tree(path: Path, root: Path) -> None:
    """Delete the directory ``path``, which must lie strictly inside ``root``.

    A second line of defence behind the name checks: refuses (OutputError) to delete
    anything that resolves to ``root`` itself or outside it, or a symbolic link.
    """
    _require_inside(path, root, "delete")
    if path.is_symlink():
        raise OutputError(f"refusing to delete {path}: it is a symbolic link")
    shutil.rmtree(path)


@contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a staging directory that becomes ``final`` on success and vanishes on failure.

    The staging directory and ``final`` must both lie strictly inside ``final``'s parent:
    nothing else is ever removed or replaced.
    """
    parent = final.parent
    staging = final.with_name(f".{final.name}.partial")
    _require_inside(final, parent, "write the run directory")
    _require_inside(staging, parent, "use the staging directory")
    if final.exists():
        raise OutputError(f"{final}: already exists; choose another --out")
    parent.mkdir(parents=True, exist_ok=True)
    if staging.exists():
        remove_tree(staging, parent)
    staging.mkdir()
    try:
        yield staging
        os.replace(staging, final)
    except BaseException:
        with suppress(OSError):
            remove_tree(staging, parent)
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
