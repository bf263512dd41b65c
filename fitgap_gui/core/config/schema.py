"""RunConfig: every lever of a run, validated, with a JSON round trip (a contract).

The JSON keys mirror Keras argument names and every key is optional; the defaults
are in docs/ARCHITECTURE.md. Unknown keys and out-of-range values raise ConfigError with
a message that names the key, so a typo in a hand-written config is caught before
TensorFlow is even imported.
"""

from __future__ import annotations

import codecs
import copy
import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitgap_gui.core.config.monitor import (  # val_cross_entropy: val_loss without the penalty
    MONITORS,
    Monitor,
)
from fitgap_gui.core.config.sources import names as source_names
from fitgap_gui.core.config.sources import own_validation_sources
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.userfiles import open_regular, os_error_text, shown

# The data sources are defined once, in sources.py.
BUILTIN_SOURCES = source_names("builtin")
FILE_SOURCES = source_names("file")
#: Keras's own datasets, read from its download cache (~/.keras/datasets); never downloaded.
KERAS_CACHE_SOURCES = source_names("keras_cache")
#: Sources that may come with their own validation set (an NPZ only with x_val/y_val).
OWN_VALIDATION_SOURCES = own_validation_sources()
#: "auto": the source's default, "standard" for table files (TABLE_SOURCES), else "none".
SCALES = ("auto", "none", "standard", "minmax")
#: ``data.missing``: what a table file's missing cells get (docs/ARCHITECTURE.md, "Tables").
MISSING_CHOICES = ("impute", "drop_rows", "refuse")
#: Sources whose ``data.scale`` default (null) means "standard": table files.
TABLE_SOURCES = ("csv",)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam")
MODEL_KINDS = ("mlp", "cnn")
LR_SCHEDULES = ("constant", "plateau", "cosine", "step")

Check = Callable[[str, Any], Any]


def _number(
    lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False, integer: bool = False
) -> Check:
    """A check for a number in [lo, hi] (or an open end), optionally an integer."""

    def check(key: str, value: Any) -> Any:
        kind = "a whole number" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be {kind}, not {value!r}")
        if integer and isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{key} must be {kind}, not {value!r}")
            value = int(value)
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ConfigError(f"{key} must be a finite number, not {value!r}")
        below = value <= lo if lo_open else value < lo
        above = value >= hi if hi_open else value > hi
        if below or above:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            raise ConfigError(f"{key} must be in {left}{lo:g}, {hi:g}{right}, not {value!r}")
        return int(value) if integer else float(value)

    return check


def _choice(options: tuple[str, ...]) -> Check:
    def check(key: str, value: Any) -> Any:
        if value not in options:
            raise ConfigError(f"{key} must be one of {', '.join(options)}; not {value!r}")
        return value

    return check


def _scale(key: str, value: Any) -> str:
    """One of SCALES; null means "auto" (the source's default)."""
    return "auto" if value is None else _choice(SCALES)(key, value)


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, not {value!r}")
    return value


