"""Reading a table file into pandas, and saying where a cell is (line, or row).

CSV and TSV keep the CSV reader's rules (``readers.csvfile``): UTF-8 (a BOM allowed,
other encodings named), the delimiter sniffed (mixed delimiters named), a header found
or not, every row with the header's field count (a wrong count names the line).  A
file without quotes or unusual line breaks goes to pandas' C parser
(``tableprep.read_table_file``, the exported script's reader too); one with them is
parsed by the csv module, which knows the line each record starts on.  Parquet goes
through pyarrow, Excel (``.xlsx``, the first sheet unless one is named) through
openpyxl.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fitgap_gui.core.data.readers.csvfile import (
    _DELIMITER_NAMES,
    _SNIFF_CHARS,
    DELIMITERS,
    _has_header,
    _plural,
    _records,
    _scan,
    decode_text,
    read_checked_bytes,
    sniff_delimiter,
)
from fitgap_gui.core.data.tableprep import read_table_file
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.userfiles import shown

_SNIFF_BYTES = _SNIFF_CHARS
#: File name endings read as each kind of table.
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class TableFile:
    """A table as read: every cell as found (text or the number pandas saw)."""

    path: Path
    frame: Any  # pandas.DataFrame
    names: list[str]
    header: bool
    #: How ``tableprep.read_table_file`` reads this file again (the exported script).
    options: dict
    meta: dict = field(default_factory=dict)
    #: CSV: the physical line of each data row; Excel: its sheet row; None: row numbers.
    lines: list[int] | None = None
    #: CSV parsed by the csv module: each record's cells, for error messages.
    records: list[list[str]] | None = None
    #: CSV parsed by pandas: the file's lines, read again for an error message only.
    raw_lines: list[str] | None = None

    def shown(self, name: str) -> str:
        """A column as messages name it: 'name' with a header, its number without."""
        return repr(name) if self.header else name

    def where(self, row: int, name: str) -> str:
        """ "data.csv: line 7, column 'b'" for the data row at position ``row``."""
        if self.options["kind"] == "csv":
            place = f"line {self._line(row)}"
        elif self.options["kind"] == "excel":
            place = f"row {row + 2}"
        else:
            place = f"row {row + 1}"
        return f"{shown(self.path)}: {place}, column {self.shown(name)}"

    def _line(self, row: int) -> int:
        if self.lines is None:
            self.lines = _data_line_numbers(self._raw_lines(), self.header)
        return self.lines[row]

    def _raw_lines(self) -> list[str]:
        if self.raw_lines is None:
            text = decode_text(self.path, read_checked_bytes(self.path))
            self.raw_lines = [line.removesuffix("\r") for line in text.split("\n")]
        return self.raw_lines

    def text(self, row: int, name: str) -> str:
        """The cell as written in the file (for error messages)."""
        col = self.names.index(name)
        if self.records is not None:
            return self.records[row][col].strip()
        if self.options["kind"] == "csv":
            data = [line for line in self._raw_lines() if line.strip()][int(self.header) :]
            return data[row].split(self.options["sep"])[col].strip()
        value = self.frame[name].iloc[row]
        return "" if value != value else str(value)


def _data_line_numbers(lines: list[str], header: bool) -> list[int]:
    numbers = [i + 1 for i, line in enumerate(lines) if line.strip()]
    return numbers[1:] if header else numbers


def _unique_names(header: list[str] | None, n_cols: int) -> list[str]:
    """Column names: the header's (blank ones numbered, repeats suffixed) or 1, 2, ..."""
    if header is None:
        return [str(i + 1) for i in range(n_cols)]
    names: list[str] = []
    for i, name in enumerate(header):
        name = name or str(i + 1)
        base, k = name, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


def _width_error(
    path: Path, line: int, n_fields: int, n_cols: int, header, delim, row
) -> DataError:
    first = "the header" if header else "the first row"
    others = [d for d in DELIMITERS if d != delim and any(d in cell for cell in row)]
    mixed = f"; the delimiters are mixed (this line has {_plural(others[0])})" if others else ""
    return DataError(
        f"{shown(path)}: line {line} has {n_fields} fields but {first} has {n_cols} "
        f"({_DELIMITER_NAMES[delim]}-separated){mixed}"
    )


