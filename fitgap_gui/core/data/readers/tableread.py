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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitgap_gui.core.data.readers.csvfile import (
    _DELIMITER_NAMES,
    DELIMITERS,
    _plural,
    _read_text,
    _records,
    _scan,
)
from fitgap_gui.core.data.tableprep import read_table_file
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.userfiles import shown

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
    #: CSV parsed by pandas: the data lines, for error messages.
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
            self.lines = _data_line_numbers(self.raw_lines or [], self.header)
        return self.lines[row]

    def text(self, row: int, name: str) -> str:
        """The cell as written in the file (for error messages)."""
        col = self.names.index(name)
        if self.records is not None:
            return self.records[row][col].strip()
        if self.raw_lines is not None:
            data = [line for line in self.raw_lines if line.strip()][int(self.header) :]
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


def _read_csv(path: Path) -> TableFile:
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    text = _read_text(path)
    layout, nonblank, rows, starts = _scan(path, text, None)
    delim, n_cols, trailing = layout.delimiter, layout.n_cols, layout.trailing
    header = layout.header is not None
    names = _unique_names(layout.header, n_cols)
    width = n_cols + trailing
    options = {"kind": "csv", "sep": delim, "header": header, "names": names}
    meta = {"delimiter": _DELIMITER_NAMES[delim], "header": header}
    if trailing:
        meta["empty_last_column_ignored"] = True
    if nonblank is not None and all(line.count(delim) == width - 1 for line in nonblank):
        if header and len(nonblank) < 2:
            raise DataError(f"{shown(path)} has a header row but no data rows")
        del nonblank
        frame = read_table_file(path, options)
        lines = text.split("\n")
        return TableFile(path, frame, names, header, options, meta, raw_lines=lines)
    if nonblank is not None:
        rows, starts = _records(path, text, delim)
    del text
    if header:
        rows, starts = rows[1:], starts[1:]
    if not rows:
        raise DataError(f"{shown(path)} has a header row but no data rows")
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
            raise DataError(f"{shown(path)} has no sheet {sheet!r}") from None
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
    meta = {"header": True}
    if kind == "excel":
        meta["sheet"] = sheet
    return TableFile(path, frame, names, True, options, meta)


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
