"""Short text for runs: the levers that differ from the defaults, and a runs table.

``lever_summary(config)`` gives "dropout 0.5, L2 1e-3, ES p=3": what the runs panel
and ``fitgap runs list`` show so two runs can be told apart at a glance.  Only
settings that differ from ``RunConfig()`` are named, most telling first (capacity
and regularization, then early stopping, then data, then the optimizer).
"""

from __future__ import annotations

from typing import Any

from .config import RunConfig


def format_number(value: float) -> str:
    """Compact and exact enough to tell levers apart: 0.5, 0.001 -> 1e-3, 2.5e-4."""
    if value == 0:
        return "0"
    if abs(value) < 0.01 or abs(value) >= 1e5:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4g}"


def _percent(value: float) -> str:
    return f"{value * 100:.3g}%"


def lever_summary(config: RunConfig, default: RunConfig | None = None) -> str:
    """The settings of ``config`` that differ from ``default`` (the defaults), in words.

    An unchanged config reads "defaults".
    """
    base = default or RunConfig()
    parts: list[str] = []
    m, bm = config.model, base.model
    if m.hidden_units != bm.hidden_units:
        parts.append("layers " + ("x".join(str(u) for u in m.hidden_units) or "none"))
    if m.activation != bm.activation:
        parts.append(m.activation)
    if m.dropout != bm.dropout:
        parts.append(f"dropout {format_number(m.dropout)}")
    if m.l2 != bm.l2:
        parts.append(f"L2 {format_number(m.l2)}")
    if m.l1 != bm.l1:
        parts.append(f"L1 {format_number(m.l1)}")

    es = config.early_stopping
    if es.enabled:
        text = f"ES p={es.patience}"
        if es.monitor != "val_loss":
            text += f" on {es.monitor}"
        if es.min_delta:
            text += f" Δ{format_number(es.min_delta)}"
        if not es.restore_best_weights:
            text += " no restore"
        parts.append(text)

    d, bd = config.data, base.data
    if d.source != bd.source or d.path != bd.path:
        parts.append(d.source if not d.path else f"{d.source} {_basename(d.path)}")
    if d.source in ("moons", "circles", "spirals", "xor"):
        if d.n_samples != bd.n_samples:
            parts.append(f"n={d.n_samples}")
        if d.noise != bd.noise:
            parts.append(f"noise {format_number(d.noise)}")
    if d.train_fraction != bd.train_fraction:
        parts.append(f"train {_percent(d.train_fraction)}")
    if d.validation_split != bd.validation_split:
        parts.append(f"val {_percent(d.validation_split)}")
    if d.label_noise != bd.label_noise:
        parts.append(f"label noise {_percent(d.label_noise)}")
    if d.scale != bd.scale:
        parts.append(f"scale {d.scale}")

    t, bt = config.training, base.training
    if t.optimizer != bt.optimizer:
        parts.append(t.optimizer)
    if t.learning_rate != bt.learning_rate:
        parts.append(f"lr {format_number(t.learning_rate)}")
    if t.batch_size != bt.batch_size:
        parts.append(f"batch {t.batch_size}")
    if t.epochs != bt.epochs:
        parts.append(f"{t.epochs} epochs")
    if t.seed != bt.seed:
        parts.append(f"seed {t.seed}")
    return ", ".join(parts) or "defaults"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


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
                r["name"],
                r["created"].replace("T", " ")[:16],
                r["status"],
                str(r["epochs_run"]),
                _cell(r["best_epoch"]),
                _cell(r["best_val_accuracy"]),
                _cell(r["best_val_loss"]),
                _cell(r["gap_at_best"], 3),
                r["levers"],
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
