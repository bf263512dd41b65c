"""Build and compile the Keras model of a RunConfig: plain Keras, nothing added.

The layer stack is exactly the one of docs/ARCHITECTURE.md's faithfulness contract, so a run
can be repeated by the plain program that "Export as Keras script" writes.  The one
optional addition is image augmentation (Keras preprocessing layers after the Input),
used only when a ``model.augment_*`` key asks for it.
"""

from __future__ import annotations

from .config import ModelConfig, TrainingConfig
from .errors import ConfigError


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


def make_optimizer(training_cfg: TrainingConfig):
    from keras import optimizers

    classes = {
        "adam": optimizers.Adam,
        "adamw": optimizers.AdamW,
        "sgd": optimizers.SGD,
        "rmsprop": optimizers.RMSprop,
        "nadam": optimizers.Nadam,
    }
    return classes[training_cfg.optimizer](learning_rate=training_cfg.learning_rate)


def augmentation_enabled(model_cfg: ModelConfig) -> bool:
    return bool(
        model_cfg.augment_flip or model_cfg.augment_rotation or model_cfg.augment_translation
    )


def augmentation_image_shape(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> tuple[int, int, int] | None:
    """The (height, width, channels) the augmentation layers see, or None when off.

    Checked before TensorFlow is imported: augmentation on non-image data is a
    ConfigError, not a failure deep inside Keras.
    """
    if not augmentation_enabled(model_cfg):
        return None
    if len(input_shape) == 3:
        return tuple(input_shape)  # type: ignore[return-value]
    if len(input_shape) == 2:
        return (*input_shape, 1)
    if image_shape is not None and len(image_shape) == 2:
        h, w = image_shape
        if h * w and input_shape[0] % (h * w) == 0:  # flat images such as digits
            return (h, w, input_shape[0] // (h * w))
    raise ConfigError(
        "model.augment_* (flip, rotation, translation) works on image data only; "
        f"this data has samples of shape {tuple(input_shape)}"
    )


def build_model(
    model_cfg: ModelConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    image_shape: tuple[int, ...] | None = None,
):
    """The uncompiled Sequential model: [Flatten], (Dense [+ Dropout]) per layer, softmax.

    With augmentation on, Keras's RandomFlip/RandomRotation/RandomTranslation come
    right after the Input (they act in training only); with it off the stack is
    exactly the faithfulness contract's.
    """
    aug_shape = augmentation_image_shape(model_cfg, input_shape, image_shape)
    import keras

    layers: list = [keras.Input(shape=input_shape)]
    if aug_shape is not None:
        if tuple(input_shape) != aug_shape:
            layers.append(keras.layers.Reshape(aug_shape))
        if model_cfg.augment_flip:
            layers.append(keras.layers.RandomFlip("horizontal"))
        if model_cfg.augment_rotation:
            layers.append(keras.layers.RandomRotation(model_cfg.augment_rotation))
        if model_cfg.augment_translation:
            t = model_cfg.augment_translation
            layers.append(keras.layers.RandomTranslation(t, t))
    if len(input_shape) > 1 or aug_shape is not None:
        layers.append(keras.layers.Flatten())
    for units in model_cfg.hidden_units:
        layers.append(
            keras.layers.Dense(
                units,
                activation=model_cfg.activation,
                kernel_regularizer=kernel_regularizer(model_cfg),
            )
        )
        if model_cfg.dropout > 0:
            layers.append(keras.layers.Dropout(model_cfg.dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


def compile_model(model, training_cfg: TrainingConfig, steps_per_execution: int = 1) -> None:
    """Keras's loss and accuracy, plus its cross-entropy metric (the loss without penalty).

    A compiled metric is computed from the same forward pass as the loss and never
    enters the gradients, so ``loss``/``accuracy``/``val_*`` stay the plain program's.
    """
    from .measurements import cross_entropy_metric

    model.compile(
        optimizer=make_optimizer(training_cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", cross_entropy_metric()],
        steps_per_execution=steps_per_execution,
    )
