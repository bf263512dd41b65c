"""Unscaled inputs: the spread of the training features, as a few plain numbers.

A network trained on features whose spreads differ by orders of magnitude (grams next
to millimetres) or that reach into the hundreds takes steps sized for the largest
feature: the loss swings, and the curves look like underfitting.  ``input_spread``
measures it once from the training inputs (when ``data.scale`` resolves to "none"); the
diagnosis (``advice.advice_for``) then puts "scale the inputs" first and never
advises a larger learning rate.  No Keras, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Feature spreads (standard deviations) differing by more than this are unscaled.
SPREAD_RATIO = 100.0
#: Feature values beyond +-this are unscaled.
MAX_ABS = 100.0
#: Cells read for the standard deviations (rows evenly strided): bounded time and memory.
MAX_CELLS = 2_000_000


def input_spread(x_train: np.ndarray) -> dict[str, float] | None:
    """``{"std_min", "std_max", "max_abs"}`` of the training inputs, or None without rows.

    ``std_min`` is over the features that vary (a constant column has no spread to
    compare); the standard deviations are read on evenly strided rows when the array
    holds more than ``MAX_CELLS`` cells, the largest value on every row.
    """
    if x_train.size == 0 or len(x_train) == 0:
        return None
    flat = x_train.reshape(len(x_train), -1)
    step = max(1, math.ceil(flat.size / MAX_CELLS))
    std = flat[::step].astype(np.float64).std(axis=0)
    varying = std[std > 0]
    max_abs = max(abs(float(flat.max())), abs(float(flat.min())))
    if not varying.size or not math.isfinite(max_abs):
        return {"std_min": 0.0, "std_max": 0.0, "max_abs": max_abs}
    return {
        "std_min": float(varying.min()),
        "std_max": float(varying.max()),
        "max_abs": max_abs,
    }


def inputs_for_diagnosis(scale: str, x_train: np.ndarray) -> dict[str, float] | None:
    """The spread the diagnosis reads: only for inputs that are not scaled."""
    return input_spread(x_train) if scale == "none" else None


def unscaled_reasons(spread: Mapping[str, Any] | None) -> list[str]:
    """What makes these inputs unscaled, in words with the numbers (empty: they are fine)."""
    if not spread:
        return []
    reasons = []
    lo, hi, top = spread.get("std_min", 0.0), spread.get("std_max", 0.0), spread["max_abs"]
    if lo > 0 and hi / lo > SPREAD_RATIO:
        reasons.append(f"feature spreads differ {_round2(hi / lo)}x ({_short(lo)} to {_short(hi)})")
    if top > MAX_ABS:
        reasons.append(f"values reach {_round2(top)}")
    return reasons


def _round2(value: float) -> str:
    """Two significant digits with thousands separators: 4,137 -> '4,100', 5,123 -> '5,100'."""
    if not math.isfinite(value):
        return "not a number"
    digits = math.floor(math.log10(abs(value))) if value else 0
    rounded = round(value, 1 - digits)
    return f"{rounded:,.0f}" if abs(rounded) >= 10 else f"{rounded:g}"


def _short(value: float) -> str:
    """A spread for a sentence: 0.0213 -> '0.021', 82.14 -> '82.1', 1,234.5 -> '1,234'."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"
