"""NPZ reader: unsplit (x, y) arrays, or x_train, y_train with their own parts.

``x_test``/``y_test`` are the test part; ``x_val``/``y_val`` the validation rows (without
them, validation is split from the training rows by ``data.validation_split``).  An NPZ
with validation rows but no test rows has no test part.

``np.load`` runs with ``allow_pickle=False`` always, so an archive holding pickled
Python objects is refused, never executed.  Labels are integers or one-hot rows.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from fitgap_gui.core.data.readers import RawData, open_data_file
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.memory import format_bytes, memory_budget

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
#: The validation and test arrays of a pre-split archive (Keras's own names the test part).
VAL_KEYS = ("x_val", "y_val")
TEST_KEYS = ("x_test", "y_test")
#: What the test part is, or why there is none.
NPZ_TEST_PART = "the NPZ's own x_test"
NPZ_NO_TEST = "none: the NPZ brings its own validation rows but no test rows"
#: numpy's own limit on an .npy header when pickles are not allowed (np.load's default).
NPY_MAX_HEADER = 10_000


def _header_too_large(path: Path, name: str, exc: Exception) -> DataError | None:
    """numpy refuses headers over its size limit with a message that mentions pickles."""
    text = str(exc)
    if "Header info length" not in text and "max_header_size" not in text:
        return None
    return DataError(
        f"{path}: the header of array {name!r} is larger than numpy's safety limit of "
        f"{NPY_MAX_HEADER:,} characters; save the arrays again with np.savez"
    )


def _pickled(path: Path) -> DataError:
    return DataError(
        f"{path} holds pickled Python objects, which FitGap never loads; "
        "save plain numeric arrays with np.savez"
    )


def _member_header(member) -> tuple[tuple[int, ...], np.dtype] | None:
    """Shape and dtype from a member's .npy header, read without reading its data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member, NPY_MAX_HEADER)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member, NPY_MAX_HEADER)
    else:  # a newer format: np.load checks it itself
        return None
    return shape, dtype


def check_expanded_size(path: Path, handle, size_on_disk: int) -> None:
    """Refuse an archive whose arrays would not fit in memory, before expanding any.

    The zip directory gives each member's uncompressed size and each .npy header its
    shape, so a deflate bomb (gigabytes of zeros in a few megabytes) is refused
    after reading a few hundred bytes, never by running out of memory.
    """
    try:
        archive = zipfile.ZipFile(handle)
    except Exception as exc:  # BadZipFile, EOFError, OSError of a damaged directory
        raise DataError(
            f"{path} is not a readable .npz archive ({type(exc).__name__}: {exc})"
        ) from None
    budget = memory_budget()
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > budget:
        biggest = max(infos, key=lambda info: info.file_size)
        raise DataError(
            f"{path}: its arrays expand to {format_bytes(total)} ({biggest.filename} alone "
            f"{format_bytes(biggest.file_size)}) from {format_bytes(size_on_disk)} on disk, "
            f"more than the {format_bytes(budget)} of memory FitGap may use here"
        )
    for info in infos:
        name = info.filename.removesuffix(".npy")
        try:
            with archive.open(info) as member:
                found = _member_header(member)
        except ValueError as exc:
            too_large = _header_too_large(path, name, exc)
            if too_large is not None:
                raise too_large from None
            continue  # np.load reports a damaged header with its own words
        except Exception:  # encrypted or damaged member: np.load reports it
            continue
        if found is None:
            continue
        shape, dtype = found
        if dtype.hasobject:
            raise _pickled(path)
        declared = math.prod(shape) * dtype.itemsize
        if declared > budget:
            raise DataError(
                f"{path}: array {name!r} has shape {shape} ({format_bytes(declared)}), more "
                f"than the {format_bytes(budget)} of memory FitGap may use here"
            )
        if declared > info.file_size:
            raise DataError(
                f"{path}: array {name!r} claims shape {shape} ({format_bytes(declared)}) but "
                f"holds {format_bytes(info.file_size)}; the archive is damaged"
            )


