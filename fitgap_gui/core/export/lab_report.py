"""The lab experiments in the report: tables, a reading and an inline SVG chart each.

``lab_sections(store, runs)`` finds the lab records (``core.experiments.labstore``)
whose runs are among the report's, recomputes each one's JSON from those stored runs
(``labstore.rebuild``: what the report shows is reproducible from the store), and
draws it: randomization (accuracy by level of random labels), double descent (error
by width on a log axis, the interpolation threshold and the width where the parameter
count equals the training rows) and, for a reported run's setup, the learning-rate
range test (loss by rate on a log axis, the suggestion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fitgap_gui.core.errors import RunNotFoundError
from fitgap_gui.core.experiments.lab_readings import (
    double_descent_reading,
    lr_range_reading,
    randomization_reading,
)
from fitgap_gui.core.experiments.labstore import read_records, rebuild, record_run_ids
from fitgap_gui.core.formatting import format_number, format_percent
from fitgap_gui.core.store.runstore import RunStore, StoredRun

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 14, 34
TRAIN, TEST = "#1f77b4", "#d62728"


def _pct(value: float | None) -> str:
    return "-" if value is None else format_percent(value)


def xy_chart(
    series: Sequence[tuple[str, str, Sequence[float], Sequence[float | None]]],
    *,
    x_label: str,
    log_x: bool,
    marks: Sequence[tuple[float, str]] = (),
) -> dict[str, Any] | None:
    """An SVG chart as numbers for the template: ``series`` of (label, colour, x, y),
    vertical ``marks`` (x, label); None without a finite point."""
    points = [
        (x, y)
        for *_, xs, ys in series
        for x, y in zip(xs, ys, strict=True)
        if y is not None and math.isfinite(y) and (x > 0 or not log_x)
    ]
    if not points:
        return None

    def fx(x: float) -> float:
        return math.log10(x) if log_x else x

    xs = [fx(x) for x, _ in points] + [fx(x) for x, _ in marks if x > 0 or not log_x]
    ys = [y for _, y in points]
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(ys), max(ys)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    pad = (y_hi - y_lo) * 0.05
    y_lo, y_hi = y_lo - pad, y_hi + pad
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (fx(x) - x_lo) / (x_hi - x_lo) * w

    def py(y: float) -> float:
        return TOP + (y_hi - y) / (y_hi - y_lo) * h

    lines = []
    for label, colour, x_values, y_values in series:
        pts = [
            f"{px(x):.1f},{py(y):.1f}"
            for x, y in zip(x_values, y_values, strict=True)
            if y is not None and math.isfinite(y) and (x > 0 or not log_x)
        ]
        lines.append({"label": label, "colour": colour, "points": " ".join(pts)})
    x_ticks = []
    if log_x:
        for e in range(math.floor(x_lo), math.ceil(x_hi) + 1):
            if x_lo - 1e-9 <= e <= x_hi + 1e-9:
                x_ticks.append({"x": round(px(10.0**e), 1), "label": format_number(10.0**e)})
    else:
        for i in range(6):
            v = x_lo + (x_hi - x_lo) * i / 5
            x_ticks.append({"x": round(px(v), 1), "label": format_number(v)})
    y_ticks = [
        {
            "y": round(py(y_lo + (y_hi - y_lo) * i / 4), 1),
            "label": format_number(y_lo + (y_hi - y_lo) * i / 4),
        }
        for i in range(5)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"x": LEFT, "y": TOP, "w": w, "h": h},
        "lines": lines,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "x_label": x_label,
        "marks": [
            {"x": round(px(x), 1), "label": label} for x, label in marks if x > 0 or not log_x
        ],
    }


def _randomization(record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    levels = payload["levels"]
    x = [lv["level"] for lv in levels]
    chart = xy_chart(
        [
            (
                "training accuracy (labels trained on)",
                TRAIN,
                x,
                [lv["train_accuracy"]["mean"] for lv in levels],
            ),
            (
                "test accuracy (delivered models)",
                TEST,
                x,
                [lv["test_accuracy"]["mean"] for lv in levels],
            ),
        ],
        x_label="fraction of training labels made random",
        log_x=False,
    )
    rows = [
        [
            f"{lv['level']:g}",
            ", ".join(str(i) for i in lv["run_ids"]),
            _pct(lv["train_accuracy"]["mean"]),
            _pct(lv["test_accuracy"]["mean"]),
            ", ".join("-" if e is None else str(e) for e in lv["epochs_to_fit"]),
        ]
        for lv in levels
    ]
    return {
        "title": "Randomization test (random training labels)",
        "reading": randomization_reading(payload),
        "header": ["level", "runs", "training accuracy", "test accuracy", "epochs to 99 %"],
        "rows": rows,
        "chart": chart,
        "note": f"chance: {_pct(1 / record['data']['n_classes'])}; p-value: "
        + (
            "none (no permutation runs)"
            if payload["p_value"] is None
            else f"{payload['p_value']:.3g}"
        ),
    }


def _double_descent(record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    widths = payload["widths"]
    data = record["data"]
    x = [w["width"] for w in widths]
    marks = []
    if payload["threshold_width"] is not None:
        marks.append((payload["threshold_width"], "threshold"))
    crossing = (data["n_train"] - data["n_classes"]) / (data["input_dim"] + 1 + data["n_classes"])
    if crossing > 0:
        marks.append((crossing, "params = n_train"))
    chart = xy_chart(
        [
            ("training error", TRAIN, x, [w["train_error"] for w in widths]),
            ("test error (delivered models)", TEST, x, [w["test_error"] for w in widths]),
        ],
        x_label="hidden width (log)",
        log_x=True,
        marks=marks,
    )
    rows = [
        [
            str(w["width"]),
            str(w["params"]),
            str(w["run_id"]),
            _pct(w["train_error"]),
            _pct(w["test_error"]),
        ]
        for w in widths
    ]
    noise = record["settings"].get("label_noise", 0.0)
    return {
        "title": f"Double descent (label noise {noise:g})",
        "reading": double_descent_reading(payload, data["n_train"]),
        "header": ["width", "parameters", "run", "training error", "test error"],
        "rows": rows,
        "chart": chart,
        "note": "Each run's test error by epoch is kept in the lab record for study only "
        f"({record.get('path', '')}); no history holds it and nothing chose with it.",
    }


def _lr_range(record: dict[str, Any]) -> dict[str, Any]:
    payload = record["result"]
    marks = [(payload["suggested"], "suggested")] if payload["suggested"] else []
    chart = xy_chart(
        [
            ("loss per batch", "#9ecae1", payload["rates"], payload["losses"]),
            ("smoothed", TRAIN, payload["rates"], payload["smoothed"]),
        ],
        x_label="learning rate (log)",
        log_x=True,
        marks=marks,
    )
    settings = record["settings"]
    return {
        "title": "Learning-rate range test",
        "reading": lr_range_reading(payload),
        "header": ["lowest rate", "highest rate", "batches run", "suggested"],
        "rows": [
            [
                f"{settings['min']:g}",
                f"{settings['max']:g}",
                str(len(payload["rates"])),
                "-" if payload["suggested"] is None else f"{payload['suggested']:.3g}",
            ]
        ],
        "chart": chart,
        "note": "One short run outside the store (its rate is not the config's); kept as a lab record.",
    }


def _same_setup(record: dict[str, Any], runs: Sequence[StoredRun]) -> bool:
    base = record.get("settings", {}).get("base_config") or {}
    for run in runs:
        config = run.config.to_dict()
        if all(base.get(k) == config.get(k) for k in ("data", "model")):
            return True
    return False


def lab_sections(store: RunStore, runs: Sequence[StoredRun]) -> list[dict[str, Any]]:
    """The report's lab sections for ``runs``, oldest record first."""
    ids = {run.run_id for run in runs}
    sections = []
    for record in read_records(store):
        if record["kind"] == "lr-range":
            if _same_setup(record, runs):
                sections.append(_lr_range(record))
            continue
        wanted = record_run_ids(record)
        if not ids.intersection(wanted):
            continue
        try:
            payload = rebuild(record, store)
        except RunNotFoundError:  # a run of the record was deleted: the numbers as recorded
            payload = record["result"]
        section = (_randomization if record["kind"] == "randomization" else _double_descent)(
            record, payload
        )
        sections.append(section)
    return sections
