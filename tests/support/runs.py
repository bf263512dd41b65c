"""Runs for tests: trained in the real window, or written straight into a store."""

from __future__ import annotations

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore


def train_in_window(window, qtbot, config) -> int:
    """Train ``config`` in the window; returns the new run's id."""
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    return window.current_run


def commit_run(store: RunStore, config: RunConfig, epochs: int, name: str | None = None) -> int:
    """A finished run written straight into a store, as the CLI's process would."""
    run_id = store.create_run(config, name=name)
    history: dict[str, list[float]] = {
        "loss": [],
        "accuracy": [],
        "val_loss": [],
        "val_accuracy": [],
    }
    for epoch in range(1, epochs + 1):
        metrics = {
            "loss": 1.0 / epoch,
            "accuracy": 0.5 + 0.1 * epoch,
            "val_loss": 1.0 + abs(epoch - 2) * 0.1,
            "val_accuracy": 0.5 + 0.05 * epoch,
        }
        store.append_epoch(run_id, EpochMetrics(epoch=epoch, metrics=metrics, seconds=0.01))
        for key, value in metrics.items():
            history[key].append(value)
    best = 2 if epochs >= 2 else 1
    result = RunResult(config, history, "completed", epochs, best_epoch=best, run_id=run_id)
    store.finish_run(run_id, result)
    return run_id
