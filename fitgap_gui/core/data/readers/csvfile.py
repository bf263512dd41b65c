"""The CSV rules of table files: UTF-8, the delimiter, the header, the records' lines.

``readers.tableread`` reads CSV and TSV files with them: a BOM is dropped and other
encodings are named (UTF-16/32, Latin-1: "save it as UTF-8"); the delimiter (comma,
semicolon or tab) is sniffed, mixed delimiters are named; a header row is found or
not; ``_scan`` parses the whole text with the csv module where pandas' C parser must not
(quotes, unusual line breaks), knowing the line each record starts on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from fitgap_gui.core.data.readers import open_data_file
from fitgap_gui.core.errors import DataError

DELIMITERS = (",", ";", "\t")
LABEL_NAMES = ("label", "target", "class", "y")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
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


def is_number(text: str) -> bool:
    """Whether ``float`` reads ``text`` (a CSV cell, or a table's text cell)."""
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
        numeric = sum(is_number(f.strip()) for f in rows[-1])
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
    if all(f.strip() and not is_number(f) and not _is_missing(f) for f in first):
        return True
    if second is None:
        return False
    return any(
        not is_number(a) and not _is_missing(a) and is_number(b)
        for a, b in zip(first, second, strict=False)
    )


def names_text(names: list[str], limit: int = 200) -> str:
    """Column names for a message, whole ones only: 'a, b, c and 40 more'."""
    shown: list[str] = []
    for name in names:
        if shown and len(", ".join([*shown, name])) > limit:
            return f"{', '.join(shown)} and {len(names) - len(shown)} more"
        shown.append(name)
    return ", ".join(shown)


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
        raise DataError(f"{path} has no column {wanted!r} (columns: {names_text(header)})")
    if header is not None:
        lowered = [h.strip().lower() for h in header]
        for name in LABEL_NAMES:
            if name in lowered:
                return lowered.index(name)
    return n_cols - 1


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