def open_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, read with allow_pickle=False after a size check."""
    # Our own file handle: np.load leaks its handle when the zip is damaged.
    with open_data_file(path, "an .npz file") as handle:
        head = handle.read(6)
        if head.startswith(NPY_MAGIC):
            raise DataError(
                f"{path} is a single .npy array, not an .npz archive; save x and y together "
                "with np.savez"
            )
        if not head.startswith(ZIP_MAGIC):
            raise DataError(f"{path} is not an .npz archive (no zip header)")
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(0)
        check_expanded_size(path, handle, size)
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        except ValueError as exc:
            too_large = _header_too_large(path, "?", exc)
            if too_large is not None:
                raise too_large from None
            if "pickle" in str(exc).lower():
                raise _pickled(path) from None
            raise DataError(f"{path} is not a readable .npz archive ({exc})") from None
        except MemoryError:
            raise DataError(f"{path} holds arrays too large for this computer's memory") from None
        except Exception as exc:  # zip, zlib, header and EOF errors of a damaged archive
            raise DataError(
                f"{path} is not a readable .npz archive ({type(exc).__name__}: {exc})"
            ) from None


def as_labels(y):
    """Integer class labels; one-hot rows become their class number."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    return y.astype(np.int64)


def labels(path: Path, key: str, y: np.ndarray) -> np.ndarray:
    """Integer class labels from integer (or whole float) labels or one-hot rows, checked,
    then made by ``as_labels`` (which the exported script carries)."""
    flat = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if flat.ndim == 2 and flat.shape[1] > 1:
        if y.dtype.kind not in "iufb" or not np.isin(y, (0, 1)).all():
            raise DataError(f"{path}: {key} has 2-D rows that are not one-hot (0/1) vectors")
        if not (y.sum(axis=1) == 1).all():
            row = int(np.flatnonzero(y.sum(axis=1) != 1)[0])
            raise DataError(f"{path}: {key} row {row} is not one-hot (it needs exactly one 1)")
    elif flat.ndim != 1:
        raise DataError(f"{path}: {key} must be a 1-D array of integer labels, got shape {y.shape}")
    elif flat.dtype.kind == "f":
        if not np.isfinite(flat).all() or not (flat == np.round(flat)).all():
            raise DataError(f"{path}: {key} must hold whole-number class labels")
    elif flat.dtype.kind not in "iub":
        raise DataError(f"{path}: {key} must hold integer class labels, not {y.dtype}")
    y = as_labels(y)
    if len(y) and y.min() < 0:
        raise DataError(f"{path}: {key} has negative labels; use 0..n_classes-1")
    return y


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


def _part(path: Path, arrays: dict, keys: tuple[str, str], x: np.ndarray):
    """A validation or test pair of the archive, or (None, None) when it has none."""
    xk, yk = keys
    if xk not in arrays or yk not in arrays:
        return None, None
    x_part, y_part = _pair(path, arrays, xk, yk)
    if x.shape[1:] != x_part.shape[1:]:
        raise DataError(
            f"{path}: x_train samples have shape {x.shape[1:]} but {xk} samples {x_part.shape[1:]}"
        )
    return x_part, y_part


def read_npz(path: Path) -> RawData:
    arrays = open_npz(path)
    if "x_train" in arrays and "y_train" in arrays:
        x, y = _pair(path, arrays, "x_train", "y_train")
        x_val, y_val = _part(path, arrays, VAL_KEYS, x)
        x_test, y_test = _part(path, arrays, TEST_KEYS, x)
        if x_val is None and x_test is None:
            raise DataError(
                f"{path} has x_train and y_train but no x_val, y_val or x_test, y_test; "
                "add them, or name the arrays x and y to let FitGap split them"
            )
        meta = {
            "split": "presplit" if x_val is not None else "test given",
            "test_part": NPZ_TEST_PART if x_test is not None else NPZ_NO_TEST,
        }
        return RawData(path.name, x, y, x_val, y_val, meta=meta, x_test=x_test, y_test=y_test)
    if "x" in arrays and "y" in arrays:
        x, y = _pair(path, arrays, "x", "y")
        return RawData(path.name, x, y, meta={"split": "unsplit"})
    raise DataError(
        f"{path} needs arrays x and y, or x_train, y_train with x_test, y_test and/or "
        f"x_val, y_val; it has {', '.join(sorted(arrays)) or 'none'}"
    )
