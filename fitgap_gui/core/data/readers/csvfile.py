"""CSV reader: header or not, comma/semicolon/tab, a label column, numeric features.

The label column is ``label_column`` (a name, or a 0-based number), else a column
named label/target/class/y, else the last one.  Labels may be any text; each distinct
value becomes a class, its text kept as the class name.  Every feature must be a
finite number: the first bad cell is reported by line and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fitgap_gui.core.data.readers import RawData, open_data_file
from fitgap_gui.core.errors import DataError

DELIMITERS = (",", ";", "\t")
LABEL_NAMES = ("label", "target", "class", "y")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Cells that mean "no value" in exported spreadsheets (NaN parses as a number).
MISSING_MARKERS = frozenset({"", "na", "n/a", "null", "none", "?"})
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
#: Line breaks other than \n and \r\n (or a lone \r): ``str.splitlines`` splits on them.
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]|\r(?!\n)")
_SNIFF_CHARS = 1 << 16
_SNIFF_ROWS = 50


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_missing(text: str) -> bool:
    """A blank cell or a common missing-value marker (NA, N/A, null, ...)."""
    return text.strip().lower() in MISSING_MARKERS


def _utf16_without_bom(sample: bytes) -> bool:
    """Mostly ASCII text stored as UTF-16: every other byte is a NUL."""
    half = len(sample) // 2
    if half < 2:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) > 0.3 * half and min(even, odd) < 0.05 * half


def _read_text(path: Path) -> str:
    return decode_text(path, read_checked_bytes(path))


def read_checked_bytes(path: Path) -> bytes:
    """The file's bytes, refused when they are UTF-16/32 text or binary data."""
    with open_data_file(path, "a CSV file") as handle:
        raw = handle.read()
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            raise DataError(f"{path} is {name} text, not UTF-8; save it as UTF-8 CSV")
    if b"\x00" in raw[:65536]:
        if _utf16_without_bom(raw[:4096]):
            raise DataError(f"{path} looks like UTF-16 text, not UTF-8; save it as UTF-8 CSV")
        raise DataError(f"{path} is not a text file (it holds binary data)")
    return raw


def decode_text(path: Path, raw: bytes) -> str:
    """The bytes as UTF-8 text (a BOM dropped); refused, naming the byte, when not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start} is not UTF-8); save it as UTF-8 CSV"
        ) from None


def _records(path: Path, text: str, delim: str, limit: int | None = None):
    """Non-blank records and the line each starts on, parsed from the whole stream.

    The csv module sees the text as one stream, so a quoted field may hold a newline,
    a U+2028 or a form feed; only a line break (LF, CRLF or CR) ends a line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, skipinitialspace=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    start = 1
    try:
        for row in reader:
            if row and (len(row) > 1 or row[0].strip()):
                rows.append(row)
                starts.append(start)
                if limit is not None and len(rows) >= limit:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    return rows, starts


