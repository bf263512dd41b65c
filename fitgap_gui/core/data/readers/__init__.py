"""Readers for the user's data: one module per kind of source, all returning RawData.

A reader only turns a file (or folder) into arrays and refuses what it cannot read,
with a one-line DataError naming the file and the place.  The checks every source
shares (two classes, matching lengths, sane sizes) live in ``core.data``.  Nothing
here imports TensorFlow, so a bad file is answered in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from fitgap_gui.core.errors import DataError
from fitgap_gui.core.memory import MAX_FILE_BYTES
from fitgap_gui.core.userfiles import open_regular, shown, stat_regular


@dataclass
class RawData:
    """What a reader found, before the splits into training, validation and test rows.

    ``x``/``y`` are every sample of an unsplit source, or the training part of a
    pre-split one: ``x_val``/``y_val`` are set when the source brings its own
    validation rows, ``x_test``/``y_test`` when it brings its own test part (then
    ``meta["test_part"]`` says what it is).  Labels are 0-based integers.
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
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    #: A table file (``readers.tablefile.TableData``): ``x`` holds row numbers, and the
    #: columns are prepared after the splits, fitted on the training rows only.
    table: Any = None

    @property
    def presplit(self) -> bool:
        """The source brings its own validation rows."""
        return self.x_val is not None

    @property
    def has_test(self) -> bool:
        """The source brings its own test part (``data.test_split`` is not used)."""
        return self.x_test is not None


def _check_size(path: Path, size: int) -> None:
    if size == 0:
        raise DataError(f"{shown(path)} is empty")
    if size > MAX_FILE_BYTES:
        raise DataError(
            f"{shown(path)} is {size / 1024**3:.1f} GiB; FitGap reads files up to 4 GiB"
        )


def require_file(path: Path, what: str) -> None:
    """Refuse a missing path, a folder, a FIFO or device (reading those could hang)."""
    _check_size(path, stat_regular(path, DataError, what).st_size)


def open_data_file(path: Path, what: str) -> BinaryIO:
    """The data file opened for binary reading, after the checks of ``require_file``.

    Opened without blocking, so a FIFO is refused instead of waited on, and every
    OSError of the path (too long, a link loop, no permission) is a one-line DataError.
    """
    handle, size = open_regular(path, DataError, what)
    try:
        _check_size(path, size)
    except DataError:
        handle.close()
        raise
    return handle
