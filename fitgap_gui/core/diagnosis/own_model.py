"""Runs of a user's own Keras model (``FitGapCallback``): no Keras here, plain JSON in.

- ``nearest_config(levers)``: FitGap's nearest RunConfig for such a run.  The store and
  the diagnosis's advice speak RunConfig; the run's ``levers`` (what the callback read
  from the model) stay the truth, and whatever does not fit RunConfig's ranges keeps
  the default there.
- ``accuracy_key(history)``: the accuracy-like metric a user compiled (``accuracy``,
  ``sparse_categorical_accuracy``, ``acc``…) that has a validation twin.
- ``diagnose_own(history, levers)``: the diagnosis on whatever loss and accuracy-like
  metric was logged, or a clear "cannot judge" (no validation data, not classification).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.verdict import Diagnosis, diagnose
from fitgap_gui.core.errors import ConfigError

#: Optimizers FitGap itself builds, by Keras class name lowercased.
FITGAP_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam")
FITGAP_MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")

History = Mapping[str, Sequence[float | None]]


def is_classification(loss_name: str | None) -> bool:
    """A cross-entropy loss (any spelling Keras uses) means class scores."""
    return bool(loss_name) and "crossentropy" in str(loss_name).replace("_", "").lower()


def accuracy_key(history: Mapping[str, Any]) -> str | None:
    """The accuracy-like metric of a history that has a ``val_`` twin, if any."""
    if "accuracy" in history and "val_accuracy" in history:
        return "accuracy"
    for key in history:
        if key.startswith(("val_", "train_eval_")) or "acc" not in key:
            continue
        if f"val_{key}" in history:
            return key
    return None


def nearest_config(levers: Mapping[str, Any]) -> RunConfig:
    """FitGap's nearest RunConfig for a user's run (see the module docstring)."""
    changes: dict[str, Any] = {}
    optimizer = levers.get("optimizer") or {}
    name = str(optimizer.get("class", "")).lower()
    if name in FITGAP_OPTIMIZERS:
        changes["training.optimizer"] = name
    changes["training.learning_rate"] = optimizer.get("learning_rate")
    changes["training.epochs"] = levers.get("epochs")
    changes["training.batch_size"] = levers.get("batch_size")
    changes["training.seed"] = levers.get("seed")
    rates = [d["rate"] for d in levers.get("dropout", [])]
    changes["model.dropout"] = max(rates) if rates else None
    for factor in ("l1", "l2"):
        values = [
            r["factors"].get(factor)
            for r in levers.get("regularizers", [])
            if r.get("on") == "kernel" and isinstance(r.get("factors"), dict)
        ]
        values = [v for v in values if isinstance(v, int | float)]
        changes[f"model.{factor}"] = max(values) if values else None
    es = levers.get("early_stopping")
    if es and es.get("monitor") in FITGAP_MONITORS:
        changes["early_stopping.enabled"] = True
        for key in ("monitor", "patience", "min_delta", "restore_best_weights"):
            changes[f"early_stopping.{key}"] = es.get(key)
    config = RunConfig()
    for key, value in changes.items():
        if value is None:
            continue
        try:
            config = config.replace({key: value})
        except ConfigError:
            continue  # out of FitGap's ranges: the levers still hold it
    return config


def diagnose_own(history: History, levers: Mapping[str, Any]) -> Diagnosis:
    """The diagnosis of a user's run; says why when it cannot judge instead of guessing."""
    n = len(history.get("loss", ()))
    if "val_loss" not in history:
        summary = (
            "cannot judge: no validation data (give model.fit validation_data= or "
            "validation_split=)"
        )
        return Diagnosis("inconclusive", None, summary, {"epochs": n})
    loss_name = levers.get("loss")
    if not is_classification(loss_name):
        summary = (
            "cannot judge: the diagnosis reads classification curves (a cross-entropy "
            f"loss and an accuracy); this run's loss is {loss_name or 'unknown'}"
        )
        return Diagnosis("inconclusive", None, summary, {"epochs": n})
    renamed: dict[str, Sequence[float | None]] = {
        "loss": history["loss"],
        "val_loss": history["val_loss"],
    }
    key = accuracy_key(history)
    if key is not None:
        renamed["accuracy"], renamed["val_accuracy"] = history[key], history[f"val_{key}"]
    outputs = levers.get("n_outputs")
    n_classes = 2 if outputs == 1 else outputs
    return diagnose(renamed, nearest_config(levers), n_classes=n_classes)
