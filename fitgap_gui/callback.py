"""``FitGapCallback``: record any Keras ``model.fit`` in FitGap's run store, live.

::

    from fitgap_gui.callback import FitGapCallback
    model.fit(x, y, validation_data=(x_val, y_val), callbacks=[FitGapCallback()])

Each epoch is committed to the store as it ends (an open FitGap window polls the store
and shows the run while it trains); ``kill -9`` of the script loses no reported epoch
and the next store open marks the run ``interrupted``.  What the callback can read from
the model and the other callbacks is stored as the run's ``levers``.  It never breaks
the user's training: any failure of the store (locked, damaged, full disk, unwritable)
gives one warning and the training goes on unrecorded.

Imports: Keras (for the ``Callback`` base) and FitGap's core; no Qt.  TensorFlow is only
loaded if Keras's backend loads it.

Keras 3 gives a callback no list of its siblings.  ``EarlyStopping`` is found in the
``CallbackList`` that hands this callback its model (Keras calls ``set_model`` on each
callback from ``CallbackList.set_model``); where that lookup finds nothing, pass the
instance as ``early_stopping=``.  Keras does not tell callbacks the batch size either
(``params`` holds ``epochs`` and ``steps``): pass ``batch_size=`` to record it.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fitgap_gui.core.diagnosis.own_model import diagnose_own, is_classification, nearest_config
from fitgap_gui.core.model.measurements import delivered_epoch, evaluate_delivered
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_epoch, finite_or_none
from fitgap_gui.core.results.status import final_status
from fitgap_gui.core.run.interrupts import InterruptHook
from fitgap_gui.core.run.provenance import provenance
from fitgap_gui.core.store.runstore import RunStore


def script_file_name() -> str | None:
    """The running script's or notebook's file name (None: an interactive session)."""
    main = sys.modules.get("__main__")
    source = getattr(main, "__file__", None)
    # Jupyter names the notebook in the kernel's environment (jupyter-server >= 2).
    notebook = os.environ.get("JPY_SESSION_NAME")
    if notebook:
        return Path(notebook).name
    return Path(source).name if source else None


def default_run_name(now: datetime | None = None) -> str:
    """The script's or notebook's name plus the time: ``train_cnn.py 2026-12-01 00:30``."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    return f"{script_file_name() or 'python'} {stamp}"


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``…: the first one no stored run has."""
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def _samples(value: Any) -> int | None:
    """Rows of ``fit``'s ``x`` (an array, or a list/dict of arrays); None for a dataset."""
    if isinstance(value, dict):
        value = next(iter(value.values()), None)
    elif isinstance(value, list | tuple):
        value = value[0] if value else None
    shape = getattr(value, "shape", None)
    if shape is None or not len(shape) or shape[0] is None:
        return None
    try:
        return int(shape[0])
    except (TypeError, ValueError):
        return None


def _fit_sample_counts() -> tuple[int | None, int | None]:
    """Training and validation rows of the running ``model.fit``, where it was given arrays.

    Keras shows callbacks neither array; ``fit`` holds them as locals (``x`` after any
    ``validation_split``, ``val_x``), read from its frame up the stack.
    """
    frame = sys._getframe(1)
    while frame is not None:
        names = frame.f_locals
        if frame.f_code.co_name == "fit" and "x" in names and "validation_data" in names:
            val_x = names.get("val_x")
            if val_x is None and isinstance(names.get("validation_data"), tuple | list):
                val_x = names["validation_data"][0] if names["validation_data"] else None
            return _samples(names.get("x")), _samples(val_x)
        frame = frame.f_back  # type: ignore[assignment]
    return None, None


def _float(value: Any) -> float | None:
    """A Keras scalar (tensor, variable, numpy or Python number) as a finite float."""
    try:
        return finite_or_none(float(keras.ops.convert_to_numpy(value)))
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    """Plain JSON values from a Keras config (numbers, strings, lists); others as text."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _all_layers(model: Any) -> list[Any]:
    """Every layer, nested models' layers included, depth first."""
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        if getattr(layer, "layers", None):
            out.extend(_all_layers(layer))
    return out


def _loss_name(model: Any) -> str | None:
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or type(loss).__name__


