"""Text from users made safe where it leaves FitGap: a terminal, or a spreadsheet.

``printable(text)`` is for the terminal: run names, file names, paths and class
labels may hold control characters (an ``ESC ] 0 ; ... BEL`` sequence retitles the
terminal, others move the cursor or rewrite what was printed) or bidi overrides that
make a line read differently from what it holds.  Each such character is shown as a
Python-style escape (``\\x1b``, ``\\u202e``); everything else, accents and emoji
included, prints as it is.

``spreadsheet_cell(value)`` is for CSV files: a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is taken as a formula by spreadsheet
programs, so it gets a leading single quote, as OWASP's "CSV injection" advice says.
Numbers, and text that is only a plain number such as ``-0.5``, stay as they are.
"""

from __future__ import annotations

import re

__all__ = ["printable", "spreadsheet_cell"]

#: C0 controls, DEL and C1 controls; the Arabic letter mark, LRM/RLM, the line and
#: paragraph separators, the bidi embeddings/overrides and isolates; lone surrogates
#: (a file name that is not valid UTF-8 decodes to them, and printing one would raise).
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``str(text)`` with every terminal control and bidi character escaped, on one line."""
    return _UNPRINTABLE.sub(_escape, str(text))


#: What a spreadsheet reads as the start of a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number: a cell like "-0.5" or "-1e-05" is a number, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_cell(value: object) -> object:
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula gets a
    leading ``'``; numbers and None are returned unchanged."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value
