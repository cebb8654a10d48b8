"""Errors that mean bad input (exit code 2), importable without heavy dependencies."""

from __future__ import annotations

import errno
import os
from pathlib import Path

# A full device and an exhausted disk quota: the user can act on both.
DISK_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}
_DISK_FULL_TEXTS = {os.strerror(code).lower(): code for code in DISK_FULL}


class OutputError(OSError):
    """The output location cannot be used (exists, not writable...)."""


class DiskFullError(OutputError):
    """An output could not be written: the device is full or the quota is exhausted."""


class CompareError(ValueError):
    """Runs that cannot be read or compared."""


class ManifestError(CompareError):
    """A manifest.json that cannot be read, or lacks what a command reads from it."""


class SweepFailedError(RuntimeError):
    """A sweep stopped because a run or chunk failed; its finished parts are kept (exit 2)."""


def disk_full_code(exc: BaseException) -> int | None:
    """ENOSPC or EDQUOT if ``exc`` says the device is full or the quota exhausted, else None.

    Recognised by errno or, for libraries that drop it (pyarrow reports an OSError with
    only the system's message), by that message.
    """
    if isinstance(exc, DiskFullError) or not isinstance(exc, OSError):
        return None
    if exc.errno in DISK_FULL:
        return exc.errno
    text = str(exc).lower()
    for message, code in _DISK_FULL_TEXTS.items():
        if message in text:
            return code
    return None


def disk_full_error(exc: OSError, path: Path | str | None = None) -> DiskFullError:
    """A one-paragraph DiskFullError for ``exc``, naming the file that was being written."""
    code = disk_full_code(exc) or errno.ENOSPC
    where = path if path is not None else exc.filename
    target = f"cannot write {where}" if where else "cannot write the output"
    return DiskFullError(
        f"{DISK_FULL[code]}: {target}. What was being written has been removed and nothing "
        "that looks complete was left; free some space, or choose an --out on another "
        "device, and run the command again"
    )
