"""The learning rate on the plots: where it dropped, and how a drop is said.

A run's history holds the learning rate of every epoch (the rate of the epoch's
last update, see docs/ARCHITECTURE.md).  The plots draw it on its own log-scale
plot and mark each *drop* on the loss plot: the epoch after which a step schedule
or ``ReduceLROnPlateau`` lowered the rate.  A continuous decay (cosine) falls at
nearly every epoch: marking each one would bury the loss curve under markers, so
such a run gets none and its learning-rate curve tells the story.
"""

from __future__ import annotations

import numpy as np

#: A fall smaller than this share of the rate is float noise, not a drop.
RELATIVE_TOLERANCE = 1e-6


def rate_drops(rates: np.ndarray) -> list[tuple[int, float, float]]:
    """(epoch after which the rate fell, old rate, new rate) of each drop.

    ``rates[e]`` is the rate of epoch ``e + 1``; missing epochs (NaN) are skipped.
    A rate that falls at more than half of the epoch-to-epoch steps (and at two or
    more) decays continuously: no drops are reported for it.
    """
    rates = np.asarray(rates, dtype=float)
    if rates.size < 2:
        return []
    old, new = rates[:-1], rates[1:]
    known = np.isfinite(old) & np.isfinite(new)
    fell = known & (new < old * (1 - RELATIVE_TOLERANCE))
    falls, steps = int(fell.sum()), int(known.sum())
    if falls >= 2 and falls > steps / 2:
        return []
    return [(int(i) + 1, float(old[i]), float(new[i])) for i in np.flatnonzero(fell)]


def drop_text(epoch: int, old: float, new: float) -> str:
    """What a drop marker says: "learning rate 0.001 → 0.0005 after epoch 12"."""
    return f"learning rate {old:.3g} → {new:.3g} after epoch {epoch}"
