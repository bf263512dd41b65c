"""The lab report: one self-contained HTML file about some stored runs, readable offline.

``render_report(runs)`` fills ``templates/report.html.j2`` (Jinja2, autoescaped: every
run name, path, class name and message the user wrote is escaped) with: each run's
curves as inline SVG drawn here from its history (no Qt, no plotting library), the
levers side by side, the model each run delivers (its epoch, its test numbers and the
gap read there), the best epochs (chosen on validation, so the detail), the diagnosis
and advice, plain statistics over runs that repeat one setup (compared on the delivered
models' test cross-entropy where every run has a test part), and what is needed to repeat each run (versions, seed,
data fingerprints and, for FitGap's own runs, the standalone Keras script).  Nothing
in the file points outside it: no scripts, no stylesheets, no images to fetch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fitgap_gui.core.diagnosis.own_model import accuracy_key
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.report_examples import PRECISION_LINES, data_map, precision_history
from fitgap_gui.core.export.summary import delivered, delivered_line, format_number
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.script_data import script_data_words
from fitgap_gui.core.results.stats import comparison_words, paired_comparison, t_interval
from fitgap_gui.core.run.provenance import versions
from fitgap_gui.core.store.runstore import StoredRun

TEMPLATES = Path(__file__).with_name("templates")
#: Plot size in SVG user units, and its margins (left, right, top, bottom).
WIDTH, HEIGHT = 460, 230
MARGIN = (52, 12, 14, 30)
#: Line styles: (key, label, colour, dash pattern), the window's convention (its key row,
#: qt/plots/texts.py): solid = training measured at the epoch's end in inference mode,
#: dashed = validation, pale dotted = Keras's running training mean.  The first line of
#: a label that the run has is drawn: the measured curves where they were recorded.
MEASURED_DASH, VALIDATION_DASH, KERAS_DASH = "", "6 4", "2 3"
KERAS_COLOUR = "#9ecae1"
LOSS_LINES = (
    ("train_eval_cross_entropy", "training, measured", "#1f77b4", MEASURED_DASH),
    ("train_eval_loss", "training, measured", "#1f77b4", MEASURED_DASH),
    ("val_cross_entropy", "validation", "#d62728", VALIDATION_DASH),
    ("val_loss", "validation", "#d62728", VALIDATION_DASH),
    ("loss", "training, Keras's running mean", KERAS_COLOUR, KERAS_DASH),
)
ACCURACY_LINES = (
    ("train_eval_accuracy", "training, measured", "#1f77b4", MEASURED_DASH),
    ("val_accuracy", "validation", "#d62728", VALIDATION_DASH),
    ("accuracy", "training, Keras's running mean", KERAS_COLOUR, KERAS_DASH),
)
#: Under every chart: the convention in words.
LEGEND_KEY = (
    "solid: training, measured at the epoch's end like validation (as in the window); "
    "dashed: validation; pale dotted: Keras's running training mean (dropout on, "
    "averaged over the epoch); dash-dot vertical: best epoch"
)
#: The best-epoch table's metric columns.
BEST_COLUMNS = (
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "train_eval_cross_entropy",
    "val_cross_entropy",
    "gap",
)
#: Their headers: words that wrap, so the table fits a 1200-pixel window.
BEST_LABELS = {
    "loss": "training loss (Keras)",
    "val_loss": "validation loss (Keras)",
    "accuracy": "training accuracy (Keras)",
    "val_accuracy": "validation accuracy",
    "train_eval_cross_entropy": "training cross-entropy, measured",
    "val_cross_entropy": "validation cross-entropy",
    "gap": "cross-entropy gap",
}
#: Numbers summarised over runs that repeat one setup, and how the report names them.
STAT_COLUMNS = {
    "test_cross_entropy": "test cross-entropy (delivered model)",
    "test_accuracy": "test accuracy (delivered model)",
    "gap_at_delivered": "accuracy gap at the delivered epoch",
    "val_cross_entropy": "val_cross_entropy at the best epoch (chosen on validation)",
    "val_accuracy": "val_accuracy at the best epoch (chosen on validation)",
    "gap": "cross-entropy gap at the best epoch",
    "gap_at_best": "accuracy gap at the best epoch",
}
#: What repeated setups are compared on: the delivered models' test cross-entropy, or,
#: where a run has no test part, the best validation cross-entropy (and the words say so).
COMPARED_ON = {
    "test_cross_entropy": "test cross-entropy of the delivered models",
    "val_cross_entropy": "best validation cross-entropy (chosen on validation: no test part)",
}
#: Early stopping's settings (not what it did) are part of a run's setup.
ES_SETUP = ("monitor", "patience", "min_delta", "restore_best_weights", "mode", "baseline")


# -- plots -----------------------------------------------------------------------------------------
def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values spanning [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step) * step
    out = []
    value = start
    while value <= hi + step * 1e-9:
        out.append(round(value, 12))
        value += step
    return out


def chart(
    history: dict[str, list[float | None]],
    lines: Sequence[tuple[str, str, str, str]],
    title: str,
    accuracy_key: str | None = None,
) -> dict[str, Any] | None:
    """An SVG line chart as plain numbers and strings for the template; None if no data."""
    series = []
    seen_labels: set[str] = set()
    for key, label, colour, dash in lines:
        if key in ("accuracy", "val_accuracy") and accuracy_key:
            key = key.replace("accuracy", accuracy_key)
        values = history.get(key)
        if not values or label in seen_labels:
            continue
        seen_labels.add(label)
        series.append((key, label, colour, dash, values))
    finite = [v for *_, values in series for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    n = max(len(values) for *_, values in series)
    lo, hi = min(finite), max(finite)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    left, right, top, bottom = MARGIN
    plot_w, plot_h = WIDTH - left - right, HEIGHT - top - bottom

    def x_at(epoch: float) -> float:
        return left + (epoch - 1) / max(1, n - 1) * plot_w

    def y_at(value: float) -> float:
        return top + (hi - value) / (hi - lo) * plot_h

    polylines = []
    for key, label, colour, dash, values in series:
        # A None (diverged) value breaks the line instead of dropping to zero.
        segments: list[list[str]] = []
        current: list[str] = []
        for i, v in enumerate(values):
            if v is None or not math.isfinite(v):
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x_at(i + 1):.1f},{y_at(v):.1f}")
        if current:
            segments.append(current)
        polylines.append(
            {
                "key": key,
                "label": label,
                "colour": colour,
                "dash": dash,
                "segments": [" ".join(points) for points in segments],
                # A lone point (one epoch, or between gaps) is a dot: a polyline shows nothing.
                "single": [seg[0].split(",") for seg in segments if len(seg) == 1],
            }
        )
    y_ticks = [{"y": round(y_at(v), 1), "label": format_number(v)} for v in _ticks(lo, hi)]
    epoch_ticks = _ticks(1, n, 6) if n > 1 else [1]
    x_ticks = [
        {"x": round(x_at(e), 1), "label": str(int(e))} for e in epoch_ticks if float(e).is_integer()
    ]
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"x": left, "y": top, "w": plot_w, "h": plot_h},
        "lines": polylines,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
    }


# -- levers ----------------------------------------------------------------------------------------
def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, float):
        out[prefix] = format_number(value)
    elif isinstance(value, list):
        out[prefix] = ", ".join(str(v) for v in value) if value else "none"
    else:
        out[prefix] = "-" if value is None else str(value)


def callback_levers(levers: dict[str, Any]) -> dict[str, str]:
    """A user's model's levers (the callback's record) as named rows."""
    rows: dict[str, str] = {}
    if levers.get("unreadable"):
        rows["levers"] = f"could not be read from the model ({levers['unreadable']})"
    layers = levers.get("layers") or []
    rows["model.layers"] = " → ".join(layer["class"] for layer in layers) or "-"
    if levers.get("parameters") is not None:
        rows["model.parameters"] = f"{levers['parameters']:,}"
    rows["model.dropout"] = (
        ", ".join(f"{d['layer']} {format_number(d['rate'])}" for d in levers.get("dropout", []))
        or "none"
    )
    regs = []
    for r in levers.get("regularizers", []):
        factors = r.get("factors")
        text = (
            " ".join(f"{k}={format_number(v)}" for k, v in factors.items() if isinstance(v, float))
            if isinstance(factors, dict)
            else str(factors)
        )
        regs.append(f"{r['layer']} {r['on']} {r['class']} {text}".strip())
    rows["model.regularizers"] = "; ".join(regs) or "none"
    rows["training.loss"] = str(levers.get("loss") or "-")
    optimizer = levers.get("optimizer") or {}
    rows["training.optimizer"] = str(optimizer.get("class", "-"))
    if optimizer.get("learning_rate") is not None:
        rows["training.learning_rate"] = format_number(optimizer["learning_rate"])
    for key in ("batch_size", "epochs", "steps_per_epoch"):
        value = levers.get(key)
        rows[f"training.{key}"] = "not known to callbacks" if value is None else str(value)
    es = levers.get("early_stopping")
    if es:
        for key in ("monitor", "patience", "min_delta", "restore_best_weights"):
            _flat(f"early_stopping.{key}", es.get(key), rows)
    else:
        rows["early_stopping.enabled"] = "no EarlyStopping found"
    if levers.get("callbacks"):
        rows["training.callbacks"] = ", ".join(levers["callbacks"])
    rows["measured"] = str(levers.get("measured", "-"))
    return rows


def run_levers(run: StoredRun) -> dict[str, str]:
    if run.kind == "callback":
        return {"data": script_data_words(run.script_data), **callback_levers(run.levers or {})}
    rows: dict[str, str] = {}
    config = run.config.to_dict()
    if not config["early_stopping"]["enabled"]:
        config["early_stopping"] = {"enabled": False}
    _flat("", config, rows)
    return rows


#: Cells that say a run does not know a lever, and cells that all mean "off".
_UNKNOWN = {"", "-", "not known to callbacks"}
_OFF = {"none", "0", "0.0", "false", "no earlystopping found"}


def _comparable(cell: str) -> str | None:
    """A levers-table cell as compared across runs (None: the run does not know it)."""
    text = cell.strip().lower()
    if text in _UNKNOWN:
        return None
    return "off" if text in _OFF else text


def levers_table(runs: list[StoredRun]) -> dict[str, Any]:
    """Rows of lever name → one cell per run; rows where runs differ are marked."""
    per_run = [run_levers(run) for run in runs]
    names: list[str] = []
    for rows in per_run:
        names += [name for name in rows if name not in names]
    table = []
    for name in names:
        cells = [rows.get(name, "") for rows in per_run]
        # A lever some runs do not have or did not show (a script's run beside FitGap's)
        # is no difference; "none", 0 and "no EarlyStopping found" all mean off.
        present = {_comparable(cell) for cell in cells} - {None}
        table.append(
            {"name": name, "cells": [c or "-" for c in cells], "differs": len(present) > 1}
        )
    return {"rows": table}


# -- numbers -----------------------------------------------------------------------------------------
def _at(run: StoredRun, key: str, epoch: int | None) -> float | None:
    values = run.history.get(key, [])
    if epoch is None or not 1 <= epoch <= len(values):
        return None
    return values[epoch - 1]


def best_row(run: StoredRun) -> dict[str, Any]:
    acc = accuracy_key(run.history) or "accuracy"
    keys = {
        "loss": "loss",
        "val_loss": "val_loss",
        "accuracy": acc,
        "val_accuracy": f"val_{acc}",
        "train_eval_cross_entropy": "train_eval_cross_entropy",
        "val_cross_entropy": "val_cross_entropy",
        "train_eval_accuracy": "train_eval_accuracy",
    }
    values = {column: _at(run, key, run.best_epoch) for column, key in keys.items()}
    # The one gap (docs/ARCHITECTURE.md): measured at the epoch's end, in inference mode,
    # where the run has those numbers; else Keras's running-mean training accuracy.
    train = values["train_eval_accuracy"]
    if train is None:
        train = values["accuracy"]
    val = values["val_accuracy"]
    values["gap_at_best"] = None if train is None or val is None else train - val
    ce_train, ce_val = values["train_eval_cross_entropy"], values["val_cross_entropy"]
    values["gap"] = None if ce_train is None or ce_val is None else ce_val - ce_train
    return values


def delivered_row(run: StoredRun) -> dict[str, Any]:
    """The delivered model's numbers: its epoch and test numbers, and the epoch's own
    training and validation numbers with both gaps read there."""
    d = delivered(run)
    acc = accuracy_key(run.history) or "accuracy"
    train_acc = _at(run, "train_eval_accuracy", d.epoch)
    if train_acc is None:
        train_acc = _at(run, acc, d.epoch)
    val_acc = _at(run, f"val_{acc}", d.epoch)
    train_ce = _at(run, "train_eval_cross_entropy", d.epoch)
    val_ce = _at(run, "val_cross_entropy", d.epoch)
    return {
        "epoch": d.epoch,
        "which": d.which,
        "test": d.test is not None,
        "no_test": d.no_test,
        "test_cross_entropy": d.test_cross_entropy,
        "test_accuracy": d.test_accuracy,
        "test_n": d.test_rows,
        "train_accuracy": train_acc,
        "val_accuracy": val_acc,
        "gap_at_delivered": None if train_acc is None or val_acc is None else train_acc - val_acc,
        "train_cross_entropy": train_ce,
        "val_cross_entropy": val_ce,
        "gap": None if train_ce is None or val_ce is None else val_ce - train_ce,
    }


def _stats(values: list[float]) -> dict[str, Any]:
    """Mean with its 95 % t interval (core.stats), and the range."""
    interval = t_interval(values)
    return {
        "mean": interval.mean,
        "low": interval.low,
        "high": interval.high,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def _seed(run: StoredRun) -> int | None:
    seed = (run.provenance or {}).get("seed")
    return seed if isinstance(seed, int) else run.config.training.seed


def _setup_key(run: StoredRun) -> str:
    """What a repeat keeps: the config (or the user's levers) without the seed and name."""
    if run.kind == "callback" and run.levers:
        # Keras numbers layer names per process (dropout, dropout_1): compare the stack.
        lv = run.levers
        es = {k: v for k, v in (lv.get("early_stopping") or {}).items() if k in ES_SETUP}
        setup = {
            "layers": [(layer["class"], layer["params"]) for layer in lv.get("layers", [])],
            "dropout": [d["rate"] for d in lv.get("dropout", [])],
            "regularizers": [
                (r["on"], r["class"], r["factors"]) for r in lv.get("regularizers", [])
            ],
            "early_stopping": es,
            **{k: lv.get(k) for k in ("loss", "epochs", "batch_size", "train_eval")},
        }
        optimizer = dict(lv.get("optimizer") or {})
        optimizer["config"] = {
            k: v for k, v in (optimizer.get("config") or {}).items() if k != "name"
        }
        setup["optimizer"] = optimizer
        return "callback:" + json.dumps(setup, sort_keys=True, default=str)
    config = run.config.to_dict()
    config["training"].pop("seed", None)
    return "fitgap:" + json.dumps(config, sort_keys=True)


def _numbers(run: StoredRun) -> dict[str, Any]:
    """What the statistics summarise of one run: the delivered model's, then the best epoch's."""
    mine = delivered_row(run)
    out = best_row(run)
    out.update({key: mine[key] for key in ("test_cross_entropy", "test_accuracy")})
    out["gap_at_delivered"] = mine["gap_at_delivered"]
    return out


def statistics(runs: list[StoredRun]) -> list[dict[str, Any]]:
    """Each group of repeated runs: mean, 95 % interval and range of the delivered
    models' numbers and of the best epoch's.

    A group is two or more selected runs with the same setup apart from the seed; the
    group of the lowest run id is the baseline, and every other group is compared with
    it seed by seed (paired, core.stats) on the delivered models' test cross-entropy,
    or on the best validation cross-entropy where a run of the pair has no test part.
    """
    groups: dict[str, list[StoredRun]] = {}
    for run in sorted(runs, key=lambda r: r.run_id):
        groups.setdefault(_setup_key(run), []).append(run)
    out: list[dict[str, Any]] = []
    baseline: dict[int | None, dict[str, Any]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = [_numbers(run) for run in members]
        columns = []
        for column, label in STAT_COLUMNS.items():
            values = [r[column] for r in rows if r[column] is not None]
            if values:
                columns.append({"name": column, "label": label, **_stats(values)})
        by_seed = {_seed(run): row for run, row in zip(members, rows, strict=True)}
        group: dict[str, Any] = {
            "run_ids": [run.run_id for run in members],
            "columns": columns,
            "versus": None,
        }
        if not out:
            baseline = by_seed
        else:
            seeds = sorted((s for s in by_seed if s in baseline), key=lambda s: (s is None, s))
            pairs = [(by_seed[s], baseline[s]) for s in seeds]
            tested = all(a["test_cross_entropy"] is not None for pair in pairs for a in pair)
            metric = "test_cross_entropy" if tested else "val_cross_entropy"
            if len(seeds) >= 2:
                paired = paired_comparison(
                    [a[metric] for a, _ in pairs], [b[metric] for _, b in pairs]
                )
                name = f"runs {', '.join(str(run.run_id) for run in members)}"
                words = COMPARED_ON[metric]
                group["versus"] = {
                    "verdict": paired.verdict,
                    "metric": metric,
                    "sentence": comparison_words(name, paired, words, len(seeds)),
                }
        out.append(group)
    return out


# -- repeating ---------------------------------------------------------------------------------------
#: ``run -> its standalone Keras script`` (``files.script_for_run``); FitGapError: none.
ScriptOf = Callable[[StoredRun], str]
#: ``run_id -> ExampleDynamics | None``: a run's per-example record (from the store).
ExamplesOf = Callable[[int], ExampleDynamics | None]


def _script(run: StoredRun, script_of: ScriptOf | None) -> tuple[str | None, str | None]:
    """The standalone Keras script of a FitGap run, or why there is none."""
    if run.kind == "callback":
        return None, "trained by your own script through FitGapCallback: no FitGap script"
    if script_of is None:
        return None, "not written into this report"
    try:
        return script_of(run), None
    except FitGapError as exc:
        return None, str(exc)


def repeat_info(run: StoredRun, script_of: ScriptOf | None = None) -> dict[str, Any]:
    prov = run.provenance or {}
    script, why = _script(run, script_of)
    seed = prov.get("seed")
    if seed is None and run.kind == "fitgap":
        seed = run.config.training.seed
    return {
        "versions": prov.get("versions") or {},
        "seed": seed,
        "fingerprints": prov.get("fingerprints") or {},
        "note": prov.get("note"),
        "script": script,
        "no_script": why,
        "data_path": run.config.data.path if run.kind == "fitgap" else None,
    }


#: Class names listed per run; more are counted.
MAX_CLASS_NAMES = 30


def classes_line(run: StoredRun) -> str | None:
    """ "classes (3): Adelie, Chinstrap, Gentoo" where the run's classes have names (a
    table's label values); None where they are only their numbers."""
    names = run.class_names or []
    if not names or names == [str(i) for i in range(len(names))]:
        return None
    shown = ", ".join(names[:MAX_CLASS_NAMES])
    more = f" and {len(names) - MAX_CLASS_NAMES} more" if len(names) > MAX_CLASS_NAMES else ""
    return f"classes ({len(names)}): {shown}{more}"


# -- the whole report -------------------------------------------------------------------------------
def _run_view(
    run: StoredRun, script_of: ScriptOf | None, examples_of: ExamplesOf | None = None
) -> dict[str, Any]:
    acc = accuracy_key(run.history)
    charts = [
        chart(run.history, LOSS_LINES, "Loss"),
        chart(run.history, ACCURACY_LINES, "Accuracy", accuracy_key=acc),
    ]
    dynamics = examples_of(run.run_id) if examples_of is not None else None
    found = precision_history(dynamics, run.history)  # the suspects against the truth
    if found is not None:
        charts.append(chart(found, PRECISION_LINES, "Suspects vs flipped labels"))
    diagnosis = run.diagnosis or {}
    return {
        "run": run,
        "charts": [c for c in charts if c is not None],
        "delivered": delivered_row(run),
        "delivered_line": delivered_line(run),
        "classes": classes_line(run),
        "best": best_row(run),
        "diagnosis": diagnosis,
        "repeat": repeat_info(run, script_of),
        "data_map": data_map(dynamics),
    }


def render_report(
    runs: list[StoredRun],
    now: datetime | None = None,
    script_of: ScriptOf | None = None,
    examples_of: ExamplesOf | None = None,
    lab: list[dict[str, Any]] | None = None,
) -> str:
    """The report's HTML text for ``runs`` (with their histories); ``script_of`` writes
    each FitGap run's Keras script into it (``export.files.script_for_run``);
    ``examples_of(run_id)`` gives a run's per-example record (the data map and the
    suspects' precision); ``lab`` the lab experiments' sections
    (``export.lab_report.lab_sections``)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every run name, message and path is the user's text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, digits=4: "-" if v is None else f"{v:.{digits}g}"
    template = env.get_template("report.html.j2")
    return template.render(
        runs=[_run_view(run, script_of, examples_of) for run in runs],
        levers=levers_table(runs),
        best_columns=BEST_COLUMNS,
        best_labels=BEST_LABELS,
        legend_key=LEGEND_KEY,
        chart_width=WIDTH,
        statistics=statistics(runs),
        compared_on=COMPARED_ON,
        here=versions(),
        lab=lab or [],
        generated=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )
