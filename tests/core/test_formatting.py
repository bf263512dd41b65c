"""How a run's status reads for people: one table (core/formatting.py) for every place."""

from __future__ import annotations

import pytest

from fitgap_gui.core.formatting import STATUS_WORDS, status_text
from fitgap_gui.core.results.records import STATUSES

#: status -> (the Runs tab's column, the top bar, the status line when a run of 7 epochs ends)
EXPECTED = {
    "completed": ("done", "completed", "completed 7 epochs"),
    "stopped": ("stopped", "stopped by you", "stopped by you after 7 epochs"),
    "early_stopped": ("early stop", "early-stopped", "early-stopped after 7 epochs"),
    "diverged": (
        "diverged",
        "diverged",
        "diverged at epoch 7: the loss became NaN or infinite (learning rate too high?)",
    ),
    "failed": ("failed", "failed", "failed"),
    "running": ("running", "running", "running"),
    "interrupted": ("interrupted", "interrupted", "interrupted"),
    "branched": (
        "branched",
        "branched",
        "branched at epoch 7; its child goes on with the changed levers",
    ),
}


def test_every_status_has_its_words():
    assert set(STATUS_WORDS) == set(STATUSES) == set(EXPECTED)


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_reads_the_same_in_every_place(status):
    shown = (
        status_text(status, "short"),
        status_text(status),
        status_text(status, "ended", epochs=7),
    )
    assert shown == EXPECTED[status]
    assert not any("_" in text or "{" in text for text in shown)


def test_a_status_this_version_does_not_know_reads_as_its_name():
    assert status_text("paused_elsewhere", "short") == "paused elsewhere"
    assert status_text("paused_elsewhere", "ended", epochs=3) == "paused elsewhere"
