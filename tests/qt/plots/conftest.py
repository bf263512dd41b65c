"""Feeding a bare PlotsPanel as PlotsAdapter does: each epoch with the model's best epoch."""

from __future__ import annotations

import pytest


@pytest.fixture
def feed():
    """``feed(panel, run_id, metrics)``: add an epoch to a run of ``panel`` with the best
    epoch of a ``LiveRun`` fed the same epochs (the plots never work it out themselves)."""
    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.run.live import LiveRun

    models: dict[tuple[int, int], LiveRun] = {}

    def add(panel, run_id: int, metrics) -> None:
        curves = panel.runs.get(run_id)
        key = (id(curves), run_id)  # a run begun again starts a new model
        run = models.setdefault(key, LiveRun(run_id, f"#{run_id}", RunConfig(), 0))
        run.append(metrics)
        panel.add_epoch(run_id, metrics, best_epoch=run.best_epoch)

    return add
