"""Runs for tests: trained in the real window, or written straight into a store."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore


def train_in_window(window, qtbot, config) -> int:
    """Train ``config`` in the window; returns the new run's id."""
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    return window.current_run


def store_test(store: RunStore, run_id: int, test: dict[str, Any] | None) -> None:
    """Write a run's delivered-model test numbers into its row by hand (the ``test``
    JSON column; added here to a store that does not have it yet)."""
    db = sqlite3.connect(store.path)
    try:
        if "test" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
            db.execute("ALTER TABLE runs ADD COLUMN test TEXT")
        db.execute(
            "UPDATE runs SET test = ? WHERE id = ?",
            (None if test is None else json.dumps(test), run_id),
        )
        db.commit()
    finally:
        db.close()


def commit_run(
    store: RunStore,
    config: RunConfig,
    epochs: int,
    name: str | None = None,
    test: dict[str, Any] | None = None,
) -> int:
    """A finished run written straight into a store, as the CLI's process would; with
    ``test``, its delivered model's test numbers (else it reads as a run without a test
    part)."""
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
    if test is not None:
        store_test(store, run_id, test)
    return run_id
