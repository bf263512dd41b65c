"""What is needed to repeat a run: library versions, seeds and fingerprints of the data.

A fingerprint is the SHA-256 of each array's dtype, shape and bytes, so two runs on the
same arrays (in the same order) share it and any change to a single value shows.  The
versions are read from the installed packages' metadata: nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

#: The packages whose versions a run records, by distribution name.
PACKAGES = ("fitgap", "tensorflow", "keras", "numpy")


def fingerprint(arrays: Sequence[Any]) -> str:
    """``sha256:<hex>`` of the arrays, each with its dtype and shape (order matters)."""
    digest = hashlib.sha256()
    for array in arrays:
        a = np.ascontiguousarray(np.asarray(array))
        digest.update(f"{a.dtype.str}{a.shape};".encode())
        digest.update(a.tobytes())
    return f"sha256:{digest.hexdigest()}"


def versions() -> dict[str, str | None]:
    """Python's and each package's installed version (None when it is not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance(
    *, seed: int | None, data: dict[str, Sequence[Any]], note: str | None = None
) -> dict[str, Any]:
    """The provenance JSON of a run: versions, seed, one fingerprint per named data part."""
    out: dict[str, Any] = {
        "versions": versions(),
        "seed": seed,
        "fingerprints": {part: fingerprint(arrays) for part, arrays in data.items()},
    }
    if note:
        out["note"] = note
    return out
