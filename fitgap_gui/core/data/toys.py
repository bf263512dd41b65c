"""The drawn built-in sets: moons, circles, spirals and xor, two classes of 2-D points.

Numpy only (``core.data.sklearn_sets`` draws scikit-learn's two generators without it),
so the exported Keras script carries this very code (docs/ARCHITECTURE.md, "Export as
Keras script") and draws the same points.
"""

import numpy as np

from fitgap_gui.core.data.sklearn_sets import make_circles, make_moons

TOYS = ("moons", "circles", "spirals", "xor")


def toy_points(source, n_samples, noise, seed):
    """The points (float32) and labels (int64) of a drawn set."""
    rng = np.random.default_rng(seed)
    if source == "moons":
        x, y = make_moons(n_samples, noise, seed)
    elif source == "circles":
        x, y = make_circles(n_samples, noise, seed, factor=0.5)
    elif source == "spirals":  # the second spiral is the first turned by half a turn
        t = np.sqrt(rng.uniform(0.0, 1.0, n_samples)) * 3.0 * np.pi
        arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3.0 * np.pi)
        y = (np.arange(n_samples) >= n_samples // 2).astype(np.int64)
        x = np.where(y[:, None] == 1, -arm, arm)
        x = x + rng.normal(scale=noise * 0.5, size=x.shape)
    else:  # "xor": points in [-1, 1]^2; opposite quadrants share a class
        x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
        y = (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)
        x = x + rng.normal(scale=noise * 0.5, size=x.shape)
    return x.astype(np.float32), y.astype(np.int64)
