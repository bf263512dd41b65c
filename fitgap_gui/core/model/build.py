"""Build and compile the Keras model of a RunConfig: plain Keras, nothing added.

The layer stack is exactly the one of docs/ARCHITECTURE.md's faithfulness contract, so a run
can be repeated by the plain program that "Export as Keras script" writes.  Optional
additions, each only when its key asks for it: image augmentation (Keras preprocessing
layers after the Input), BatchNormalization between each Dense (or Conv2D) and its
activation, Conv2D + MaxPooling2D blocks for ``model.kind == "cnn"``, a learning-rate
schedule and the optimizer's own weight decay.
"""

from __future__ import annotations

import math

from fitgap_gui.core.config.schema import ModelConfig, TrainingConfig
from fitgap_gui.core.errors import ConfigError


def kernel_regularizer(model_cfg: ModelConfig):
    """Keras's own L1/L2 penalty for the hidden layers' kernels, or None."""
    from keras import regularizers

    if model_cfg.l1 and model_cfg.l2:
        return regularizers.l1_l2(l1=model_cfg.l1, l2=model_cfg.l2)
    if model_cfg.l2:
        return regularizers.l2(model_cfg.l2)
    if model_cfg.l1:
        return regularizers.l1(model_cfg.l1)
    return None


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer updates per epoch, as ``fit`` makes them: ceil(n_train / batch_size)."""
    return max(1, math.ceil(n_train / batch_size))


def lr_schedule(training_cfg: TrainingConfig, steps: int):
    """Keras's LearningRateSchedule for "cosine" and "step", else None.

    ``steps`` is the number of updates per epoch; the schedules count updates, the
    config counts epochs.  "plateau" is a callback (``plateau_callback``), not a schedule.
    """
    from keras.optimizers import schedules

    s, lr = training_cfg.lr_schedule, training_cfg.learning_rate
    if s["kind"] == "cosine":
        warmup = s["warmup_epochs"]
        return schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else lr,
            decay_steps=(training_cfg.epochs - warmup) * steps,
            warmup_target=lr if warmup else None,
            warmup_steps=warmup * steps,
        )
    if s["kind"] == "step":
        return schedules.ExponentialDecay(
            lr, decay_steps=s["every"] * steps, decay_rate=s["factor"], staircase=True
        )
    return None


def plateau_callback(training_cfg: TrainingConfig, monitor: str):
    """Keras's ReduceLROnPlateau for the "plateau" schedule, else None."""
    s = training_cfg.lr_schedule
    if s["kind"] != "plateau":
        return None
    import keras

    return keras.callbacks.ReduceLROnPlateau(
        monitor=monitor,
        factor=s["factor"],
        patience=s["patience"],
        min_delta=s["min_delta"],
        min_lr=s["min_lr"],
    )


def make_optimizer(training_cfg: TrainingConfig, steps: int = 1):
    """The optimizer with the rate (or schedule) and, when set, its own weight_decay."""
    from keras import optimizers

    classes = {
        "adam": optimizers.Adam,
        "adamw": optimizers.AdamW,
        "sgd": optimizers.SGD,
        "rmsprop": optimizers.RMSprop,
        "nadam": optimizers.Nadam,
    }
    schedule = lr_schedule(training_cfg, steps)
    kwargs: dict = {"learning_rate": training_cfg.learning_rate if schedule is None else schedule}
    if training_cfg.weight_decay is not None:  # None: the optimizer's own default
        kwargs["weight_decay"] = training_cfg.weight_decay
    return classes[training_cfg.optimizer](**kwargs)


def augmentation_enabled(model_cfg: ModelConfig) -> bool:
    return bool(
        model_cfg.augment_flip or model_cfg.augment_rotation or model_cfg.augment_translation
    )


