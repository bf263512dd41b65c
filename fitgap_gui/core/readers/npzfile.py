"""NPZ reader: pre-split (x_train, y_train, x_val, y_val) or unsplit (x, y) arrays.

``np.load`` runs with ``allow_pickle=False`` always, so an archive holding pickled
Python objects is refused, never executed.  Labels are integers or one-hot rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from . import RawData, require_file

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
#: Validation arrays may also be named as Keras's own archives name them.
VAL_ALIASES = (("x_val", "y_val"), ("x_test", "y_test"))


def open_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, read with allow_pickle=False."""
    require_file(path, "an .npz file")
    with path.open("rb") as f:
        head = f.read(6)
    if head.startswith(NPY_MAGIC):
        raise DataError(
            f"{path} is a single .npy array, not an .npz archive; save x and y together "
            "with np.savez"
        )
    if not head.startswith(ZIP_MAGIC):
        raise DataError(f"{path} is not an .npz archive (no zip header)")
    try:
        # Our own file handle: np.load leaks its handle when the zip is damaged.
        with path.open("rb") as f, np.load(f, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"{path} holds pickled Python objects, which FitGap never loads; "
                "save plain numeric arrays with np.savez"
            ) from None
        raise DataError(f"{path} is not a readable .npz archive ({exc})") from None
    except MemoryError:
        raise DataError(f"{path} holds arrays too large for this computer's memory") from None
    except Exception as exc:  # zip, zlib, header and EOF errors of a damaged archive
        raise DataError(
            f"{path} is not a readable .npz archive ({type(exc).__name__}: {exc})"
        ) from None


def labels(path: Path, key: str, y: np.ndarray) -> np.ndarray:
    """Integer class labels from integer (or whole float) labels or one-hot rows."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind not in "iufb" or not np.isin(y, (0, 1)).all():
            raise DataError(f"{path}: {key} has 2-D rows that are not one-hot (0/1) vectors")
        if not (y.sum(axis=1) == 1).all():
            row = int(np.flatnonzero(y.sum(axis=1) != 1)[0])
            raise DataError(f"{path}: {key} row {row} is not one-hot (it needs exactly one 1)")
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DataError(f"{path}: {key} must be a 1-D array of integer labels, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not (y == np.round(y)).all():
            raise DataError(f"{path}: {key} must hold whole-number class labels")
    elif y.dtype.kind not in "iub":
        raise DataError(f"{path}: {key} must hold integer class labels, not {y.dtype}")
    if len(y) and y.min() < 0:
        raise DataError(f"{path}: {key} has negative labels; use 0..n_classes-1")
    return y.astype(np.int64)


def features(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """Float32 features, one row per sample, all finite."""
    if x.dtype.kind not in "iufb":
        raise DataError(f"{path}: {key} must be numeric, not {x.dtype}")
    if x.ndim < 2:
        raise DataError(
            f"{path}: {key} must have one row per sample (2-D or more), got shape {x.shape}"
        )
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    if not np.isfinite(x).all():
        row = int(np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))[0])
        raise DataError(
            f"{path}: {key} row {row} contains NaN or infinite values (or overflows float32)"
        )
    return x


def _pair(path: Path, arrays: dict, xk: str, yk: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = features(path, xk, arrays[xk]), labels(path, yk, arrays[yk])
    if len(x) != len(y):
        raise DataError(f"{path}: {xk} has {len(x)} rows but {yk} has {len(y)}")
    return x, y


def read_npz(path: Path) -> RawData:
    arrays = open_npz(path)
    if "x_train" in arrays and "y_train" in arrays:
        for xv, yv in VAL_ALIASES:
            if xv in arrays and yv in arrays:
                x, y = _pair(path, arrays, "x_train", "y_train")
                x_val, y_val = _pair(path, arrays, xv, yv)
                if x.shape[1:] != x_val.shape[1:]:
                    raise DataError(
                        f"{path}: x_train samples have shape {x.shape[1:]} but {xv} "
                        f"samples {x_val.shape[1:]}"
                    )
                return RawData(path.name, x, y, x_val, y_val, meta={"split": "presplit"})
        raise DataError(
            f"{path} has x_train and y_train but no x_val and y_val; add them, or name "
            "the arrays x and y to let FitGap split them"
        )
    if "x" in arrays and "y" in arrays:
        x, y = _pair(path, arrays, "x", "y")
        return RawData(path.name, x, y, meta={"split": "unsplit"})
    raise DataError(
        f"{path} needs arrays x_train, y_train, x_val, y_val (or x and y); it has "
        f"{', '.join(sorted(arrays)) or 'none'}"
    )
