"""Keras's early-stopping rule, replayed on a history without a model.

``EarlyStoppingReplay`` is ``keras.callbacks.EarlyStopping.on_epoch_end``
(``keras/src/callbacks/early_stopping.py``) fed one monitored value per epoch: the
diagnosis's "would have stopped" (``diagnosis.verdict.would_have_stopped``) and the
live run's countdown (``run.live.early_stopping_countdown``) both read it, so they
stop where Keras stops.  The rule, on 1-based epochs:

* epochs before ``start_from_epoch`` are not watched;
* ``wait`` counts every watched epoch and is reset by an improvement (better than
  the best by more than ``min_delta``, ``RunningBest(nan="as_keras")``) that also beats
  ``baseline`` when one is set; an improvement is never a stop;
* otherwise the run stops at the first epoch after the first where
  ``wait >= patience``.

NaN follows Keras too: a NaN first value becomes the best and nothing beats it; a
later NaN is no improvement.  In a stored history a non-finite value is ``None``
(``finite_or_none``), read as NaN.  ``restore_best_weights`` changes neither the stop
nor the best epoch (Keras only keeps the weights), so it is no argument here.
"""

from __future__ import annotations

from collections.abc import Iterable

from fitgap_gui.core.config.monitor import RunningBest


class EarlyStoppingReplay:
    """Keras's EarlyStopping state, one ``on_epoch_end(value)`` per epoch."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        *,
        baseline: float | None = None,
        start_from_epoch: int = 0,
    ) -> None:
        self.running = RunningBest(monitor, min_delta, nan="as_keras")
        self.patience = patience
        self.baseline = baseline
        self.start_from_epoch = start_from_epoch
        #: Epochs since the last improvement (Keras's ``wait``).
        self.wait = 0
        #: Epochs seen so far; the next one is ``epochs + 1``.
        self.epochs = 0
        #: The first epoch (1-based) at which Keras stops, or None while it would not.
        self.stopped_epoch: int | None = None

    @property
    def best_epoch(self) -> int | None:
        """1-based epoch of the best value so far (Keras's ``best_epoch + 1``)."""
        return self.running.best_epoch

    def on_epoch_end(self, value: float | None) -> bool:
        """The next epoch's monitored value; True when Keras stops the run at it."""
        self.epochs += 1
        epoch = self.epochs
        if epoch <= self.start_from_epoch:  # Keras: epoch (0-based) < start_from_epoch
            return False
        self.wait += 1
        if self.running.update(value, epoch):
            if self.baseline is None or self.running.improves(value, self.baseline):
                self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 1:
            if self.stopped_epoch is None:
                self.stopped_epoch = epoch
            return True
        return False


def replay_early_stopping(
    values: Iterable[float | None],
    monitor: str = "val_loss",
    patience: int = 0,
    min_delta: float = 0.0,
    *,
    baseline: float | None = None,
    start_from_epoch: int = 0,
    until_stop: bool = True,
) -> EarlyStoppingReplay:
    """Feed ``values`` (one per epoch) to a replay; it ends at Keras's stop unless
    ``until_stop`` is False (a run that went on: the countdown reads its whole history)."""
    replay = EarlyStoppingReplay(
        monitor, patience, min_delta, baseline=baseline, start_from_epoch=start_from_epoch
    )
    for value in values:
        if replay.on_epoch_end(value) and until_stop:
            break
    return replay
