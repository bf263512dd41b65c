"""Fixed-width text tables for the terminal: every column has a header, text starts
and numbers end where their header does, an empty cell prints ``-``.

``Column`` says a column's title, width and kind; ``header_lines`` gives an optional
line of group titles (each starts above its first column) and the titles; ``line``
lays out one row.  Used by ``experiments.tables`` for the compare and sweep tables.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

#: What an empty cell prints.
EMPTY = "-"
#: Between two columns.
GAP = "  "


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    #: Numbers end where the title ends (right-aligned); text starts where it starts.
    numeric: bool = False
    #: A group title printed above this column, where a group of columns starts.
    group: str = ""

    def fit(self, cells: Sequence[str]) -> Column:
        """This column, wide enough for its title and ``cells``."""
        width = max([self.width, len(self.title), *(len(c) for c in cells)])
        return Column(self.title, width, self.numeric, self.group)


def _cell(text: str, column: Column) -> str:
    text = text if text.strip() else EMPTY
    return text.rjust(column.width) if column.numeric else text.ljust(column.width)


def line(cells: Sequence[str], columns: Sequence[Column]) -> str:
    """One row; the last text column is not padded (no trailing blanks)."""
    return GAP.join(_cell(c, col) for c, col in zip(cells, columns, strict=True)).rstrip()


def header_lines(columns: Sequence[Column]) -> str:
    """The group line (when any column starts a group), then the titles."""
    titles = line([col.title for col in columns], columns)
    if not any(col.group for col in columns):
        return titles
    groups, at = "", 0
    for col in columns:
        if col.group:  # above its column, or after the previous group and a blank
            groups = (groups.ljust(at) if len(groups) < at else groups + " ") + col.group
        at += col.width + len(GAP)
    return f"{groups.rstrip()}\n{titles}"


def wrap_key(text: str, width: int = 88) -> str:
    """The key line under a table ("key: ..."), wrapped for an 88-column terminal."""
    return textwrap.fill(text, width, initial_indent="key: ", subsequent_indent="     ")
