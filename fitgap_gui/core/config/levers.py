"""Every lever of a run, defined once: key, label, range, tooltip, sources, wording.

``LEVERS`` is the table the window's controls are built from (group, label, range,
step, decimals, tooltip), and the one the config summary line, the runs table's
levers column and the presets' tooltips word their values with.  A lever that
applies only to some data sources (the toy sets' noise, a CSV's label column) says
so in ``sources``; the demo's handicaps (training fraction, label noise) are marked
``handicap`` and are reset when the user opens their own data.

Lookups: ``lever("model.dropout")``, ``LEVERS_BY_KEY``, ``levers_in(group)``,
``Lever.words(value)`` ("dropout 0.5"), ``Lever.applies_to(source_name)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fitgap_gui.core.config.monitor import MONITORS
from fitgap_gui.core.config.schema import (
    ACTIVATIONS,
    MISSING_CHOICES,
    MODEL_KINDS,
    OPTIMIZERS,
    SCALES,
    RunConfig,
)
from fitgap_gui.core.config.sources import (
    image_sources,
    names,
    own_validation_sources,
    source,
    toy_sources,
)
from fitgap_gui.core.formatting import format_number, format_percent, format_units, format_value

LeverKind = Literal[
    "float", "int", "choice", "bool", "units", "text", "size", "source", "path",
    "optional_float", "schedule", "filters",
]  # fmt: skip

#: The controls' group boxes, in order.
GROUPS = ("Data", "Capacity", "Regularization", "Early stopping", "Training")


@dataclass(frozen=True)
class Lever:
    """One setting of ``RunConfig`` as people see it."""

    #: The dotted config key, as in ``RunConfig.replace``: "model.dropout".
    key: str
    #: The form label: "Dropout rate".
    label: str
    kind: LeverKind
    group: str
    tooltip: str
    #: The control's range and step (narrower than the contract where a value is silly).
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    decimals: int = 0
    #: Steps that follow the value's magnitude (1e-4, 1e-3, ...) instead of a fixed step.
    adaptive: bool = False
    choices: tuple[str, ...] = ()
    #: The data sources it applies to; None: every source.
    sources: tuple[str, ...] | None = None
    #: One of the demo's handicaps, reset to its default for the user's own data.
    handicap: bool = False
    #: How a value reads in a summary ("dropout 0.5"); None: "<short> <value>".
    wording: Callable[[Any], str] | None = None
    #: The word used by the default wording ("dropout").
    short: str = ""

    @property
    def section(self) -> str:
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        """The field name inside its section: ``dropout``."""
        return self.key.partition(".")[2]

    def applies_to(self, source_name: str) -> bool:
        return self.sources is None or source_name in self.sources

    def words(self, value: Any) -> str:
        """The value in a summary: "dropout 0.5", "layers 512-512", "train 25%"."""
        if self.wording is not None:
            return self.wording(value)
        return f"{self.short or self.name.replace('_', ' ')} {format_value(value)}"


def _basename(path: str | None) -> str:
    return (path or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _schedule_words(value: dict[str, Any]) -> str:
    kind = value.get("kind", "constant")
    if kind == "plateau":
        return f"lr ×{format_number(value['factor'])} on plateau p={value['patience']}"
    if kind == "cosine":
        warm = value.get("warmup_epochs", 0)
        return f"lr cosine (warm-up {warm})" if warm else "lr cosine"
    if kind == "step":
        return f"lr ×{format_number(value['factor'])} every {value['every']} epochs"
    return "constant lr"


_TOY = toy_sources()
_IMAGES = image_sources()
_FILES = names("file")

LEVERS: tuple[Lever, ...] = (
    # -- Data ------------------------------------------------------------------------------
    Lever(
        "data.source", "Source", "source", "Data",
        "What to learn. digits is small enough to overfit in seconds; the 2-D toy sets show "
        "the gap with a noise level you choose; MNIST, Fashion-MNIST and CIFAR-10 are read "
        "from Keras's download cache (FitGap never downloads); your own data is an NPZ, "
        "a CSV or a folder of images. Your own data starts with no handicaps.",
        choices=names(), wording=str,
    ),
    Lever(
        "data.path", "File", "path", "Data",
        "The data file or folder: an NPZ with keys x, y, or x_train, y_train with x_test, "
        "y_test (the test part) and/or x_val, y_val (integer labels), a CSV with a label "
        "column, or a folder with one sub-folder per class (or train/, and val/ or test/, "
        "each with one sub-folder per class).",
        sources=_FILES, wording=_basename,
    ),
    Lever(
        "data.label_column", "Label column", "text", "Data",
        "CSV only: the column that holds the class, by name or 0-based number "
        "(empty: a column called label, target, class or y).",
        sources=("csv",), short="label column",
    ),
    Lever(
        "data.sheet", "Excel sheet", "text", "Data",
        "Excel workbooks only: the sheet to read (empty: the first).",
        sources=("csv",), short="sheet",
    ),
    Lever(
        "data.missing", "Missing cells", "choice", "Data",
        "Table files only: what an empty or NA cell of a feature column gets. impute: "
        "the training rows' median (numbers) or most frequent value; drop_rows: rows "
        "with one are left out; refuse: the file is refused, naming the cell.",
        choices=MISSING_CHOICES, sources=("csv",), short="missing",
    ),
    Lever(
        "data.max_categories", "Max categories", "int", "Data",
        "Table files only: a text column with at most this many distinct values is "
        "one-hot encoded; one with more is dropped (the data's notices say so). "
        "Typical 10-100.",
        lo=1, hi=10_000, step=5, sources=("csv",), short="max categories",
    ),
    Lever(
        "data.image_size", "Image size", "size", "Data",
        "Image folders only: every image is resized to height × width (pixels). Smaller "
        "images train faster and give the network less to memorize. Typical 16-64.",
        lo=4, hi=1024, step=4, sources=("images",),
        wording=lambda v: f"images {v[0]}x{v[1]}",
    ),
    Lever(
        "data.grayscale", "Grayscale", "bool", "Data",
        "Image folders only: read images as one grey channel (a third of the inputs).",
        sources=("images",), wording=lambda v: "grayscale" if v else "colour",
    ),
    Lever(
        "data.noise", "Toy-set noise", "float", "Data",
        "Noise of the 2-D toy set. More noise makes the classes overlap, so a big "
        "network memorizes noise and overfits. Typical 0.1-0.5.",
        lo=0.0, hi=5.0, step=0.05, decimals=2, sources=_TOY, short="noise",
    ),
    Lever(
        "data.n_samples", "Toy-set samples", "int", "Data",
        "How many points the 2-D toy set draws (before the split). Fewer points "
        "overfit sooner. Typical 200-2000.",
        lo=20, hi=1_000_000, step=100, sources=_TOY, wording=lambda v: f"n={v}",
    ),
    Lever(
        "data.train_fraction", "Training fraction", "float", "Data",
        "Share of the training rows the model may learn from. Less data is the quickest "
        "way to overfit; more data is the surest cure. The demo uses a quarter of digits; "
        "opening your own data resets it to 1.0 (all rows). Typical 0.1-1.0.",
        lo=0.01, hi=1.0, step=0.05, decimals=2, handicap=True,
        wording=lambda v: f"train {format_percent(v)}",
    ),
    Lever(
        "data.test_split", "Test split", "float", "Data",
        "Share of all rows held out first as the test part: validation chooses, test "
        "judges. Validation picks the best epoch, stops early and compares settings, so "
        "its numbers are optimistic; the test rows are touched by no decision and are "
        "read once, by the model a run delivers. Drawn from its own seeded stream, "
        "stratified, before the validation split, the training fraction and label noise "
        "(test labels are never flipped). 0: no test part. Data that brings its own test "
        "rows (MNIST, Fashion-MNIST and CIFAR-10's official test sets, an NPZ's x_test, an "
        "image folder's test/) uses them instead. Typical 0.1-0.3.",
        lo=0.0, hi=0.5, step=0.05, decimals=2,
        sources=tuple(n for n in names() if n not in names("keras_cache")),
        wording=lambda v: f"test {format_percent(v)}" if v else "no test part",
    ),
    Lever(
        "data.validation_split", "Validation split", "float", "Data",
        "Share of the rows left after the test part held out to measure the gap, pick "
        "the best epoch and stop early (not for data with its own validation rows: an "
        "NPZ file's x_val, an image folder's val/). MNIST, Fashion-MNIST and CIFAR-10 "
        "validate on this share of their training images. Typical 0.1-0.3.",
        lo=0.05, hi=0.95, step=0.05, decimals=2,
        wording=lambda v: f"val {format_percent(v)}",
    ),
    Lever(
        "data.validation_fraction", "Validation fraction", "float", "Data",
        "MNIST, Fashion-MNIST, CIFAR-10 and an NPZ with x_val only: the share of the "
        "validation rows measured every epoch, a fixed part of each class drawn from the "
        "seed, for speed. A smaller set makes each epoch cheaper (CIFAR-10's 10,000 "
        "validation images cost about as much per epoch as fitting 2,500 training images) "
        "but the validation curve noisier: an accuracy p measured on n images is off by "
        "about √(p(1−p)/n), at 50 % ±0.5 points on 10,000 images, ±1.1 on 2,000, ±2.2 "
        "on 500, so a gap smaller than that is noise. The test part is always measured "
        "whole. Typical 0.2-1.0.",
        lo=0.01, hi=1.0, step=0.05, decimals=2, sources=own_validation_sources(),
        wording=lambda v: f"val kept {format_percent(v)}",
    ),
    Lever(
        "data.label_noise", "Label noise", "float", "Data",
        "Share of training labels flipped to a wrong class. A network that fits them has "
        "memorized noise: validation loss rises. The demo flips some; opening your own "
        "data resets it to 0. Typical 0-0.3.",
        lo=0.0, hi=0.95, step=0.05, decimals=2, handicap=True,
        wording=lambda v: f"label noise {format_percent(v)}",
    ),
    Lever(
        "data.scale", "Scale inputs", "choice", "Data",
        "Input scaling, fitted on the training rows only. Scaled inputs train more "
        "smoothly; it does not by itself prevent overfitting. auto: standard for table "
        "files, none for other data.",
        choices=SCALES, short="scale",
    ),
    # -- Capacity ----------------------------------------------------------------------------
    Lever(
        "model.hidden_units", "Hidden units", "units", "Capacity",
        "Width of each hidden layer, comma-separated, e.g. 512, 512 (empty: no hidden "
        "layer). More units and layers mean more capacity to memorize; shrink them to "
        "fight overfitting. Typical 16-512 per layer, 1-3 layers.",
        wording=lambda v: f"layers {format_units(v)}" if v else format_units(v),
    ),
    Lever(
        "model.activation", "Activation", "choice", "Capacity",
        "The hidden layers' activation. relu is the usual choice; it changes how fast "
        "training goes more than how much it overfits.",
        choices=ACTIVATIONS, wording=str,
    ),
    Lever(
        "model.kind", "Network", "choice", "Capacity",
        "Image data only: mlp is a stack of Dense layers that sees pixels as a flat list; "
        "cnn puts Conv2D + MaxPooling2D blocks (model.conv_filters) first, which share "
        "their weights across the image, so it needs far fewer parameters for the same "
        "fit and memorizes less per parameter.",
        choices=MODEL_KINDS, sources=_IMAGES, wording=lambda v: v.upper(),
    ),
    Lever(
        "model.conv_filters", "Conv filters", "filters", "Capacity",
        "CNN only: the filters of each Conv2D(3x3) block, comma-separated (e.g. 16, 32); "
        "each block is followed by MaxPooling2D(2), which halves the image. More filters "
        "or blocks, more capacity to memorize. Typical 8-64 per block, 1-3 blocks.",
        sources=_IMAGES, wording=lambda v: f"conv {format_units(v)}",
    ),
    # -- Regularization ------------------------------------------------------------------------
    Lever(
        "model.dropout", "Dropout rate", "float", "Regularization",
        "Keras Dropout after each hidden layer: drops this share of units at random while "
        "training, so the network cannot rely on any one of them. Typical 0.2-0.5.",
        lo=0.0, hi=0.95, step=0.05, decimals=2,
    ),
    Lever(
        "model.l2", "L2", "float", "Regularization",
        "L2 weight penalty on the hidden layers' kernels (keras.regularizers.l2): keeps "
        "weights small and the fit smooth. Typical 1e-5 to 1e-2.",
        lo=0.0, hi=10.0, step=1e-4, decimals=6, adaptive=True, short="L2",
    ),
    Lever(
        "training.weight_decay", "Weight decay", "optional_float", "Regularization",
        "The optimizer's own weight_decay (decoupled, as AdamW does): every step shrinks "
        "each weight directly by learning rate × decay, outside the loss and its "
        "gradient. L2 instead adds a penalty to the loss, whose gradient adam then "
        "divides by its running scale per weight, so heavily-updated weights are barely "
        "held back: with adam the two are not the same lever (with plain sgd they "
        "nearly are). Empty: the optimizer's default (adamw 0.004, the others none). "
        "Typical 1e-4 to 1e-2.",
        lo=0.0, hi=10.0, step=1e-3, decimals=6, adaptive=True,
        wording=lambda v: f"wd {format_number(v)}" if v is not None else "default wd",
    ),
    Lever(
        "model.l1", "L1", "float", "Regularization",
        "L1 weight penalty on the hidden layers' kernels (keras.regularizers.l1): drives "
        "many weights to exactly zero. Typical 1e-6 to 1e-3.",
        lo=0.0, hi=10.0, step=1e-5, decimals=6, adaptive=True, short="L1",
    ),
    Lever(
        "model.batch_norm", "Batch normalization", "bool", "Regularization",
        "Keras BatchNormalization between each hidden (and conv) layer and its "
        "activation. It mostly makes training faster and steadier; because each batch "
        "is normalized with its own mean and variance, every sample gets a little noise "
        "from its batch-mates, which regularizes a little (it is no substitute for "
        "dropout or more data). In training it uses the batch's statistics, in "
        "inference the moving averages of them, so Keras's running training loss and "
        "the inference-mode curves (validation, the training set measured the same way) differ "
        "most in the first epochs, while those averages catch up.",
        wording=lambda v: "batch norm" if v else "no batch norm",
    ),
    Lever(
        "model.augment_flip", "Augment", "bool", "Regularization",
        "Image data only: Keras RandomFlip (horizontal) while training. Every epoch sees "
        "slightly different images, so memorizing them is harder.",
        sources=_IMAGES, wording=lambda v: "flips" if v else "no flips",
    ),
    Lever(
        "model.augment_rotation", "Rotation", "float", "Regularization",
        "Image data only: Keras RandomRotation factor (a fraction of a full turn) while "
        "training. Typical 0.02-0.1.",
        lo=0.0, hi=0.5, step=0.01, decimals=3, sources=_IMAGES, short="rotation",
    ),
    Lever(
        "model.augment_translation", "Translation", "float", "Regularization",
        "Image data only: Keras RandomTranslation factor (a fraction of the image size) "
        "while training. Typical 0.05-0.15.",
        lo=0.0, hi=0.5, step=0.01, decimals=3, sources=_IMAGES, short="translation",
    ),
    # -- Early stopping ------------------------------------------------------------------------
    Lever(
        "early_stopping.enabled", "Early stopping", "bool", "Early stopping",
        "Keras EarlyStopping: stop when the monitored metric has not improved for "
        "'patience' epochs, before the network memorizes the training set.",
        wording=lambda v: "early stopping" if v else "no early stopping",
    ),
    Lever(
        "early_stopping.monitor", "Monitor", "choice", "Early stopping",
        "The metric Keras's EarlyStopping watches. val_loss includes any L1/L2 weight "
        "penalty; val_cross_entropy is the validation loss without it (what FitGap "
        "compares runs by); val_accuracy stops on accuracy.",
        choices=MONITORS, wording=lambda v: f"on {v}",
    ),
    Lever(
        "early_stopping.patience", "Patience (epochs)", "int", "Early stopping",
        "Epochs without improvement before stopping. Short patience stops near the gap's "
        "onset; long patience tolerates noisy curves. Typical 3-20.",
        lo=0, hi=100_000, wording=lambda v: f"p={v}",
    ),
    Lever(
        "early_stopping.min_delta", "Min delta", "float", "Early stopping",
        "The smallest change that counts as an improvement. Typical 0-0.001.",
        lo=0.0, hi=1e6, step=1e-4, decimals=5, wording=lambda v: f"Δ{format_number(v)}",
    ),
    Lever(
        "early_stopping.restore_best_weights", "Restore best weights", "bool",
        "Early stopping",
        "At the end, put back the weights of the best epoch instead of keeping the last "
        "epoch's (overfitted) ones.",
        wording=lambda v: "restore best" if v else "no restore",
    ),
    # -- Training -------------------------------------------------------------------------------
    Lever(
        "training.optimizer", "Optimizer", "choice", "Training",
        "The optimizer. adam is a robust default; plain sgd overfits more slowly.",
        choices=OPTIMIZERS, wording=str,
    ),
    Lever(
        "training.learning_rate", "Learning rate", "float", "Training",
        "Step size. Too high diverges; lower rates overfit more slowly but do not stop it. "
        "Typical 1e-4 to 1e-2 for adam.",
        lo=1e-6, hi=10.0, step=1e-4, decimals=6, adaptive=True, short="lr",
    ),
    Lever(
        "training.lr_schedule", "LR schedule", "schedule", "Training",
        "How the learning rate changes during the run (drawn per epoch beside the "
        "loss). Constant: as set. Reduce on plateau (Keras ReduceLROnPlateau): when "
        "the early-stopping metric stalls, the rate is multiplied by factor. Cosine: "
        "decays smoothly to 0 by the last epoch, after an optional warm-up. Step: "
        "multiplied by factor every few epochs. A smaller step settles into the valley "
        "a large one kept jumping across, so validation loss can fall again after a "
        "drop; it does not stop memorizing by itself.",
        wording=_schedule_words,
    ),
    Lever(
        "training.batch_size", "Batch size", "int", "Training",
        "Samples per gradient step. Small batches add noise that regularizes a little. "
        "Typical 16-256.",
        lo=1, hi=65536, step=16, short="batch",
    ),
    Lever(
        "training.epochs", "Epochs", "int", "Training",
        "The most epochs to train. The gap usually opens after some epochs; training "
        "longer shows it, early stopping cuts it. Typical 20-200.",
        lo=1, hi=100_000, step=10, wording=lambda v: f"{v} epochs",
    ),
    Lever(
        "training.seed", "Seed", "int", "Training",
        "Random seed: the same seed and settings give the same run, so a lever's effect "
        "is not confused with chance.",
        lo=0, hi=2**31 - 1,
    ),
)  # fmt: skip


#: The learning-rate schedules as the controls offer them: kind, label, tooltip.
SCHEDULE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("constant", "Constant", "The learning rate stays as set for the whole run."),
    ("plateau", "Reduce on plateau",
     "Keras ReduceLROnPlateau on the early-stopping metric (val_loss by default): when "
     "it has not improved for 'patience' epochs, the rate is multiplied by factor. The "
     "smaller steps settle lower in the valley, so validation loss often falls again "
     "right after a drop; if the gap is already open it keeps widening."),
    ("cosine", "Cosine with warm-up",
     "Keras CosineDecay: the rate rises linearly from 0 over the warm-up epochs, then "
     "falls along a half cosine to 0 at the last epoch. The late small steps polish the "
     "fit of the training set, which can widen the gap if nothing else regularizes."),
    ("step", "Step",
     "Keras ExponentialDecay with staircase: the rate is multiplied by factor every K "
     "epochs."),
)  # fmt: skip

#: Each schedule's own settings, as controls (keys ``training.lr_schedule.<name>``).
SCHEDULE_PARAMS: dict[str, tuple[Lever, ...]] = {
    "constant": (),
    "plateau": (
        Lever(
            "training.lr_schedule.factor",
            "Factor",
            "float",
            "Training",
            "Each reduction multiplies the rate by this (0 < factor < 1). Typical 0.1-0.5.",
            lo=0.001,
            hi=0.999,
            step=0.05,
            decimals=3,
        ),
        Lever(
            "training.lr_schedule.patience",
            "Patience (epochs)",
            "int",
            "Training",
            "Epochs without improvement before the rate is reduced. Keep it below early "
            "stopping's patience, or training stops before the rate ever drops. "
            "Typical 2-5.",
            lo=0,
            hi=100_000,
        ),
        Lever(
            "training.lr_schedule.min_delta",
            "Min delta",
            "float",
            "Training",
            "The smallest change of the metric that counts as an improvement.",
            lo=0.0,
            hi=1e6,
            step=1e-4,
            decimals=5,
        ),
        Lever(
            "training.lr_schedule.min_lr",
            "Min learning rate",
            "float",
            "Training",
            "The rate is never reduced below this.",
            lo=0.0,
            hi=10.0,
            step=1e-6,
            decimals=8,
            adaptive=True,
        ),
    ),
    "cosine": (
        Lever(
            "training.lr_schedule.warmup_epochs",
            "Warm-up epochs",
            "int",
            "Training",
            "Epochs over which the rate rises linearly from 0 to the learning rate "
            "(0: no warm-up). Must be fewer than the epochs.",
            lo=0,
            hi=100_000,
        ),
    ),
    "step": (
        Lever(
            "training.lr_schedule.every",
            "Every (epochs)",
            "int",
            "Training",
            "The rate drops every this many epochs.",
            lo=1,
            hi=100_000,
            step=1,
        ),
        Lever(
            "training.lr_schedule.factor",
            "Factor",
            "float",
            "Training",
            "Each drop multiplies the rate by this (1: no drop). Typical 0.1-0.5.",
            lo=0.001,
            hi=1.0,
            step=0.05,
            decimals=3,
        ),
    ),
}

#: Levers the controls have no widget for (their values travel through unchanged).
MORE_LEVERS: tuple[Lever, ...] = ()

#: Every lever, with a control or not, in table order.
ALL_LEVERS: tuple[Lever, ...] = (*LEVERS, *MORE_LEVERS)
LEVERS_BY_KEY: dict[str, Lever] = {lv.key: lv for lv in ALL_LEVERS}


def lever(key: str) -> Lever:
    """The lever of a dotted config key (KeyError for an unknown key)."""
    return LEVERS_BY_KEY[key]


def levers_in(group: str) -> tuple[Lever, ...]:
    return tuple(lv for lv in LEVERS if lv.group == group)


def handicap_levers() -> tuple[Lever, ...]:
    return tuple(lv for lv in LEVERS if lv.handicap)


def handicap_reset(old_source: str, new_source: str) -> dict[str, Any]:
    """The changes that drop the demo's handicaps when the user turns to their own data.

    From a built-in set to a file, a folder or a Keras dataset: training fraction 1.0
    and label noise 0 (as ``RunConfig.replace`` keys).  Otherwise nothing changes, so a
    handicap the user set on their own data stays.
    """
    if source(old_source).demo_handicaps and source(new_source).own_data:
        plain = RunConfig()
        return {lv.key: plain.get(lv.key) for lv in handicap_levers()}
    return {}


def network_for(new_source: str, kind: str) -> tuple[str, str]:
    """The network the window shows once the user picks ``new_source``, and a note.

    MNIST, Fashion-MNIST and CIFAR-10 get the CNN; a CNN left on a source that is not
    image data goes back to the MLP (it would be refused when the data loads).
    Otherwise the kind stays and the note is empty.  Only the window does this: a
    config file without ``model.kind`` still means the MLP.
    """
    new = source(new_source)
    if new.picks_cnn and kind != "cnn":
        return "cnn", (
            f"CNN chosen for {new.label}: its convolutions share weights across the "
            "image, so it fits images with far fewer weights (Network: mlp to compare)."
        )
    if kind == "cnn" and not new.images:
        return "mlp", (
            f"Network reset to mlp: {new.label} is not image data, and a CNN needs images."
        )
    return kind, ""


def subset_for(old_source: str, new_source: str, fraction: float) -> float | None:
    """The training fraction the window picks with ``new_source``; None leaves it.

    CIFAR-10 comes with a subset small enough for compare remedies to finish in
    minutes on two cores; leaving it for other data of one's own drops that subset
    unless the user changed it.
    """
    new, old = source(new_source), source(old_source)
    if new.window_fraction is not None:
        return new.window_fraction
    if old.window_fraction == fraction and new.own_data:
        return 1.0
    return None


def validation_subset_for(old_source: str, new_source: str, fraction: float) -> float | None:
    """The validation fraction the window picks with ``new_source``; None leaves it.

    CIFAR-10 comes with its own (``window_val_fraction``); data that cannot have its
    own validation set goes back to 1.0 (a smaller value would be refused); leaving
    CIFAR-10 for other data of one's own drops its value unless the user changed it.
    """
    new, old = source(new_source), source(old_source)
    if new.window_val_fraction is not None:
        return new.window_val_fraction
    if not new.own_validation or (old.window_val_fraction == fraction and new.own_data):
        return 1.0
    return None


def source_switch(
    old: str, new: str, kind: str, fraction: float, val_fraction: float = 1.0
) -> tuple[dict[str, Any], str]:
    """What the window changes beside the handicaps when the user picks another source.

    The network (``network_for``), CIFAR-10's subset (``subset_for``) and its
    validation subset (``validation_subset_for``), as ``RunConfig.replace`` keys, and
    a note saying why (or "").
    """
    new_kind, note = network_for(new, kind)
    changes: dict[str, Any] = {"model.kind": new_kind}
    subset = subset_for(old, new, fraction)
    if subset is not None:
        changes["data.train_fraction"] = subset
    val_subset = validation_subset_for(old, new, val_fraction)
    if val_subset is not None:
        changes["data.validation_fraction"] = val_subset
    return changes, note


def subset_words(
    source_name: str, fraction: float, val_fraction: float = 1.0, validation_split: float = 0.2
) -> str:
    """ "≈2,500 of 40,000 training images · validation: ≈2,000 of 10,000 · test: the
    10,000 official test images" ("" if the sizes are unknown).  The validation images
    are ``validation_split`` of the training images; all of them: "validation: 10,000"."""
    s = source(source_name)
    if s.n_train is None or s.n_test is None:
        return ""
    n_val = math.ceil(s.n_train * validation_split)
    n_train = s.n_train - n_val
    kept = f"{n_val:,}" if val_fraction >= 1.0 else f"≈{round(n_val * val_fraction):,} of {n_val:,}"
    return (
        f"≈{round(n_train * fraction):,} of {n_train:,} training images · "
        f"validation: {kept} · test: the {s.n_test:,} official test images"
    )


def flatten(raw: dict[str, Any]) -> dict[str, Any]:
    """``{"model": {"dropout": 0.5}}`` -> ``{"model.dropout": 0.5}`` (a config's JSON)."""
    flat: dict[str, Any] = {}
    for section, values in raw.items():
        if isinstance(values, dict):
            for key, value in values.items():
                flat[f"{section}.{key}"] = value
        else:
            flat[section] = values
    return flat
