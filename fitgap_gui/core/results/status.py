"""A run's final status, decided in one place for FitGap's engine and for a user's model.

``core.run.training.train`` and ``fitgap_gui.callback.FitGapCallback`` both end a run
by naming what happened during ``fit`` and asking ``final_status``; the statuses are
those of the run result JSON contract (docs/ARCHITECTURE.md).  When several things
happened, the first of these wins:

1. ``diverged``: the loss became NaN or infinite (whatever stopped the run after it);
2. ``branched``: paused and continued with changed levers (a child run goes on);
3. ``stopped``: the user (or, for a user's model, a callback that set
   ``model.stop_training``) ended it before its epochs were done;
4. ``early_stopped``: Keras's EarlyStopping fired;
5. ``completed``: it ran every epoch asked for.
"""

from __future__ import annotations

from fitgap_gui.core.results.records import RunStatus


def final_status(
    *,
    diverged: bool = False,
    branched: bool = False,
    stopped: bool = False,
    early_stopped: bool = False,
) -> RunStatus:
    """The status of a run that returned from ``fit``, from what happened in it."""
    if diverged:
        return "diverged"
    if branched:
        return "branched"
    if stopped:
        return "stopped"
    if early_stopped:
        return "early_stopped"
    return "completed"
