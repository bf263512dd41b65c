"""``fitgap data show FILE``: a table file's columns, as the open-data preview shows them.

Each column with its type as read, distinct values, missing cells and what will happen
to it (``core.data.readers.tablefile.inspect_table``), then the label column and its
class counts, then the notices.  A file that cannot be read, or a label column that
cannot be used, ends with one ``error:`` line on stderr (exit 2), after the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fitgap_gui.cli.common import (
    EXIT_OK,
    Parser,
    add_label_flag,
    label_column,
    source_for_path,
)
from fitgap_gui.core.config.schema import MISSING_CHOICES
from fitgap_gui.core.data.readers.tablefile import TableReport, inspect_table
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.textsafe import printable

_HEADINGS = ("column", "type", "distinct", "missing", "what happens")


def report_lines(report: TableReport) -> list[str]:
    """The report as the terminal shows it (user text escaped by the caller)."""
    rows = [(c.name, c.kind, str(c.distinct), str(c.missing), c.action) for c in report.columns]
    widths = [max(len(row[i]) for row in [_HEADINGS, *rows]) for i in range(4)]
    name_width = min(widths[0], 32)

    def line(cells) -> str:
        name = cells[0] if len(cells[0]) <= name_width else cells[0][: name_width - 1] + "…"
        return (
            f"{name:<{name_width}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}  "
            f"{cells[3]:>{widths[3]}}  {cells[4]}"
        ).rstrip()

    out = [f"{Path(report.path).name}: {report.rows} rows, {len(report.columns)} columns"]
    out += [line(_HEADINGS)] + [line(row) for row in rows]
    if report.label is not None and report.class_counts:
        counts = ", ".join(f"{name} {n}" for name, n in report.class_counts.items())
        n_classes = len(report.class_counts)
        out.append(f"label: {report.label!r}, {n_classes} classes: {counts}")
    elif report.label is not None:
        out.append(f"label: {report.label!r}")
    out += [f"notice: {notice}" for notice in report.notices]
    return out


def cmd_data_show(args: argparse.Namespace) -> int:
    if source_for_path(args.file) != "csv":
        raise FitGapError(
            f"{args.file}: 'data show' reads table files (.csv, .tsv, .parquet, .xlsx); "
            "an NPZ or an image folder is previewed by 'fitgap train' and the window"
        )
    report = inspect_table(
        args.file,
        label_column(args.label) if args.label is not None else None,
        sheet=args.sheet,
        missing=args.missing,
        max_categories=args.max_categories,
    )
    for text in report_lines(report):
        print(printable(text))
    if report.error:
        raise FitGapError(report.error)
    return EXIT_OK


def _max_categories(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def add_data(sub) -> None:
    data = sub.add_parser("data", help="look at a data file before training on it")
    actions = data.add_subparsers(dest="action", required=True, parser_class=Parser)
    show = actions.add_parser(
        "show",
        help="a table's columns (type, distinct values, missing cells, what will happen), "
        "its label and class counts",
    )
    show.add_argument("file", metavar="FILE", help="a .csv, .tsv, .parquet or .xlsx file")
    add_label_flag(show)
    show.add_argument("--sheet", metavar="NAME", help="an Excel sheet (default: the first)")
    show.add_argument(
        "--missing",
        choices=MISSING_CHOICES,
        default="impute",
        help="what missing cells get (data.missing; default impute)",
    )
    show.add_argument(
        "--max-categories",
        type=_max_categories,
        default=50,
        metavar="N",
        help="text columns with at most N distinct values are one-hot encoded (default 50)",
    )
    show.set_defaults(func=cmd_data_show)
