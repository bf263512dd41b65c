"""How much memory FitGap may use, and what a file or a model will need, checked first.

``memory_budget()`` is the least of the memory the system has available
(``MemAvailable``), the process's cgroup limit, its address-space limit
(``RLIMIT_AS``) and the 4 GiB file limit of the readers.  The readers check an
archive's expanded size against it before expanding anything, and
``check_model_memory`` estimates a run's model arithmetically (parameters, optimizer
state, a batch's activations) before TensorFlow builds a single layer: building
layers to count them would draw from the seeded random generators and change the
run.  ``OutOfMemoryError`` is the one-line error when memory runs out anyway.
"""

from __future__ import annotations

import itertools
import math
import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import RunConfig
from .errors import ConfigError, FitGapError
from .readers import MAX_FILE_BYTES

if TYPE_CHECKING:
    from .data import Dataset

#: Bytes; replaces the measured budget (tests, or a user who knows better).
BUDGET_ENV = "FITGAP_MEMORY_BUDGET"
#: A cgroup limit at or above this means "no limit" (v1 writes 2**63 rounded to pages).
_UNLIMITED = 2**60
#: Slots per parameter each optimizer keeps, as FitGap builds them (Keras defaults:
#: SGD without momentum, RMSprop without momentum or centering).
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "nadam": 2, "rmsprop": 1, "sgd": 0}
#: The estimate must fit this many times over, plus a fixed headroom for the runtime.
SAFETY_FACTOR = 1.25
HEADROOM_BYTES = 256 * 1024**2
FLOAT_BYTES = 4


class OutOfMemoryError(FitGapError):
    """Memory ran out during training (TensorFlow's ResourceExhaustedError, MemoryError)."""


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


def _mem_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 < value < _UNLIMITED else None


def _cgroup_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The tightest memory limit of this process's cgroup and its parents (v2 or v1)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "":  # cgroup v2: memory.max along the path
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):  # cgroup v1
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        here = base / rel.lstrip("/")
        while True:
            limit = _read_limit(here / name)
            if limit is not None:
                limits.append(limit)
            if here == base or base not in here.parents:
                break
            here = here.parent
    return min(limits) if limits else None


def _rlimit_as() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft in (resource.RLIM_INFINITY, -1) or soft >= _UNLIMITED else soft


def memory_budget() -> int:
    """Bytes FitGap may use: the least of the system's limits, never over 4 GiB.

    ``FITGAP_MEMORY_BUDGET`` (bytes) replaces the measurement.
    """
    forced = os.environ.get(BUDGET_ENV)
    if forced:
        try:
            return max(0, int(float(forced)))
        except ValueError:
            pass  # a typo in the variable must not disable the check
    found = [_mem_available(), _cgroup_limit(), _rlimit_as(), MAX_FILE_BYTES]
    return min(v for v in found if v is not None)


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


# -- running out anyway ---------------------------------------------------------------------
def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, TensorFlow's ResourceExhaustedError, or XLA's RESOURCE_EXHAUSTED."""
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    if name == "ResourceExhaustedError":
        return True
    return name == "XlaRuntimeError" and "RESOURCE_EXHAUSTED" in str(exc)


def out_of_memory_error(exc: BaseException, epochs_done: int) -> OutOfMemoryError:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return OutOfMemoryError(
        f"training ran out of memory after {epochs_done} complete "
        f"epoch{'' if epochs_done == 1 else 's'} ({detail}); "
        "reduce model.hidden_units, data.image_size or training.batch_size"
    )
