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
        "scale": "auto",  # the source's default: standard for table files, else none
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


# -- the keys added with the schedules, weight decay and the CNN -------------------------
def test_configs_without_schedule_weight_decay_or_cnn_keys_mean_what_they_meant():
    config = RunConfig.from_dict({})
    assert config.training.lr_schedule == {"kind": "constant"}
    assert config.training.weight_decay is None
    assert (config.model.kind, config.model.batch_norm) == ("mlp", False)
    assert config.model.conv_filters == [16, 32]


def test_a_schedule_gets_every_key_of_its_kind_with_keras_defaults():
    config = RunConfig.from_dict({"training": {"lr_schedule": {"kind": "plateau"}}})
    assert config.training.lr_schedule == {
        "kind": "plateau",
        "factor": 0.5,
        "patience": 3,
        "min_delta": 0.0,
        "min_lr": 1e-5,
    }
    step = RunConfig.from_dict({"training": {"lr_schedule": "step"}}).training.lr_schedule
    assert step == {"kind": "step", "every": 10, "factor": 0.5}
    # The round trip keeps it.
    assert RunConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"training": {"lr_schedule": {"kind": "cosine", "warmup_epochs": 20}}}, "warmup_epochs"),
        (
            {"training": {"epochs": 5, "lr_schedule": {"kind": "cosine", "warmup_epochs": 5}}},
            "less",
        ),
        ({"training": {"lr_schedule": {"kind": "step", "patience": 2}}}, "lr_schedule.patience"),
        ({"training": {"lr_schedule": {"kind": "plateau", "factor": 1.0}}}, "factor"),
        ({"training": {"lr_schedule": {"factor": 0.5}}}, "lr_schedule"),
        ({"training": {"lr_schedule": {"kind": "cyclic"}}}, "lr_schedule.kind"),
        ({"training": {"weight_decay": -0.1}}, "weight_decay"),
        ({"model": {"kind": "rnn"}}, "model.kind"),
        ({"model": {"conv_filters": []}}, "conv_filters"),
        ({"model": {"conv_filters": [16, 0]}}, "conv_filters[1]"),
        ({"model": {"batch_norm": 1}}, "batch_norm"),
    ],
)
def test_bad_schedule_weight_decay_and_cnn_keys_are_one_line_errors(raw, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        RunConfig.from_dict(raw)
