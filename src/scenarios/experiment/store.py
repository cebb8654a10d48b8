"""Run directories: manifest.json, summary.parquet, timeseries.parquet, plots, report.

A run is written into a hidden staging directory beside its destination and renamed into
place only once every file is written, and the manifest's ``status`` says ``complete``
only then. An interrupted or failed run removes its staging directory, so nothing that
looks complete is ever left behind.

Safety by construction:

- nothing is deleted or renamed unless it lies strictly inside the directory it belongs
  to, after resolving both paths (:func:`remove_tree`, :func:`staged_directory`);
- an output directory is locked while it is written (:func:`output_lock`): a second
  process is refused and told who holds the lock; a lock whose process is dead is taken
  over;
- every manifest says what ``kind`` of directory it describes (run, sweep, experiment or
  comparison), so a command can refuse to write into another kind (:func:`check_kind`);
- a run's manifest records the SHA-256 of its files (:func:`file_hashes`), so a run is
  reused only if its files are still the ones it wrote (:func:`verify_files`);
- every file is written under a temporary name and renamed into place; a write that fails
  removes its temporary file, and a full device or exhausted quota is raised as
  DiskFullError (exit code 2) naming the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.config import ConfigError
from scenarios.experiment.errors import (
    ManifestError,
    OutputError,
    disk_full_code,
    disk_full_error,
)
from scenarios.experiment.processes import pid_alive

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

MANIFEST = "manifest.json"
SUMMARY = "summary.parquet"
TIMESERIES = "timeseries.parquet"
KINDS = ("run", "sweep", "experiment", "comparison", "calibration")


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


@contextmanager
def _through_temporary(path: Path) -> Iterator[Path]:
    """Yield a temporary name beside ``path``, renamed onto ``path`` after the block.

    On any failure the temporary file is removed; a full device or exhausted quota is
    raised as DiskFullError naming ``path``.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        if disk_full_code(exc):
            raise disk_full_error(exc, path) from None  # type: ignore[arg-type]
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name and an atomic rename."""
    with _through_temporary(path) as tmp:
        tmp.write_bytes(data)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet through a temporary name (deterministic bytes for identical data)."""
    with _through_temporary(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def write_arrow(table: Any, path: Path, **options: Any) -> None:
    """A ``pyarrow.Table`` as Parquet through a temporary name (as :func:`write_parquet`).

    ``options`` go to ``pyarrow.parquet.write_table`` (default: zstd compression).
    """
    import pyarrow.parquet as pq

    with _through_temporary(path) as tmp:
        pq.write_table(table, tmp, **{"compression": "zstd", **options})


def write_json(obj: Any, path: Path) -> None:
    """Pretty JSON through a temporary name."""
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode())


# --------------------------------------------------------------------------------------
# Content hashes: a run is reused only if its files are the ones it wrote
# --------------------------------------------------------------------------------------

HASHES = "sha256"  # manifest key: file name (relative to the run directory) -> SHA-256
VERIFIED = (SUMMARY, TIMESERIES)  # files every verifiable run records a hash of ...
# ... except TIMESERIES for a run that kept no weekly series (manifest "timeseries": false)


def has_timeseries(manifest: dict[str, Any]) -> bool:
    """Whether a run's manifest says it wrote timeseries.parquet (runs before the option did)."""
    return manifest.get("timeseries", True) is not False


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (read in blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(directory: Path, names: list[str]) -> dict[str, str]:
    """``{name: SHA-256}`` of files named relative to ``directory``."""
    return {name: file_sha256(directory / name) for name in names}


def verify_files(directory: Path, manifest: dict[str, Any]) -> str | None:
    """Why the files of ``directory`` do not match ``manifest``'s hashes; None if they do.

    The manifest must record a hash of every file in :data:`VERIFIED` (manifests written
    before hashes were recorded cannot be verified; a run that kept no weekly series has
    no timeseries.parquet). Every recorded file must lie strictly inside ``directory``,
    be a regular file and have the recorded SHA-256.
    """
    hashes = manifest.get(HASHES)
    if not isinstance(hashes, dict) or not hashes:
        return f"its {MANIFEST} records no file hashes (written by an older version)"
    required = [n for n in VERIFIED if n != TIMESERIES or has_timeseries(manifest)]
    missing = [name for name in required if name not in hashes]
    if missing:
        return f"its {MANIFEST} records no hash of {', '.join(missing)}"
    for name, expected in hashes.items():
        path = directory / str(name)
        if not strictly_inside(path, directory) or path.is_symlink():
            return f"{name}: not a file inside the run directory"
        if not path.is_file():
            return f"{name} is missing"
        try:
            actual = file_sha256(path)
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror or exc})"
        if actual != expected:
            return f"{name} has changed since the run was written (its SHA-256 differs)"
    return None


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


