"""Per-example dynamics in numpy: forgetting on a hand-made sequence, the stored blob."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.results.examples import (
    ExampleDynamics,
    first_learned,
    forgetting_events,
    margins_and_probs,
    suspect_scores,
)


def test_forgetting_and_first_learned_on_a_hand_made_sequence():
    # Four examples over five epochs (rows: epochs).
    right = np.array(
        [
            [1, 1, 1, 0],
            [0, 0, 1, 0],
            [1, 1, 0, 0],
            [0, 1, 1, 0],
            [1, 1, 1, 1],
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(forgetting_events(right), [2, 1, 1, 0])
    np.testing.assert_array_equal(first_learned(right, np.arange(1, 6)), [5, 3, 4, 5])
    right[-1, 0] = False  # wrong at the end: never learned
    np.testing.assert_array_equal(first_learned(right, np.arange(1, 6)), [-1, 3, 4, 5])
    assert forgetting_events(right[:1]).tolist() == [0, 0, 0, 0]


def test_margin_is_the_given_logit_minus_the_largest_other():
    logits = np.array([[2.0, 1.0, -1.0], [0.5, 3.0, 1.0]])
    margin, prob = margins_and_probs(logits, np.array([0, 0]))
    np.testing.assert_allclose(margin, [1.0, -2.5])
    np.testing.assert_allclose(prob[0], np.exp(2) / np.exp([2, 1, -1]).sum())


def test_the_k_lowest_aum_precision_against_the_flipped():
    aum = np.array([-3.0, 2.0, -1.0, 4.0, 0.5])
    flipped = np.array([1, 0, 0, 0, 1])
    assert suspect_scores(aum, flipped) == {"precision": 0.5, "recall": 0.5, "k": 2}
    assert np.isnan(suspect_scores(aum, np.zeros(5))["precision"])


def test_the_blob_round_trips_without_pickle():
    dyn = ExampleDynamics(
        rows=np.arange(3), given=np.array([0, 1, 1]), original=np.array([0, 1, 0])
    )
    dyn.update(1, np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]))
    dyn.update(2, np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 2.0]]))
    back = ExampleDynamics.from_bytes(dyn.to_bytes())
    assert back.epochs == [1, 2] and back.flipped.tolist() == [0, 0, 1]
    np.testing.assert_allclose(back.aum(), dyn.aum())
    np.testing.assert_array_equal(back.forgetting_events(), [1, 0, 0])
    assert back.precision == pytest.approx(dyn.precision)
    assert back.precision == [1.0, 0.0]
