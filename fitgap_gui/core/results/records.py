"""Plain records a run produces: one EpochMetrics per epoch, one RunResult per run.

They hold Python floats and lists only, so they cross the Qt signal boundary, go into
SQLite, and become the run result JSON (docs/ARCHITECTURE.md) without any conversion code of
their own elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from fitgap_gui.core.config.monitor import best_of
from fitgap_gui.core.config.schema import RunConfig

#: The run statuses of the run result JSON contract, plus two the store uses.
#: "branched": paused and continued with changed levers; a child run goes on from it.
RunStatus = Literal[
    "completed",
    "stopped",
    "early_stopped",
    "diverged",
    "failed",
    "running",
    "interrupted",
    "branched",
]
STATUSES: tuple[str, ...] = RunStatus.__args__  # type: ignore[attr-defined]

#: Metrics where lower is better; anything else (accuracy) is higher-is-better
#: (``core.monitor.mode_of`` decides; this list is for the window's readers).
LOWER_IS_BETTER = (
    "loss",
    "val_loss",
    "cross_entropy",
    "val_cross_entropy",
    "train_eval_cross_entropy",
)
#: The metric that names the best epoch for comparisons and the diagnosis: the
#: validation loss without the weight penalty.
BEST_METRIC = "val_cross_entropy"


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a diverged loss is written as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class EpochMetrics:
    """What Keras logged at the end of one epoch (``epoch`` is 1-based)."""

    epoch: int
    metrics: dict[str, float]
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]

    def get(self, key: str, default: float | None = None) -> float | None:
        return self.metrics.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epoch": self.epoch}
        out.update({k: finite_or_none(v) for k, v in self.metrics.items()})
        out["seconds"] = round(self.seconds, 6)
        out.update(self.extras)
        return out


def delivered_json(test: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The test numbers as JSON holds them (a non-finite number as null)."""
    if test is None:
        return None
    return {
        "epoch": int(test["epoch"]),
        "cross_entropy": finite_or_none(test.get("cross_entropy")),
        "accuracy": finite_or_none(test.get("accuracy")),
        "n": int(test["n"]),
    }


class Finished(Protocol):
    """What a finished run says of its epochs: a ``RunResult`` or a stored run."""

    @property
    def epochs_run(self) -> int: ...
    @property
    def best_epoch(self) -> int | None: ...
    @property
    def restored_best(self) -> bool: ...
    @property
    def test(self) -> dict[str, Any] | None: ...


def delivered_epoch_of(run: Finished) -> int | None:
    """The epoch whose weights a finished run delivers (and its model file holds): the
    one its test numbers name; else the epoch early stopping restored; else the last
    epoch run (None before any).  While a run trains, ``model.measurements``'s
    ``delivered_epoch`` reads the same rule off Keras's ``EarlyStopping``."""
    test = run.test
    if test is not None and isinstance(test.get("epoch"), int):
        return int(test["epoch"])
    if run.restored_best and run.best_epoch is not None and run.best_epoch < run.epochs_run:
        return run.best_epoch
    return run.epochs_run or None


def best_epoch(
    history: Mapping[str, Sequence[float | None]], monitor: str = BEST_METRIC
) -> int | None:
    """1-based epoch with the best value of ``monitor`` (first of ties), or None.

    A history without ``val_cross_entropy`` (a run stored before it was measured)
    falls back to ``val_loss``.
    """
    if monitor == BEST_METRIC and monitor not in history:
        monitor = "val_loss"
    return best_of(history.get(monitor, []), monitor)


def monitored(values: Mapping[str, float | None], monitor: str) -> float | None:
    """``values[monitor]``; a run stored before ``val_cross_entropy`` reads ``val_loss``."""
    if monitor == BEST_METRIC and monitor not in values:
        monitor = "val_loss"
    return values.get(monitor)


def best_monitor(config: RunConfig) -> str:
    """The metric whose best epoch a run reports.

    Early stopping that restores the best weights leaves the model at its monitor's
    best epoch, so the run's numbers are that epoch's; otherwise the epoch with the
    lowest validation cross-entropy.
    """
    es = config.early_stopping
    return es.monitor if es.enabled and es.restore_best_weights else BEST_METRIC


@dataclass
class RunResult:
    """The outcome of one run, as in the run result JSON (docs/ARCHITECTURE.md)."""

    config: RunConfig
    history: dict[str, list[float | None]]
    status: RunStatus
    epochs_run: int
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    restored_best: bool = False
    run_id: int | None = None
    message: str | None = None
    seconds: float = 0.0
    diagnosis: dict[str, Any] | None = None
    #: The delivered model's test numbers, ``{"epoch", "cross_entropy", "accuracy", "n"}``
    #: (``core.model.measurements.evaluate_delivered``); None without a test part, and
    #: for runs recorded before there was one.
    test: dict[str, Any] | None = None
    #: The classes' names, in class-number order (None: recorded before they were kept).
    class_names: list[str] | None = None
    #: The trained Keras model (best weights when restored); kept in memory only.
    model: Any = field(default=None, repr=False, compare=False)
    #: Status "branched": the child's config and the state it starts from (in memory).
    branch: Any = field(default=None, repr=False, compare=False)
    #: The per-example dynamics (``core.results.examples.ExampleDynamics``), or None.
    examples: Any = field(default=None, repr=False, compare=False)
    #: What an experiment's own probe recorded during the run (``PlanItem.probe``),
    #: carried to the experiment only: never in the run's row, history or JSON.
    study: Any = field(default=None, repr=False, compare=False)

    def metric_at(self, name: str, epoch: int | None) -> float | None:
        values = self.history.get(name, [])
        if epoch is None or not 1 <= epoch <= len(values):
            return None
        return values[epoch - 1]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "config": self.config.to_dict(),
            "history": {k: [finite_or_none(v) for v in vs] for k, vs in self.history.items()},
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "restored_best": self.restored_best,
            "status": self.status,
            "diagnosis": self.diagnosis,
            "test": delivered_json(self.test),
            "class_names": self.class_names,
        }
        if self.message:
            out["message"] = self.message
        return out
