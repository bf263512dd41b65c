"""Table files (CSV, TSV, Parquet, Excel): each column typed, and what will happen to it.

``inspect_table`` reads a table and reports every column (its type as read, distinct
values, missing cells, and what the preparation will do with it), the label column and
its class counts: the preview shows this report, ``fitgap data show`` prints it.  It
raises DataError only when the file cannot be read at all; why the chosen label (or a
cell) cannot be used goes into ``TableReport.error``, so the preview still opens.
``read_table`` is the reader the data pipeline calls: the same report, refused on an
error, then the columns typed by the plan (``core.data.tableprep``), whose transformer
``core.data.datasets`` fits on the training rows only.

The rules (docs/ARCHITECTURE.md, "Tables"): a column is a category only when its values
are text through and through; a column of numbers with a cell that is not one (a typo,
a decimal comma, a unit), a non-finite number or a wrong field count is refused naming
the line (CSV) or row (Parquet, Excel) and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fitgap_gui.core.data.readers import RawData, require_file
from fitgap_gui.core.data.readers.csvfile import is_number
from fitgap_gui.core.data.readers.tableread import TableFile, load_table_file
from fitgap_gui.core.data.tableprep import as_numbers, clean_table, table_rows
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.userfiles import shown

__all__ = [
    "MISSING_CHOICES",
    "ColumnReport",
    "TableData",
    "TableReport",
    "inspect_table",
    "read_table",
]

LABEL_NAMES = ("label", "target", "class", "y")
#: A numeric label with more distinct values than this is a quantity, not classes.
MAX_LABEL_NUMBERS = 50
#: "Every value distinct" says "an ID" only with at least this many values.
MIN_ID_VALUES = 20
#: Column names that say "an identifier": id, user_id, SampleID, rowid, index, #, no.
_ID_WORD = re.compile(r"(?:^|[^A-Za-z])(?:id|ID|Id)$|^(?:id|ID|Id)(?:[^A-Za-z]|$)|[a-z]I[Dd]$")
_ID_NAME = re.compile(r"^(?:row ?id|index|unnamed: ?\d+|#|no\.?|nr\.?)$", re.I)
FLOAT32_MAX = float(np.finfo(np.float32).max)
MISSING_CHOICES = ("impute", "drop_rows", "refuse")
#: Numbers written another way: a decimal comma, thousands separators, a unit or currency.
_OTHER_NUMBER = re.compile(
    r"^[-+]?(?:[$€£¥]\s*)?(?:\d+,\d+|\d{1,3}(?:[,.' \u00a0]\d{3})+(?:[.,]\d+)?"
    r"|\d+(?:[.,]\d+)?\s*(?:%|‰|[$€£¥]|kg|g|mg|lbs?|oz|km|m|cm|mm|in|ft|s|ms|min|h|°[CF]?|K)"
    r"|[$€£¥]\s*\d+(?:[.,]\d+)?)$"
)


@dataclass(frozen=True)
class ColumnReport:
    """One column of a table: as read, and what the preparation does with it."""

    name: str
    #: "number", "integer", "text", "boolean" or "empty", as read.
    kind: str
    distinct: int
    missing: int
    #: In words: "label", "number", "one-hot, 3 categories", "0/1", "dropped: ...".
    action: str


@dataclass(frozen=True)
class TableReport:
    """What the preview shows of a table file, and why it cannot be used (``error``)."""

    path: str
    rows: int
    columns: list[ColumnReport]
    label: str | None
    class_counts: dict[str, int]
    notices: list[str]
    error: str | None


@dataclass
class TableData:
    """A table read and typed for the pipeline: the feature columns as one float32 array
    (``tableprep.table_rows``: NaN for a missing cell) and the plan that typed them;
    the labels are ``RawData.y``."""

    features: np.ndarray
    plan: dict
    report: TableReport
    #: How the file was read (``tableprep.read_table_file``'s options).
    options: dict = field(default_factory=dict)


@dataclass
class _Column:
    kind: str
    distinct: int
    missing: int
    present: int
    #: Why the column cannot be used as a feature (a cell that is not a number, ...).
    problem: str | None = None


def _cell_kind(value: Any) -> str:
    """ "bool", "number" or "text" for one non-missing cell."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    text = str(value)
    if text.lower() in ("true", "false"):
        return "bool"
    return "number" if is_number(text) else "text"


