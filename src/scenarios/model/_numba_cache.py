"""Numba's on-disk cache, keyed by the content of every compiled source of the model.

Numba checks a cached function against its own file only. The compiled week
(``engine.advance``) inlines and links functions from ``kernels`` and ``intel``, and
bakes in row numbers computed from the outcome names of ``outcomes``, so an edit of
those files would leave a stale ``advance`` in the cache: the model would run old code
without a word. Caching the compiled files and ``outcomes.py`` together in a directory
named after a digest of all of them closes that gap; a change of any one starts a fresh
cache (and the stale directories beside it are removed).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numba

HERE = Path(__file__).resolve().parent
SOURCES = ("kernels.py", "intel.py", "engine.py", "outcomes.py")
PREFIX = "numba-"


def sources_digest() -> str:
    """SHA-256 (first 16 hex digits) of the compiled sources, in ``SOURCES`` order."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def keyed_cache() -> Iterator[None]:
    """While the model's compiled modules are imported, cache them under their digest.

    Inside a user's ``NUMBA_CACHE_DIR`` if set, else in this package's ``__pycache__``.
    """
    previous = numba.config.CACHE_DIR
    base = Path(previous) / "scenarios" if previous else HERE / "__pycache__"
    target = base / f"{PREFIX}{sources_digest()}"
    if not target.exists() and base.is_dir():
        for stale in base.glob(f"{PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
    numba.config.CACHE_DIR = str(target)
    try:
        yield
    finally:
        numba.config.CACHE_DIR = previous