def remove_file(path: Path, root: Path) -> None:
    """Delete the file ``path``, which must lie strictly inside ``root`` (else OutputError).

    A symbolic link is removed itself, never what it points to.
    """
    if path.is_symlink():  # judged by where the link itself lies, not by its target
        parent, base = path.parent.resolve(), root.resolve()
        if path.name in ("", ".", "..") or not parent.is_relative_to(base):
            raise OutputError(f"refusing to delete {path}: it is not strictly inside {root}")
    else:
        _require_inside(path, root, "delete")
        if path.is_dir():
            raise OutputError(f"refusing to delete {path}: it is a directory, not a file")
    path.unlink(missing_ok=True)


@contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a staging directory that becomes ``final`` on success and vanishes on failure.

    ``final`` is locked meanwhile (:func:`output_lock`). The staging directory and ``final``
    must both lie strictly inside ``final``'s parent: nothing else is ever removed or
    replaced.
    """
    parent = final.parent
    staging = final.with_name(f".{final.name}.partial")
    _require_inside(final, parent, "write the run directory")
    _require_inside(staging, parent, "use the staging directory")
    parent.mkdir(parents=True, exist_ok=True)
    with output_lock(final):
        if final.exists():
            raise OutputError(f"{final}: already exists; choose another --out")
        if staging.exists():
            remove_tree(staging, parent)  # left by a killed run: we hold the lock
        staging.mkdir()
        try:
            yield staging
            if final.exists():
                raise OutputError(f"{final}: appeared while the run was written; not replaced")
            os.rename(staging, final)
        except BaseException:
            with suppress(OSError):
                remove_tree(staging, parent)
            raise


# --------------------------------------------------------------------------------------
# Output locks
# --------------------------------------------------------------------------------------

# Locks this process holds: lock file -> [token, nesting depth]. Nested use is allowed, so
# a command can lock its output early and the library lock it again where it writes.
_HELD: dict[Path, list[Any]] = {}


def lock_path(target: Path, option: str = "--out") -> Path:
    """The lock file of an output directory: ``.<name>.lock`` beside it (resolved)."""
    resolved = target.resolve()
    if not resolved.name:
        raise OutputError(f"{option} {target}: the root directory cannot be an output directory")
    return resolved.with_name(f".{resolved.name}.lock")


def _read_lock(lock: Path) -> dict[str, Any] | None:
    """The holder recorded in a lock file, or None if it cannot be read (yet)."""
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None


def _holder_alive(holder: dict[str, Any]) -> bool:
    """Whether the process named in a lock may still be running (True when unsure)."""
    if holder.get("host") != socket.gethostname():
        return True  # another machine (shared storage): cannot tell from here
    pid = holder["pid"]
    if pid == os.getpid():
        return False  # not among our locks (_HELD): left by an earlier process with our pid
    return pid_alive(pid)


def _describe_holder(holder: dict[str, Any]) -> str:
    where = f" on {holder.get('host')}" if holder.get("host") != socket.gethostname() else ""
    command = f", running `{holder['command']}`" if holder.get("command") else ""
    return f"pid {holder['pid']}{where}, since {holder.get('started', '?')}{command}"


def _take_over(lock: Path, stale: dict[str, Any] | None) -> None:
    """Remove a stale lock, unless another process has replaced it meanwhile."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return  # someone else removed it first
    except OSError as exc:
        raise OutputError(
            f"cannot take over the stale lock {lock} ({exc.strerror or exc}); delete it"
        ) from None
    if _read_lock(aside) != stale:  # a live lock was put there after we read the stale one
        with suppress(OSError):
            os.link(aside, lock)
    aside.unlink(missing_ok=True)


