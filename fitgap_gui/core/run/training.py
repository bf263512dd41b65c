"""Train one run with plain Keras ``model.fit`` and stream each epoch out.

``train(config, dataset, on_epoch, should_stop)`` is the whole engine: the Qt worker
and the CLI both call it.  Its epoch stream is one Keras Callback (no loop of our
own); the levers are Keras's own ``Dropout``, regularizers and ``EarlyStopping``.
Between ``keras.utils.set_random_seed`` and ``fit`` nothing else draws random
numbers, so the history equals the plain program of docs/ARCHITECTURE.md's faithfulness
contract.  The engine only adds ``steps_per_execution``, which changes speed, not
numbers.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.kerasimport import import_keras
from fitgap_gui.core.memory import is_out_of_memory, out_of_memory_error
from fitgap_gui.core.model import build, layers, optimizer
from fitgap_gui.core.model.measurements import (
    chunk_rows,
    delivered_epoch,
    evaluate_delivered,
    logits_function,
    make_train_eval_callback,
    train_eval_rows,
    widest_layer,
)
from fitgap_gui.core.model.memory import count_dense_params, multiply_adds
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import (
    EpochMetrics,
    RunResult,
    best_epoch,
    finite_or_none,
)
from fitgap_gui.core.results.status import final_status
from fitgap_gui.core.run.branching import (
    STOP,
    Branch,
    PauseGate,
    TrainingState,
    apply_state,
    capture_state,
    make_counter_carrier,
    same_rate,
)

OnEpoch = Callable[[EpochMetrics], None]
ShouldStop = Callable[[], bool]
#: ``(epoch, model)`` after each reported epoch, on the training thread (insight views).
InspectModel = Callable[[int, Any], None]

#: How long one compiled execution chunk may take, in seconds.  A stop request is
#: seen between chunks, so this bounds the stop latency on large data.  Measured
#: (benchmarks/bench_spe.py, 60,000 x 784, Dense 128): throughput is flat from ~32
#: steps per call (~0.03 s) up to a whole epoch, so 0.1 s chunks cost no speed.
TARGET_CHUNK_SECONDS = 0.1
#: A rough CPU rate for a Dense network's training step (multiply-adds per second);
#: it predicts ~1.0 ms per step for 784-128-10 at batch 32, as measured on a 2-core Xeon.
_CPU_FLOPS = 2e10


def choose_steps_per_execution(n_train: int, batch_size: int, n_params: int) -> int:
    """Steps per compiled call: a whole epoch on small data, ~0.1 s chunks on large data.

    One Python round trip per batch costs about as much as a small Dense step, so
    folding many steps into one call is where FitGap's speed over a plain ``fit``
    comes from (measured: ~1.8x on digits, ~2.2x on 60,000 x 784; see
    benchmarks/RESULTS.md).  ``FITGAP_STEPS_PER_EXECUTION`` overrides the choice.

    ``jit_compile`` stays at Keras's default, as in the plain program (XLA off on a
    CPU-only machine, on with a GPU): forcing XLA on this CPU moved the history from
    the plain program's by 3e-3 (60,000 x 784) and up to 0.16 with dropout (XLA draws
    other dropout masks), breaking the 1e-4 faithfulness contract; it was 1.15x faster
    without dropout but 2x slower with it (benchmarks/bench_spe.py).
    """
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    forced = os.environ.get("FITGAP_STEPS_PER_EXECUTION")
    if forced:
        return max(1, min(int(forced), steps_per_epoch))
    seconds_per_step = 6.0 * batch_size * n_params / _CPU_FLOPS
    chunk = int(TARGET_CHUNK_SECONDS / max(seconds_per_step, 1e-9))
    return max(1, min(chunk, steps_per_epoch))


def hidden_weight_norms(model) -> list[float | None]:
    """L2 (Frobenius) norm of each hidden Dense layer's kernel, input side first.

    Reads the weights only (no random numbers, no change to training); a few
    microseconds per layer, so it runs every epoch and shows L2 at work.
    """
    import keras  # deferred: TensorFlow loads only once a run trains

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    # A diverging run's weights can be finite but too large to square: the norm is then
    # inf, reported as None like NaN, never a RuntimeWarning from inside training.
    with np.errstate(over="ignore", invalid="ignore"):
        return [
            finite_or_none(float(np.linalg.norm(keras.ops.convert_to_numpy(layer.kernel))))
            for layer in dense[:-1]  # the last Dense is the softmax output, not a hidden layer
        ]


def _make_stream_callback(
    on_epoch: OnEpoch,
    should_stop: ShouldStop,
    inspect_model: InspectModel | None = None,
    *,
    gate: PauseGate | None = None,
    config: RunConfig | None = None,
    history: dict[str, list[float | None]] | None = None,
    parent_run_id: int | None = None,
    examples: ExampleDynamics | None = None,
):
    import keras

    class EpochStream(keras.callbacks.Callback):
        """Hands each finished epoch's logs to ``on_epoch``; honours a stop request.

        A user stop is seen between execution chunks; the interrupted epoch is
        incomplete, so it is not reported (its numbers would mix a partial training
        pass with a partial validation pass).
        """

        def __init__(self) -> None:
            super().__init__()
            self.user_stopped = False
            self.diverged = False
            self.epochs_reported = 0
            self._epoch_start = 0.0
            #: Set when a pause was continued with changed levers: the fit ends here.
            self.branch: Branch | None = None
            #: The user stopped the run while it was held at an epoch's end.
            self.stopped_paused = False
            #: The run's EarlyStopping (its best weights go with a branch).
            self.early: Any = None

        def _check_stop(self) -> None:
            if not self.user_stopped and should_stop():
                self.user_stopped = True
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            # Keras's TerminateOnNaN does this but prints to stdout, which would break
            # ``fitgap train --jsonl``; the run ends within the execution chunk either way.
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.diverged = True
                self.model.stop_training = True
            self._check_stop()

        def on_test_batch_end(self, batch, logs=None):
            self._check_stop()
            if self.user_stopped:
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch, logs=None):
            if self.user_stopped:
                return
            metrics = {key: float(value) for key, value in (logs or {}).items()}
            if not all(math.isfinite(metrics.get(k, 0.0)) for k in ("loss", "val_loss")):
                self.diverged = True
                self.model.stop_training = True
            self.epochs_reported += 1
            seconds = time.perf_counter() - self._epoch_start
            extras: dict[str, Any] = {"weight_norms": hidden_weight_norms(self.model)}
            if (
                examples is not None
                and examples.noise_known
                and examples.epochs[-1:] == [epoch + 1]
            ):  # how well the lowest-margin rows pick out the flipped labels
                extras["suspect_precision"] = finite_or_none(examples.precision[-1])
            on_epoch(EpochMetrics(epoch + 1, metrics, seconds, extras))
            if inspect_model is not None:
                inspect_model(epoch + 1, self.model)
            self._check_stop()
            if gate is not None and not self.model.stop_training:
                self._hold(epoch + 1)

        def _hold(self, epoch: int) -> None:
            """Held here while paused: inside fit, model and optimizer untouched."""
            assert gate is not None
            outcome = gate.hold(epoch, should_stop)
            if outcome is STOP:
                self.user_stopped = self.stopped_paused = True
                self.model.stop_training = True
            elif isinstance(outcome, RunConfig) and outcome != config:
                # Captured now: nothing may touch the weights between here and the child.
                state = capture_state(
                    self.model, epoch, history or {}, parent_run_id=parent_run_id, config=config
                )
                early = self.early
                if early is not None and early.best_weights is not None:
                    state.early_best = (early.best_epoch, list(early.best_weights))
                self.branch = Branch(outcome, state)
                self.model.stop_training = True

    return EpochStream()


def train(
    config: RunConfig,
    dataset: Dataset,
    on_epoch: OnEpoch | None = None,
    should_stop: ShouldStop | None = None,
    *,
    verbose: int = 0,
    inspect_model: InspectModel | None = None,
    gate: PauseGate | None = None,
    resume: TrainingState | None = None,
    run_id: int | None = None,
    on_examples: Callable[[ExampleDynamics], None] | None = None,
) -> RunResult:
    """Run ``model.fit`` for ``config`` on ``dataset``; returns when training ends.

    ``on_epoch`` is called in the training thread after each complete epoch;
    ``should_stop`` is polled between execution chunks and ends the run cleanly.
    ``inspect_model(epoch, model)`` follows ``on_epoch`` for views that need the live
    model (``core.insights``); it may predict (inference draws no random numbers,
    so the run's numbers do not change) but must not train or set weights.

    ``gate`` lets another thread pause the run at an epoch's end (``core.branching``);
    a pause continued with changed levers ends the fit with status ``branched`` and
    ``result.branch`` set.  ``resume`` starts from a parent's state instead of fresh
    weights: its weights and optimizer variables are set after compiling and the fit
    runs from ``initial_epoch=resume.epoch``; the history starts with the parent's
    epochs.  ``run_id`` names this run as the parent of a branch.  ``on_examples``
    hears the per-example dynamics after each measured epoch (training thread; read
    it, never change it).
    """
    # The caller checked the config against the data and memory first
    # (``session.check_run``: once per run, before its row and before TensorFlow).
    keras = import_keras()  # the first import of Keras in a CLI or worker process

    history: dict[str, list[float | None]] = {}
    first_epoch = 0
    if resume is not None:
        first_epoch = resume.epoch
        history = {key: list(values) for key, values in resume.history.items()}

    def record(metrics: EpochMetrics) -> None:
        for key, value in metrics.metrics.items():
            history.setdefault(key, []).append(value)
        if on_epoch is not None:
            on_epoch(metrics)

    start = time.perf_counter()
    # No gc.collect() here: on the window's training thread a full collection can free
    # PySide objects of the GUI thread (last run's plot items) and deadlock with it
    # (GIL vs Qt's connection lock; seen in benchmarks/).  Collection never changes numbers.
    stream = None
    try:
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(config.training.seed)
        plan = build.layer_plan(config.model, dataset.input_shape, dataset.image_shape)
        model = layers.build_model(plan, dataset.input_shape, dataset.n_classes)
        if config.model.kind == "cnn":  # convolutions reuse each weight once per pixel
            work = multiply_adds(
                config, dataset.input_shape, dataset.n_classes, dataset.image_shape
            )
        else:
            work = count_dense_params(
                dataset.input_shape, config.model.hidden_units, dataset.n_classes
            )
        spe = choose_steps_per_execution(len(dataset.x_train), config.training.batch_size, work)
        steps = optimizer.steps_per_epoch(len(dataset.x_train), config.training.batch_size)
        build.compile_model(model, config.training, steps_per_execution=spe, steps=steps)
        if resume is not None:
            apply_state(model, resume, same_rate(resume.config, config))

        examples = example_dynamics(dataset, config.training.seed)
        stream = _make_stream_callback(
            record,
            should_stop or (lambda: False),
            inspect_model,
            gate=gate,
            config=config,
            history=history,
            parent_run_id=run_id,
            examples=examples,
        )
        # First, so EarlyStopping, the stream and Keras's History all see its keys.
        measured = make_train_eval_callback(
            dataset.x_train,
            dataset.y_train,
            seed=config.training.seed,
            widest_layer=widest_layer(plan, dataset.input_shape),
            flipped_rows=dataset.flipped_rows,
            on_logits=_recorder(examples, on_examples),
        )
        es_cfg = config.early_stopping
        training = build.training_plan(config.training, es_cfg)
        counted = optimizer.training_callbacks(training)  # ReduceLROnPlateau, EarlyStopping
        early = next((c for c in counted if isinstance(c, keras.callbacks.EarlyStopping)), None)
        callbacks = [measured, *counted]
        stream.early = early
        if resume is not None and counted:
            # Before them: at the child's first epoch end they get the parent's epochs.
            carrier = make_counter_carrier(resume, counted, config.training.learning_rate)
            callbacks.insert(1, carrier)
        callbacks.append(optimizer.learning_rate_log(training, steps))
        callbacks.append(stream)  # after EarlyStopping: its decision is known when we report

        model.fit(
            dataset.x_train,
            dataset.y_train,
            batch_size=config.training.batch_size,
            epochs=config.training.epochs,
            initial_epoch=first_epoch,
            validation_data=(dataset.x_val, dataset.y_val),
            callbacks=callbacks,
            shuffle=True,
            verbose=verbose,
        )
    except Exception as exc:  # TensorFlow's ResourceExhaustedError, MemoryError
        if not is_out_of_memory(exc):
            raise
        done = stream.epochs_reported if stream is not None else 0
        raise out_of_memory_error(exc, done) from None

    epochs_run = first_epoch + stream.epochs_reported
    stopped_epoch = None
    restored = False
    if early is not None and early.stopped_epoch > 0 and not stream.user_stopped:
        stopped_epoch = early.stopped_epoch + 1
    if early is not None and es_cfg.restore_best_weights and early.best_weights is not None:
        restored = True
    # The run's numbers are the restored epoch's when early stopping restored weights,
    # else those of the epoch with the lowest validation cross-entropy.
    if restored and early is not None and early.best is not None and early.best_epoch < epochs_run:
        best = early.best_epoch + 1
    else:
        best = best_epoch(history)

    # The model the run delivers, judged once on the test part, after fit: no callback,
    # schedule, early stopping or best epoch saw it.
    test = None
    if dataset.has_test and epochs_run > 0:
        assert dataset.x_test is not None and dataset.y_test is not None  # has_test
        test = evaluate_delivered(
            model,
            dataset.x_test,
            dataset.y_test,
            delivered_epoch(early, epochs_run),
            rows_per_call=chunk_rows(widest_layer(plan, dataset.input_shape)),
        )

    if examples.epochs and epochs_run > 0:  # the delivered model's classes, per measured row
        forward = logits_function(model)
        x_rows = dataset.x_train[examples.rows]
        per_call = chunk_rows(widest_layer(plan, dataset.input_shape))
        examples.delivered = np.concatenate(
            [
                np.argmax(forward(x_rows[start : start + per_call]), axis=1)
                for start in range(0, len(x_rows), per_call)
            ]
        )

    status = final_status(
        diverged=stream.diverged,
        branched=stream.branch is not None,
        stopped=stream.user_stopped,
        early_stopped=stopped_epoch is not None,
    )
    message = None
    if status == "diverged":
        message = (
            f"loss became NaN or infinite in epoch {epochs_run}: learning rate too high, "
            "or inputs too large? Try a lower training.learning_rate or data.scale"
        )
    elif status == "branched":
        message = f"branched at epoch {epochs_run}"
    elif status == "stopped" and stream.stopped_paused:
        message = f"stopped while paused after epoch {epochs_run}"
    return RunResult(
        config=config,
        history=history,
        status=status,
        epochs_run=epochs_run,
        best_epoch=best,
        stopped_epoch=stopped_epoch,
        restored_best=restored,
        message=message,
        seconds=time.perf_counter() - start,
        test=test,
        class_names=list(dataset.class_names),
        model=model,
        branch=stream.branch,
        examples=examples if examples.epochs else None,
    )


def _recorder(examples: ExampleDynamics, then: Callable[[ExampleDynamics], None] | None):
    """The measuring pass's ``on_logits``: record the epoch, then tell ``then``."""

    def record(epoch: int, logits: np.ndarray) -> None:
        examples.update(epoch, logits)
        if then is not None:
            then(examples)

    return record


def example_dynamics(dataset: Dataset, seed: int) -> ExampleDynamics:
    """An empty per-example record for the rows the measuring pass measures."""
    rows = train_eval_rows(len(dataset.x_train), seed)
    source = dataset.source_rows[rows] if dataset.source_rows is not None else rows
    given = dataset.y_train[rows]
    original = dataset.original_labels[rows] if dataset.original_labels is not None else given
    return ExampleDynamics(rows=rows, given=given, source_rows=source, original=original)
