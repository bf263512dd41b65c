"""A cleaned run: the parent's data without (or relabelled at) its k lowest-AUM examples.

The per-example dynamics (``core.results.examples``) rank the training examples by their
area under the margin at the parent's end; the k lowest are the suspects.  The child is
a new run from scratch with the parent's config (same seed, so the same split and the
same other rows), linked by ``parent_run_id`` (no ``branch_epoch``: none of its epochs
are the parent's).  "drop" leaves the suspects out of the training rows; "relabel" gives
them the class the parent predicted at its best epoch (chosen on validation): by its
last epoch a network has often memorized the wrong labels and predicts them back.  The validation and test parts are
untouched, so the two delivered models' test numbers compare on data neither saw.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from fitgap_gui.core.data.datasets import Dataset, load_dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.results.examples import ExampleDynamics, lowest

Mode = Literal["drop", "relabel"]
MODES: tuple[Mode, ...] = ("drop", "relabel")


def suspects(dyn: ExampleDynamics, k: int) -> np.ndarray:
    """The k lowest-AUM examples' positions in the training arrays."""
    if k < 1 or k > dyn.n:
        raise FitGapError(f"k must be between 1 and {dyn.n} (the examples measured), not {k}")
    return dyn.rows[lowest(dyn.aum(), k)]


def cleaned_dataset(
    dataset: Dataset, dyn: ExampleDynamics, mode: Mode, k: int, best_epoch: int | None = None
) -> Dataset:
    """The parent's dataset with its k suspects dropped or relabelled as predicted at
    ``best_epoch`` (else by the delivered model, else at the last epoch measured)."""
    if mode not in MODES:
        raise FitGapError(f"unknown cleaning {mode!r}; expected drop or relabel")
    chosen = suspects(dyn, k)
    n = len(dataset.y_train)
    original = dataset.original_labels  # None: unknown (arrays made by hand)
    source = dataset.source_rows if dataset.source_rows is not None else np.arange(n)
    if mode == "drop":
        keep = np.setdiff1d(np.arange(n), chosen)
        x, y = dataset.x_train[keep], dataset.y_train[keep]
        source = source[keep]
        original = original[keep] if original is not None else None
    else:
        predicted = dyn.predicted_at(best_epoch)
        if predicted is None:
            predicted = dyn.delivered if dyn.delivered is not None else dyn.last_predicted()
        by_row = dict(zip(dyn.rows.tolist(), predicted.tolist(), strict=True))
        x, y = dataset.x_train, dataset.y_train.copy()
        y[chosen] = [by_row[int(row)] for row in chosen]
    flipped = dataset.flipped_rows
    if original is not None and flipped is not None:
        flipped = np.flatnonzero(y != original)  # the labels still wrong
    elif mode == "drop" and flipped is not None:
        flipped = np.flatnonzero(np.isin(np.setdiff1d(np.arange(n), chosen), flipped))
    return dataclasses.replace(
        dataset,
        x_train=np.ascontiguousarray(x),
        y_train=np.ascontiguousarray(y),
        flipped_rows=flipped,
        source_rows=source,
        original_labels=original,
    )


def clean_dataset_for(
    config, dyn: ExampleDynamics, mode: Mode, k: int, best_epoch: int | None = None
) -> Dataset:
    """The parent config's data (same seed: same split), cleaned."""
    dataset = load_dataset(config.data, config.training.seed)
    return cleaned_dataset(dataset, dyn, mode, k, best_epoch)


def clean_name(parent_name: str, mode: Mode, k: int) -> str:
    what = "without" if mode == "drop" else "relabelled"
    return f"{parent_name} ({what} its {k} lowest-margin examples)"