def _optional_text(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty string or null, not {value!r}")
    return value


def _label_column(key: str, value: Any) -> str | int | None:
    """A column name, or a 0-based column number (negative counts from the end)."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 100_000:
        return value
    raise ConfigError(f"{key} must be a column name, a column number or null, not {value!r}")


def _image_size(key: str, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{key} must be [height, width], such as [32, 32], not {value!r}")
    side = _number(4, 1024, integer=True)
    return [side(f"{key}[0]", value[0]), side(f"{key}[1]", value[1])]


def _hidden_units(key: str, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{key} must be a list of layer widths such as [128, 64], not {value!r}")
    if len(value) > 16:
        raise ConfigError(f"{key} may have at most 16 hidden layers, not {len(value)}")
    width = _number(1, 8192, integer=True)
    return [width(f"{key}[{i}]", units) for i, units in enumerate(value)]


def _optional_number(lo: float, hi: float) -> Check:
    number = _number(lo, hi)

    def check(key: str, value: Any) -> Any:
        return None if value is None else number(key, value)

    return check


def _conv_filters(key: str, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{key} must be a non-empty list of filter counts such as [16, 32]")
    if len(value) > 8:
        raise ConfigError(f"{key} may have at most 8 convolution layers, not {len(value)}")
    count = _number(1, 1024, integer=True)
    return [count(f"{key}[{i}]", f) for i, f in enumerate(value)]


#: Each schedule's own keys, their defaults and checks (Keras's argument meanings:
#: ReduceLROnPlateau, CosineDecay with warm-up, ExponentialDecay with staircase).
LR_SCHEDULE_KEYS: dict[str, dict[str, tuple[Any, Check]]] = {
    "constant": {},
    "plateau": {
        "factor": (0.5, _number(0.0, 1.0, lo_open=True, hi_open=True)),
        "patience": (3, _number(0, 100_000, integer=True)),
        "min_delta": (0.0, _number(0.0, 1e6)),
        "min_lr": (1e-5, _number(0.0, 10.0)),
    },
    "cosine": {"warmup_epochs": (0, _number(0, 100_000, integer=True))},
    "step": {
        "every": (10, _number(1, 100_000, integer=True)),
        "factor": (0.5, _number(0.0, 1.0, lo_open=True)),
    },
}


def _lr_schedule(key: str, value: Any) -> dict[str, Any]:
    """``{"kind": ...}`` plus that kind's keys, every missing one at its default."""
    if isinstance(value, str):  # "cosine" is short for {"kind": "cosine"}
        value = {"kind": value}
    if not isinstance(value, dict) or "kind" not in value:
        raise ConfigError(f'{key} must be an object such as {{"kind": "plateau"}}, not {value!r}')
    kind = _choice(LR_SCHEDULES)(f"{key}.kind", value["kind"])
    known = LR_SCHEDULE_KEYS[kind]
    out: dict[str, Any] = {"kind": kind}
    for name in value:
        if name != "kind" and name not in known:
            allowed = ", ".join(["kind", *known])
            raise ConfigError(f"unknown key {key}.{name} for kind {kind!r} (known: {allowed})")
    for name, (default, check) in known.items():
        out[name] = check(f"{key}.{name}", value[name]) if name in value else default
    return out


@dataclass
class DataConfig:
    """Where the data comes from and how much of it the model may learn from."""

    source: str = "digits"
    path: str | None = None
    train_fraction: float = 1.0
    #: The test part: drawn first, from all rows, before anything else (0: none).  Sources
    #: that bring their own test rows use them instead (docs/ARCHITECTURE.md).
    test_split: float = 0.2
    validation_split: float = 0.2
    #: Sources with their own validation set (Keras's cached sets, an NPZ with
    #: x_val/y_val): keep this share of it, per class, drawn from the seed.
    validation_fraction: float = 1.0
    label_noise: float = 0.0
    #: "auto" (or null): the source's default, "standard" for table files (TABLE_SOURCES),
    #: "none" for every other source; an explicit value is kept (``resolved_scale``).
    scale: str = "auto"
    noise: float = 0.2
    n_samples: int = 400
    #: CSV: the label column's name or 0-based number; null looks for label/target/class/y.
    label_column: str | int | None = None
    #: Table files: the Excel sheet (null: the first), what missing cells get
    #: (impute, drop_rows, refuse) and the most distinct texts one-hot encoded.
    sheet: str | None = None
    missing: str = "impute"
    max_categories: int = 50
    #: Image folders: every image is resized to [height, width], optionally grayscale.
    image_size: list[int] = field(default_factory=lambda: [32, 32])
    grayscale: bool = False

    _checks = {
        "source": _choice(BUILTIN_SOURCES + FILE_SOURCES + KERAS_CACHE_SOURCES),
        "path": _optional_text,
        "train_fraction": _number(0.0, 1.0, lo_open=True),
        "test_split": _number(0.0, 0.5),
        "validation_split": _number(0.0, 1.0, lo_open=True, hi_open=True),
        "validation_fraction": _number(0.0, 1.0, lo_open=True),
        "label_noise": _number(0.0, 1.0, hi_open=True),
        "scale": _scale,
        "noise": _number(0.0, 5.0),
        "n_samples": _number(20, 1_000_000, integer=True),
        "label_column": _label_column,
        "sheet": _optional_text,
        "missing": _choice(MISSING_CHOICES),
        "max_categories": _number(1, 10_000, integer=True),
        "image_size": _image_size,
        "grayscale": _boolean,
    }

    @property
    def resolved_scale(self) -> str:
        """``scale``, or the source's default where it is "auto" (standard for tables)."""
        if self.scale != "auto":
            return self.scale
        return "standard" if self.source in TABLE_SOURCES else "none"

    def _cross_check(self) -> None:
        if self.source in FILE_SOURCES and not self.path:
            raise ConfigError(f"data.path is required when data.source is {self.source!r}")
        if self.validation_fraction < 1.0 and self.source not in OWN_VALIDATION_SOURCES:
            raise ConfigError(
                f"data.validation_fraction applies only to data with its own validation set "
                f"(MNIST, Fashion-MNIST, CIFAR-10, an NPZ with x_val/y_val); {self.source!r} "
                "is split by data.validation_split, so set that instead"
            )


@dataclass
class ModelConfig:
    """The network's capacity and its regularization."""

    hidden_units: list[int] = field(default_factory=lambda: [128])
    activation: str = "relu"
    dropout: float = 0.0
    l2: float = 0.0
    l1: float = 0.0
    #: Image augmentation (Keras preprocessing layers, active in training only):
    #: rotation and translation are Keras's ``factor`` (fractions of a turn / of the size).
    augment_flip: bool = False
    augment_rotation: float = 0.0
    augment_translation: float = 0.0
    #: Dense -> BatchNormalization -> Activation (-> Dropout) in each hidden block.
    batch_norm: bool = False
    #: "mlp": Dense blocks only; "cnn" (image data): Conv2D -> MaxPooling2D per entry of
    #: ``conv_filters``, then Flatten and the Dense blocks.
    kind: str = "mlp"
    conv_filters: list[int] = field(default_factory=lambda: [16, 32])

    _checks = {
        "hidden_units": _hidden_units,
        "activation": _choice(ACTIVATIONS),
        "dropout": _number(0.0, 1.0, hi_open=True),
        "l2": _number(0.0, 10.0),
        "l1": _number(0.0, 10.0),
        "augment_flip": _boolean,
        "augment_rotation": _number(0.0, 0.5),
        "augment_translation": _number(0.0, 0.5),
        "batch_norm": _boolean,
        "kind": _choice(MODEL_KINDS),
        "conv_filters": _conv_filters,
    }

    def _cross_check(self) -> None:
        pass


@dataclass
class TrainingConfig:
    """The optimizer and the length of training."""

    optimizer: str = "adam"
    learning_rate: float = 0.001
    batch_size: int = 32
    epochs: int = 20
    seed: int = 0
    #: {"kind": "constant"} (the default), "plateau", "cosine" or "step"; see LR_SCHEDULE_KEYS.
    lr_schedule: dict[str, Any] = field(default_factory=lambda: {"kind": "constant"})
    #: The optimizer's own (decoupled) weight_decay; None keeps the optimizer's default.
    weight_decay: float | None = None

    _checks = {
        "optimizer": _choice(OPTIMIZERS),
        "learning_rate": _number(0.0, 10.0, lo_open=True),
        "batch_size": _number(1, 65536, integer=True),
        "epochs": _number(1, 100_000, integer=True),
        "seed": _number(0, 2**31 - 1, integer=True),
        "lr_schedule": _lr_schedule,
        "weight_decay": _optional_number(0.0, 10.0),
    }

    def _cross_check(self) -> None:
        schedule = self.lr_schedule
        if schedule["kind"] == "cosine" and schedule["warmup_epochs"] >= self.epochs:
            raise ConfigError(
                f"training.lr_schedule.warmup_epochs ({schedule['warmup_epochs']}) must be "
                f"less than training.epochs ({self.epochs}): the cosine decay needs epochs left"
            )


@dataclass
class EarlyStoppingConfig:
    """Keras's EarlyStopping callback, with its own argument names."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    patience: int = 3
    min_delta: float = 0.0
    restore_best_weights: bool = True

    _checks = {
        "enabled": _boolean,
        "monitor": _choice(MONITORS),
        "patience": _number(0, 100_000, integer=True),
        "min_delta": _number(0.0, 1e6),
        "restore_best_weights": _boolean,
    }

    def _cross_check(self) -> None:
        pass


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "early_stopping": EarlyStoppingConfig,
}


def _section_from_dict(name: str, cls: Any, raw: Any) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{name} must be an object with keys, not {raw!r}")
    known = [f.name for f in dataclasses.fields(cls)]
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown key {name}.{key} (known: {', '.join(known)})")
    values = {}
    for key, value in raw.items():
        values[key] = cls._checks[key](f"{name}.{key}", value)
    section = cls(**values)
    section._cross_check()
    return section


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a key given twice is refused (json would keep the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(f"the key {key!r} appears twice in one object; keep one")
        out[key] = value
    return out


_UTF16_32_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def _decode_utf8(path: Path, data: bytes) -> str:
    """UTF-8 text, a UTF-8 BOM dropped; UTF-16/32 or other bytes say it must be UTF-8."""
    for bom, name in _UTF16_32_BOMS.items():  # UTF-32 first: its LE BOM starts like UTF-16's
        if data.startswith(bom):
            raise ConfigError(
                f"{shown(path)} is not a UTF-8 text file (it is {name}); save it as UTF-8"
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown(path)} is not a UTF-8 text file (byte {exc.start} is not UTF-8); "
            "save it as UTF-8"
        ) from None


@dataclass
class RunConfig:
    """Every setting of one run; ``RunConfig()`` is the default (docs/ARCHITECTURE.md)."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Any) -> RunConfig:
        """Validate a JSON-like dict; missing keys take their defaults."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a config must be a JSON object, not {type(raw).__name__}")
        for key in raw:
            if key not in SECTIONS:
                raise ConfigError(f"unknown key {key!r} (known: {', '.join(SECTIONS)})")
        parts = {name: _section_from_dict(name, sc, raw.get(name)) for name, sc in SECTIONS.items()}
        return cls(**parts)

    @classmethod
    def from_json(cls, text: str, *, source: str = "config") -> RunConfig:
        try:
            raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except ConfigError as exc:  # a duplicate key (ConfigError is a ValueError too)
            raise ConfigError(f"{source}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
            raise ConfigError(f"{source} is not usable JSON ({type(exc).__name__})") from None
        try:
            return cls.from_dict(raw)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_stored_json(cls, text: str) -> RunConfig:
        """A config as the store keeps it.  Runs stored before ``data.test_split``
        existed had no test part, so a stored config without the key means 0."""
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            return cls.from_json(text, source="stored config")  # its one-line ConfigError
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
            raw["data"].setdefault("test_split", 0.0)
        return cls.from_dict(raw)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        """Read a UTF-8 (BOM allowed) JSON config; every failure is one ConfigError line."""
        path = Path(path)
        # stat before open and a non-blocking open: a FIFO or device is refused, never read
        handle, _ = open_regular(path, ConfigError, "a config file", "no such config file")
        try:
            with handle:
                data = handle.read()
        except OSError as exc:
            raise ConfigError(os_error_text(path, exc)) from None
        return cls.from_json(_decode_utf8(path, data), source=shown(path))

    # -- output ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    # -- changes ----------------------------------------------------------------------
    def replace(self, changes: dict[str, Any]) -> RunConfig:
        """A validated copy with dotted keys changed: ``{"model.dropout": 0.5}``."""
        raw = copy.deepcopy(self.to_dict())
        for dotted, value in changes.items():
            section, _, key = dotted.partition(".")
            if section not in SECTIONS or not key:
                raise ConfigError(
                    f"unknown setting {dotted!r}; use section.key, e.g. model.dropout"
                )
            raw[section][key] = value
        return RunConfig.from_dict(raw)

    def get(self, dotted: str) -> Any:
        section, _, key = dotted.partition(".")
        try:
            return getattr(getattr(self, section), key)
        except AttributeError:
            raise ConfigError(f"unknown setting {dotted!r}") from None
