"""core/results/status.py: a run's final status, decided once for the engine and the callback."""

from __future__ import annotations

import pytest

from fitgap_gui.core.results.records import STATUSES
from fitgap_gui.core.results.status import final_status


@pytest.mark.parametrize(
    ("happened", "status"),
    [
        ({}, "completed"),
        ({"early_stopped": True}, "early_stopped"),
        ({"stopped": True}, "stopped"),
        ({"branched": True}, "branched"),
        ({"diverged": True}, "diverged"),
        # When several happened, the first of diverged, branched, stopped, early_stopped.
        ({"diverged": True, "early_stopped": True}, "diverged"),
        ({"diverged": True, "stopped": True, "branched": True}, "diverged"),
        ({"branched": True, "stopped": True}, "branched"),
        ({"stopped": True, "early_stopped": True}, "stopped"),
    ],
)
def test_each_case_and_which_wins(happened, status):
    assert final_status(**happened) == status
    assert status in STATUSES
