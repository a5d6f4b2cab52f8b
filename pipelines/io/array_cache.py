"""Arrays that are slow to build and never change for a given input, built once per machine.

Every Beam worker process of every job builds the same lookup tables (code-point tables, the decompressed
language-identification model) in its ``setup()``. :func:`cached_arrays` keeps them as ``.npy`` files in a cache
folder, named by what they were built from, so later processes memory-map them in milliseconds.
The folder is ``$HAETAE_CACHE_DIR``, else ``$XDG_CACHE_HOME/haetae``, else ``~/.cache/haetae``; where it
cannot be written, the arrays are simply built every time. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

DIGESTS = "sha256.txt"


def cache_dir() -> Path:
    """The folder cached arrays live in (see the module docstring)."""
    if os.environ.get("HAETAE_CACHE_DIR"):
        return Path(os.environ["HAETAE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "haetae"


def cache_key(*parts: object) -> str:
    """A short digest of everything the arrays are built from (use it as ``key``)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]


def cached_arrays(name: str, key: str, build: Callable[[], dict[str, np.ndarray]],
                  verify: bool = False) -> dict[str, np.ndarray]:
    """``build()``'s arrays, memory-mapped (read-only) from ``cache_dir()/{name}-{key}/`` when a process
    already saved them there, one ``.npy`` file per array.

    ``key`` must change whenever ``build`` would return something else (see :func:`cache_key`). A folder is
    written under a temporary name and renamed, so concurrent workers never read a partial one; an unreadable
    one is rebuilt and replaced. With ``verify``, the folder also holds each array's SHA-256 and a read checks
    them all (reading every byte), so damaged contents are rebuilt too, not only damaged headers or sizes.
    """
    folder = cache_dir() / f"{name}-{key}"
    try:
        names = (folder / "arrays.txt").read_text(encoding="utf-8").split()
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in names}
        if not verify or _digests(arrays) == (folder / DIGESTS).read_text(encoding="utf-8"):
            return arrays
    except (OSError, ValueError):
        pass
    arrays = build()
    tmp = None
    try:
        if folder.exists():  # incomplete or unreadable: replaced by the folder written below
            shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{name}-"))
        for n, array in arrays.items():
            np.save(tmp / f"{n}.npy", array, allow_pickle=False)
        if verify:
            (tmp / DIGESTS).write_text(_digests(arrays), encoding="utf-8")
        (tmp / "arrays.txt").write_text("\n".join(arrays), encoding="utf-8")  # written last: marks it complete
        os.replace(tmp, folder)
    except OSError:  # a read-only or full cache, or another process saved it first
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return arrays


def _digests(arrays: dict[str, np.ndarray]) -> str:
    """One line per array: name, dtype, shape and the SHA-256 of its bytes."""
    lines = []
    for n, array in arrays.items():
        digest = hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()
        lines.append(f"{n} {array.dtype.str} {array.shape} {digest}")
    return "\n".join(lines)
