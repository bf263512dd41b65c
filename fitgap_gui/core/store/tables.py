"""The store's tables: the schema, and the columns added to stores written before them.

``examples`` holds one row per run that has per-example dynamics: an npz blob
(``core.results.examples.ExampleDynamics.to_bytes``); a table added later is made by
``CREATE TABLE IF NOT EXISTS`` on open, like the first ones.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    created       TEXT NOT NULL,
    finished      TEXT,
    config        TEXT NOT NULL,
    status        TEXT NOT NULL,
    epochs_run    INTEGER NOT NULL DEFAULT 0,
    best_epoch    INTEGER,
    stopped_epoch INTEGER,
    restored_best INTEGER NOT NULL DEFAULT 0,
    best_metrics  TEXT,
    last_metrics  TEXT,
    diagnosis     TEXT,
    message       TEXT,
    model_file    TEXT,
    pid           INTEGER,
    pid_started   TEXT,
    reserve       BLOB,
    kind          TEXT NOT NULL DEFAULT 'fitgap',
    levers        TEXT,
    provenance    TEXT,
    ran_on        TEXT,
    parent_run_id INTEGER,
    branch_epoch  INTEGER,
    test          TEXT,
    class_names   TEXT,
    script_data   TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch   INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    seconds REAL,
    extras  TEXT,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS examples (
    run_id  INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    dynamics BLOB NOT NULL
);
"""

#: Columns added after the first stores were written: added on open, never rebuilt.
#: ``reserve``: see ``runstore.RESERVE_BYTES``; ``kind``: who trained the run, "fitgap" (its own engine) or "callback" (a user's
#: model through ``FitGapCallback``); ``levers``: what was read from a user's model
#: (JSON); ``provenance``: versions, seeds and array fingerprints for repeating it (JSON);
#: ``parent_run_id``/``branch_epoch``: a branched run goes on from that run's epoch (its
#: epochs 1..branch_epoch are copies of the parent's); ``test``: the delivered model's
#: test numbers (JSON; null without a test part, and for runs recorded before it);
#: ``class_names``: the classes' names in class-number order (JSON list; null before).
#: ``script_data``: what ``FitGapCallback`` knew of a user's data (JSON, see
#: ``core.results.script_data``; null for FitGap's own runs).
ADDED_COLUMNS = {
    "pid_started": "TEXT",
    "reserve": "BLOB",
    "kind": "TEXT NOT NULL DEFAULT 'fitgap'",
    "levers": "TEXT",
    "provenance": "TEXT",
    "ran_on": "TEXT",
    "parent_run_id": "INTEGER",
    "branch_epoch": "INTEGER",
    "test": "TEXT",
    "class_names": "TEXT",
    "script_data": "TEXT",
}
#: Values of the ``kind`` column.
KINDS = ("fitgap", "callback")


def create_tables(db: sqlite3.Connection) -> None:
    """Create the tables, or add the columns a store written before them lacks.

    Columns are added with ``ALTER TABLE``, never by rebuilding the store.  The caller
    holds the transaction.
    """
    db.executescript(SCHEMA)
    have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}  # (cid, name, ...)
    for column, definition in ADDED_COLUMNS.items():
        if column not in have:
            db.execute(f"ALTER TABLE runs ADD COLUMN {column} {definition}")