_CHUNK = 1 << 24


def _line_breaks(raw: bytes, delim: str) -> tuple[np.ndarray, int]:
    """Where each line break (\\n) is, and how many delimiters the file holds."""
    breaks, n_delims, d = [], 0, ord(delim)
    for start in range(0, len(raw), _CHUNK):
        chunk = np.frombuffer(raw, np.uint8, count=min(_CHUNK, len(raw) - start), offset=start)
        breaks.append(np.flatnonzero(chunk == 10) + start)
        n_delims += int(np.count_nonzero(chunk == d))
    return (np.concatenate(breaks) if breaks else np.zeros(0, np.int64)), n_delims


def _check_utf8(path: Path, raw: bytes) -> None:
    """Refuse bytes that are not UTF-8, naming the first bad one, without keeping the text."""
    if raw.isascii():
        return
    view = memoryview(raw)
    pos = 3 if raw.startswith(codecs.BOM_UTF8) else 0
    while pos < len(raw):
        end = min(pos + _CHUNK, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # never cut a character
            end -= 1
        try:
            str(view[pos:end], "utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} is not UTF-8 text (byte {pos + exc.start} is not UTF-8); save it "
                "as UTF-8 CSV"
            ) from None
        pos = end


def _plain_bytes(raw: bytes) -> bool:
    """No quotes and no line break but \\n and \\r\\n (no VT, FF, FS, GS, RS, NEL, LS,
    PS; a lone \\r is found with the lines): pandas' records are the file's lines."""
    if any(b in raw for b in (b'"', b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")):
        return False
    odd = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
    return raw.isascii() or not any(b in raw for b in odd)


def _line_counts_fit(raw: bytes, delim: str, width: int, trailing: bool) -> int | None:
    """The number of lines when every line may have ``width`` fields (and, with
    ``trailing``, ends in the delimiter); None when one cannot, or when a line is blank
    or ends in a lone \\r (the csv module's path then reads the file).

    Counted, not split: the delimiters add up to ``width - 1`` per line.  A line with
    more fields than the first is refused by pandas' parser (``read_table_file``
    raises, and the csv module's path takes over), so with the totals equal no line
    has fewer either.
    """
    breaks, n_delims = _line_breaks(raw, delim)
    lines = len(breaks) + (not raw.endswith(b"\n"))
    if n_delims != lines * (width - 1) or raw[:1] in (b"\n", b"\r"):
        return None
    data = np.frombuffer(raw, np.uint8)
    before = data[np.maximum(breaks - 1, 0)]
    if b"\r" in raw and raw.count(b"\r") != int(np.count_nonzero(before == 13)):
        return None
    gaps = np.diff(breaks)
    if (gaps == 1).any() or ((gaps == 2) & (before[1:] == 13)).any():
        return None  # a blank line: the csv module's path skips it and counts lines
    if trailing:
        ends = breaks - 1 - (before == 13)
        if not raw.endswith(b"\n"):
            ends = np.append(ends, len(raw) - 1 - raw.endswith(b"\r"))
        if not (data[np.maximum(ends, 0)] == ord(delim)).all():
            return None
    return lines


def _simple_layout(path: Path, raw: bytes):
    """``(options, meta)`` for pandas' C parser, or None: quotes, unusual line breaks, a
    ragged line or anything odd go to the csv module's path (``_read_careful``)."""
    if not _plain_bytes(raw):
        return None
    head = raw[:_SNIFF_BYTES]
    if len(raw) > len(head):
        head = head[: head.rfind(b"\n") + 1]
    text = head.decode("utf-8-sig")
    if not text.strip():
        return None
    try:
        delim = sniff_delimiter(path, text)
    except DataError:
        return None
    rows, _ = _records(path, text, delim, limit=2)
    if not rows:
        return None
    trailing = len(rows[0]) > 1 and not rows[0][-1].strip()
    first = [row[:-1] if trailing else row for row in rows]
    header = _has_header(first[0], first[1] if len(first) > 1 else None)
    n_cols = len(first[0])
    nonblank = _line_counts_fit(raw, delim, n_cols + trailing, trailing)
    if n_cols < 2 or nonblank is None or nonblank < 1 + header:
        return None
    names = _unique_names([h.strip() for h in first[0]] if header else None, n_cols)
    options = {"kind": "csv", "sep": delim, "header": header, "names": names}
    meta = {"delimiter": _DELIMITER_NAMES[delim], "header": header}
    if trailing:
        meta["empty_last_column_ignored"] = True
    return options, meta


def _read_csv(path: Path) -> TableFile:
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    raw = read_checked_bytes(path)
    _check_utf8(path, raw)
    simple = _simple_layout(path, raw)
    if simple is None:
        return _read_careful(path, decode_text(path, raw))
    del raw  # pandas reads the file itself
    options, meta = simple
    try:
        frame = read_table_file(path, options)
    except pd.errors.ParserError:  # a line with too many fields: named by the csv module
        return _read_careful(path, decode_text(path, read_checked_bytes(path)))
    return TableFile(path, frame, options["names"], options["header"], options, meta)


def _read_careful(path: Path, text: str) -> TableFile:
    """The csv module's parse of the whole text: every record and the line it starts on."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    layout, _nonblank, rows, starts = _scan(path, text, None)
    delim, n_cols, trailing = layout.delimiter, layout.n_cols, layout.trailing
    header = layout.header is not None
    names = _unique_names(layout.header, n_cols)
    options = {"kind": "csv", "sep": delim, "header": header, "names": names}
    meta = {"delimiter": _DELIMITER_NAMES[delim], "header": header}
    if trailing:
        meta["empty_last_column_ignored"] = True
    if _nonblank is not None:  # a simple file that the fast path turned down: parse it all
        rows, starts = _records(path, text, delim)
    if header:
        rows, starts = rows[1:], starts[1:]
    if not rows:
        raise DataError(f"{shown(path)} has a header row but no data rows")
    width = n_cols + trailing
    for row, line in zip(rows, starts, strict=True):
        if len(row) != width:
            raise _width_error(path, line, len(row) - trailing, n_cols, header, delim, row)
    records = [row[:n_cols] for row in rows]
    frame = pd.DataFrame(records, columns=names, dtype=object)
    return TableFile(path, frame, names, header, options, meta, lines=starts, records=records)


def _read_other(path: Path, kind: str, sheet: str | None) -> TableFile:
    options: dict = {"kind": kind}
    if kind == "excel":
        options["sheet"] = sheet
    try:
        frame = read_table_file(path, options)
    except (ValueError, KeyError) as exc:
        if kind == "excel" and sheet is not None and "not found" in str(exc).lower():
            raise DataError(f"{shown(path)} has no sheet {sheet!r}{_sheets(path)}") from None
        raise DataError(f"{shown(path)} cannot be read as {kind}: {str(exc)[:200]}") from None
    except Exception as exc:  # pyarrow and openpyxl raise their own kinds on bad files
        what = "a Parquet file" if kind == "parquet" else "an Excel workbook (.xlsx)"
        raise DataError(
            f"{shown(path)} is not {what} that can be read ({type(exc).__name__})"
        ) from None
    names = _unique_names([str(c) for c in frame.columns], len(frame.columns))
    frame.columns = names
    if len(frame) == 0:
        raise DataError(f"{shown(path)} has a header row but no data rows")
    if len(names) < 2:
        raise DataError(
            f"{shown(path)} has one column; it needs feature columns and a label column"
        )
    meta: dict = {"header": True}
    if kind == "excel":
        meta["sheet"] = sheet
    return TableFile(path, frame, names, True, options, meta)


def _sheets(path: Path) -> str:
    """ " (sheets: 'a', 'b')", or nothing when the names cannot be read."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
    except Exception:  # (the sheet's absence is the message; the list is a courtesy)
        return ""
    return " (sheets: " + ", ".join(repr(str(n)) for n in names[:20]) + ")"


def table_kind(path: Path) -> str:
    """ "parquet", "excel" or "csv" (any other name is read as delimited text)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    return "csv"


def load_table_file(path: Path, sheet: str | None = None) -> TableFile:
    """The table as read; DataError with a one-line reason when it cannot be read."""
    kind = table_kind(path)
    if kind == "csv":
        return _read_csv(path)
    return _read_other(path, kind, sheet)
