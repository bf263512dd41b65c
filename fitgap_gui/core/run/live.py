"""Plain records of the runs on screen, and what can be read from a live history.

``RunRequest`` is what the window asks the worker to train: a config with the name
it is stored and drawn under and an optional ``tag`` that an experiment uses to find
its plan item, so nothing is matched by start order.  ``LiveRun`` is one run on
screen (the one training, a previous one kept on screen, or a stored one the user
selected): its history as it grows, best epoch, status and diagnosis.  How it is
drawn (colour, faint) is the window's, kept beside it in ``qt.runtime.live_runs``.
``early_stopping_countdown`` reads a history the way Keras's EarlyStopping does.

No Qt here: ``fitgap_gui.qt.runtime.live_runs.LiveRuns`` holds these and signals changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fitgap_gui.core.config.monitor import RunningBest
from fitgap_gui.core.config.schema import EarlyStoppingConfig, RunConfig
from fitgap_gui.core.results.early_stopping import replay_early_stopping
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_monitor, monitored
from fitgap_gui.core.results.script_data import script_name

#: Where a run on screen came from: trained in this window now, or read from the store.
Origin = Literal["live", "stored"]


@dataclass(frozen=True)
class RunRequest:
    """One run the window asks for: its config, stored and legend name, and a tag."""

    config: RunConfig
    label: str | None = None
    #: Opaque to the worker; comes back with every event of this run (a plan index).
    tag: Any = None
    #: A branch: the run it goes on from and that run's epoch (its weights there).
    parent_run_id: int | None = None
    branch_epoch: int | None = None
    #: Continue ``parent_run_id`` from its saved model (the worker reads the store).
    from_store: bool = False
    #: The parent's epochs 1..branch_epoch, as the worker hands the started child over.
    prefix: dict[str, list[float | None]] | None = field(default=None, compare=False)
    #: A cleaned run from scratch: ``(parent run id, "drop" | "relabel", k)``
    #: (``core.run.cleaning``); the worker reads the parent's examples from the store.
    cleaning: tuple[int, str, int] | None = None
    #: An experiment's own probe (``PlanItem.probe``), for runs trained as a plan.
    probe: Any = field(default=None, compare=False)


def data_identity(config: RunConfig) -> tuple[str, str | None]:
    """What tells data sets apart: their source and file (runs of two are not comparable)."""
    return (config.data.source, config.data.path)


@dataclass
class LiveRun:
    """One run on screen; ``history`` grows epoch by epoch while it trains."""

    run_id: int
    label: str
    config: RunConfig
    origin: Origin = "live"
    history: dict[str, list[float | None]] = field(default_factory=dict)
    best_epoch: int | None = None
    #: "running" while it trains, then the RunResult status.
    status: str = "running"
    diagnosis: dict[str, Any] | None = None
    n_classes: int | None = None
    #: The training inputs' spread when they are not scaled (the diagnosis reads it).
    inputs: dict[str, float] | None = None
    tag: Any = None
    result: RunResult | None = None
    #: What ``FitGapCallback`` read from a user's own model (None: FitGap's own run);
    #: such a run is diagnosed with ``own_model.diagnose_own``.
    levers: dict[str, Any] | None = None
    #: Such a run's data as its script had it (``core.results.script_data``).
    script_data: dict[str, Any] | None = None
    #: A branched run: the run it goes on from, and the epoch (its curves join there).
    parent_run_id: int | None = None
    branch_epoch: int | None = None
    _best: RunningBest | None = field(default=None, repr=False, compare=False)

    @property
    def data(self) -> tuple[str, str | None]:
        if self.levers is not None:  # a user's script: its own data, never the config's
            return ("script", script_name(self.script_data))
        return data_identity(self.config)

    @property
    def monitor(self) -> str:
        """What names the best epoch: the validation cross-entropy, or the monitor of an
        early stopping that restores its best weights (``results.best_monitor``)."""
        return best_monitor(self.config)

    @property
    def epochs(self) -> int:
        return max((len(v) for v in self.history.values()), default=0)

    def append(self, metrics: EpochMetrics) -> None:
        """Add one epoch and keep the best epoch (first of ties, no min_delta)."""
        best = self._running_best()
        for key, value in metrics.metrics.items():
            self.history.setdefault(key, []).append(value)
        watched = monitored(metrics.metrics, self.monitor)  # an old run: val_loss
        if best.update(watched, metrics.epoch):
            self.best_epoch = metrics.epoch

    def _running_best(self) -> RunningBest:
        """The running best, caught up with the epochs already here (a stored run that
        is followed as it trains elsewhere starts with its history and best epoch)."""
        if self._best is None:
            self._best = RunningBest(self.monitor)
            for index in range(self.epochs):
                row = {k: v[index] for k, v in self.history.items() if index < len(v)}
                self._best.update(monitored(row, self.monitor), index + 1)
        return self._best

    def start_from(self, prefix: dict[str, list[float | None]], epochs: int) -> None:
        """A branch's history starts with its parent's first ``epochs`` epochs."""
        for index in range(epochs):
            row = {k: v[index] for k, v in prefix.items() if index < len(v)}
            self.append(EpochMetrics(index + 1, row))  # type: ignore[arg-type]  # None: a gap

    def drawn_history(self) -> dict[str, list[float | None]]:
        """What the plots draw: a branch from its branch epoch on (it joins its parent
        there); the epochs before are gaps, so epoch numbers stay where they are."""
        if not self.branch_epoch:
            return self.history
        gap = self.branch_epoch - 1
        blank: list[float | None] = [None] * gap
        return {k: blank[: len(v)] + v[gap:] for k, v in self.history.items()}

    def finish(self, result: RunResult) -> None:
        self.result, self.status = result, result.status
        self.best_epoch = result.best_epoch if result.best_epoch is not None else self.best_epoch
        if result.diagnosis is not None:
            self.diagnosis = result.diagnosis


@dataclass(frozen=True)
class Countdown:
    """Early stopping's state after the last epoch, as Keras's EarlyStopping keeps it."""

    #: Epochs since the last improvement, and how many are allowed.
    waited: int
    patience: int
    best_epoch: int | None
    #: Where the run stops if nothing improves (None: the epoch budget ends it first).
    stop_epoch: int | None

    def text(self) -> str:
        return f"{self.waited} of {self.patience} without improvement"


def early_stopping_countdown(
    history: dict[str, list[float | None]], stopping: EarlyStoppingConfig, epochs_asked: int
) -> Countdown | None:
    """Replay Keras's EarlyStopping over ``history``; None when it is off or has no data.

    The rule is ``results.early_stopping``'s (Keras's own, NaN included), over the
    whole history.
    """
    values = history.get(stopping.monitor, [])
    if not stopping.enabled or not values:
        return None
    replay = replay_early_stopping(
        values, stopping.monitor, stopping.patience, stopping.min_delta, until_stop=False
    )
    waited = replay.wait
    # Right after an improvement Keras checks no patience that epoch: the earliest stop
    # is the next one even with patience 0.
    left = max(stopping.patience, 1) if waited == 0 else max(stopping.patience - waited, 0)
    stop = len(values) + left
    return Countdown(
        waited=waited,
        patience=stopping.patience,
        best_epoch=replay.best_epoch,
        stop_epoch=stop if stop <= epochs_asked else None,
    )
