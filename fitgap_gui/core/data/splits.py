"""scikit-learn's ``train_test_split`` rows, drawn without importing scikit-learn.

Importing scikit-learn costs 1-2 s of a ``fitgap train`` process, more than the
whole 40-epoch digits run gains from FitGap's engine, and the split only needs a
few lines of it.  ``split_rows`` draws the same rows as::

    train_test_split(np.arange(n), test_size=validation_split, random_state=seed,
                     stratify=y if stratify else None)

by doing what ``ShuffleSplit`` and ``StratifiedShuffleSplit`` do (``_iter_indices``,
``_approximate_mode`` in ``sklearn.model_selection._split`` and
``sklearn.utils.extmath``) with the same ``np.random.RandomState(seed)`` calls in the
same order.  The exported Keras script calls ``train_test_split`` itself, so the two
must agree row for row: tests/core/data/test_splits.py compares them over many seeds, sizes
and class balances against the installed scikit-learn.  Arguments outside what is
reproduced here (a seed that is not a plain int, a split that is not a float in
(0, 1)) go to scikit-learn itself.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def split_rows(
    y: np.ndarray, validation_split: float, seed: int, *, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(train rows, validation rows)`` exactly as scikit-learn's ``train_test_split``."""
    n = len(y)
    if not _reproduced(y, validation_split, seed):
        return _sklearn_rows(y, validation_split, seed, stratify=stratify)
    n_val = math.ceil(validation_split * n)  # _validate_shuffle_split, test_size a float
    n_train = n - n_val
    rng = np.random.RandomState(seed)
    if not stratify:  # ShuffleSplit._iter_indices, first split
        permutation = rng.permutation(n)
        return permutation[n_val : n_val + n_train], permutation[:n_val]
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    if class_counts.min() < 2 or n_train < len(classes) or n_val < len(classes):
        # scikit-learn refuses these with its own message; let it say so.
        return _sklearn_rows(y, validation_split, seed, stratify=stratify)
    # StratifiedShuffleSplit._iter_indices, first split.
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_val, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(len(classes)):
        permutation = rng.permutation(class_counts[i])
        rows = class_indices[i].take(permutation, mode="clip")
        train.extend(rows[: n_i[i]])
        test.extend(rows[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _reproduced(y: np.ndarray, validation_split: float, seed: int) -> bool:
    """Whether ``split_rows`` draws these rows itself (else scikit-learn does)."""
    return (
        isinstance(seed, numbers.Integral)
        and not isinstance(seed, bool)
        and 0 <= int(seed) < 2**32
        and isinstance(validation_split, float)
        and 0.0 < validation_split < 1.0
        and y.ndim == 1
        and y.dtype.kind in "iu"
        and 0 < math.ceil(validation_split * len(y)) < len(y)
    )


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """scikit-learn's ``_approximate_mode``: per-class draws, ties broken by ``rng``."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        values = np.sort(np.unique(remainder))[::-1]
        for value in values:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _sklearn_rows(
    y: np.ndarray, validation_split: float, seed: int, *, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(len(y)),
        test_size=validation_split,
        random_state=seed,
        stratify=y if stratify else None,
    )
    return train, test
