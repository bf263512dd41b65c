"""Checking the run store and salvaging a damaged one (``fitgap store check|recover``).

Recovery never edits the damaged file.  It reads what SQLite still can, one row at a
time so that a damaged page costs only the rows on it, into a fresh store; then it
moves the damaged file (with its ``-wal`` and ``-shm``) aside under a timestamped
name and puts the fresh one in its place.  Run ids are kept, so the ``models``
folder, which is left as it is, still matches its runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.store.faults import fault_kind, store_error, store_timeout
from fitgap_gui.core.store.owners import owner_alive
from fitgap_gui.core.store.tables import SCHEMA
from fitgap_gui.core.userfiles import default_home

STORE_FILE = "runs.sqlite3"
#: Rows read per range query while salvaging; a range that fails is re-read row by row.
_CHUNK = 256
_MODEL_NAME = re.compile(r"run-(\d+)\.keras")


@dataclass
class CheckReport:
    """What ``PRAGMA integrity_check`` found; no problems means the store is sound."""

    path: Path
    exists: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RecoverReport:
    """What ``recover_store`` did: where the damaged file went and what was saved."""

    path: Path
    moved_to: Path
    runs: int
    epochs: int
    runs_lost: list[int]


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes the (possibly damaged) file."""
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=store_timeout())


def check_store(home: str | Path | None = None) -> CheckReport:
    """Run SQLite's own integrity check on the store; never changes it."""
    path = Path(home if home is not None else default_home()) / STORE_FILE
    if not path.is_file():
        return CheckReport(path, exists=False)
    try:
        db = _read_only(path)
        try:
            found = [str(row[0]) for row in db.execute("PRAGMA integrity_check(50)")]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        if fault_kind(exc) not in ("damaged", "io"):
            error = store_error(path, exc, store_timeout())
            if error is None:
                raise
            raise error from None
        found = [str(exc)]
    return CheckReport(path, exists=True, problems=[] if found == ["ok"] else found)


def _until_error(db: sqlite3.Connection, sql: str, args: Iterable[Any] = ()) -> Iterator[Any]:
    """The rows of a query up to the first one SQLite cannot read."""
    try:
        yield from db.execute(sql, tuple(args))
    except sqlite3.DatabaseError:
        return


def _salvage(db: sqlite3.Connection, table: str, key: str, known: set[int]) -> list[sqlite3.Row]:
    """Every row of ``table`` SQLite can still read, found by its integer ``key``.

    The keys come from every path that may still be readable (a scan, an index, the
    autoincrement counter); the rows are then read in ranges, and a range that hits a
    damaged page is read one key at a time, so only the rows on that page are lost.
    """
    for sql in (
        f"SELECT {key} FROM {table} NOT INDEXED",
        f"SELECT {key} FROM {table}",
        f"SELECT max({key}) FROM {table}",
        f"SELECT seq FROM sqlite_sequence WHERE name = '{table}'",
    ):
        known.update(int(row[0]) for row in _until_error(db, sql) if row[0] is not None)
    rows: dict[int, sqlite3.Row] = {}
    top = max(known, default=0)
    one = f"SELECT {key} AS _key, * FROM {table} NOT INDEXED WHERE {key} = ?"
    for start in range(1, top + 1, _CHUNK):
        end = min(start + _CHUNK - 1, top)
        try:
            chunk = db.execute(
                f"SELECT {key} AS _key, * FROM {table} NOT INDEXED WHERE {key} BETWEEN ? AND ?",
                (start, end),
            ).fetchall()
        except sqlite3.DatabaseError:
            chunk = [row for k in range(start, end + 1) for row in _until_error(db, one, (k,))]
        for row in chunk:
            rows[int(row["_key"])] = row
    beyond = f"SELECT {key} AS _key, * FROM {table} NOT INDEXED WHERE {key} > ? ORDER BY {key}"
    for row in _until_error(db, beyond, (top,)):
        rows[int(row["_key"])] = row
    return [rows[k] for k in sorted(rows)]


def _valid_run(row: sqlite3.Row) -> bool:
    """A run row whose text fields still parse (a damaged cell may not)."""
    try:
        RunConfig.from_json(row["config"])
        for column in ("best_metrics", "last_metrics", "diagnosis"):
            if row[column] is not None:
                json.loads(row[column])
        return isinstance(row["name"], str) and isinstance(row["status"], str)
    except (ValueError, TypeError, KeyError):
        return False