def _other(text: str) -> bool:
    """A number written another way (decimal comma, thousands separator, unit)."""
    return bool(_OTHER_NUMBER.match(text.strip()))


def _number_problem(table: TableFile, name: str, numbers: np.ndarray) -> str | None:
    """Why a column of numbers cannot be used: a non-finite or too large value."""
    beyond = np.abs(numbers) > FLOAT32_MAX  # (NaN compares False: a missing cell)
    if not beyond.any():
        return None
    row = int(np.flatnonzero(beyond)[0])
    text = table.text(row, name)
    if np.isinf(numbers[row]):
        why = "is infinite" if "inf" in text.lower() else "is too large (overflow)"
    else:
        why = "is too large for a 32-bit float"
    return f"{table.where(row, name)}: {text[:40]!r} {why}"


def _mixed_problem(table: TableFile, name: str, values, kinds: dict) -> str:
    """A column of numbers with text in it, or text with numbers: refused, never guessed."""
    cell_kinds = np.array([kinds.get(v, "missing") for v in values.astype(object)], dtype=object)
    is_number = cell_kinds == "number"
    is_text = (cell_kinds != "number") & (cell_kinds != "missing")
    if is_number.sum() >= is_text.sum():
        row = int(np.flatnonzero(is_text)[0])
        text = table.text(row, name)
        hint = " (a decimal comma, a thousands separator or a unit?)" if _other(text) else ""
        return f"{table.where(row, name)}: {text[:40]!r} is not a number{hint}"
    row = int(np.flatnonzero(is_number)[0])
    text = table.text(row, name)
    return (
        f"{table.where(row, name)}: {text[:40]!r} is a number in a column of text; a "
        "column is a category only when every value is text"
    )


def _type_column(table: TableFile, name: str, values) -> _Column:
    """The column's kind as read, its counts, and why it cannot be a feature (if so)."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    missing = values.isna().to_numpy()
    n_missing = int(missing.sum())
    n_present = len(values) - n_missing
    if n_present == 0:
        return _Column("empty", 0, n_missing, 0)
    if values.dtype.kind == "b":
        return _Column("boolean", int(values.nunique()), n_missing, n_present)
    if values.dtype.kind not in "iuf":
        present = values[~missing]
        uniques = present.unique()
        kinds = {v: _cell_kind(v) for v in uniques}
        found = set(kinds.values())
        if found == {"bool"}:
            return _Column("boolean", len(uniques), n_missing, n_present)
        if "number" not in found:
            column = _Column("text", len(uniques), n_missing, n_present)
            if all(_other(str(v)) for v in uniques):
                row = int(np.flatnonzero(~missing)[0])
                column.problem = (
                    f"{table.where(row, name)}: {table.text(row, name)[:40]!r} is not a number "
                    "(a decimal comma, a thousands separator or a unit?); write plain numbers"
                )
            return column
        if found != {"number"}:
            column = _Column("number", len(uniques), n_missing, n_present)
            column.problem = _mixed_problem(table, name, values, kinds)
            return column
    numbers = as_numbers(values)
    kind = "integer"
    if values.dtype.kind not in "iu":  # whole numbers: no fraction but NaN's (inf's is 0)
        fractions = np.count_nonzero(np.modf(numbers)[0])
        kind = "integer" if fractions == n_missing else "number"
    column = values if values.dtype.kind in "iuf" else pd.Series(numbers)
    distinct = int(column.nunique())  # (hashing, not sorting: a million rows)
    return _Column(kind, distinct, n_missing, n_present, _number_problem(table, name, numbers))


def _feature_action(column: _Column, max_categories: int, id_name: bool) -> tuple[str, str | None]:
    """What happens to a feature column, in words, and its list in the plan (None: none).

    Whole numbers all distinct are an ID only under an ID's name (``id_name``): a small
    table's measurements (a body mass in grams) may all differ too.
    """
    if column.kind == "empty":
        return "dropped: empty", None
    if column.problem:
        return "refused", None  # (the place and the reason are added by the caller)
    if column.kind == "boolean":
        return "0/1", "booleans"
    every_distinct = column.distinct == column.present >= MIN_ID_VALUES
    if every_distinct and (column.kind == "text" or (column.kind == "integer" and id_name)):
        return "dropped: every value distinct (an ID?)", None
    if column.kind == "text":
        n = column.distinct
        if n > max_categories:
            return f"dropped: {n} distinct texts (more than {max_categories})", None
        return f"one-hot, {n} categor{'y' if n == 1 else 'ies'}", "categories"
    return "number", "numbers"


def _label_index(table: TableFile, wanted: str | int | None) -> int:
    """The label column's position; DataError (a message for ``.error``) if none fits."""
    names = table.names
    n_cols = len(names)
    if isinstance(wanted, int):
        if not -n_cols <= wanted < n_cols:
            raise DataError(
                f"{shown(table.path)}: data.label_column {wanted} is out of range; the file "
                f"has {n_cols} columns (0 to {n_cols - 1})"
            )
        return wanted % n_cols
    if isinstance(wanted, str):
        if not table.header:
            raise DataError(
                f"{shown(table.path)} has no header row, so data.label_column {wanted!r} "
                "cannot be found; give a column number instead"
            )
        if wanted in names:
            return names.index(wanted)
        lowered = [n.strip().lower() for n in names]
        if wanted.strip().lower() in lowered:
            return lowered.index(wanted.strip().lower())
        listed = ", ".join(repr(n) for n in names[:30]) + (" ..." if n_cols > 30 else "")
        raise DataError(f"{shown(table.path)} has no column {wanted!r} (columns: {listed})")
    lowered = [n.strip().lower() for n in names] if table.header else []
    for name in LABEL_NAMES:
        if name in lowered:
            return lowered.index(name)
    return n_cols - 1


