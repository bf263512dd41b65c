"""``StoredRun``: a run as the store holds it, and how a ``runs`` row becomes one."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError, RunNotFoundError
from fitgap_gui.core.results.records import RunResult, RunStatus

#: SQLite's INTEGER is a signed 64-bit number: no run id is larger.
MAX_RUN_ID = 2**63 - 1

#: Columns a store opened read-only may lack (written before them; no ALTER possible).
_LATER_COLUMNS = (
    "kind",
    "levers",
    "provenance",
    "ran_on",
    "parent_run_id",
    "branch_epoch",
    "test",
    "class_names",
    "script_data",
)


def checked_run_id(run_id: object) -> int:
    """``run_id`` as the store can look it up; one FitGapError line for anything else.

    An id beyond 64 bits cannot be bound to an SQLite query at all (Python raises
    OverflowError there), so it is refused here as a run the store cannot hold.
    """
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise FitGapError(f"a run id is a whole number, not {run_id!r}")
    if not -MAX_RUN_ID - 1 <= run_id <= MAX_RUN_ID:
        raise RunNotFoundError(f"no run with id {run_id}: run ids go up to 2**63 - 1")
    return run_id


def name_text(name: object) -> str:
    """A run name as the store keeps it: text.

    Bytes are decoded as UTF-8 (invalid bytes replaced), numbers written as text;
    anything else is refused with one FitGapError line (it would be stored as a BLOB
    or not at all, and every JSON reader of the store would then fail on it).
    """
    if isinstance(name, str):
        return name
    if isinstance(name, bytes | bytearray | memoryview):
        return bytes(name).decode("utf-8", errors="replace")
    if isinstance(name, int | float) and not isinstance(name, bool):
        return str(name)
    raise FitGapError(f"a run name is text, not {type(name).__name__} {name!r:.60}")


@dataclass
class StoredRun:
    """A run as the store holds it: the result fields plus name and dates."""

    run_id: int
    name: str
    created: str
    finished: str | None
    config: RunConfig
    status: RunStatus
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
    kind: str = "fitgap"
    levers: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    #: Where it trained: this process, a local worker or a Ray node (None: older stores).
    ran_on: str | None = None
    #: A child run: the run it branched from and the epoch it went on from (else None).
    parent_run_id: int | None = None
    branch_epoch: int | None = None
    #: The delivered model's test numbers (None: no test part, or recorded before it).
    test: dict[str, Any] | None = None
    #: The classes' names in class-number order (None: recorded before they were kept).
    class_names: list[str] | None = None
    #: A callback run: what it knew of the script's data (``core.results.script_data``).
    script_data: dict[str, Any] | None = None

    @property
    def branched_from(self) -> str | None:
        """ "branched from run N at epoch k", or None for a run trained from scratch."""
        if self.parent_run_id is None or self.branch_epoch is None:
            return None
        return f"branched from run {self.parent_run_id} at epoch {self.branch_epoch}"

    @property
    def gap_at_best(self) -> float | None:
        """Training minus validation accuracy at the best epoch, both at the epoch's end."""
        best = self.best_metrics
        train = best.get("train_eval_accuracy", best.get("accuracy"))  # older runs: Keras's
        val = best.get("val_accuracy")
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
            test=self.test,
            class_names=self.class_names,
        )

    def to_dict(self) -> dict[str, Any]:
        """The run result JSON (docs/ARCHITECTURE.md) plus the store's name and dates."""
        out = self.to_result().to_dict()
        out.update(name=self.name, created=self.created, finished=self.finished)
        out.update(kind=self.kind, levers=self.levers, provenance=self.provenance)
        out["ran_on"] = self.ran_on
        out.update(parent_run_id=self.parent_run_id, branch_epoch=self.branch_epoch)
        if self.kind == "callback":
            # Its data was the script's: the config's default data source is no part of it.
            out["config"].pop("data", None)
            out["script_data"] = self.script_data or {}
        return out


def stored_run(
    row: sqlite3.Row,
    *,
    status: RunStatus,
    finished: str | None,
    message: str | None,
    model_file: str | None,
) -> StoredRun:
    """A ``runs`` row as a StoredRun (no history); ``status``, ``finished``, ``message``
    and ``model_file`` as the store reads them now (see ``RunStore``)."""
    added = {
        column: row[column]
        for column in _LATER_COLUMNS
        if column in row.keys()  # noqa: SIM118 - "in row" tests values
    }
    return StoredRun(
        run_id=row["id"],
        # A name stored as a BLOB (bytes given before names were checked) reads as text.
        name=name_text(row["name"]) if row["name"] is not None else "",
        created=row["created"],
        finished=finished,
        config=RunConfig.from_stored_json(row["config"]),
        status=status,
        epochs_run=row["epochs_run"],
        best_epoch=row["best_epoch"],
        stopped_epoch=row["stopped_epoch"],
        restored_best=bool(row["restored_best"]),
        best_metrics=json.loads(row["best_metrics"]) if row["best_metrics"] else {},
        last_metrics=json.loads(row["last_metrics"]) if row["last_metrics"] else {},
        diagnosis=json.loads(row["diagnosis"]) if row["diagnosis"] else None,
        message=message,
        model_file=model_file,
        kind=added.get("kind") or "fitgap",
        levers=json.loads(added["levers"]) if added.get("levers") else None,
        provenance=json.loads(added["provenance"]) if added.get("provenance") else None,
        ran_on=added.get("ran_on"),
        parent_run_id=added.get("parent_run_id"),
        branch_epoch=added.get("branch_epoch"),
        test=json.loads(added["test"]) if added.get("test") else None,
        class_names=json.loads(added["class_names"]) if added.get("class_names") else None,
        script_data=json.loads(added["script_data"]) if added.get("script_data") else None,
    )
