"""The run store: SQLite (WAL) in the user data folder, one row per epoch.

Every epoch row is committed before the window or the CLI is told about it, so a
process killed mid-run loses nothing it had shown; on the next open such a run is
marked ``interrupted`` and keeps its epochs.  The GUI and the CLI share the store,
and each thread gets its own connection (sqlite3 objects are not shared).

Faults of the store itself (a damaged file, a full disk, a read-only folder, a
lock held by another program) come out as one ``StoreError`` line that names the
file and what to do, never as a raw ``sqlite3`` exception.  Reads keep working
when writes cannot: the store then opens read-only and leaves dead runs unmarked.
Model files are recorded relative to the store folder, so a moved store keeps them.

``FITGAP_HOME`` overrides the folder (tests and scripts use it);
``FITGAP_STORE_TIMEOUT`` how many seconds a write waits for another program's lock.

Beside this module: ``tables`` (the schema and its added columns), ``faults``
(``StoreError`` and the fault lines), ``owners`` (which process owns a running run)
and ``stored`` (``StoredRun``).  Their public names are imported here too, so
``from fitgap_gui.core.store.runstore import StoredRun, StoreError`` keeps working.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fitgap_gui.core.config.monitor import RunningBest
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError, RunNotFoundError
from fitgap_gui.core.results.records import (
    EpochMetrics,
    RunResult,
    RunStatus,
    best_monitor,
    delivered_json,
    finite_or_none,
    monitored,
)
from fitgap_gui.core.store.faults import (
    CANNOT_WRITE,
    DEFAULT_TIMEOUT,
    READ_ONLY_FALLBACK,
    StoreError,
    fault_kind,
    guarded,
    store_error,
    store_timeout,
)
from fitgap_gui.core.store.owners import here, owner_alive, process_start_token
from fitgap_gui.core.store.stored import (
    MAX_RUN_ID,
    StoredRun,
    checked_run_id,
    name_text,
    stored_run,
)
from fitgap_gui.core.store.tables import KINDS, create_tables
from fitgap_gui.core.userfiles import default_home

__all__ = [
    "DEFAULT_TIMEOUT",
    "MARK_TIMEOUT",
    "MAX_RUN_ID",
    "RESERVE_BYTES",
    "RUN_WRITE_ATTEMPTS",
    "RunStore",
    "StoreError",
    "StoredRun",
    "checked_run_id",
    "fault_kind",
    "here",
    "name_text",
    "owner_alive",
    "process_start_token",
    "store_error",
    "store_timeout",
]

#: A run's own writes (its epochs and its end) wait this many timeouts for a lock
#: before the run ends: a backup or a ``sqlite3`` shell holding the store for a while
#: should pause training, not fail it.
RUN_WRITE_ATTEMPTS = 4
#: Bytes a running run holds in its row, given up when its end is written: a full
#: database can then still record why the run ended (the row does not grow).
RESERVE_BYTES = 1024
#: The marking of dead runs on open is a courtesy: it waits at most this long.
MARK_TIMEOUT = 2.0

_T = TypeVar("_T")
log = logging.getLogger(__name__)

_END_SQL = "UPDATE runs SET status = ?, finished = ?, message = ?, reserve = NULL WHERE id = ?"
_INTERRUPTED = "the process ended during training; its epochs were kept"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=False)


class RunStore:
    """All runs of this user.  Cheap to create; safe to use from several threads.

    ``timeout`` is how many seconds a statement waits for another program's lock
    (default ``$FITGAP_STORE_TIMEOUT``, else 30).
    """

    def __init__(self, home: str | Path | None = None, *, timeout: float | None = None) -> None:
        self.home = (Path(home) if home is not None else default_home()).absolute()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FitGapError(
                f"cannot create the run store folder {self.home} ({exc.strerror})"
            ) from None
        # A models folder that cannot be made (a file in its way, a read-only disk)
        # costs only the models: each run then says its model was not kept.
        with contextlib.suppress(OSError):
            (self.home / "models").mkdir(exist_ok=True)
        self.path = self.home / "runs.sqlite3"
        self.timeout = timeout if timeout is not None else store_timeout()
        #: True once the store had to be opened read-only (a full disk, a read-only file).
        self.read_only = False
        self._local = threading.local()
        self._monitors: dict[int, str] = {}
        #: How runs ended when the store refused to record it (full, locked):
        #: run id -> (status, finished, message).  Shown as if stored, and written
        #: after the next write of this store that succeeds.
        self._unrecorded: dict[int, tuple[str, str, str]] = {}
        self._prepare()
        self.mark_interrupted()

    @guarded
    def _prepare(self) -> None:
        """Create or upgrade the tables; a store that cannot be written is read as it is."""
        db = self._connect()
        if self.read_only:
            return
        try:
            with db:
                create_tables(db)
        except sqlite3.DatabaseError as exc:
            if fault_kind(exc) not in READ_ONLY_FALLBACK:
                raise
            self.close()
            self.read_only = True
            self._connect()

    # -- connections ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._open_read_only() if self.read_only else self._open_read_write()
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def _open_read_write(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout)
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            if fault_kind(exc) not in READ_ONLY_FALLBACK:
                raise
            self.read_only = True
            return self._open_read_only()
        # In WAL mode NORMAL survives a killed process (the commit is in the OS's
        # cache once the call returns); only a power cut could lose the last epochs.
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.path))}?mode=ro"
        try:
            db = sqlite3.connect(uri, uri=True, timeout=self.timeout)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            if fault_kind(exc) not in READ_ONLY_FALLBACK or not self.path.is_file():
                raise
            # A folder where not even the -wal and -shm files can be made: nobody can
            # write this store now, so it can be read as a fixed file.
            db = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=self.timeout)
        return db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _run_write(self, write: Callable[[sqlite3.Connection], _T], attempts: int) -> _T:
        """One transaction of a running run; a lock is waited out ``attempts`` times."""
        for attempt in range(1, attempts + 1):
            try:
                with self._connect() as db:
                    out = write(db)
                self._record_unrecorded()
                return out
            except sqlite3.DatabaseError as exc:
                error = store_error(self.path, exc, self.timeout * attempt)
                if error is None:
                    raise
                if error.kind == "locked" and attempt < attempts:
                    continue
                raise error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _record_unrecorded(self) -> None:
        """Write the ends the store refused before, now that a write went through."""
        db = self._connect()
        for run_id, end in list(self._unrecorded.items()):
            try:
                with db:
                    db.execute(_END_SQL, (*end, run_id))
            except sqlite3.DatabaseError as exc:
                if fault_kind(exc) is None:
                    raise
                return  # still refused: kept for the next time
            self._unrecorded.pop(run_id, None)

    # -- writing a run ----------------------------------------------------------------------
    @guarded
    def create_run(
        self,
        config: RunConfig,
        name: str | None = None,
        *,
        kind: str = "fitgap",
        levers: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
        ran_on: str | None = None,
        parent_run_id: int | None = None,
        branch_epoch: int | None = None,
        script_data: dict[str, Any] | None = None,
    ) -> int:
        """A new 'running' run owned by this process; returns its id.

        A relative data path is stored as absolute, so the run can be repeated (and
        exported as a script) from any working folder later.  ``ran_on`` says where it
        trains (an executor's worker or Ray node); by default this process.
        A branched run names its parent and the epoch it goes on from; the parent's
        epochs up to it are copied into the new run, so its history is whole.
        A callback run's config is stored without its ``data`` section (its data was the
        script's, described by ``script_data``).
        """
        if kind not in KINDS:
            raise FitGapError(f"unknown run kind {kind!r}; expected one of {', '.join(KINDS)}")
        name = None if name is None else name_text(name)
        if parent_run_id is not None:
            checked_run_id(parent_run_id)
        if config.data.path:
            absolute = str(Path(config.data.path).expanduser().resolve())
            if absolute != config.data.path:
                config = config.replace({"data.path": absolute})
        pid = os.getpid()
        stored_config = config.to_dict()
        if kind == "callback":
            del stored_config["data"]
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO runs (name, created, config, status, pid, pid_started, reserve, "
                "kind, levers, provenance, ran_on, parent_run_id, branch_epoch, script_data) "
                "VALUES (?, ?, ?, 'running', ?, ?, zeroblob(?), ?, ?, ?, ?, ?, ?, ?)",
                (
                    "",
                    _now(),
                    json.dumps(stored_config),
                    pid,
                    process_start_token(pid),
                    RESERVE_BYTES,
                    kind,
                    _dumps(levers),
                    _dumps(provenance),
                    ran_on or here(),
                    parent_run_id,
                    branch_epoch,
                    _dumps(script_data),
                ),
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            run_id = cur.lastrowid
            if parent_run_id is not None and branch_epoch:
                self._copy_epochs(db, parent_run_id, run_id, branch_epoch)
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name or f"run {run_id}", run_id))
        self._record_unrecorded()
        self._monitors[run_id] = best_monitor(config)
        return run_id

    @staticmethod
    def _copy_epochs(db: sqlite3.Connection, parent: int, child: int, upto: int) -> None:
        """The parent's epochs 1..upto become the child's (``extras`` say whose they are)."""
        rows = db.execute(
            "SELECT epoch, metrics, seconds, extras FROM epochs "
            "WHERE run_id = ? AND epoch <= ? ORDER BY epoch",
            (parent, upto),
        ).fetchall()
        if len(rows) < upto:
            raise RunNotFoundError(f"run {parent} has no epoch {upto} to branch from")
        for row in rows:
            extras = json.loads(row["extras"]) if row["extras"] else {}
            extras["from_run"] = parent
            db.execute(
                "INSERT INTO epochs (run_id, epoch, metrics, seconds, extras) "
                "VALUES (?, ?, ?, ?, ?)",
                (child, row["epoch"], row["metrics"], row["seconds"], _dumps(extras)),
            )
        db.execute("UPDATE runs SET epochs_run = ? WHERE id = ?", (upto, child))

    def _monitor(self, db: sqlite3.Connection, run_id: int) -> str:
        """The metric that decides the best epoch (``results.best_monitor``)."""
        if run_id not in self._monitors:
            row = db.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id} in {self.path}")
            self._monitors[run_id] = best_monitor(RunConfig.from_json(row["config"]))
        return self._monitors[run_id]

    def append_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        """Commit one epoch; returns only once it is on disk (before anyone is told).

        A lock held by another program is waited out for several timeouts (training
        pauses meanwhile); a disk that is full ends the run with a StoreError.
        """
        values = {k: finite_or_none(v) for k, v in metrics.metrics.items()}

        def write(db: sqlite3.Connection) -> None:
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
            row = db.execute("SELECT best_metrics FROM runs WHERE id = ?", (run_id,)).fetchone()
            kept = json.loads(row["best_metrics"]) if row["best_metrics"] else {}
            best = RunningBest(monitor, best=monitored(kept, monitor))
            # None when missing or NaN: never the best.
            if best.update(monitored(values, monitor), metrics.epoch):
                db.execute(
                    "UPDATE runs SET best_epoch = ?, best_metrics = ? WHERE id = ?",
                    (metrics.epoch, _dumps(values), run_id),
                )

        self._run_write(write, RUN_WRITE_ATTEMPTS)

    def finish_run(self, run_id: int, result: RunResult, model_file: str | None = None) -> None:
        def at(epoch: int | None) -> dict[str, float | None] | None:
            if epoch is None:
                return None
            return {k: finite_or_none(result.metric_at(k, epoch)) for k in result.history}

        row = (
            result.status,
            _now(),
            result.epochs_run,
            result.best_epoch,
            result.stopped_epoch,
            int(result.restored_best),
            _dumps(at(result.best_epoch)),
            _dumps(at(result.epochs_run or None)),
            _dumps(result.diagnosis),
            _dumps(delivered_json(result.test)),
            _dumps(result.class_names),
            result.message,
            self._stored_model_path(model_file),
            run_id,
        )
        examples = result.examples.to_bytes() if result.examples is not None else None

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, epochs_run = ?, best_epoch = ?, "
                "stopped_epoch = ?, restored_best = ?, best_metrics = ?, last_metrics = ?, "
                "diagnosis = ?, test = ?, class_names = ?, message = ?, model_file = COALESCE(?, model_file), "
                "reserve = NULL WHERE id = ?",
                row,
            )
            if examples is not None:  # the per-example dynamics, once per run
                db.execute(
                    "INSERT OR REPLACE INTO examples (run_id, dynamics) VALUES (?, ?)",
                    (run_id, examples),
                )

        self._run_write(write, RUN_WRITE_ATTEMPTS)

    @guarded
    def example_dynamics(self, run_id: int) -> bytes | None:
        """The run's per-example dynamics as stored (npz bytes), or None."""
        with self._connect() as db:
            try:
                row = db.execute(
                    "SELECT dynamics FROM examples WHERE run_id = ?", (run_id,)
                ).fetchone()
            except sqlite3.OperationalError:  # an older store opened read-only: no table
                return None
        return bytes(row[0]) if row is not None else None

    @guarded
    def update_levers(
        self, run_id: int, levers: dict[str, Any], script_data: dict[str, Any] | None = None
    ) -> None:
        """Replace a run's levers (a user's model: what was learnt by the end of training),
        and its ``script_data`` when given."""
        with self._connect() as db:
            db.execute("UPDATE runs SET levers = ? WHERE id = ?", (_dumps(levers), run_id))
            if script_data is not None:
                db.execute(
                    "UPDATE runs SET script_data = ? WHERE id = ?", (_dumps(script_data), run_id)
                )

    def fail_run(self, run_id: int, message: str, status: RunStatus = "failed") -> None:
        """Record how a run ended early.  Waits out a lock once, not several times:
        it is called after a failure, when the caller is about to report one.

        The run's reserved bytes are given up in the same write, so the row does not
        grow and the end is recorded even when the database cannot take a new page.
        """
        end = (status, _now(), message[: RESERVE_BYTES // 2])
        try:
            self._run_write(lambda db: db.execute(_END_SQL, (*end, run_id)), 1)
        except StoreError:
            self._unrecorded[run_id] = end
            raise

    @guarded
    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process that no longer exists become 'interrupted'.

        Called on every open.  The process is matched by pid *and* start time, so a
        new program that happens to reuse the pid does not keep a dead run 'running'.
        Where the store cannot be written (full, read-only, locked for long) the runs
        are left as they are; they read as interrupted anyway.  Returns how many runs
        were marked.
        """
        if self.read_only:
            return 0
        db = self._connect()
        rows = db.execute(
            "SELECT id, pid, pid_started FROM runs WHERE status = 'running'"
        ).fetchall()
        dead = [row["id"] for row in rows if not owner_alive(row["pid"], row["pid_started"])]
        if not dead:
            return 0
        db.execute(f"PRAGMA busy_timeout = {int(min(self.timeout, MARK_TIMEOUT) * 1000)}")
        marked = 0
        try:
            for run_id in dead:  # one by one: a run that cannot be marked spares the others
                try:
                    with db:
                        db.execute(
                            "UPDATE runs SET status = 'interrupted', "
                            "finished = COALESCE(finished, ?), message = ?, reserve = NULL "
                            "WHERE id = ?",
                            (_now(), _INTERRUPTED, run_id),
                        )
                    marked += 1
                except sqlite3.DatabaseError as exc:
                    kind = fault_kind(exc)
                    if kind not in CANNOT_WRITE:
                        raise
                    if kind == "locked":
                        break  # the others would wait just as long
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return marked

    @guarded
    def is_live(self, run_id: int) -> bool:
        """Whether a run is still training in a process that is alive."""
        checked_run_id(run_id)
        row = (
            self._connect()
            .execute("SELECT status, pid, pid_started FROM runs WHERE id = ?", (run_id,))
            .fetchone()
        )
        if row is None:
            raise RunNotFoundError(f"no run with id {run_id} in {self.path}")
        return row["status"] == "running" and owner_alive(row["pid"], row["pid_started"])

    def model_path(self, run_id: int) -> Path:
        return self.home / "models" / f"run-{run_id}.keras"

    def _stored_model_path(self, model_file: str | None) -> str | None:
        """A model file as recorded: relative to the store folder when inside it."""
        if not model_file:
            return None
        path = Path(model_file).absolute()
        try:
            return path.relative_to(self.home).as_posix()
        except ValueError:
            return str(path)

    def _resolved_model_path(self, stored: str | None) -> str | None:
        """Where a recorded model file is now.

        Stores written before paths were relative hold absolute ones; when such a
        store was moved, its model is looked for under this store's ``models/``.
        """
        if not stored:
            return None
        path = Path(stored)
        if not path.is_absolute():
            return str(self.home / path)
        if path.is_file():
            return stored
        moved = self.home / "models" / path.name
        return str(moved) if moved.is_file() else stored

    # -- reading ---------------------------------------------------------------------------------
    @guarded
    def version(self) -> int:
        """A number that changes when another connection (thread or process) commits.

        The window polls it on a timer and reloads its runs list only when it moved,
        so a run started from the CLI shows up without re-reading the store each tick.
        """
        return int(self._connect().execute("PRAGMA data_version").fetchone()[0])

    def _row_to_run(self, row: sqlite3.Row) -> StoredRun:
        status, finished, message = row["status"], row["finished"], row["message"]
        if status == "running" and row["id"] in self._unrecorded:
            status, finished, message = self._unrecorded[row["id"]]
        elif status == "running" and not owner_alive(row["pid"], row["pid_started"]):
            # Not marked yet (the store could not be written): show what it is.
            status, message = "interrupted", _INTERRUPTED
        model_file = self._resolved_model_path(row["model_file"])
        return stored_run(
            row, status=status, finished=finished, message=message, model_file=model_file
        )

    @guarded
    def list_runs(self) -> list[StoredRun]:
        """Every run, newest first, without histories (cheap)."""
        rows = self._connect().execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        runs = []
        for row in rows:
            try:
                runs.append(self._row_to_run(row))
            except (ValueError, TypeError, KeyError) as exc:  # one odd row spares the rest
                log.warning("run %s of %s cannot be read: %s", row["id"], self.path, exc)
        return runs

    @guarded
    def history(self, run_id: int) -> dict[str, list[float | None]]:
        checked_run_id(run_id)
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

    @guarded
    def epochs(self, run_id: int) -> list[EpochMetrics]:
        checked_run_id(run_id)
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

    @guarded
    def get_run(self, run_id: int) -> StoredRun:
        checked_run_id(run_id)
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
    @guarded
    def rename_run(self, run_id: int, name: str) -> None:
        checked_run_id(run_id)
        name = name_text(name).strip()
        if not name:
            raise FitGapError("a run name cannot be empty")
        with self._connect() as db:
            if db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id)).rowcount == 0:
                raise RunNotFoundError(f"no run with id {run_id}")

    @guarded
    def discard_run(self, run_id: int) -> None:
        """Remove a run this process created that trained nothing of its own (a start
        refused after its row was made): the store is left as it was before it."""
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ? AND pid = ?", (run_id, os.getpid()))
        self._monitors.pop(run_id, None)
        self.model_path(run_id).unlink(missing_ok=True)

    @guarded
    def delete_run(self, run_id: int) -> None:
        """Delete a run, its epochs and its model file; a run still training is refused.

        A user's own run (``FitGapCallback``) whose process lives may be deleted: its
        ``fit`` may have ended without telling (an exception in the user's code), and
        if it still trains, its next epoch finds no row and the callback stops
        recording with one warning, leaving the training alone.
        """
        if self.is_live(run_id) and self.get_run(run_id).kind != "callback":
            raise FitGapError(f"run {run_id} is still training; stop it before deleting it")
        with self._connect() as db:
            if db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise RunNotFoundError(f"no run with id {run_id}")
        self.model_path(run_id).unlink(missing_ok=True)