@contextmanager
def output_lock(target: Path, option: str = "--out") -> Iterator[Path]:
    """Hold the lock of output directory ``target`` while the block runs.

    The lock is a file beside ``target`` (:func:`lock_path`), created with O_CREAT |
    O_EXCL, that records the holder's pid, host, start time and command line. Another
    process is refused with OutputError naming the holder. A lock whose process no longer
    exists (on this host), or that stays unreadable for two seconds (its writer died while
    creating it), is taken over. The lock is removed when the block exits, also on Ctrl-C
    or an error; after SIGKILL the next process takes it over. Nested use in one process
    is allowed.
    """
    lock = lock_path(target, option)
    held = _HELD.get(lock)
    if held is not None:
        held[1] += 1
        try:
            yield lock
        finally:
            held[1] -= 1
        return
    token = uuid.uuid4().hex
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": now(),
        "command": " ".join(["scenarios", *sys.argv[1:]]),
        "token": token,
    }
    unreadable_since: float | None = None
    for _ in range(1000):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(lock)
            if holder is None:  # being written this instant, or its writer died doing so
                unreadable_since = unreadable_since or time.monotonic()
                if time.monotonic() - unreadable_since < 2.0:
                    time.sleep(0.05)
                    continue
                _take_over(lock, None)
                unreadable_since = None
                continue
            if _holder_alive(holder):
                stale = (
                    "the lock of a process that has died is taken over automatically"
                    if holder.get("host") == socket.gethostname()
                    else "delete it if that process is no longer running on its host"
                )
                raise OutputError(
                    f"{option} {target}: in use by another scenarios process "
                    f"({_describe_holder(holder)}); wait for it to finish or choose another "
                    f"{option} (lock file {lock}; {stale})"
                ) from None
            _take_over(lock, holder)
            continue
        except OSError as exc:
            raise OutputError(
                f"{option} {target}: cannot create the lock file {lock} ({exc.strerror or exc})"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record))
        except OSError as exc:  # a full device: leave no empty lock behind
            lock.unlink(missing_ok=True)
            if disk_full_code(exc):
                raise disk_full_error(exc, lock) from None
            raise
        break
    else:
        raise OutputError(f"{option} {target}: could not take the lock file {lock}; retry")
    _HELD[lock] = [token, 1]
    try:
        yield lock
    finally:
        del _HELD[lock]
        current = _read_lock(lock)
        if current is not None and current.get("token") == token:
            lock.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# Kinds of output directories
# --------------------------------------------------------------------------------------


def manifest_kind(manifest: dict[str, Any]) -> str:
    """What a manifest describes; manifests written before ``kind`` existed are recognised."""
    kind = manifest.get("kind")
    if isinstance(kind, str) and kind:
        return kind
    if "spec_hash" in manifest or "sweep" in manifest:
        return "sweep"
    if "config_hash" in manifest or "scenario" in manifest:
        return "run"
    return "unknown"


def directory_kind(path: Path) -> str | None:
    """The kind of an output directory; None if it does not exist or is empty.

    ``"unknown"`` for a directory of other files. Directories written before manifests had
    a ``kind`` are recognised by their manifest or, without one, by their layout.
    """
    if not path.is_dir():
        return "unknown" if path.exists() else None
    if (path / MANIFEST).exists():
        try:
            manifest = read_manifest(path)
        except (OSError, ValueError):
            return "unknown"
        return manifest_kind(manifest) if isinstance(manifest, dict) else "unknown"
    if (path / "runs").is_dir():
        return "experiment"
    if (path / "parts").is_dir() or (path / "design.parquet").exists():
        return "sweep"
    if (path / "comparison.csv").exists():
        return "comparison"
    return "unknown" if any(path.iterdir()) else None


