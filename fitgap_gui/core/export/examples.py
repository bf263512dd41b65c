"""The per-example CSV of a stored run: one row per measured training example.

``fitgap export examples RUN_ID --out FILE.csv`` writes it from the store's ``examples``
table (``core.results.examples.ExampleDynamics``), without TensorFlow: the delivered
model's classes were recorded when the run ended.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.store.runstore import RunStore

#: The CSV's columns, in order.
EXAMPLE_COLUMNS = (
    "index",
    "given_label",
    "original_label",
    "flipped",
    "forgetting_events",
    "first_learned_epoch",
    "aum",
    "confidence",
    "variability",
    "final_correct",
)


def stored_dynamics(store: RunStore, run_id: int) -> ExampleDynamics:
    """The run's per-example dynamics, or one ``error:`` line saying why there are none."""
    run = store.get_run(run_id)  # RunNotFoundError for a bad id
    blob = store.example_dynamics(run_id)
    if blob is None:
        raise FitGapError(
            f"run {run_id} has no per-example record (it is {run.status}; runs recorded "
            "before FitGap kept one, and runs that measured no epoch, have none)"
        )
    return ExampleDynamics.from_bytes(blob)


def example_rows(dyn: ExampleDynamics) -> list[list[str | int]]:
    """The CSV's rows, in the source's order (flags 0/1, an empty first epoch: never)."""
    assert dyn.source_rows is not None and dyn.original is not None and dyn.flipped is not None
    first = dyn.first_learned_epoch()
    forgot = dyn.forgetting_events()
    aum, confidence, variability = dyn.aum(), dyn.confidence(), dyn.variability()
    final = dyn.final_correct()
    rows: list[list[str | int]] = []
    for i in np.argsort(dyn.source_rows, kind="stable"):
        rows.append(
            [
                int(dyn.source_rows[i]),
                int(dyn.given[i]),
                int(dyn.original[i]),
                int(dyn.flipped[i]),
                int(forgot[i]),
                "" if first[i] < 0 else int(first[i]),
                f"{aum[i]:.6g}",
                f"{confidence[i]:.6g}",
                f"{variability[i]:.6g}",
                "" if final is None else int(final[i]),
            ]
        )
    return rows


def export_examples(store: RunStore, run_id: int, path: str | Path) -> Path:
    """Write the run's per-example CSV to ``path``; returns it."""
    rows = example_rows(stored_dynamics(store, run_id))
    out = Path(path)
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXAMPLE_COLUMNS)
            writer.writerows(rows)
    except OSError as exc:
        raise FitGapError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out
