"""The description of a run's network and training as plain data, and the engine's builders.

``layer_plan`` is a model as a list of plain dicts (what Keras's ``get_config()`` is to a
model) and ``training_plan`` the optimizer, schedule and callback settings.  The engine
builds from them with ``core.model.layers`` and ``core.model.optimizer``; the exported
script prints the same plans as Python literals and carries the same two modules' code
(docs/ARCHITECTURE.md, "Export as Keras script").  The checks that refuse image-only
layers on other data run here, before TensorFlow is imported.
"""

from __future__ import annotations

import math
from typing import Any

from fitgap_gui.core.config.schema import EarlyStoppingConfig, ModelConfig, TrainingConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.model import layers, measurements, optimizer


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


# -- the plan: a model and its training as plain data ---------------------------------------------
def layer_plan(
    model_cfg: ModelConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None = None
) -> list[dict[str, Any]]:
    """The layers between the Input and the softmax output, as ``core.model.layers`` takes them.

    [Reshape] [augmentation] [Conv2D (+ BatchNormalization, Activation) + MaxPooling2D per
    filter count] [Flatten] then Dense [+ BatchNormalization, Activation] [+ Dropout] per
    hidden layer.  Augmentation (RandomFlip/RandomRotation/RandomTranslation) acts in
    training only; with batch_norm each Dense or Conv2D is followed by BatchNormalization
    and then its activation.  With every option off the stack is exactly the faithfulness
    contract's.  Image-only layers on data that is not images are a ConfigError here,
    before TensorFlow builds anything.
    """
    aug_shape = augmentation_image_shape(model_cfg, input_shape, image_shape)
    conv_shape = cnn_image_shape(model_cfg, input_shape, image_shape)
    picture = aug_shape or conv_shape
    m = model_cfg
    plan: list[dict[str, Any]] = []
    if picture is not None and tuple(input_shape) != picture:
        plan.append({"layer": "Reshape", "target_shape": picture})
    if aug_shape is not None:
        if m.augment_flip:
            plan.append({"layer": "RandomFlip", "mode": "horizontal"})
        if m.augment_rotation:
            plan.append({"layer": "RandomRotation", "factor": m.augment_rotation})
        if m.augment_translation:
            t = m.augment_translation
            plan.append({"layer": "RandomTranslation", "height_factor": t, "width_factor": t})

    def block(layer: dict[str, Any]) -> list[dict[str, Any]]:
        """A Dense or Conv2D layer; with batch_norm, BatchNormalization then the activation."""
        layer["activation"] = None if m.batch_norm else m.activation
        layer.update({key: value for key, value in (("l1", m.l1), ("l2", m.l2)) if value})
        if not m.batch_norm:
            return [layer]
        norm = {"layer": "BatchNormalization"}
        return [layer, norm, {"layer": "Activation", "activation": m.activation}]

    for filters in m.conv_filters if conv_shape is not None else []:
        conv = {"layer": "Conv2D", "filters": filters, "kernel_size": 3, "padding": "same"}
        plan += [*block(conv), {"layer": "MaxPooling2D", "pool_size": 2}]
    if len(input_shape) > 1 or picture is not None:
        plan.append({"layer": "Flatten"})
    for units in m.hidden_units:
        plan += block({"layer": "Dense", "units": units})
        if m.dropout > 0:
            plan.append({"layer": "Dropout", "rate": m.dropout})
    return plan


#: The config keys the two plans (and the seed, batch size and epochs beside them)
#: describe: a lever added to the config and to a plan is added here, and the exported
#: script then writes it out (``export.script.SUPPORTED``).
PLAN_KEYS = {
    "model": {
        "hidden_units", "activation", "dropout", "l2", "l1", "augment_flip", "augment_rotation",
        "augment_translation", "batch_norm", "kind", "conv_filters",
    },
    "training": {
        "optimizer", "learning_rate", "lr_schedule", "weight_decay", "epochs", "batch_size", "seed",
    },
    "early_stopping": {"enabled", "monitor", "patience", "min_delta", "restore_best_weights"},
}  # fmt: skip

#: The Keras class of each ``training.optimizer``.
OPTIMIZERS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "nadam": "Nadam",
}


def training_plan(
    training_cfg: TrainingConfig, early_cfg: EarlyStoppingConfig | None = None
) -> dict[str, Any]:
    """The optimizer, its schedule and the callbacks, as ``core.model.optimizer`` takes them."""
    early = early_cfg or EarlyStoppingConfig()
    return {
        "optimizer": OPTIMIZERS[training_cfg.optimizer],
        "learning_rate": training_cfg.learning_rate,
        "weight_decay": training_cfg.weight_decay,
        "schedule": dict(training_cfg.lr_schedule),
        "schedule_epochs": training_cfg.epochs,
        "monitor": early.monitor,  # what ReduceLROnPlateau watches
        "early_stopping": None
        if not early.enabled
        else {
            "monitor": early.monitor,
            "patience": early.patience,
            "min_delta": early.min_delta,
            "restore_best_weights": early.restore_best_weights,
        },
    }


# -- the engine's entry points ----------------------------------------------------------------
def build_model(
    model_cfg: ModelConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    image_shape: tuple[int, ...] | None = None,
):
    """The uncompiled Sequential model of ``layer_plan``: Input, the plan, softmax."""
    plan = layer_plan(model_cfg, input_shape, image_shape)  # checked before Keras is imported
    return layers.build_model(plan, tuple(input_shape), n_classes)


def compile_model(
    model, training_cfg: TrainingConfig, steps_per_execution: int = 1, steps: int = 1
) -> None:
    """``core.model.optimizer.compile_model`` for the plan of ``training_cfg``; ``steps``
    (updates per epoch) sizes a learning-rate schedule."""
    metric = measurements.cross_entropy_metric()
    optimizer.compile_model(model, training_plan(training_cfg), steps, metric, steps_per_execution)