def image_input_shape(
    input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> tuple[int, int, int] | None:
    """Samples as (height, width, channels), or None when they are not images."""
    if len(input_shape) == 3:
        return tuple(input_shape)  # type: ignore[return-value]
    if len(input_shape) == 2:
        return (*input_shape, 1)
    if image_shape is not None and len(image_shape) == 2:
        h, w = image_shape
        if h * w and input_shape[0] % (h * w) == 0:  # flat images such as digits
            return (h, w, input_shape[0] // (h * w))
    return None


def augmentation_image_shape(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> tuple[int, int, int] | None:
    """The (height, width, channels) the augmentation layers see, or None when off.

    Checked before TensorFlow is imported: augmentation on non-image data is a
    ConfigError, not a failure deep inside Keras.
    """
    if not augmentation_enabled(model_cfg):
        return None
    shape = image_input_shape(input_shape, image_shape)
    if shape is None:
        raise ConfigError(
            "model.augment_* (flip, rotation, translation) works on image data only; "
            f"this data has samples of shape {tuple(input_shape)}"
        )
    return shape


def cnn_image_shape(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> tuple[int, int, int] | None:
    """The (height, width, channels) the first Conv2D sees, or None for an MLP.

    A CNN on data that is not images, or with more MaxPooling2D(2) layers than the
    image has pixels to halve, is a ConfigError, before TensorFlow builds anything.
    """
    if model_cfg.kind != "cnn":
        return None
    shape = image_input_shape(input_shape, image_shape)
    if shape is None:
        raise ConfigError(
            'model.kind "cnn" works on image data only (samples of shape (height, width) '
            f"or (height, width, channels)); this data has samples of shape {tuple(input_shape)}"
        )
    h, w = shape[:2]
    for _ in model_cfg.conv_filters:
        if min(h, w) < 2:
            raise ConfigError(
                f"model.conv_filters has {len(model_cfg.conv_filters)} layers, each halving "
                f"the image with MaxPooling2D(2); {shape[0]}x{shape[1]} images allow "
                f"{int(math.log2(min(shape[:2])))} at most"
            )
        h, w = h // 2, w // 2
    return shape


def check_model_for_data(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> None:
    """Refuse image-only layers (augmentation, a CNN) on data that is not images."""
    augmentation_image_shape(model_cfg, input_shape, image_shape)
    cnn_image_shape(model_cfg, input_shape, image_shape)


def build_model(
    model_cfg: ModelConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    image_shape: tuple[int, ...] | None = None,
):
    """The uncompiled Sequential model: [Flatten], (Dense [+ Dropout]) per layer, softmax.

    With augmentation on, Keras's RandomFlip/RandomRotation/RandomTranslation come
    right after the Input (they act in training only); a CNN puts its Conv2D +
    MaxPooling2D blocks before the Flatten; with batch_norm each Dense or Conv2D is
    followed by BatchNormalization and then its activation.  With every one of these
    off the stack is exactly the faithfulness contract's.
    """
    aug_shape = augmentation_image_shape(model_cfg, input_shape, image_shape)
    conv_shape = cnn_image_shape(model_cfg, input_shape, image_shape)
    picture = aug_shape or conv_shape
    import keras

    layers: list = [keras.Input(shape=input_shape)]
    if picture is not None and tuple(input_shape) != picture:
        layers.append(keras.layers.Reshape(picture))
    if aug_shape is not None:
        if model_cfg.augment_flip:
            layers.append(keras.layers.RandomFlip("horizontal"))
        if model_cfg.augment_rotation:
            layers.append(keras.layers.RandomRotation(model_cfg.augment_rotation))
        if model_cfg.augment_translation:
            t = model_cfg.augment_translation
            layers.append(keras.layers.RandomTranslation(t, t))
    bn, activation = model_cfg.batch_norm, model_cfg.activation
    if conv_shape is not None:
        for filters in model_cfg.conv_filters:
            layers.append(
                keras.layers.Conv2D(
                    filters,
                    3,
                    padding="same",
                    activation=None if bn else activation,
                    kernel_regularizer=kernel_regularizer(model_cfg),
                )
            )
            if bn:  # the activation follows the normalization
                layers += [keras.layers.BatchNormalization(), keras.layers.Activation(activation)]
            layers.append(keras.layers.MaxPooling2D(2))
    if len(input_shape) > 1 or picture is not None:
        layers.append(keras.layers.Flatten())
    for units in model_cfg.hidden_units:
        layers.append(
            keras.layers.Dense(
                units,
                activation=None if bn else activation,
                kernel_regularizer=kernel_regularizer(model_cfg),
            )
        )
        if bn:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation(activation)]
        if model_cfg.dropout > 0:
            layers.append(keras.layers.Dropout(model_cfg.dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


def compile_model(
    model, training_cfg: TrainingConfig, steps_per_execution: int = 1, steps: int = 1
) -> None:
    """Keras's loss and accuracy, plus its cross-entropy metric (the loss without penalty).

    A compiled metric is computed from the same forward pass as the loss and never
    enters the gradients, so ``loss``/``accuracy``/``val_*`` stay the plain program's.
    ``steps`` (updates per epoch) sizes a learning-rate schedule.
    """
    from fitgap_gui.core.model.measurements import cross_entropy_metric

    model.compile(
        optimizer=make_optimizer(training_cfg, steps),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", cross_entropy_metric()],
        steps_per_execution=steps_per_execution,
    )
