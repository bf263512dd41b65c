"""One plain-language reading of each lab experiment's JSON (CLI, window and report)."""

from __future__ import annotations

from typing import Any

from fitgap_gui.core.experiments.lab_results import FIT_ACCURACY, INTERPOLATION_ERROR
from fitgap_gui.core.formatting import format_accuracy


def _pct(value: float | None) -> str:
    return "-" if value is None else format_accuracy(value)  # 89.2%, 85.0%


def randomization_reading(payload: dict[str, Any]) -> str:
    levels = payload.get("levels") or []
    if not levels:
        return "No run finished, so there is nothing to read yet."
    first, last = levels[0], levels[-1]
    train_last = last["train_accuracy"]["mean"]
    fitted = train_last is not None and train_last >= FIT_ACCURACY
    reached = _pct(train_last)
    fit_words = (
        f"fits them to {reached} training accuracy"
        if fitted
        else f"reaches only {reached} training accuracy on them (more epochs or width to fit them)"
    )
    text = (
        f"At {_pct(last['level'])} random labels the network {fit_words}, while its test "
        f"accuracy is {_pct(last['test_accuracy']['mean'])} (at {_pct(first['level'])}: "
        f"{_pct(first['test_accuracy']['mean'])})."
    )
    if fitted:
        text += " Capacity alone does not explain why it generalizes on real labels."
    if payload.get("p_value") is not None:
        text += f" Permutation p-value of the real labels' test accuracy: {payload['p_value']:.3g}."
    return text


def double_descent_reading(payload: dict[str, Any], n_train: int | None = None) -> str:
    widths = [w for w in payload.get("widths") or [] if w["test_error"] is not None]
    if not widths:
        return "No run finished, so there is nothing to read yet."
    threshold = payload.get("threshold_width")
    best = min(widths, key=lambda w: w["test_error"])
    if threshold is None:
        text = (
            f"No width reached {_pct(INTERPOLATION_ERROR)} training error: the runs did not "
            "interpolate the training set (more epochs or wider networks), so no threshold."
        )
    else:
        text = f"Width {threshold} is the first to fit the training set (at most {_pct(INTERPOLATION_ERROR)} training error)."
        before = [w for w in widths if w["width"] < threshold]
        around = [w for w in widths if w["width"] >= threshold]
        peak = max(around, key=lambda w: w["test_error"]) if around else None
        later = [w for w in widths if peak and w["width"] > peak["width"]]
        if (
            before
            and peak
            and peak["test_error"] > min(w["test_error"] for w in before)
            and later
            and min(w["test_error"] for w in later) < peak["test_error"]
        ):
            text += (
                f" Test error peaks at width {peak['width']} ({_pct(peak['test_error'])}) and "
                "falls again beyond it: double descent."
            )
        else:
            text += " No test-error peak near it: no double descent in these runs."
    text += f" Lowest test error: {_pct(best['test_error'])} at width {best['width']}"
    if n_train:
        text += f" (n_params = n_train = {n_train} lies near width {_width_for(widths, n_train)})"
    return text + "."


def _width_for(widths: list[dict[str, Any]], params: int) -> int:
    return min(widths, key=lambda w: abs(w["params"] - params))["width"]


def lr_range_reading(payload: dict[str, Any]) -> str:
    rates = payload.get("rates") or []
    if not rates:
        return "The range test ran no batch."
    stop = "the loss diverged" if _diverged(payload) else "the loss had not diverged yet"
    suggested = payload.get("suggested")
    if suggested is None:
        return (
            f"The loss did not fall long enough before {stop} (at {rates[-1]:.3g}) to suggest "
            "a rate; try a lower --min or more --steps."
        )
    return (
        f"The smoothed loss falls fastest at a learning rate of {suggested:.3g}; the test "
        f"ran up to {rates[-1]:.3g}, where {stop}. Apply copies {suggested:.3g} into the "
        "learning rate; a rate up to about 10x lower is the usual safe choice."
    )


def _diverged(payload: dict[str, Any]) -> bool:
    smoothed = [v for v in payload.get("smoothed") or [] if v is not None]
    if len(smoothed) < len(payload.get("smoothed") or []):
        return True
    return bool(smoothed) and smoothed[-1] > 4 * min(smoothed)
