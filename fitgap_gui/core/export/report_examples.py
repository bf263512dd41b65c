"""The lab report's per-example figures: the data map and how well the suspects are found.

``data_map(dyn)`` is an SVG scatter as plain numbers for the template (confidence
against variability per training example, coloured flipped / kept when label noise was
on, by given class otherwise); ``precision_chart(dyn, history)`` is a line chart (the
report's ``chart``) of the k lowest mean margins' precision against the flipped labels,
beside the memorized noise.  At most ``MAX_POINTS`` examples are drawn (an even spread
of rows), so a report stays small.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fitgap_gui.core.results.examples import ExampleDynamics

#: The map's size in SVG units, and its margins (left, right, top, bottom).
WIDTH, HEIGHT = 460, 300
MARGIN = (52, 12, 24, 34)  # the title sits above the points
MAX_POINTS = 3000
FLIPPED, KEPT = "#d55e00", "#0072b2"
#: Ten distinct colours for the given classes (Okabe-Ito, then greys).
CLASS_COLOURS = (
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
    "#56b4e9", "#f0e442", "#000000", "#999999", "#666666",
)  # fmt: skip
PRECISION_LINES = (
    ("suspect_precision", "precision of the k lowest mean margins", FLIPPED, ""),
    ("memorized_noise", "memorized noise", "#555555", "5 3"),
)


def data_map(dyn: ExampleDynamics | None) -> dict[str, Any] | None:
    """The data map's points and ticks for the template, or None without a record."""
    if dyn is None or not dyn.epochs:
        return None
    confidence, variability = dyn.confidence(), dyn.variability()
    keep = np.arange(dyn.n)
    if dyn.n > MAX_POINTS:
        keep = np.linspace(0, dyn.n - 1, MAX_POINTS).astype(int)
    left, right, top, bottom = MARGIN
    plot_w, plot_h = WIDTH - left - right, HEIGHT - top - bottom
    x_max = max(0.05, float(variability.max()) * 1.05)
    noisy = dyn.noise_known
    points = []
    for i in keep:
        if noisy:
            colour = FLIPPED if dyn.flipped is not None and dyn.flipped[i] else KEPT
        else:
            colour = CLASS_COLOURS[int(dyn.given[i]) % len(CLASS_COLOURS)]
        points.append(
            {
                "x": round(left + float(variability[i]) / x_max * plot_w, 1),
                "y": round(top + (1.0 - float(confidence[i])) * plot_h, 1),
                "colour": colour,
            }
        )
    x_ticks = [
        {"x": round(left + v / x_max * plot_w, 1), "label": f"{v:.2g}"}
        for v in np.linspace(0, x_max, 5)[:-1]
    ]
    y_ticks = [{"y": round(top + (1.0 - v) * plot_h, 1), "label": f"{v:g}"} for v in
               (0.0, 0.25, 0.5, 0.75, 1.0)]  # fmt: skip
    legend = (
        [{"colour": KEPT, "label": "label kept"}, {"colour": FLIPPED, "label": "label flipped"}]
        if noisy
        else [{"colour": CLASS_COLOURS[0], "label": "coloured by the given class"}]
    )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"x": left, "y": top, "w": plot_w, "h": plot_h},
        "points": points,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "legend": legend,
        "n": dyn.n,
        "shown": len(points),
        "epoch": dyn.epochs[-1],
    }


def precision_history(
    dyn: ExampleDynamics | None, history: dict[str, list[float | None]]
) -> dict[str, list[float | None]] | None:
    """The precision per epoch (and the memorized noise) as a history, or None."""
    if dyn is None or not dyn.noise_known or not dyn.epochs:
        return None
    n = max(dyn.epochs)
    values: list[float | None] = [None] * n
    for epoch, value in zip(dyn.epochs, dyn.precision, strict=True):
        values[epoch - 1] = value
    out: dict[str, list[float | None]] = {"suspect_precision": values}
    if history.get("memorized_noise"):
        out["memorized_noise"] = list(history["memorized_noise"])
    return out
