"""RunConfig: defaults (docs/ARCHITECTURE.md), JSON round trip, clear errors for bad values."""

from __future__ import annotations

import json

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError, FitGapError

DESIGN_DEFAULTS = {
    "data": {
        "source": "digits",
        "path": None,
        "train_fraction": 1.0,
        "validation_split": 0.2,
        "label_noise": 0.0,
        "scale": "none",
    },
    "model": {"hidden_units": [128], "activation": "relu", "dropout": 0.0, "l2": 0.0, "l1": 0.0},
    "training": {
        "optimizer": "adam",
        "learning_rate": 0.001,
        "batch_size": 32,
        "epochs": 20,
        "seed": 0,
    },
    "early_stopping": {
        "enabled": False,
        "monitor": "val_loss",
        "patience": 3,
        "min_delta": 0.0,
        "restore_best_weights": True,
    },
}


def test_defaults_are_those_of_the_design():
    config = RunConfig().to_dict()
    for section, values in DESIGN_DEFAULTS.items():
        for key, value in values.items():
            assert config[section][key] == value, f"{section}.{key}"


def test_empty_json_is_the_default_config():
    assert RunConfig.from_json("{}") == RunConfig()


def test_json_round_trip_keeps_every_value():
    config = RunConfig.from_dict(
        {
            "data": {
                "source": "moons",
                "train_fraction": 0.5,
                "label_noise": 0.1,
                "scale": "standard",
            },
            "model": {
                "hidden_units": [64, 32],
                "activation": "tanh",
                "dropout": 0.3,
                "l2": 1e-3,
                "l1": 1e-5,
            },
            "training": {
                "optimizer": "sgd",
                "learning_rate": 0.05,
                "batch_size": 8,
                "epochs": 7,
                "seed": 42,
            },
            "early_stopping": {
                "enabled": True,
                "monitor": "val_accuracy",
                "patience": 5,
                "min_delta": 0.01,
                "restore_best_weights": False,
            },
        }
    )
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(again.to_json()) == config.to_dict()


def test_save_and_load(tmp_path):
    config = RunConfig().replace({"model.dropout": 0.5, "early_stopping.enabled": True})
    path = tmp_path / "c.json"
    config.save(path)
    assert RunConfig.load(path) == config


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"modle": {}}, "unknown key 'modle'"),
        ({"model": {"droput": 0.5}}, "unknown key model.droput"),
        ({"model": {"dropout": 1.0}}, "model.dropout must be in [0, 1)"),
        ({"model": {"dropout": -0.1}}, "model.dropout"),
        ({"model": {"dropout": "0.5"}}, "model.dropout must be a number"),
        ({"model": {"hidden_units": 128}}, "model.hidden_units must be a list"),
        ({"model": {"hidden_units": [128, 0]}}, "model.hidden_units[1]"),
        ({"model": {"activation": "relu6x"}}, "model.activation must be one of"),
        ({"model": {"l2": float("nan")}}, "finite"),
        ({"training": {"epochs": 0}}, "training.epochs"),
        ({"training": {"epochs": 2.5}}, "whole number"),
        ({"training": {"batch_size": True}}, "training.batch_size"),
        ({"training": {"learning_rate": 0}}, "training.learning_rate"),
        ({"training": {"optimizer": "adamax"}}, "training.optimizer"),
        ({"data": {"source": "npz"}}, "data.path is required"),
        ({"data": {"source": "mnist-online"}}, "data.source"),
        ({"data": {"validation_split": 1.0}}, "data.validation_split"),
        ({"data": {"train_fraction": 0}}, "data.train_fraction"),
        ({"early_stopping": {"enabled": "yes"}}, "true or false"),
        ({"early_stopping": {"monitor": "val_auc"}}, "early_stopping.monitor"),
        ({"early_stopping": {"patience": -1}}, "early_stopping.patience"),
        ({"data": []}, "data must be an object"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_values_are_named_in_one_line(raw, fragment):
    with pytest.raises(ConfigError) as info:
        RunConfig.from_dict(raw)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_whole_float_is_accepted_for_an_integer_key():
    assert RunConfig.from_dict({"training": {"epochs": 5.0}}).training.epochs == 5


def test_invalid_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"model": {"dropout": 0.5,}}')
    with pytest.raises(ConfigError, match=r"broken.json is not valid JSON: .* line 1"):
        RunConfig.load(path)


def test_missing_config_file_is_a_fitgap_error(tmp_path):
    with pytest.raises(FitGapError, match="no such config file"):
        RunConfig.load(tmp_path / "nope.json")


def test_replace_validates_and_leaves_the_original_alone():
    base = RunConfig()
    changed = base.replace({"model.dropout": 0.25, "training.epochs": 3})
    assert (changed.model.dropout, changed.training.epochs) == (0.25, 3)
    assert base.model.dropout == 0.0
    with pytest.raises(ConfigError):
        base.replace({"model.dropout": 3})
    with pytest.raises(ConfigError, match="section.key"):
        base.replace({"dropout": 0.5})
