"""The run store: SQLite (WAL) in the user data folder, one row per epoch.

Every epoch row is committed before the window or the CLI is told about it, so a
process killed mid-run loses nothing it had shown; on the next open such a run is
marked ``interrupted`` and keeps its epochs.  The GUI and the CLI share the store,
and each thread gets its own connection (sqlite3 objects are not shared).

``FITGAP_HOME`` overrides the folder (tests and scripts use it).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import RunConfig
from .errors import FitGapError, RunNotFoundError
from .results import LOWER_IS_BETTER, EpochMetrics, RunResult, finite_or_none

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
    ran_on        TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch   INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    seconds REAL,
    extras  TEXT,
    PRIMARY KEY (run_id, epoch)
);
"""


def default_home() -> Path:
    """``$FITGAP_HOME``, else the platform's user data folder for FitGap."""
    env = os.environ.get("FITGAP_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("FitGap", appauthor=False))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def process_start_token(pid: int) -> str | None:
    """Boot id and start time of process ``pid`` (Linux), or None where unknown.

    A pid alone is not an identity: after a crash and a reboot, or simply much later,
    another program may hold the same number.  Boot id + start tick is unique.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"  # field 22 of the whole line: start time in ticks


def here() -> str:
    """Where a run trained in this process ran: host name and pid."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def _owner_alive(pid: int | None, started: str | None) -> bool:
    """Whether the process that created a run is still that same process."""
    if not pid:
        return False
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, but someone else's
        except OSError:
            return False
    if started is None:
        return True  # recorded where start times are unknown: trust the pid
    return process_start_token(pid) == started


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=False)


@dataclass
class StoredRun:
    """A run as the store holds it: the result fields plus name and dates."""

    run_id: int
    name: str
    created: str
    finished: str | None
    config: RunConfig
    status: str
    epochs_run: int
    best_epoch: int | None
    stopped_epoch: int | None
    restored_best: bool
    best_metrics: dict[str, float | None]
    last_metrics: dict[str, float | None]
    diagnosis: dict[str, Any] | None
    message: str | None
    model_file: str | None
    history: dict[str, list[float | None]] = field(default_factory=dict)
    #: Where it trained: this process, a local worker or a Ray node (None: older stores).
    ran_on: str | None = None

    @property
    def gap_at_best(self) -> float | None:
        """Training minus validation accuracy at the best epoch: the overfitting gap."""
        train, val = self.best_metrics.get("accuracy"), self.best_metrics.get("val_accuracy")
        if train is None or val is None:
            return None
        return train - val

    @property
    def has_model(self) -> bool:
        return bool(self.model_file and Path(self.model_file).is_file())

    def to_result(self) -> RunResult:
        return RunResult(
            config=self.config,
            history=self.history,
            status=self.status,
            epochs_run=self.epochs_run,
            best_epoch=self.best_epoch,
            stopped_epoch=self.stopped_epoch,
            restored_best=self.restored_best,
            run_id=self.run_id,
            message=self.message,
            diagnosis=self.diagnosis,
        )

    def to_dict(self) -> dict[str, Any]:
        """The run result JSON (docs/ARCHITECTURE.md) plus the store's name and dates."""
        out = self.to_result().to_dict()
        out.update(name=self.name, created=self.created, finished=self.finished)
        out["ran_on"] = self.ran_on
        return out


