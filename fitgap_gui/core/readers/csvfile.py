"""CSV reader: header or not, comma/semicolon/tab, a label column, numeric features.

The label column is ``label_column`` (a name, or a 0-based number), else a column
named label/target/class/y, else the last one.  Labels may be any text; each distinct
value becomes a class, its text kept as the class name.  Every feature must be a
finite number: the first bad cell is reported by line and column.
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import RawData, require_file

DELIMITERS = (",", ";", "\t")
LABEL_NAMES = ("label", "target", "class", "y")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path: Path) -> str:
    require_file(path, "a CSV file")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path} is not a text file (it holds binary data)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from None


def sniff_delimiter(path: Path, lines: list[str]) -> str:
    """The delimiter that splits the first lines into equal, mostly numeric fields."""
    sample = [line for line in lines[:50] if line.strip()]
    best, best_score = None, None
    for delim in DELIMITERS:
        counts = [line.count(delim) for line in sample]
        if not counts or min(counts) == 0:
            continue
        fields = sample[-1].split(delim)
        numeric = sum(_is_number(f.strip()) for f in fields)
        # A consistent count first (quoted text may break it), then numeric fields.
        score = (len(set(counts)) == 1, numeric, min(counts))
        if best_score is None or score > best_score:
            best, best_score = delim, score
    if best is None:
        raise DataError(
            f"{path}: found no comma, semicolon or tab; a CSV needs feature columns "
            "and a label column"
        )
    return best


def _has_header(first: list[str], second: list[str] | None) -> bool:
    """A header is all names, or names where the next row holds numbers."""
    if all(f.strip() and not _is_number(f) for f in first):
        return True
    if second is None:
        return False
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second, strict=False))


def _label_index(path: Path, header: list[str] | None, n_cols: int, wanted) -> int:
    if isinstance(wanted, int):
        if not -n_cols <= wanted < n_cols:
            raise DataError(
                f"{path}: data.label_column {wanted} is out of range; the file has "
                f"{n_cols} columns (0 to {n_cols - 1})"
            )
        return wanted % n_cols
    if isinstance(wanted, str):
        if header is None:
            raise DataError(
                f"{path} has no header row, so data.label_column {wanted!r} cannot be "
                "found; give a column number instead"
            )
        if wanted in header:
            return header.index(wanted)
        lowered = [h.lower() for h in header]
        if wanted.lower() in lowered:
            return lowered.index(wanted.lower())
        raise DataError(f"{path} has no column {wanted!r} (columns: {', '.join(header)[:200]})")
    if header is not None:
        lowered = [h.strip().lower() for h in header]
        for name in LABEL_NAMES:
            if name in lowered:
                return lowered.index(name)
    return n_cols - 1


def _bad_cell(path: Path, rows, line_numbers, columns, names) -> DataError:
    """The first cell that is not a finite number, as a one-line error."""
    for row, line in zip(rows, line_numbers, strict=True):
        for col in columns:
            text = row[col].strip()
            where = f"{path}: line {line}, column {names[col]}"
            if not text:
                return DataError(f"{where}: missing value")
            try:
                value = float(text)
            except ValueError:
                return DataError(f"{where}: {text[:40]!r} is not a number")
            if math.isnan(value):
                return DataError(f"{where}: {text!r} is not a number (NaN)")
            if math.isinf(value):
                kind = "infinite" if "inf" in text.lower() else "too large (overflow)"
                return DataError(f"{where}: {text[:40]!r} is {kind}")
            if abs(value) > FLOAT32_MAX:
                return DataError(f"{where}: {text[:40]!r} is too large for a 32-bit float")
    return DataError(f"{path}: the features are not all finite numbers")


def _encode_labels(path, labels: list[str], line_numbers: list[int] | None, name: str):
    """Each distinct label becomes a class; numbers are ordered by value, text by name.

    ``line_numbers`` is None when the fast path read the file: it has no empty labels.
    """
    for text, line in zip(labels, line_numbers or [], strict=False):
        if not text:
            raise DataError(f"{path}: line {line}, column {name}: missing label")
    distinct = sorted(set(labels))
    if all(_is_number(t) for t in distinct):
        by_value: dict[float, str] = {}
        for t in distinct:
            v = float(t)
            if not math.isfinite(v):
                row = labels.index(t)
                where = f"line {line_numbers[row]}" if line_numbers else f"data row {row + 1}"
                raise DataError(f"{path}: {where}, column {name}: label {t!r} is not finite")
            by_value.setdefault(v, t)
        order = sorted(by_value)
        index: dict = {v: i for i, v in enumerate(order)}
        y = np.fromiter((index[float(t)] for t in labels), dtype=np.int64, count=len(labels))
        names = [f"{v:g}" for v in order]
    else:
        index = {t: i for i, t in enumerate(distinct)}
        y = np.fromiter((index[t] for t in labels), dtype=np.int64, count=len(labels))
        names = distinct
    return y, names


def _parse_rows(path: Path, lines, delim: str, limit: int | None = None):
    """Non-blank rows and their line numbers, with the csv module's quoting rules."""
    reader = csv.reader(lines, delimiter=delim, skipinitialspace=True)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        for row in reader:
            if row and (len(row) > 1 or row[0].strip()):
                rows.append(row)
                line_numbers.append(reader.line_num)
                if limit is not None and len(rows) >= limit:
                    break
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    return rows, line_numbers


