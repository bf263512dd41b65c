"""The optimizer, its learning-rate schedule and the callbacks of a training plan.

A training plan (``core.model.build.training_plan``) is plain data: the optimizer's Keras
class name, the rate, the schedule (the config's ``training.lr_schedule``), the weight
decay and the early-stopping settings.  As in ``core.model.layers``, each function
imports Keras inside itself (a deferred heavy import) and nothing from FitGap, so the
exported script carries this very code (docs/ARCHITECTURE.md, "Export as Keras script").
"""

import math


def steps_per_epoch(n_train, batch_size):
    """Optimizer updates per epoch, as ``fit`` makes them: ceil(n_train / batch_size)."""
    return max(1, math.ceil(n_train / batch_size))


def learning_rate_schedule(training, steps):
    """Keras's LearningRateSchedule for the "cosine" and "step" schedules, else None.

    ``steps`` is the number of updates per epoch: the schedules count updates, the plan
    counts epochs.  A cosine spans the epochs the run was set to (``schedule_epochs``),
    also when it stopped sooner.  "plateau" is a callback (``training_callbacks``).
    """
    import keras  # deferred: Keras is a heavy import

    s, rate = training["schedule"], training["learning_rate"]
    if s["kind"] == "cosine":
        warmup = s["warmup_epochs"]  # from 0 up to the rate, then the cosine decay
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else rate,
            decay_steps=(training["schedule_epochs"] - warmup) * steps,
            warmup_target=rate if warmup else None,
            warmup_steps=warmup * steps,
        )
    if s["kind"] == "step":  # the rate times "factor" every "every" epochs
        return keras.optimizers.schedules.ExponentialDecay(
            rate, decay_steps=s["every"] * steps, decay_rate=s["factor"], staircase=True
        )
    return None


def compile_model(model, training, steps, cross_entropy, steps_per_execution=1):
    """Keras's loss and accuracy, plus ``cross_entropy``, Keras's cross-entropy metric
    (``measurements.cross_entropy_metric``: the loss without the weight penalty).

    The optimizer gets the rate (or schedule) and, when set, its own weight decay.  A
    compiled metric is computed from the same forward pass as the loss and never enters
    the gradients; ``steps_per_execution`` changes speed, not numbers.
    """
    import keras  # deferred: Keras is a heavy import

    schedule = learning_rate_schedule(training, steps)
    settings = {"learning_rate": training["learning_rate"] if schedule is None else schedule}
    if training["weight_decay"] is not None:  # None: the optimizer's own default
        settings["weight_decay"] = training["weight_decay"]
    model.compile(
        optimizer=getattr(keras.optimizers, training["optimizer"])(**settings),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", cross_entropy],
        steps_per_execution=steps_per_execution,
    )


def training_callbacks(training):
    """ReduceLROnPlateau (the "plateau" schedule) then EarlyStopping, each when set."""
    import keras  # deferred: Keras is a heavy import

    s, callbacks = training["schedule"], []
    if s["kind"] == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=training["monitor"],
                factor=s["factor"],
                patience=s["patience"],
                min_delta=s["min_delta"],
                min_lr=s["min_lr"],
            )
        )
    if training["early_stopping"] is not None:
        callbacks.append(keras.callbacks.EarlyStopping(**training["early_stopping"]))
    return callbacks


def learning_rate_log(training, steps):
    """A callback that adds each epoch's ``learning_rate`` to its logs: the rate of the
    epoch's last update (ReduceLROnPlateau logs its own).

    A schedule is asked for step ``(epoch + 1) * steps - 1`` (the optimizer's own
    ``learning_rate`` would already be one step further); a constant rate is read from
    the optimizer.  Pure reads: no random numbers, nothing in the run changes.
    """
    import keras  # deferred: Keras is a heavy import

    schedule = learning_rate_schedule(training, steps)

    class LearningRateLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or "learning_rate" in logs:
                return
            if schedule is not None:
                rate = schedule((epoch + 1) * steps - 1)
            else:
                rate = self.model.optimizer.learning_rate
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(rate))

    return LearningRateLog()