class FitGapCallback(keras.callbacks.Callback):
    """Record this training in FitGap's run store, one committed epoch at a time.

    Arguments (all optional):

    - ``name``: the run's name (default: the script's or notebook's name and the time).
    - ``home``: the store's folder (default: the window's, honouring ``FITGAP_HOME``).
    - ``train_eval``: ``(x, y)``, a training subset measured at each epoch's end in
      inference mode (``train_eval_cross_entropy``, ``train_eval_accuracy``): the
      training side of the gap.  Without it FitGap uses what Keras reports (the training
      loss averaged over the epoch, with dropout on and the penalty added) and says so.
    - ``test_data``: ``(x, y)``, rows that nothing in the training decides with: the
      model ``fit`` delivers (EarlyStopping's restored weights, else the last epoch's)
      is measured on them once, at the end (the run's ``test`` numbers).
    - ``early_stopping``: the ``EarlyStopping`` instance, where it cannot be found.
    - ``batch_size``, ``seed``: recorded as given (Keras does not tell callbacks).
    """

    def __init__(
        self,
        name: str | None = None,
        home: str | Path | None = None,
        train_eval: tuple[Any, Any] | None = None,
        *,
        test_data: tuple[Any, Any] | None = None,
        early_stopping: keras.callbacks.EarlyStopping | None = None,
        batch_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.home = home
        self.train_eval = train_eval
        self.test_data = test_data
        self.early_stopping = early_stopping
        self.batch_size = batch_size
        self.seed = seed
        #: The run's id in the store, once ``fit`` has begun (None when it could not be made).
        self.run_id: int | None = None
        self._siblings: list[Any] = []
        self._store: RunStore | None = None
        self._history: dict[str, list[float | None]] = {}
        self._levers: dict[str, Any] = {}
        self._epoch_start = 0.0
        self._script_data: dict[str, Any] = {}
        self._warned = False
        self._train_eval_failed = False
        #: The per-example record of ``train_eval`` (classification with softmax scores).
        self._examples: ExampleDynamics | None = None
        # Ctrl+C during fit: Keras calls no on_train_end, so the run is marked here.
        self._interrupt = InterruptHook(self._interrupted)

    # -- Keras hooks -----------------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        super().set_model(model)
        # Keras 3 calls this from CallbackList.set_model: the caller's ``self`` is the
        # list of this fit's callbacks, the only place the siblings are named.
        try:
            caller = sys._getframe(1).f_locals.get("self")
        except ValueError:
            caller = None
        callbacks = getattr(caller, "callbacks", None)
        if isinstance(callbacks, list) and any(c is self for c in callbacks):
            self._siblings = [c for c in callbacks if c is not self]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._history = {}
        self.run_id = None
        self._store = None
        self._warned = False
        self._train_eval_failed = False
        self._examples = None
        try:
            self._levers = self._levers_or_why()
            config = nearest_config(self._levers)
            data = {}
            if self.train_eval is not None:
                data["train_eval"] = tuple(self.train_eval)
            if self.test_data is not None:
                data["test"] = tuple(self.test_data)
            repeat = provenance(
                seed=self.seed,
                data=data,
                note="Keras does not show callbacks the training or validation arrays; "
                "only those given to FitGapCallback (train_eval, test_data) are fingerprinted",
            )
            self._script_data = self._read_script_data()
            self._store = RunStore(self.home)
            name = self.name or unique_name(
                default_run_name(), {run.name for run in self._store.list_runs()}
            )
            self.run_id = self._store.create_run(
                config,
                name=name,
                kind="callback",
                levers=self._levers,
                provenance=repeat,
                script_data=self._script_data,
            )
            self._interrupt.install()
        except Exception as exc:  # never break the user's training
            self._give_up(exc)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self._epoch_start
        try:
            metrics = {k: float(v) for k, v in (logs or {}).items() if _float(v) is not None}
            metrics.update({k: float("nan") for k, v in (logs or {}).items() if _float(v) is None})
            metrics.update(self._measurements(metrics))
            # Counted from 1 for this fit, whatever initial_epoch Keras started from.
            reported = len(next(iter(self._history.values()), []))
            for key, value in metrics.items():
                column = self._history.setdefault(key, [None] * reported)
                column.append(finite_or_none(value))
            for column in self._history.values():  # a key missing this epoch
                column.extend([None] * (reported + 1 - len(column)))
            if self._store is not None and self.run_id is not None:
                self._store.append_epoch(self.run_id, EpochMetrics(reported + 1, metrics, seconds))
        except Exception as exc:
            self._give_up(exc)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._interrupt.remove()
        if self._store is None or self.run_id is None:
            return
        try:
            result = self._result()
            if self._script_data.get("input_shape") is None:  # a model built by its first batch
                self._script_data.update(
                    {k: v for k, v in self._read_script_data().items() if v is not None}
                )
            self._store.update_levers(self.run_id, self._levers, self._script_data)
            self._store.finish_run(self.run_id, result)
            name = self._store.get_run(self.run_id).name
        except Exception as exc:
            self._give_up(exc)
            return
        # One line, where the script's own output goes: which run to look for.
        print(f"FitGap: recorded run {self.run_id} {name!r} ({result.status})", flush=True)

    # -- what the run was --------------------------------------------------------------------
    def _early_stopping(self) -> keras.callbacks.EarlyStopping | None:
        if self.early_stopping is not None:
            return self.early_stopping
        found = [c for c in self._siblings if isinstance(c, keras.callbacks.EarlyStopping)]
        return found[0] if found else None

    def _levers_or_why(self) -> dict[str, Any]:
        """The levers; a model they cannot be read from is still recorded, saying why."""
        try:
            return self.read_levers()
        except Exception as exc:
            return {"unreadable": f"{type(exc).__name__}: {exc}", "dropout": [], "layers": []}

    def read_levers(self) -> dict[str, Any]:
        """What the model and the callbacks say about the levers, as plain JSON."""
        model = self.model
        layers = []
        for layer in getattr(model, "layers", []):
            try:
                params = int(layer.count_params())
            except ValueError:  # not built yet
                params = None
            layers.append({"name": layer.name, "class": type(layer).__name__, "params": params})
        dropout, regularizers = [], []
        for layer in _all_layers(model):
            rate = getattr(layer, "rate", None)
            if "Dropout" in type(layer).__name__ and isinstance(rate, int | float):
                dropout.append({"layer": layer.name, "rate": float(rate)})
            for attr in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
                reg = getattr(layer, attr, None)
                if reg is not None:
                    regularizers.append(
                        {
                            "layer": layer.name,
                            "on": attr.removesuffix("_regularizer"),
                            "class": type(reg).__name__,
                            "factors": _jsonable(reg.get_config()),
                        }
                    )
        levers: dict[str, Any] = {
            "model": getattr(model, "name", None),
            "layers": layers,
            "parameters": int(model.count_params()) if model.built else None,
            "trainable_parameters": int(
                sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            ),
            "dropout": dropout,
            "regularizers": regularizers,
            "loss": _loss_name(model),
            "task": "classification" if is_classification(_loss_name(model)) else "other",
            "n_outputs": self._n_outputs(),
            "epochs": (self.params or {}).get("epochs"),
            "steps_per_epoch": (self.params or {}).get("steps"),
            "batch_size": self.batch_size,
            "seed": self.seed,
            "callbacks": [type(c).__name__ for c in self._siblings if not _is_keras_default(c)],
            "train_eval": None
            if self.train_eval is None
            else {"samples": int(len(self.train_eval[0]))},
            "test_data": None
            if self.test_data is None
            else {"samples": int(len(self.test_data[0]))},
            "measured": "train_eval (inference mode, every epoch)"
            if self.train_eval is not None
            else "what Keras reports: the training loss is averaged over the epoch with "
            "dropout on and any penalty added (pass train_eval=(x, y) for the gap measured in inference mode)",
        }
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            config = _jsonable(optimizer.get_config())
            levers["optimizer"] = {
                "class": type(optimizer).__name__,
                "learning_rate": _float(optimizer.learning_rate),
                "config": {
                    k: v
                    for k, v in config.items()
                    if k not in ("learning_rate", "name")
                    and isinstance(v, int | float | str | bool)
                },
            }
        es = self._early_stopping()
        if es is not None:
            levers["early_stopping"] = {
                "monitor": es.monitor,
                "patience": int(es.patience),
                "min_delta": float(es.min_delta),
                "restore_best_weights": bool(es.restore_best_weights),
                "mode": getattr(es, "mode", None),
                "baseline": _jsonable(getattr(es, "baseline", None)),
                "start_from_epoch": getattr(es, "start_from_epoch", None),
            }
        return levers

    def _read_script_data(self) -> dict[str, Any]:
        """What Keras shows of the script's data (``core.results.script_data``)."""
        train, val = _fit_sample_counts()
        shape = None
        # A model without an Input has none until its first batch builds it.
        with contextlib.suppress(AttributeError, IndexError, TypeError, ValueError):
            shape = [None if d is None else int(d) for d in self.model.inputs[0].shape[1:]]
        outputs = self._n_outputs()
        classification = is_classification(_loss_name(self.model))
        classes = (2 if outputs == 1 else outputs) if classification else None
        return {
            "script": script_file_name(),
            "input_shape": shape,
            "train_samples": train,
            "val_samples": val,
            "classes": classes,
        }

    def _n_outputs(self) -> int | None:
        try:
            shape = self.model.outputs[0].shape
        except (AttributeError, IndexError, TypeError, ValueError):
            return None
        return int(shape[-1]) if shape and shape[-1] is not None else None

    # -- per epoch ---------------------------------------------------------------------------
    def _measurements(self, logs: dict[str, float]) -> dict[str, float]:
        """The learning rate, and the training side measured in inference mode when ``train_eval`` is given."""
        out: dict[str, float] = {}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in logs:
            lr = _float(optimizer.learning_rate)
            if lr is not None:
                out["learning_rate"] = lr
        if self.train_eval is None or self._train_eval_failed:
            return out
        try:
            out.update(self._train_eval())
        except Exception as exc:  # a subset the model cannot take: record the rest
            self._train_eval_failed = True
            self._warn(f"FitGap: train_eval could not be measured ({type(exc).__name__}: {exc})")
        return out

    def _train_eval(self) -> dict[str, float]:
        out: dict[str, float] = {}
        assert self.train_eval is not None
        x, y = self.train_eval
        y_pred = self.model.predict(x, verbose=0)  # inference mode: dropout off
        loss = self._data_loss(y, y_pred)
        if loss is not None:
            key = "cross_entropy" if is_classification(_loss_name(self.model)) else "loss"
            out[f"train_eval_{key}"] = loss
        accuracy = _accuracy(y, y_pred) if self._levers.get("task") == "classification" else None
        if accuracy is not None:
            out["train_eval_accuracy"] = accuracy
            self._note_examples(y, y_pred)
        return out

    def _note_examples(self, y: Any, y_pred: Any) -> None:
        """The per-example record from the same predictions (``core.results.examples``)."""
        scores = _class_scores(y_pred)
        if scores is None:
            return
        given = np.asarray(y)
        if given.ndim == 2 and given.shape[-1] == scores.shape[-1]:
            given = given.argmax(axis=-1)  # one-hot labels
        given = given.reshape(len(scores)).astype(np.int64)
        if self._examples is None:
            self._examples = ExampleDynamics(rows=np.arange(len(given)), given=given)
        self._examples.update(len(self._examples.epochs) + 1, scores)

    def _data_loss(self, y: Any, y_pred: Any) -> float | None:
        """The compiled loss without the penalty, averaged over the samples."""
        loss = getattr(self.model, "loss", None)
        if loss is None:
            return None
        fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        values = keras.ops.convert_to_numpy(fn(np.asarray(y), y_pred))
        return float(np.mean(values))

    # -- the end ---------------------------------------------------------------------------
    def _result(self) -> RunResult:
        history = self._history
        epochs_run = len(next(iter(history.values()), []))
        if self._levers.get("parameters") is None:
            # A model without an Input is built by its first batch: read it again now,
            # keeping the learning rate it started with.
            optimizer = self._levers.get("optimizer")
            self._levers = self._levers_or_why()
            if optimizer is not None:
                self._levers["optimizer"] = optimizer
        es = self._early_stopping()
        stopped_epoch, restored, best = None, False, None
        if es is not None:
            if es.stopped_epoch > 0:
                stopped_epoch = int(es.stopped_epoch) + 1
            # Keras restores in EarlyStopping.on_train_end, which may run after this one.
            restored = bool(es.restore_best_weights and es.best_weights is not None)
            if getattr(es, "best", None) is not None and es.best_epoch < epochs_run:
                best = int(es.best_epoch) + 1
            self._levers.setdefault("early_stopping", {}).update(
                stopped_epoch=stopped_epoch, restored_best=restored
            )
        elif self.model.stop_training and epochs_run < ((self.params or {}).get("epochs") or 0):
            self._levers["stopped_by"] = "a callback set model.stop_training"
        config = nearest_config(self._levers)
        if best is None:
            monitor = (es.monitor if es is not None else None) or (
                "val_loss" if "val_loss" in history else "loss"
            )
            best = best_epoch(history, monitor)
        last_loss = history.get("loss", [0.0])[-1:] or [0.0]
        cut_short = epochs_run < ((self.params or {}).get("epochs") or 0)
        status = final_status(
            diverged=last_loss[0] is None,
            # Ended early by a callback other than EarlyStopping (or by the user's code).
            stopped=cut_short and stopped_epoch is None and bool(self.model.stop_training),
            early_stopped=stopped_epoch is not None,
        )
        message = None
        if status == "diverged":
            message = f"loss became NaN or infinite by epoch {epochs_run}"
        test = self._test(es, epochs_run) if epochs_run else None
        self._delivered_classes(es)
        return RunResult(
            config=config,
            history=history,
            status=status,
            epochs_run=epochs_run,
            best_epoch=best,
            stopped_epoch=stopped_epoch,
            restored_best=restored,
            run_id=self.run_id,
            message=message,
            diagnosis=diagnose_own(history, self._levers).to_dict(),
            test=test,
            examples=self._examples,
        )

    def _delivered_classes(self, es: keras.callbacks.EarlyStopping | None) -> None:
        """The delivered model's classes on ``train_eval``, for the per-example record."""
        if self._examples is None or self.train_eval is None:
            return
        if es is not None and es.restore_best_weights and es.best_weights is not None:
            self.model.set_weights(es.best_weights)  # what EarlyStopping sets at the end
        scores = _class_scores(self.model.predict(self.train_eval[0], verbose=0))
        if scores is not None:
            self._examples.delivered = scores.argmax(axis=-1)

    def _test(self, es: keras.callbacks.EarlyStopping | None, epochs_run: int) -> dict | None:
        """The delivered model's test numbers (``test_data``), measured once; else None."""
        if self.test_data is None:
            return None
        if self._levers.get("task") != "classification":
            self._warn("FitGap: test_data is measured for classification models only")
            return None
        if es is not None and es.restore_best_weights and es.best_weights is not None:
            # What EarlyStopping.on_train_end does, maybe after this callback: the same
            # weights, set once more by it.
            self.model.set_weights(es.best_weights)
        x, y = self.test_data
        try:
            return evaluate_delivered(
                self.model, x, y, delivered_epoch(es, epochs_run), scores=self._scores
            )
        except Exception as exc:  # data the model cannot take: record the rest
            self._warn(f"FitGap: test_data could not be measured ({type(exc).__name__}: {exc})")
            return None

    def _scores(self, model: Any, x: Any, y: Any) -> dict[str, float]:
        """The compiled loss without the penalty and the accuracy, as ``train_eval``'s."""
        y_pred = model.predict(x, verbose=0)  # inference mode: dropout off
        loss, accuracy = self._data_loss(y, y_pred), _accuracy(y, y_pred)
        return {
            "cross_entropy": math.nan if loss is None else loss,
            "accuracy": math.nan if accuracy is None else accuracy,
        }

    def _interrupted(self) -> None:
        """Ctrl+C during fit: the run reads ``interrupted`` at once, its epochs kept."""
        if self._store is None or self.run_id is None:
            return
        epochs = len(next(iter(self._history.values()), []))
        message = f"interrupted (Ctrl+C) after epoch {epochs}; its epochs were kept"
        self._store.fail_run(self.run_id, message, status="interrupted")
        self._store = None

    def _give_up(self, exc: BaseException) -> None:
        """One warning line; the store is left alone for the rest of this training."""
        self._store = None
        if not self._warned:
            self._warned = True
            where = self.home or "the default store"
            self._warn(
                f"FitGap: this training is not being recorded ({type(exc).__name__}: {exc}; "
                f"store: {where}); the training goes on"
            )

    @staticmethod
    def _warn(line: str) -> None:
        try:
            warnings.warn(line, RuntimeWarning, stacklevel=3)
        except Exception:  # warnings turned into errors must not stop the training
            print(line, file=sys.stderr)


def _is_keras_default(callback: Any) -> bool:
    return isinstance(callback, keras.callbacks.History | keras.callbacks.ProgbarLogger)


def _accuracy(y: Any, y_pred: Any) -> float | None:
    """Share of correct predictions for class scores (softmax) or one sigmoid output."""
    pred = np.asarray(y_pred)
    true = np.asarray(y)
    if pred.ndim < 2 or len(pred) != len(true):
        return None
    if pred.shape[-1] == 1:
        guess = (pred[..., 0] > 0.5).astype(int)
        return float(np.mean(guess == true.reshape(guess.shape).astype(int)))
    guess = pred.argmax(axis=-1)
    if true.ndim == pred.ndim and true.shape[-1] == pred.shape[-1]:
        true = true.argmax(axis=-1)  # one-hot labels
    return float(np.mean(guess == true.reshape(guess.shape)))


def _class_scores(y_pred: Any) -> np.ndarray | None:
    """Scores whose differences are the logits': the log of softmax probabilities, or
    the outputs as they are when they are not probabilities (a model ending in logits).
    None for one output (a sigmoid) or other shapes."""
    pred = np.asarray(y_pred, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[-1] < 2:
        return None
    if pred.min() >= 0 and np.allclose(pred.sum(axis=-1), 1.0, atol=1e-3):
        return np.log(np.maximum(pred, 1e-300))
    return pred
