"""Short text for runs, worded from the lever table (levers.py).

``summary_line(config)`` is the window's one-line summary of a run, handicaps included;
``lever_summary(config)`` gives "dropout 0.5, L2 1e-3, ES p=3": what the runs panel
and ``fitgap runs list`` show so two runs can be told apart at a glance.  Only
settings that differ from ``RunConfig()`` are named, most telling first (capacity
and regularization, then early stopping, then data, then the optimizer).
"""

from __future__ import annotations

from typing import Any

from fitgap_gui.core.config.levers import ALL_LEVERS, LEVERS_BY_KEY
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.config.sources import source as data_source
from fitgap_gui.core.formatting import format_number, format_percent
from fitgap_gui.core.textsafe import printable

__all__ = [
    "summary_line",
    "format_number",
    "handicaps",
    "handicaps_in_words",
    "lever_summary",
    "run_row",
    "runs_table",
]

#: The order a summary names levers in: what tells runs apart first.
_SUMMARY_SECTIONS = ("model", "early_stopping", "data", "training")


def _differs(config: RunConfig, base: RunConfig, key: str) -> bool:
    return config.get(key) != base.get(key)


def _early_stopping_words(config: RunConfig) -> str:
    """ "ES p=3", with the monitor, min delta and restore only when not the defaults."""
    es, plain = config.early_stopping, RunConfig().early_stopping
    text = "ES " + LEVERS_BY_KEY["early_stopping.patience"].words(es.patience)
    for name in ("monitor", "min_delta", "restore_best_weights"):
        value = getattr(es, name)
        if value != getattr(plain, name):
            text += " " + LEVERS_BY_KEY[f"early_stopping.{name}"].words(value)
    return text


def lever_summary(config: RunConfig, default: RunConfig | None = None) -> str:
    """The settings of ``config`` that differ from ``default`` (the defaults), in words.

    "dropout 0.5, L2 1e-3, ES p=3": what the runs table and ``fitgap runs list``
    show so two runs can be told apart.  Levers that do not apply to the run's data
    source (a toy set's noise on a CSV) are not named.  An unchanged config reads
    "defaults".
    """
    base = default or RunConfig()
    source = config.data.source
    parts: list[str] = []
    for section in _SUMMARY_SECTIONS:
        if section == "early_stopping":
            if config.early_stopping.enabled:
                parts.append(_early_stopping_words(config))
            continue
        for lv in ALL_LEVERS:
            if lv.section != section or not lv.applies_to(source):
                continue
            if lv.key == "data.path":
                continue  # named with its source
            if lv.key == "data.source":
                if _differs(config, base, "data.source") or _differs(config, base, "data.path"):
                    path = config.data.path
                    parts.append(f"{source} {_path_words(path)}" if path else source)
                continue
            if lv.key == "model.conv_filters" and config.model.kind != "cnn":
                continue  # unused by an MLP
            if _differs(config, base, lv.key):
                parts.append(lv.words(config.get(lv.key)))
    return ", ".join(parts) or "defaults"


def _path_words(path: str) -> str:
    return LEVERS_BY_KEY["data.path"].words(path)


def handicaps_in_words(train_fraction: float, label_noise: float) -> list[str]:
    """The handicaps that are on, in words: ["trains on 25% of the rows", ...]."""
    out = []
    if train_fraction < 1.0:
        out.append(f"trains on {format_percent(train_fraction)} of the rows")
    if label_noise > 0.0:
        out.append(f"{format_percent(label_noise)} of labels flipped")
    return out


def handicaps(config: RunConfig) -> list[str]:
    """The handicaps on in ``config``, in words ("trains on 25% of the rows")."""
    return handicaps_in_words(config.data.train_fraction, config.data.label_noise)


def summary_line(config: RunConfig) -> str:
    """One line that says what a run is: data and its handicaps, model, regularization, training.

    "digits · handicaps: trains on 25% of the rows, 20% of labels flipped · 512-512 relu ·
    no regularization · adam lr 0.001, batch 32, 60 epochs".  The handicaps are always
    named (or "no handicaps"), so a user's own data never trains handicapped unseen.
    """
    d, m, t, e = config.data, config.model, config.training, config.early_stopping
    kind = data_source(d.source)
    data = d.source if not d.path else f"{d.source} {_path_words(d.path)}"
    if kind.toy:
        data += f" (n={d.n_samples}, noise {format_number(d.noise)})"
    on = handicaps(config)
    parts = [data, "handicaps: " + ", ".join(on) if on else "no handicaps"]
    network = f"{LEVERS_BY_KEY['model.hidden_units'].words(m.hidden_units)} {m.activation}"
    if m.kind == "cnn":
        network = f"CNN {LEVERS_BY_KEY['model.conv_filters'].words(m.conv_filters)}, {network}"
    parts.append(network)
    plain = RunConfig()
    regs = [
        lv.words(config.get(lv.key))
        for lv in ALL_LEVERS
        if lv.group == "Regularization"
        and lv.applies_to(d.source)
        and config.get(lv.key) != plain.get(lv.key)
    ]
    parts.append(", ".join(regs) or "no regularization")
    training = [
        t.optimizer,
        LEVERS_BY_KEY["training.learning_rate"].words(t.learning_rate),
        LEVERS_BY_KEY["training.batch_size"].words(t.batch_size),
        LEVERS_BY_KEY["training.epochs"].words(t.epochs),
    ]
    if t.lr_schedule != plain.training.lr_schedule:
        training.insert(2, LEVERS_BY_KEY["training.lr_schedule"].words(t.lr_schedule))
    parts.append(" ".join(training[:2]) + ", " + ", ".join(training[2:]))
    if e.enabled:
        parts.append(f"early stopping on {e.monitor}, patience {e.patience}")
    return " · ".join(parts)


def run_row(run: Any) -> dict[str, Any]:
    """One run (a StoredRun) as the flat record of ``fitgap runs list --json``."""
    best = run.best_metrics
    return {
        "run_id": run.run_id,
        "name": run.name,
        "created": run.created,
        "status": run.status,
        "epochs_run": run.epochs_run,
        "best_epoch": run.best_epoch,
        "best_val_accuracy": best.get("val_accuracy"),
        "best_val_loss": best.get("val_loss"),  # Keras's: holds the weight penalty
        "best_val_cross_entropy": best.get("val_cross_entropy"),  # what comparisons use
        "gap_at_best": run.gap_at_best,
        "levers": lever_summary(run.config),
        "kind": run.kind,
    }


def _cell(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def runs_table(runs: list[Any]) -> str:
    """A plain-text table of runs for the terminal (``fitgap runs list``)."""
    header = ["id", "name", "created", "status", "epochs", "best", "val_acc", "val_loss", "gap"]
    header.append("levers")
    rows = []
    for run in runs:
        r = run_row(run)
        rows.append(
            [
                str(r["run_id"]),
                printable(r["name"]),  # a terminal's text: no escape sequences, one line
                r["created"].replace("T", " ")[:16],
                r["status"],
                str(r["epochs_run"]),
                _cell(r["best_epoch"]),
                _cell(r["best_val_accuracy"]),
                _cell(r["best_val_loss"]),
                _cell(r["gap_at_best"], 3),
                printable(r["levers"]),
            ]
        )
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    numeric = {0, 4, 5, 6, 7, 8}
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