def _valid_epoch(row: sqlite3.Row) -> bool:
    try:
        return isinstance(json.loads(row["metrics"]), dict) and isinstance(row["epoch"], int)
    except (ValueError, TypeError):
        return False


def _copy(db: sqlite3.Connection, table: str, rows: list[sqlite3.Row]) -> None:
    columns = [info[1] for info in db.execute(f"PRAGMA table_info({table})")]
    for row in rows:
        names = set(row.keys())  # a Row's ``in`` looks at values, not column names
        have = [c for c in columns if c in names]
        marks = ", ".join("?" * len(have))
        db.execute(
            f"INSERT OR IGNORE INTO {table} ({', '.join(have)}) VALUES ({marks})",
            [row[c] for c in have],
        )


def _is_live(row: sqlite3.Row) -> bool:
    """Whether the process that owns a salvaged 'running' run is still alive."""
    started = row["pid_started"] if "pid_started" in set(row.keys()) else None
    return owner_alive(row["pid"], started)


def _highest_model_id(models: Path) -> int:
    """The highest run id with a model file: a new run must not overwrite it."""
    ids = [0]
    with contextlib.suppress(OSError):
        ids += [int(m.group(1)) for p in models.iterdir() if (m := _MODEL_NAME.fullmatch(p.name))]
    return max(ids)


def recover_store(home: str | Path | None = None, *, force: bool = False) -> RecoverReport | None:
    """Salvage a damaged store into a fresh one; returns None if it needed nothing.

    ``force`` rebuilds a store that passes its check too.  Close FitGap windows and
    runs first: a program that has the old file open keeps writing to it.
    """
    home = Path(home if home is not None else default_home())
    path = home / STORE_FILE
    report = check_store(home)
    if not report.exists:
        raise FitGapError(f"there is no run store at {path}; nothing to recover")
    if report.ok and not force:
        return None

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fresh_path = home / f"runs.recovering-{stamp}.sqlite3"
    moved_to = home / f"runs.damaged-{stamp}.sqlite3"
    known_runs: set[int] = set()
    try:
        src = _read_only(path)
        src.row_factory = sqlite3.Row
        epochs = _salvage(src, "epochs", "rowid", set())
        known_runs.update(int(row["run_id"]) for row in epochs if isinstance(row["run_id"], int))
        runs = [row for row in _salvage(src, "runs", "id", known_runs) if _valid_run(row)]
        old_seq = max(
            (int(r[0]) for r in _until_error(src, "SELECT seq FROM sqlite_sequence")), default=0
        )
        src.close()
    except sqlite3.DatabaseError:
        runs, epochs, old_seq = [], [], 0  # not even the schema is readable: start afresh
    live = [row["id"] for row in runs if row["status"] == "running" and _is_live(row)]
    if live:  # its process would go on writing to the file moved aside
        raise FitGapError(f"run {live[0]} is still training; stop it before recovering {path}")
    saved = {int(row["id"]) for row in runs}
    epochs = [row for row in epochs if row["run_id"] in saved and _valid_epoch(row)]

    fresh = sqlite3.connect(fresh_path)
    try:
        fresh.execute("PRAGMA journal_mode=WAL")
        fresh.executescript(SCHEMA)
        with fresh:
            _copy(fresh, "runs", runs)
            _copy(fresh, "epochs", epochs)
            # A run that lost epochs says so, instead of a history shorter than it claims.
            kept = "(SELECT count(*) FROM epochs WHERE epochs.run_id = runs.id)"
            fresh.execute(
                "UPDATE runs SET message = coalesce(message || '; ', '') || "
                f"'the store was recovered: ' || (epochs_run - {kept}) || ' of its ' || "
                f"epochs_run || ' epochs could not be read' WHERE {kept} < epochs_run"
            )
            # Ids of lost runs (and of their model files) are never handed out again.
            top = max([old_seq, *saved, *known_runs, _highest_model_id(home / "models")])
            fresh.execute("DELETE FROM sqlite_sequence WHERE name = 'runs'")
            fresh.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (top,))
        fresh.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        fresh.close()

    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{moved_to}{suffix}")
    os.replace(fresh_path, path)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{fresh_path}{suffix}")
    lost = sorted(known_runs - saved)
    return RecoverReport(path, moved_to, runs=len(runs), epochs=len(epochs), runs_lost=lost)
