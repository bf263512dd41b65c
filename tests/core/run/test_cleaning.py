"""Cleaning a run's data: the k lowest mean margins dropped or relabelled as predicted."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.run.cleaning import cleaned_dataset


def _parent():
    original = np.array([0, 1, 2, 0, 1, 2])
    given = np.array([0, 2, 2, 0, 0, 2])  # rows 1 and 4 flipped
    dataset = Dataset(
        x_train=np.arange(12, dtype=np.float32).reshape(6, 2),
        y_train=given,
        x_val=np.zeros((2, 2), np.float32),
        y_val=np.array([0, 1]),
        class_names=["a", "b", "c"],
        name="hand-made",
        flipped_rows=np.array([1, 4]),
        source_rows=np.arange(100, 106),
        original_labels=original,
    )
    dyn = ExampleDynamics(rows=np.arange(6), given=given, original=original)
    logits = np.eye(3)[given] * 4.0
    logits[1] = [0.0, 3.0, 1.0]  # row 1: given 2, predicted 1 (its true class), low margin
    logits[4] = [1.0, 3.0, 0.0]  # row 4: given 0, predicted 1, low margin
    dyn.update(1, logits)
    dyn.delivered = logits.argmax(axis=1)
    return dataset, dyn


def test_drop_leaves_out_the_k_lowest_and_keeps_the_rest_in_order():
    dataset, dyn = _parent()
    cleaned = cleaned_dataset(dataset, dyn, "drop", 2)
    np.testing.assert_array_equal(cleaned.source_rows, [100, 102, 103, 105])
    np.testing.assert_array_equal(cleaned.y_train, [0, 2, 0, 2])
    np.testing.assert_array_equal(cleaned.x_train, dataset.x_train[[0, 2, 3, 5]])
    assert len(cleaned.flipped_rows) == 0  # both flipped rows were the suspects
    assert cleaned.x_val is dataset.x_val  # validation and test untouched


def test_relabel_gives_the_k_lowest_the_predicted_class():
    dataset, dyn = _parent()
    cleaned = cleaned_dataset(dataset, dyn, "relabel", 2)
    np.testing.assert_array_equal(cleaned.y_train, [0, 1, 2, 0, 1, 2])
    assert len(cleaned.flipped_rows) == 0  # relabelled back to their true classes
    assert dataset.y_train[1] == 2  # the parent's data is not changed


def test_relabel_takes_the_best_epochs_prediction_when_given():
    dataset, dyn = _parent()
    memorized = np.eye(3)[dataset.y_train] * 4.0  # epoch 2: every label predicted as given
    dyn.update(2, memorized)
    dyn.delivered = memorized.argmax(axis=1)
    assert np.array_equal(cleaned_dataset(dataset, dyn, "relabel", 2).y_train, dataset.y_train)
    at_best = cleaned_dataset(dataset, dyn, "relabel", 2, best_epoch=1)
    np.testing.assert_array_equal(at_best.y_train, [0, 1, 2, 0, 1, 2])


def test_a_k_out_of_range_is_one_error():
    dataset, dyn = _parent()
    with pytest.raises(FitGapError, match="k must be between 1 and 6"):
        cleaned_dataset(dataset, dyn, "drop", 7)