def _label_problem(table: TableFile, name: str, column: _Column) -> str | None:
    """Why a column cannot be the label: empty, non-finite, or a quantity to predict."""
    where = f"{shown(table.path)}: the label column {table.shown(name)}"
    if column.kind == "empty":
        return f"{where} is empty"
    if column.kind not in ("number", "integer"):
        return None  # any text is a class name (a column of mixed cells too)
    mixed = column.problem and ("not a number" in column.problem or "text" in column.problem)
    if column.problem and not mixed:  # (mixed cells are read as text: class names)
        return column.problem
    if not column.problem and column.distinct > MAX_LABEL_NUMBERS:
        return (
            f"{where} looks like a regression target ({column.distinct} distinct numbers, "
            f"more than {MAX_LABEL_NUMBERS}); FitGap classifies: choose a column of classes "
            "(--label, data.label_column)"
        )
    return None


def inspect_table(
    path: str | Path,
    label: str | int | None = None,
    *,
    sheet: str | None = None,
    missing: str = "impute",
    max_categories: int = 50,
) -> TableReport:
    """The table's columns, label and class counts; DataError only if the file cannot be
    read.  ``label``: a column name or 0-based number (None: a column named
    label/target/class/y, else the last)."""
    return _inspect(Path(path).expanduser(), label, sheet, missing, max_categories)[0]


