"""Faults of the run store itself, as one ``StoreError`` line each.

A damaged file, a full disk, a read-only folder or a lock held by another program
comes out as one line that names the store file and what to do, never as a raw
``sqlite3`` exception (docs/ARCHITECTURE.md, "Store").  ``guarded`` turns the faults
raised inside a ``RunStore`` method into that line; ``store_timeout`` reads how long a
write waits for another program's lock.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from fitgap_gui.core.errors import FitGapError

#: Seconds a statement waits for another connection's lock before giving up.
DEFAULT_TIMEOUT = 30.0

_P = ParamSpec("_P")
_T = TypeVar("_T")

# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_KINDS = {
    _BUSY: "locked",
    _LOCKED: "locked",
    _READONLY: "readonly",
    _IOERR: "io",
    _CORRUPT: "damaged",
    _FULL: "full",
    _CANTOPEN: "cantopen",
    _NOTADB: "damaged",
}
#: Faults that stop writes but leave the file readable.
CANNOT_WRITE = ("full", "readonly", "locked", "cantopen", "io")
#: Those of them that make an open fall back to reading (a lock passes: wait or fail).
READ_ONLY_FALLBACK = ("full", "readonly", "cantopen", "io")
_RECOVER_HINT = "run 'fitgap store recover' to move it aside and salvage its runs"


class StoreError(FitGapError):
    """The run store itself failed: damaged, full, read-only, locked or unreadable.

    ``kind`` is one of ``damaged``, ``full``, ``readonly``, ``locked``, ``io`` and
    ``cantopen``; the message is one line naming the store file and what to do.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def fault_kind(exc: BaseException) -> str | None:
    """Which store fault an ``sqlite3`` error is, or None for anything else (a bug)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return _KINDS.get(code & 0xFF)
    text = str(exc).lower()  # errors raised by the sqlite3 module itself carry no code
    for fragment, kind in (
        ("malformed", "damaged"),
        ("not a database", "damaged"),
        ("disk is full", "full"),
        ("readonly", "readonly"),
        ("locked", "locked"),
    ):
        if fragment in text:
            return kind
    return None


def store_error(path: Path, exc: BaseException, timeout: float) -> StoreError | None:
    """The one line for a store fault, or None when ``exc`` is not one."""
    kind = fault_kind(exc)
    if kind is None:
        return None
    detail = str(exc)
    text = {
        "damaged": f"the run store {path} is damaged ({detail}); {_RECOVER_HINT}",
        "full": f"the run store {path} cannot be written: the disk is full; "
        "free some space and try again",
        "readonly": f"the run store {path} is read-only ({detail}); "
        "make it writable or set FITGAP_HOME to another folder",
        "locked": f"the run store {path} is locked by another program (waited {timeout:g} s); "
        "close that program or try again later",
        "io": f"the run store {path} cannot be read or written ({detail}); check the disk, "
        "then run 'fitgap store check'",
        "cantopen": f"the run store {path} cannot be opened ({detail})",
    }[kind]
    return StoreError(text, kind)


def guarded(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn a store fault raised inside a RunStore method into its StoreError line."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            self = args[0]
            error = store_error(self.path, exc, self.timeout)  # type: ignore[attr-defined]
            if error is None:
                raise
            raise error from None

    return wrapper


def store_timeout() -> float:
    """``$FITGAP_STORE_TIMEOUT`` in seconds, else the default lock wait."""
    raw = os.environ.get("FITGAP_STORE_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 86_400:
        raise FitGapError(f"FITGAP_STORE_TIMEOUT={raw!r} is not a number of seconds above 0")
    return value
