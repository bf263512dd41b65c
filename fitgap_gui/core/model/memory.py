"""What a run's model will need, estimated before TensorFlow builds a single layer.

``check_model_memory`` estimates a run's model arithmetically (parameters, optimizer
state, a batch's activations) and refuses it, with one line saying what to reduce,
when it cannot fit ``memory_budget()``.  Building layers to count them would draw from
the seeded random generators and change the run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.memory import FLOAT_BYTES, format_bytes, memory_budget

#: Slots per parameter each optimizer keeps, as FitGap builds them (Keras defaults:
#: SGD without momentum, RMSprop without momentum or centering).
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "nadam": 2, "rmsprop": 1, "sgd": 0}
#: The estimate must fit this many times over, plus a fixed headroom for the runtime.
SAFETY_FACTOR = 1.25
HEADROOM_BYTES = 256 * 1024**2


# -- the model -------------------------------------------------------------------------------
def count_dense_params(
    input_shape: tuple[int, ...], hidden_units: list[int], n_classes: int
) -> int:
    widths = [math.prod(input_shape), *hidden_units, n_classes]
    return sum(a * b + b for a, b in itertools.pairwise(widths))


@dataclass(frozen=True)
class ModelMemory:
    """A run's memory, estimated from the config and the data's shape alone."""

    parameters: int
    state_bytes: int  # weights, gradients and the optimizer's slots
    activation_bytes: int  # one batch through the network and back
    data_bytes: int  # the copy of the arrays that ``fit`` makes
    first_layer_share: float  # of the parameters, the input layer's part

    @property
    def total(self) -> int:
        return self.state_bytes + self.activation_bytes + self.data_bytes

    @property
    def required(self) -> int:
        return int(self.total * SAFETY_FACTOR) + HEADROOM_BYTES


def _image_shape(
    config: RunConfig, input_shape: tuple[int, ...], image_shape: tuple[int, ...] | None
) -> tuple[int, int, int] | None:
    """The CNN's (height, width, channels), as model.cnn_image_shape finds it."""
    if config.model.kind != "cnn":
        return None
    if len(input_shape) == 3:
        return (input_shape[0], input_shape[1], input_shape[2])
    if len(input_shape) == 2:
        return (input_shape[0], input_shape[1], 1)
    if image_shape is not None and len(image_shape) == 2 and image_shape[0] * image_shape[1]:
        h, w = image_shape[0], image_shape[1]
        return (h, w, max(1, math.prod(input_shape) // (h * w)))
    return None  # refused by model.cnn_image_shape before anything is built


@dataclass(frozen=True)
class _Sizes:
    parameters: int
    first_layer: int  # the input-side layer's weights
    conv_activations: int  # per sample: every conv block's outputs kept for the backward pass
    multiply_adds: int  # per sample, forward


def _layer_sizes(
    config: RunConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    image_shape: tuple[int, ...] | None,
) -> _Sizes:
    """Parameters and per-sample sizes of the stack model.build_model makes (arithmetic)."""
    m = config.model
    hidden = list(m.hidden_units)
    bn_params = 4 if m.batch_norm else 0  # gamma, beta, moving mean and variance
    params = first = macs = conv_acts = 0
    features = math.prod(input_shape)
    picture = _image_shape(config, input_shape, image_shape)
    if picture is not None:
        h, w, c = picture
        for f in m.conv_filters:
            weights = 9 * c * f
            params += weights + f + bn_params * f
            first = first or weights
            macs += h * w * weights
            # the conv output, BatchNormalization's and the activation's, and the pooled map
            conv_acts += h * w * f * (3 if m.batch_norm else 1) + (h // 2) * (w // 2) * f
            h, w, c = h // 2, w // 2, f
        features = h * w * c
    widths = [features, *hidden, n_classes]
    dense = sum(a * b + b for a, b in itertools.pairwise(widths))
    params += dense + bn_params * sum(hidden)
    macs += sum(a * b for a, b in itertools.pairwise(widths))
    first = first or features * (hidden[0] if hidden else n_classes)
    return _Sizes(params, first, conv_acts, macs)


def estimate_model_memory(
    config: RunConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    n_samples: int,
    image_shape: tuple[int, ...] | None = None,
) -> ModelMemory:
    """Arithmetic only: no TensorFlow, no layers, no random numbers drawn.

    ``image_shape`` (the dataset's (height, width)) lets a CNN on flat images such as
    digits be counted with its convolution layers.
    """
    features = math.prod(input_shape)
    hidden = list(config.model.hidden_units)
    sizes = _layer_sizes(config, input_shape, n_classes, image_shape)
    params = sizes.parameters
    copies = 2 + OPTIMIZER_SLOTS.get(config.training.optimizer, 2)  # weights, gradients, slots
    batch = min(config.training.batch_size, max(n_samples, 1))
    # Each layer's output is kept for the backward pass and gets a gradient of its own;
    # augmentation layers each make an image-sized copy, dropout a mask per layer,
    # BatchNormalization and its separate activation two more outputs per layer.
    widths = features + sum(hidden) + n_classes + sizes.conv_activations
    augment = sum(
        bool(v)
        for v in (
            config.model.augment_flip,
            config.model.augment_rotation,
            config.model.augment_translation,
        )
    )
    per_sample = 2 * widths + augment * features + (sum(hidden) if config.model.dropout else 0)
    per_sample += 2 * 2 * sum(hidden) if config.model.batch_norm else 0
    return ModelMemory(
        parameters=params,
        state_bytes=params * FLOAT_BYTES * copies,
        activation_bytes=batch * per_sample * FLOAT_BYTES,
        data_bytes=n_samples * features * FLOAT_BYTES,
        first_layer_share=sizes.first_layer / params if params else 0.0,
    )


def multiply_adds(
    config: RunConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    image_shape: tuple[int, ...] | None = None,
) -> int:
    """One sample's forward multiply-adds (a CNN's convolutions reuse each weight per pixel)."""
    return _layer_sizes(config, input_shape, n_classes, image_shape).multiply_adds


def _what_to_reduce(config: RunConfig, est: ModelMemory) -> str:
    parts = {
        "state": est.state_bytes,
        "activations": est.activation_bytes,
        "data": est.data_bytes,
    }
    biggest = max(parts, key=parts.__getitem__)
    image = config.data.source == "images"
    if biggest == "activations":
        return "reduce training.batch_size" + (" or data.image_size" if image else "")
    if biggest == "data":
        return "use fewer samples" + (" or a smaller data.image_size" if image else "")
    if est.first_layer_share > 0.5:
        return "reduce the first hidden layer's units (model.hidden_units)" + (
            " or data.image_size" if image else ""
        )
    return "use fewer or narrower hidden layers (model.hidden_units)"


def check_model_memory(
    config: RunConfig,
    input_shape: tuple[int, ...],
    n_classes: int,
    n_samples: int,
    budget: int | None = None,
    image_shape: tuple[int, ...] | None = None,
) -> ModelMemory:
    """Refuse, with one line saying what to reduce, a run whose model cannot fit."""
    est = estimate_model_memory(config, input_shape, n_classes, n_samples, image_shape)
    budget = memory_budget() if budget is None else budget
    if est.required > budget:
        optimizer = config.training.optimizer
        raise ConfigError(
            f"this model needs about {format_bytes(est.total)} of memory "
            f"({est.parameters:,} parameters with their gradients and {optimizer}'s state: "
            f"{format_bytes(est.state_bytes)}; a batch's activations: "
            f"{format_bytes(est.activation_bytes)}; the data: {format_bytes(est.data_bytes)}), "
            f"more than the {format_bytes(budget)} FitGap may use here; "
            f"{_what_to_reduce(config, est)}"
        )
    return est


def check_dataset_memory(config: RunConfig, dataset: Dataset) -> ModelMemory:
    """``check_model_memory`` for a loaded dataset: its shapes and all of its rows."""
    return check_model_memory(
        config,
        dataset.input_shape,
        dataset.n_classes,
        len(dataset.x_train) + len(dataset.x_val),
        image_shape=dataset.image_shape,
    )