def _inspect(path: Path, label, sheet, missing: str, max_categories: int):
    """The report, and for a usable table its plan and typed rows (``plan["rows"]``)."""
    require_file(path, "a table file")
    table = load_table_file(path, sheet)
    frame = clean_table(table.frame)
    typed = {name: _type_column(table, name, frame[name]) for name in table.names}
    label_error = None
    label_name: str | None = None
    try:
        label_name = table.names[_label_index(table, label)]
    except DataError as exc:
        label_error = str(exc)
    plan: dict[str, Any] = {
        "label": label_name,
        "label_numeric": False,
        "numbers": [],
        "booleans": [],
        "categories": [],
        "missing": missing,
    }
    levels: dict[str, int] = {}
    reports, notices, problems = [], [], []
    for name in table.names:
        column = typed[name]
        if name == label_name:
            action = "label"
            label_error = _label_problem(table, name, column)
            numeric = column.kind in ("number", "integer") and not column.problem
            plan["label_numeric"] = numeric
        else:
            id_name = bool(_ID_WORD.search(name) or _ID_NAME.match(name.strip()))
            action, kind = _feature_action(column, max_categories, id_name and table.header)
            if kind is not None:
                plan[kind].append(name)
                if kind == "categories":
                    levels[name] = column.distinct
            elif column.problem:
                problems.append(column.problem)
                where = column.problem.removeprefix(f"{shown(table.path)}: ")
                action = "refused: " + where.replace(f", column {table.shown(name)}", "", 1)
            else:
                notices.append(f"column {table.shown(name)} {action}")
        reports.append(ColumnReport(name, column.kind, column.distinct, column.missing, action))
    used = plan["numbers"] + plan["booleans"] + plan["categories"]
    error = label_error or (problems[0] if problems else None)
    if error is None and not used:
        error = f"{shown(path)}: no column is left to learn from (every feature column is dropped)"
    if error is None:
        error = _missing_problem(table, frame, used, missing)
    counts: dict[str, int] = {}
    if label_error is None and label_name is not None:
        features, y, names, n_unlabelled, n_incomplete = table_rows(frame, plan)
        counts = dict(zip(names, np.bincount(y, minlength=len(names)).tolist(), strict=True))
        notices += _row_notices(table, frame, plan, n_unlabelled, n_incomplete)
        plan["class_names"] = names
        plan["rows"] = (features, y)
        plan["levels"] = levels
    report = TableReport(str(path), len(frame), reports, label_name, counts, notices, error)
    return report, table, plan


def _missing_problem(table: TableFile, frame, used: list[str], missing: str) -> str | None:
    """With ``missing: refuse``, the first missing cell of a feature column."""
    if missing != "refuse" or not used:
        return None
    holes = frame[used].isna().to_numpy()
    if not holes.any():
        return None
    row, col = (int(i) for i in np.argwhere(holes)[0])
    text = table.text(row, used[col])
    what = f"missing value ({text!r})" if text.strip() else "missing value"
    return f"{table.where(row, used[col])}: {what}"


def _row_notices(table: TableFile, frame, plan: dict, n_unlabelled: int, n_incomplete: int):
    """What was done to which rows and cells, one line each."""
    notices = []
    if n_unlabelled:
        s = "s" if n_unlabelled != 1 else ""
        notices.append(
            f"{n_unlabelled} row{s} without a label ({table.shown(plan['label'])}) dropped"
        )
    if plan["missing"] == "drop_rows" and n_incomplete:
        s = "s" if n_incomplete != 1 else ""
        notices.append(
            f"{n_incomplete} row{s} with a missing cell dropped (data.missing: drop_rows)"
        )
    if plan["missing"] == "impute":
        labelled = frame[plan["label"]].notna().to_numpy()
        for kind, how in (
            ("numbers", "median"),
            ("booleans", "most frequent value"),
            ("categories", "most frequent value"),
        ):
            for name in plan[kind]:
                count = int(frame[name].isna().to_numpy()[labelled].sum())
                if count:
                    s = "s" if count != 1 else ""
                    notices.append(
                        f"column {table.shown(name)}: {count} missing cell{s} filled with the "
                        f"training rows' {how}"
                    )
    return notices


def read_table(
    path: Path,
    label: str | int | None = None,
    *,
    sheet: str | None = None,
    missing: str = "impute",
    max_categories: int = 50,
) -> RawData:
    """The table for the pipeline, refused (DataError) where its report has an error:
    ``RawData.x`` holds row numbers, ``RawData.table`` the typed feature columns."""
    report, table, plan = _inspect(path, label, sheet, missing, max_categories)
    if report.error:
        raise DataError(report.error)
    features, y = plan.pop("rows")
    meta = {
        **table.meta,
        "label_column": report.label if table.header else table.names.index(str(report.label)),
        "feature_names": plan["numbers"] + plan["booleans"] + plan["categories"],
    }
    if report.notices:
        meta["notices"] = list(report.notices)
    rows = np.arange(len(y), dtype=np.int64).reshape(-1, 1)
    raw = RawData(name=path.name, x=rows, y=y, class_names=plan["class_names"], meta=meta)
    raw.table = TableData(features, plan, report, table.options)
    return raw
