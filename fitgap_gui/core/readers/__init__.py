"""Readers for the user's data: one module per kind of source, all returning RawData.

A reader only turns a file (or folder) into arrays and refuses what it cannot read,
with a one-line DataError naming the file and the place.  The checks every source
shares (two classes, matching lengths, sane sizes) live in ``core.data``.  Nothing
here imports TensorFlow, so a bad file is answered in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError


@dataclass
class RawData:
    """What a reader found, before the split into training and validation rows.

    ``x``/``y`` are every sample of an unsplit source, or the training part of a
    pre-split one (then ``x_val``/``y_val`` are set).  Labels are 0-based integers.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    class_names: list[str] | None = None
    kind: str = "tabular"  # "tabular", "points2d" or "image"
    image_shape: tuple[int, ...] | None = None
    meta: dict = field(default_factory=dict)

    @property
    def presplit(self) -> bool:
        return self.x_val is not None


#: Larger files are refused rather than read into memory (a safety net, not a format rule).
MAX_FILE_BYTES = 4 * 1024**3


def require_file(path: Path, what: str) -> None:
    """Refuse a missing path, a folder, a FIFO or device (reading those could hang)."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not {what}")
    if not path.is_file():
        raise DataError(f"{path} is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"{path} is empty")
    if size > MAX_FILE_BYTES:
        raise DataError(f"{path} is {size / 1024**3:.1f} GiB; FitGap reads files up to 4 GiB")