def _fast_columns(lines: list[str], delim: str, n_cols: int, features, label):
    """numpy's C parser for the common, clean file; None sends it to the careful path.

    Only files without quotes and with the same field count on every line come
    here, so both parsers see the same cells; anything odd is located (line and
    column) by the slower csv-module path.
    """
    if any(line.count(delim) != n_cols - 1 for line in lines):
        return None
    options: dict = {"delimiter": delim, "comments": None, "quotechar": None}
    try:
        with warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.simplefilter("error")
            x = np.loadtxt(lines, usecols=features, dtype=np.float64, ndmin=2, **options)
            labels = np.loadtxt(lines, usecols=[label], dtype=str, ndmin=1, **options)
            x32 = x.astype(np.float32)
    except (ValueError, UserWarning):
        return None
    labels = np.char.strip(labels)
    if len(x32) != len(lines) or not np.isfinite(x32).all() or (labels == "").any():
        return None
    return x32, labels.tolist()


def read_csv(path: Path, label_column: str | int | None = None) -> RawData:
    """Read a CSV of numeric features and one label column; DataError on any bad cell."""
    text = _read_text(path)
    lines = text.splitlines()
    nonblank = [line for line in lines if line.strip()]
    if not nonblank:
        raise DataError(f"{path} holds no rows (only blank lines)")
    delim = sniff_delimiter(path, lines)
    first, _ = _parse_rows(path, lines, delim, limit=2)
    header = None
    if _has_header(first[0], first[1] if len(first) > 1 else None):
        header = [h.strip() for h in first[0]]
    n_cols = len(header) if header is not None else len(first[0])
    if n_cols < 2:
        raise DataError(f"{path} has one column; it needs feature columns and a label column")
    names = [h or f"{i + 1}" for i, h in enumerate(header)] if header else None
    names = [repr(n) for n in names] if names else [str(i + 1) for i in range(n_cols)]
    label = _label_index(path, header, n_cols, label_column)
    features = [c for c in range(n_cols) if c != label]

    data_lines = nonblank[1:] if header is not None else nonblank
    if not data_lines:
        raise DataError(f"{path} has a header row but no data rows")
    fast = None if '"' in text else _fast_columns(data_lines, delim, n_cols, features, label)
    if fast is not None:
        x32, labels = fast
        line_numbers = None
    else:
        x32, labels, line_numbers = _careful_columns(
            path, lines, delim, header, n_cols, names, features, label
        )
    y, class_names = _encode_labels(path, labels, line_numbers, names[label])
    return RawData(
        name=path.name,
        x=x32,
        y=y,
        class_names=class_names,
        meta={
            "delimiter": _DELIMITER_NAMES[delim],
            "header": header is not None,
            "label_column": header[label] if header else label,
            "feature_names": [header[c] for c in features] if header else None,
        },
    )


def _careful_columns(path, lines, delim, header, n_cols, names, features, label):
    """The csv module's parse, cell by cell where needed, to name the first bad cell."""
    rows, line_numbers = _parse_rows(path, lines, delim)
    if header is not None:
        rows, line_numbers = rows[1:], line_numbers[1:]
    if not rows:
        raise DataError(f"{path} has a header row but no data rows")
    for row, line in zip(rows, line_numbers, strict=True):
        if len(row) != n_cols:
            first = "the header" if header is not None else "the first row"
            raise DataError(
                f"{path}: line {line} has {len(row)} fields but {first} has {n_cols} "
                f"({_DELIMITER_NAMES[delim]}-separated)"
            )
    cells = [[row[c] for c in features] for row in rows]
    try:
        x = np.array(cells, dtype=np.float64)
    except ValueError:
        raise _bad_cell(path, rows, line_numbers, features, names) from None
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    if not np.isfinite(x32).all():
        raise _bad_cell(path, rows, line_numbers, features, names)
    return x32, [row[label].strip() for row in rows], line_numbers
