"""The plan of a run: its network and training as plain data, built by the engine's code.

``layer_plan`` and ``training_plan`` (``core.model.build``) are what the engine builds
from and what the exported script prints; here they are checked as data, and the model
built from a plan against the stack written out in plain Keras, layer by layer, weights
included (the faithfulness contract of docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import ast
import dataclasses

import numpy as np
import pytest

from fitgap_gui.core.config.schema import (
    EarlyStoppingConfig,
    ModelConfig,
    RunConfig,
    TrainingConfig,
)
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.export.script_text import literal
from fitgap_gui.core.model import layers, optimizer
from fitgap_gui.core.model.build import PLAN_KEYS, layer_plan, training_plan


def test_the_default_plan_is_the_faithfulness_contracts_stack():
    assert layer_plan(ModelConfig(), (64,)) == [
        {"layer": "Dense", "units": 128, "activation": "relu"},
    ]
    assert layer_plan(ModelConfig(), (8, 8)) == [
        {"layer": "Flatten"},
        {"layer": "Dense", "units": 128, "activation": "relu"},
    ]


def test_penalties_and_dropout_go_with_each_hidden_layer():
    cfg = ModelConfig(hidden_units=[32, 16], activation="tanh", dropout=0.25, l2=1e-3)
    dense = {"layer": "Dense", "activation": "tanh", "l2": 1e-3}
    assert layer_plan(cfg, (10,)) == [
        {**dense, "units": 32},
        {"layer": "Dropout", "rate": 0.25},
        {**dense, "units": 16},
        {"layer": "Dropout", "rate": 0.25},
    ]


def test_a_cnn_with_augmentation_and_batch_norm_on_flat_digits():
    cfg = ModelConfig(
        kind="cnn",
        conv_filters=[8],
        hidden_units=[16],
        batch_norm=True,
        augment_flip=True,
        augment_translation=0.1,
        l1=1e-4,
    )
    norm = [{"layer": "BatchNormalization"}, {"layer": "Activation", "activation": "relu"}]
    assert layer_plan(cfg, (64,), (8, 8)) == [
        {"layer": "Reshape", "target_shape": (8, 8, 1)},
        {"layer": "RandomFlip", "mode": "horizontal"},
        {"layer": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
        {
            "layer": "Conv2D",
            "filters": 8,
            "kernel_size": 3,
            "padding": "same",
            "activation": None,
            "l1": 1e-4,
        },
        *norm,
        {"layer": "MaxPooling2D", "pool_size": 2},
        {"layer": "Flatten"},
        {"layer": "Dense", "units": 16, "activation": None, "l1": 1e-4},
        *norm,
    ]


def test_image_layers_on_other_data_are_refused_before_keras():
    with pytest.raises(ConfigError, match="image data only"):
        layer_plan(ModelConfig(kind="cnn"), (5,))
    with pytest.raises(ConfigError, match="image data only"):
        layer_plan(ModelConfig(augment_flip=True), (5,))


def test_the_training_plan_holds_optimizer_schedule_and_callbacks():
    training = TrainingConfig(
        optimizer="adamw",
        learning_rate=0.01,
        epochs=12,
        weight_decay=0.001,
        lr_schedule={"kind": "cosine", "warmup_epochs": 2},
    )
    plan = training_plan(training, EarlyStoppingConfig(enabled=True))
    assert plan == {
        "optimizer": "AdamW",
        "learning_rate": 0.01,
        "weight_decay": 0.001,
        "schedule": {"kind": "cosine", "warmup_epochs": 2},
        "schedule_epochs": 12,
        "monitor": "val_loss",
        "early_stopping": {
            "monitor": "val_loss",
            "patience": 3,
            "min_delta": 0.0,
            "restore_best_weights": True,
        },
    }
    assert training_plan(TrainingConfig())["early_stopping"] is None


@pytest.mark.parametrize(
    "model",
    [
        {},
        {"hidden_units": [32, 16], "dropout": 0.3, "l2": 1e-3, "l1": 1e-4},
        {"batch_norm": True, "activation": "tanh", "l2": 1e-3},
        {"kind": "cnn", "conv_filters": [4, 8], "batch_norm": True, "augment_flip": True},
        {"augment_rotation": 0.1, "augment_translation": 0.1, "dropout": 0.2},
    ],
)
def test_the_plan_prints_as_literals_and_plain_data(model):
    plan = layer_plan(ModelConfig(**model), (64,), (8, 8))
    assert ast.literal_eval(literal(plan, room=0)) == plan
    for spec in plan:
        assert set(map(type, spec.values())) <= {str, int, float, tuple, type(None)}


def plain_keras_model(cfg: ModelConfig, input_shape, n_classes, image_shape=None):
    """The stack of the faithfulness contract (and its options) in plain Keras: the
    builder as it was written before the plan, kept here as the reference."""
    import keras

    def regularizer():
        if cfg.l1 and cfg.l2:
            return keras.regularizers.l1_l2(l1=cfg.l1, l2=cfg.l2)
        if cfg.l2:
            return keras.regularizers.l2(cfg.l2)
        return keras.regularizers.l1(cfg.l1) if cfg.l1 else None

    augment = cfg.augment_flip or cfg.augment_rotation or cfg.augment_translation
    picture = (8, 8, 1) if (augment or cfg.kind == "cnn") else None
    stack: list = [keras.Input(shape=input_shape)]
    if picture is not None:
        stack.append(keras.layers.Reshape(picture))
    if cfg.augment_flip:
        stack.append(keras.layers.RandomFlip("horizontal"))
    if cfg.augment_rotation:
        stack.append(keras.layers.RandomRotation(cfg.augment_rotation))
    if cfg.augment_translation:
        t = cfg.augment_translation
        stack.append(keras.layers.RandomTranslation(t, t))
    act = None if cfg.batch_norm else cfg.activation
    norm = [keras.layers.BatchNormalization, lambda: keras.layers.Activation(cfg.activation)]
    for filters in cfg.conv_filters if cfg.kind == "cnn" else []:
        stack.append(
            keras.layers.Conv2D(
                filters, 3, padding="same", activation=act, kernel_regularizer=regularizer()
            )
        )
        stack += [make() for make in norm] if cfg.batch_norm else []
        stack.append(keras.layers.MaxPooling2D(2))
    if len(input_shape) > 1 or picture is not None:
        stack.append(keras.layers.Flatten())
    for units in cfg.hidden_units:
        stack.append(keras.layers.Dense(units, activation=act, kernel_regularizer=regularizer()))
        stack += [make() for make in norm] if cfg.batch_norm else []
        if cfg.dropout > 0:
            stack.append(keras.layers.Dropout(cfg.dropout))
    stack.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(stack)


def _layer_summary(layer) -> tuple:
    config = dict(layer.get_config())
    config.pop("name", None)
    reg = config.pop("kernel_regularizer", None)
    config.pop("seed", None)
    return type(layer).__name__, str(layer.output.shape), layer.count_params(), config, reg


@pytest.mark.parametrize(
    "model",
    [
        {},
        {"hidden_units": [32, 16], "dropout": 0.3, "l2": 1e-3, "l1": 1e-4},
        {"hidden_units": [16], "l1": 1e-3},
        {"batch_norm": True, "activation": "tanh", "l2": 1e-3},
        {"kind": "cnn", "conv_filters": [4, 8], "batch_norm": True, "augment_flip": True},
        {"augment_rotation": 0.1, "augment_translation": 0.1, "dropout": 0.2},
    ],
)
def test_building_from_the_plan_equals_the_plain_keras_stack(model):
    """Layer by layer (class, output shape, parameters, config, regularizer) and the
    initial weights: the plan consumes Keras's seeded random stream as before."""
    import keras

    cfg = ModelConfig(**model)
    keras.utils.set_random_seed(3)
    built = layers.build_model(layer_plan(cfg, (64,), (8, 8)), (64,), 10)
    keras.utils.set_random_seed(3)
    reference = plain_keras_model(cfg, (64,), 10)
    assert [_layer_summary(a) for a in built.layers] == [
        _layer_summary(b) for b in reference.layers
    ]
    for got, want in zip(built.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "schedule",
    [
        {"kind": "constant"},
        {"kind": "step", "every": 2, "factor": 0.5},
        {"kind": "cosine", "warmup_epochs": 1},
        {"kind": "plateau", "factor": 0.5, "patience": 1},
    ],
)
def test_the_training_plan_compiles_the_optimizer_and_schedule(schedule):
    import keras

    changes = {"optimizer": "sgd", "learning_rate": 0.1, "epochs": 4, "lr_schedule": schedule}
    training = RunConfig().replace({f"training.{k}": v for k, v in changes.items()}).training
    plan = training_plan(training, EarlyStoppingConfig(enabled=True))
    model = layers.build_model([], (3,), 2)
    optimizer.compile_model(model, plan, 5, keras.metrics.SparseCategoricalCrossentropy())
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    rate = model.optimizer.learning_rate
    schedule_of = optimizer.learning_rate_schedule(plan, 5)
    if schedule["kind"] in ("constant", "plateau"):
        assert schedule_of is None and float(rate) == pytest.approx(0.1)
    else:
        assert float(schedule_of(19)) < 0.1  # the last update of epoch 4 runs below the rate
    kinds = [type(c).__name__ for c in optimizer.training_callbacks(plan)]
    expected = ["EarlyStopping"]
    assert kinds == (
        ["ReduceLROnPlateau", *expected] if schedule["kind"] == "plateau" else expected
    )


def test_every_model_and_training_setting_is_in_a_plan():
    """A lever added to the config must be added to the plans too (or the export refuses)."""
    for section, cls in (("model", ModelConfig), ("training", TrainingConfig)):
        assert {f.name for f in dataclasses.fields(cls)} == PLAN_KEYS[section]