def _plural(delim: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs"}[delim]


def _no_delimiter(path: Path, head: str) -> DataError:
    """Why no delimiter fits: the lines use different ones, some lines lack it, or none."""
    first_use: dict[str, int] = {}
    lacking = None
    for number, line in enumerate(head.split("\n")[:200], start=1):
        if not line.strip():
            continue
        present = [d for d in DELIMITERS if d in line]
        for delim in present:
            first_use.setdefault(delim, number)
        if not present and lacking is None:
            lacking = number
    used = sorted(first_use.items(), key=lambda item: item[1])
    if len(used) >= 2:
        (a, line_a), (b, line_b) = used[:2]
        return DataError(
            f"{path}: the delimiters are mixed (line {line_a} uses {_plural(a)}, line "
            f"{line_b} {_plural(b)}); use one delimiter in the whole file"
        )
    if used and lacking is not None:
        only, line_only = used[0]
        return DataError(
            f"{path}: line {lacking} has no {_DELIMITER_NAMES[only]} while line {line_only} "
            f"is {_DELIMITER_NAMES[only]}-separated; every row needs the same columns"
        )
    return DataError(
        f"{path}: found no comma, semicolon or tab; a CSV needs feature columns and a label column"
    )


def sniff_delimiter(path: Path, text: str) -> str:
    """The delimiter that splits the first records into equal, mostly numeric fields."""
    head = text[:_SNIFF_CHARS]
    best, best_score = None, None
    for delim in DELIMITERS:
        try:
            rows, _ = _records(path, head, delim, limit=_SNIFF_ROWS + 1)
        except DataError:
            continue
        if len(head) < len(text) and len(rows) > 1:
            rows = rows[:-1]  # the cut may have split the last record
        rows = rows[:_SNIFF_ROWS]
        counts = [len(row) - 1 for row in rows]
        if not counts or min(counts) == 0:
            continue
        numeric = sum(_is_number(f.strip()) for f in rows[-1])
        # A consistent count first, then numeric fields.
        score = (len(set(counts)) == 1, numeric, min(counts))
        if best_score is None or score > best_score:
            best, best_score = delim, score
    if best is None:
        raise _no_delimiter(path, head)
    return best


def _has_header(first: list[str], second: list[str] | None) -> bool:
    """A header is all names, or names where the next row holds numbers.

    A blank or NA cell is no evidence: it is a missing value of a data row, which
    the caller refuses on line 1 like on any other line (never drops the row).
    """
    if all(f.strip() and not _is_number(f) and not _is_missing(f) for f in first):
        return True
    if second is None:
        return False
    return any(
        not _is_number(a) and not _is_missing(a) and _is_number(b)
        for a, b in zip(first, second, strict=False)
    )


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
                if _is_missing(text):
                    return DataError(f"{where}: missing value ({text!r})")
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


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is laid out, as the reader sees it (the exported script reuses it)."""

    delimiter: str
    header: list[str] | None
    #: Columns, not counting an empty last one that every line's final delimiter makes.
    n_cols: int
    #: Every line ends in the delimiter: the empty last column is ignored.
    trailing: bool
    #: The label column, 0-based.
    label: int


def _scan(path: Path, text: str, label_column):
    """The layout, and what was parsed to find it (rows, or lines for the fast path)."""
    if not text.strip():
        raise DataError(f"{path} holds no rows (only blank lines)")
    delim = sniff_delimiter(path, text)
    # Files without quotes or unusual line breaks can go to numpy's fast parser line by line.
    simple = '"' not in text and not _ODD_BREAKS.search(text)
    nonblank = None
    if simple:
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        nonblank = [line for line in lines if line.strip()]
        trailing = all(line.rstrip(" \r").endswith(delim) for line in nonblank)
        rows, starts = _records(path, text, delim, limit=2)
    else:
        rows, starts = _records(path, text, delim)
        trailing = all(len(row) > 1 and not row[-1].strip() for row in rows)
    if not rows:
        raise DataError(f"{path} holds no rows (only blank lines)")
    first = [row[:-1] if trailing else row for row in rows[:2]]
    header = None
    if _has_header(first[0], first[1] if len(first) > 1 else None):
        header = [h.strip() for h in first[0]]
    n_cols = len(first[0])
    if n_cols < 2:
        raise DataError(f"{path} has one column; it needs feature columns and a label column")
    label = _label_index(path, header, n_cols, label_column)
    return CsvLayout(delim, header, n_cols, trailing, label), nonblank, rows, starts


def csv_layout(path: Path, label_column: str | int | None = None) -> CsvLayout:
    """The delimiter, header, columns and label column ``read_csv`` would use."""
    return _scan(path, _read_text(path), label_column)[0]


def read_csv(path: Path, label_column: str | int | None = None) -> RawData:
    """Read a CSV of numeric features and one label column; DataError on any bad cell."""
    text = _read_text(path)
    layout, nonblank, rows, starts = _scan(path, text, label_column)
    delim, header, n_cols, trailing, label = (
        layout.delimiter,
        layout.header,
        layout.n_cols,
        layout.trailing,
        layout.label,
    )
    names = [h or f"{i + 1}" for i, h in enumerate(header)] if header else None
    names = [repr(n) for n in names] if names else [str(i + 1) for i in range(n_cols)]
    features = [c for c in range(n_cols) if c != label]

    fast = None
    if nonblank is not None:  # the simple file: numpy's parser first
        data_lines = nonblank[1:] if header is not None else nonblank
        if not data_lines:
            raise DataError(f"{path} has a header row but no data rows")
        fast = _fast_columns(data_lines, delim, n_cols + trailing, features, label)
        if fast is None:
            rows, starts = _records(path, text, delim)
    if fast is not None:
        x32, labels = fast
        line_numbers = None
    else:
        columns = (header, n_cols, trailing, names, features, label)
        x32, labels, line_numbers = _careful_columns(path, rows, starts, delim, columns)
    y, class_names = _encode_labels(path, labels, line_numbers, names[label])
    meta = {
        "delimiter": _DELIMITER_NAMES[delim],
        "header": header is not None,
        "label_column": header[label] if header else label,
        "feature_names": [header[c] for c in features] if header else None,
    }
    if trailing:
        meta["empty_last_column_ignored"] = True
    return RawData(name=path.name, x=x32, y=y, class_names=class_names, meta=meta)


def _careful_columns(path: Path, rows, starts, delim: str, layout):
    """The csv module's parse, cell by cell where needed, to name the first bad cell."""
    header, n_cols, trailing, names, features, label = layout
    if header is not None:
        rows, starts = rows[1:], starts[1:]
    if not rows:
        raise DataError(f"{path} has a header row but no data rows")
    width = n_cols + trailing
    for row, line in zip(rows, starts, strict=True):
        if len(row) != width:
            first = "the header" if header is not None else "the first row"
            others = [d for d in DELIMITERS if d != delim and any(d in cell for cell in row)]
            mixed = (
                f"; the delimiters are mixed (this line has {_plural(others[0])})" if others else ""
            )
            raise DataError(
                f"{path}: line {line} has {len(row) - trailing} fields but {first} has "
                f"{n_cols} ({_DELIMITER_NAMES[delim]}-separated){mixed}"
            )
    if trailing:
        rows = [row[:n_cols] for row in rows]
    cells = [[row[c] for c in features] for row in rows]
    try:
        x = np.array(cells, dtype=np.float64)
    except ValueError:
        raise _bad_cell(path, rows, starts, features, names) from None
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    if not np.isfinite(x32).all():
        raise _bad_cell(path, rows, starts, features, names)
    return x32, [row[label].strip() for row in rows], starts
