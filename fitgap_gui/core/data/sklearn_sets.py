"""scikit-learn's ``make_moons`` and ``make_circles``, drawn without importing scikit-learn.

Importing scikit-learn costs about a second of every training process, for two
generators of a few lines.  These draw the same points, bit for bit, as
``make_moons(n_samples, noise=noise, random_state=seed)`` and ``make_circles(...,
factor=factor)`` (``sklearn/datasets/_samples_generator.py``): the same arithmetic,
the same ``np.random.RandomState(seed)`` calls in the same order (``shuffle`` then
``normal``).  The exported Keras script calls scikit-learn itself, so the two must
agree: tests/core/data/test_splits.py compares them with the installed scikit-learn.
"""

from __future__ import annotations

import numpy as np


def make_moons(n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    return _shuffled_with_noise(outer_x, outer_y, inner_x, inner_y, noise, seed)


def make_circles(
    n_samples: int, noise: float, seed: int, factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one, as ``sklearn.datasets.make_circles``."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angles_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angles_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    return _shuffled_with_noise(
        np.cos(angles_out),
        np.sin(angles_out),
        np.cos(angles_in) * factor,
        np.sin(angles_in) * factor,
        noise,
        seed,
    )


def _shuffled_with_noise(outer_x, outer_y, inner_x, inner_y, noise: float, seed: int):
    """Both generators' common end: stack, label, shuffle (``utils.shuffle``), add noise."""
    x = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(len(outer_x), dtype=np.intp), np.ones(len(inner_x), dtype=np.intp)])
    rng = np.random.RandomState(seed)
    rows = np.arange(len(y))
    rng.shuffle(rows)  # what sklearn.utils.shuffle (resample, replace=False) draws
    x, y = x[rows], y[rows]
    x += rng.normal(scale=noise, size=x.shape)
    return x, y