def check_kind(path: Path, kind: str, option: str = "--out") -> None:
    """Refuse (OutputError) to write a ``kind`` directory over a directory of another kind.

    ``path`` may not exist yet, be empty, or already hold a ``kind`` directory.
    """
    found = directory_kind(path)
    if found in (None, kind):
        return
    if found in KINDS:
        what = f"a {found} directory (its {MANIFEST} says so)"
    else:
        what = f"not empty and not a {kind} directory"
    raise OutputError(
        f"{option} {path}: is {what}; a {kind} is written only into a new or empty directory "
        f"or over an earlier {kind}, so choose another {option}"
    )


def open_resumable(
    out: Path,
    kind: str,
    noun: str,
    resume: bool,
    mismatch: Callable[[dict[str, Any]], str | None],
) -> dict[str, Any] | None:
    """Check ``out`` for a new job of ``kind`` or for one to resume (ConfigError if not).

    With ``resume``: ``out`` must hold a manifest, which is returned unless
    ``mismatch(manifest)`` says why this job cannot resume it (and what to do instead).
    Without: ``out`` must not hold a ``kind`` job already (nor a directory of another
    kind); it is created and None is returned. ``noun`` names the job in messages ("a calibration").
    """
    manifest_path = out / MANIFEST
    if resume:
        if not manifest_path.exists():
            raise ConfigError(f"--resume: {out} holds no {noun.partition(' ')[2]} to resume")
        manifest = read_manifest(out)
        problem = mismatch(manifest)
        if problem:
            raise ConfigError(f"--resume: {out} {problem}")
        return manifest
    check_kind(out, kind)
    if manifest_path.exists():
        raise ConfigError(
            f"--out {out} holds {noun} already: add --resume to continue it, or choose "
            "another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    return None


def default_run_dir(results: Path, name: str) -> Path:
    """``results/<name>-<UTC timestamp>`` (suffixed if taken)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = results / f"{name}-{stamp}"
    k = 1
    while path.exists() or lock_path(path).exists():  # taken, or being written
        k += 1
        path = results / f"{name}-{stamp}-{k}"
    return path


def now() -> str:
    """UTC time stamp for manifests."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


MAX_MANIFEST_BYTES = 256 * 2**20  # far above any manifest written (seeds of 10^6 runs)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of an output directory, a JSON object.

    Raises ManifestError (a ValueError; exit code 2) naming the file if it is not a
    regular file of at most :data:`MAX_MANIFEST_BYTES`, cannot be read, is not UTF-8 JSON
    (truncated, say), is nested too deeply to parse, or is not a JSON object.
    """
    path = run_dir / MANIFEST

    def damaged(why: str) -> ManifestError:
        return ManifestError(f"{path}: damaged manifest: {why}")

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise damaged("not a regular file")
        if info.st_size > MAX_MANIFEST_BYTES:
            raise damaged(f"{info.st_size:,} bytes, more than any manifest")
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
        manifest = json.loads(data.decode("utf-8"))
    except OSError as exc:
        raise damaged(f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise damaged("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise damaged(
            f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}; truncated?)"
        ) from None
    except RecursionError:
        raise damaged("nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict):
        raise damaged(f"not a JSON object but {type(manifest).__name__}")
    return manifest


def manifest_fields[M: BaseModel](model: type[M], manifest: dict[str, Any], directory: Path) -> M:
    """Check the keys a command reads from ``manifest`` against ``model`` (ManifestError).

    The message names the manifest, the first missing or wrong key and what it should be.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(the whole manifest)"
        problem = "missing" if first["type"] == "missing" else first["msg"].lower()
        raise ManifestError(
            f"{directory / MANIFEST}: damaged manifest: {where}: {problem}"
        ) from None