class RunStore:
    """All runs of this user.  Cheap to create; safe to use from several threads."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "models").mkdir(exist_ok=True)
        except OSError as exc:
            raise FitGapError(
                f"cannot create the run store folder {self.home} ({exc.strerror})"
            ) from None
        self.path = self.home / "runs.sqlite3"
        self._local = threading.local()
        self._monitors: dict[int, str] = {}
        with self._connect() as db:
            db.executescript(SCHEMA)
            # Stores written before a column existed get it added, never rebuilt.
            have = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
            if "pid_started" not in have:
                db.execute("ALTER TABLE runs ADD COLUMN pid_started TEXT")
            if "ran_on" not in have:
                db.execute("ALTER TABLE runs ADD COLUMN ran_on TEXT")
        self.mark_interrupted()

    # -- connections ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.path, timeout=30.0)
                db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as exc:
                raise FitGapError(f"the run store {self.path} cannot be opened ({exc})") from None
            db.execute("PRAGMA foreign_keys=ON")
            # In WAL mode NORMAL survives a killed process (the commit is in the OS's
            # cache once the call returns); only a power cut could lose the last epochs.
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- writing a run ----------------------------------------------------------------------
    def create_run(
        self, config: RunConfig, name: str | None = None, ran_on: str | None = None
    ) -> int:
        """A new 'running' run owned by this process; returns its id.

        A relative data path is stored as absolute, so the run can be repeated (and
        exported as a script) from any working folder later.  ``ran_on`` says where it
        trains (an executor's worker or Ray node); by default this process.
        """
        if config.data.path:
            absolute = str(Path(config.data.path).expanduser().resolve())
            if absolute != config.data.path:
                config = config.replace({"data.path": absolute})
        pid = os.getpid()
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO runs (name, created, config, status, pid, pid_started, ran_on) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (
                    "",
                    _now(),
                    config.to_json(indent=None),
                    pid,
                    process_start_token(pid),
                    ran_on or here(),
                ),
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            run_id = cur.lastrowid
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name or f"run {run_id}", run_id))
        self._monitors[run_id] = config.early_stopping.monitor
        return run_id

    def _monitor(self, db: sqlite3.Connection, run_id: int) -> str:
        """The metric that decides the best epoch: early stopping's monitor."""
        if run_id not in self._monitors:
            row = db.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id} in {self.path}")
            section = json.loads(row["config"]).get("early_stopping", {})
            self._monitors[run_id] = section.get("monitor", "val_loss")
        return self._monitors[run_id]

    def append_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        """Commit one epoch; returns only once it is on disk (before anyone is told)."""
        values = {k: finite_or_none(v) for k, v in metrics.metrics.items()}
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, metrics, seconds, extras) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    run_id,
                    metrics.epoch,
                    _dumps(values),
                    metrics.seconds,
                    _dumps(metrics.extras or None),
                ),
            )
            db.execute(
                "UPDATE runs SET epochs_run = ?, last_metrics = ? WHERE id = ?",
                (metrics.epoch, _dumps(values), run_id),
            )
            # Keep the best epoch current, so a running or interrupted run has one too.
            monitor = self._monitor(db, run_id)
            new = values.get(monitor)  # None when missing or NaN: never the best
            row = db.execute("SELECT best_metrics FROM runs WHERE id = ?", (run_id,)).fetchone()
            old = json.loads(row["best_metrics"]).get(monitor) if row["best_metrics"] else None
            if new is not None and (
                old is None or (new < old if monitor in LOWER_IS_BETTER else new > old)
            ):
                db.execute(
                    "UPDATE runs SET best_epoch = ?, best_metrics = ? WHERE id = ?",
                    (metrics.epoch, _dumps(values), run_id),
                )

    def finish_run(self, run_id: int, result: RunResult, model_file: str | None = None) -> None:
        def at(epoch: int | None) -> dict[str, float | None] | None:
            if epoch is None:
                return None
            return {k: finite_or_none(result.metric_at(k, epoch)) for k in result.history}

        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, epochs_run = ?, best_epoch = ?, "
                "stopped_epoch = ?, restored_best = ?, best_metrics = ?, last_metrics = ?, "
                "diagnosis = ?, message = ?, model_file = COALESCE(?, model_file) WHERE id = ?",
                (
                    result.status,
                    _now(),
                    result.epochs_run,
                    result.best_epoch,
                    result.stopped_epoch,
                    int(result.restored_best),
                    _dumps(at(result.best_epoch)),
                    _dumps(at(result.epochs_run or None)),
                    _dumps(result.diagnosis),
                    result.message,
                    model_file,
                    run_id,
                ),
            )

    def fail_run(self, run_id: int, message: str, status: str = "failed") -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, message = ? WHERE id = ?",
                (status, _now(), message, run_id),
            )

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process that no longer exists become 'interrupted'.

        Called on every open.  The process is matched by pid *and* start time, so a
        new program that happens to reuse the pid does not keep a dead run 'running'.
        Returns how many runs were marked.
        """
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, pid, pid_started FROM runs WHERE status = 'running'"
            ).fetchall()
            dead = [row["id"] for row in rows if not _owner_alive(row["pid"], row["pid_started"])]
            for run_id in dead:
                db.execute(
                    "UPDATE runs SET status = 'interrupted', "
                    "finished = COALESCE(finished, ?), message = ? WHERE id = ?",
                    (_now(), "the process ended during training; its epochs were kept", run_id),
                )
        return len(dead)

    def is_live(self, run_id: int) -> bool:
        """Whether a run is still training in a process that is alive."""
        row = (
            self._connect()
            .execute("SELECT status, pid, pid_started FROM runs WHERE id = ?", (run_id,))
            .fetchone()
        )
        if row is None:
            raise RunNotFoundError(f"no run with id {run_id} in {self.path}")
        return row["status"] == "running" and _owner_alive(row["pid"], row["pid_started"])

    def model_path(self, run_id: int) -> Path:
        return self.home / "models" / f"run-{run_id}.keras"

    # -- reading ---------------------------------------------------------------------------------
    def version(self) -> int:
        """A number that changes when another connection (thread or process) commits.

        The window polls it on a timer and reloads its runs list only when it moved,
        so a run started from the CLI shows up without re-reading the store each tick.
        """
        return int(self._connect().execute("PRAGMA data_version").fetchone()[0])

    def _row_to_run(self, row: sqlite3.Row) -> StoredRun:
        return StoredRun(
            run_id=row["id"],
            name=row["name"],
            created=row["created"],
            finished=row["finished"],
            config=RunConfig.from_json(row["config"]),
            status=row["status"],
            epochs_run=row["epochs_run"],
            best_epoch=row["best_epoch"],
            stopped_epoch=row["stopped_epoch"],
            restored_best=bool(row["restored_best"]),
            best_metrics=json.loads(row["best_metrics"]) if row["best_metrics"] else {},
            last_metrics=json.loads(row["last_metrics"]) if row["last_metrics"] else {},
            diagnosis=json.loads(row["diagnosis"]) if row["diagnosis"] else None,
            message=row["message"],
            model_file=row["model_file"],
            ran_on=row["ran_on"],
        )

    def list_runs(self) -> list[StoredRun]:
        """Every run, newest first, without histories (cheap)."""
        rows = self._connect().execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        return [self._row_to_run(row) for row in rows]

    def history(self, run_id: int) -> dict[str, list[float | None]]:
        rows = (
            self._connect()
            .execute("SELECT metrics FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
            .fetchall()
        )
        out: dict[str, list[float | None]] = {}
        for i, row in enumerate(rows):
            for key, value in json.loads(row["metrics"]).items():
                out.setdefault(key, [None] * i).append(value)
        return out

    def epochs(self, run_id: int) -> list[EpochMetrics]:
        rows = (
            self._connect()
            .execute(
                "SELECT epoch, metrics, seconds, extras FROM epochs WHERE run_id = ? ORDER BY epoch",
                (run_id,),
            )
            .fetchall()
        )
        return [
            EpochMetrics(
                epoch=row["epoch"],
                metrics={
                    k: (float("nan") if v is None else v)
                    for k, v in json.loads(row["metrics"]).items()
                },
                seconds=row["seconds"] or 0.0,
                extras=json.loads(row["extras"]) if row["extras"] else {},
            )
            for row in rows
        ]

    def get_run(self, run_id: int) -> StoredRun:
        row = self._connect().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"no run with id {run_id} in {self.path}")
        run = self._row_to_run(row)
        run.history = self.history(run_id)
        return run

    def get_runs(self, run_ids: list[int]) -> list[StoredRun]:
        """Several runs with their histories, in the order asked; any unknown id raises."""
        return [self.get_run(run_id) for run_id in run_ids]

    # -- editing ---------------------------------------------------------------------------------
    def rename_run(self, run_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise FitGapError("a run name cannot be empty")
        with self._connect() as db:
            if db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id)).rowcount == 0:
                raise RunNotFoundError(f"no run with id {run_id}")

    def delete_run(self, run_id: int) -> None:
        """Delete a run, its epochs and its model file; a run still training is refused."""
        if self.is_live(run_id):
            raise FitGapError(f"run {run_id} is still training; stop it before deleting it")
        with self._connect() as db:
            if db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise RunNotFoundError(f"no run with id {run_id}")
        self.model_path(run_id).unlink(missing_ok=True)
