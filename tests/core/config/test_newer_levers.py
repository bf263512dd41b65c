"""The newer levers outside training: their config keys, memory estimate, words and exports.

(Their numbers against plain Keras are in tests/core/run/test_faithfulness_schedules.py.)
"""

from __future__ import annotations

import csv
import json

import pytest

from fitgap_gui.core.config.presets import load_preset
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.export.summary import describe, lever_summary
from fitgap_gui.core.model.build import build_model, check_model_for_data
from fitgap_gui.core.model.memory import estimate_model_memory


def test_configs_without_the_new_keys_mean_what_they_meant():
    config = RunConfig.from_dict({})
    assert config.training.lr_schedule == {"kind": "constant"}
    assert config.training.weight_decay is None
    assert (config.model.kind, config.model.batch_norm) == ("mlp", False)
    assert config.model.conv_filters == [16, 32]
    assert lever_summary(config) == "defaults"


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
def test_bad_new_keys_are_one_line_config_errors(raw, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        RunConfig.from_dict(raw)


def test_a_cnn_needs_image_data_and_room_to_pool():
    cnn = RunConfig.from_dict({"model": {"kind": "cnn"}}).model
    with pytest.raises(ConfigError, match="image data only"):
        check_model_for_data(cnn, (2,), None)  # moons
    check_model_for_data(cnn, (64,), (8, 8))  # flat digits with their image shape
    check_model_for_data(cnn, (28, 28), None)
    deep = RunConfig.from_dict({"model": {"kind": "cnn", "conv_filters": [4, 4, 4, 4]}}).model
    with pytest.raises(ConfigError, match="8x8 images allow 3 at most"):
        check_model_for_data(deep, (8, 8), None)


@pytest.mark.parametrize(
    ("model", "input_shape", "image_shape"),
    [
        ({"hidden_units": [32, 16], "batch_norm": True}, (64,), None),
        ({"kind": "cnn", "conv_filters": [8, 16], "hidden_units": [32]}, (64,), (8, 8)),
        (
            {"kind": "cnn", "conv_filters": [4], "batch_norm": True, "hidden_units": []},
            (12, 10, 3),
            None,
        ),
    ],
)
def test_memory_estimate_counts_conv_and_batch_norm_parameters_as_keras_does(
    model, input_shape, image_shape
):
    config = RunConfig.from_dict({"model": model})
    est = estimate_model_memory(config, input_shape, 10, 100, image_shape)
    keras_model = build_model(config.model, input_shape, 10, image_shape=image_shape)
    assert est.parameters == keras_model.count_params()


def test_learning_rate_schedule_cnn_and_weight_decay_read_in_summaries():
    config = RunConfig.from_dict(
        {
            "model": {"kind": "cnn", "conv_filters": [8, 16], "batch_norm": True},
            "training": {
                "lr_schedule": {"kind": "step", "every": 5, "factor": 0.1},
                "weight_decay": 0.01,
            },
        }
    )
    summary = lever_summary(config)
    for words in ("CNN", "conv 8-16", "batch norm", "lr ×0.1 every 5", "wd 0.01"):
        assert words in summary
    line = describe(config)
    assert "CNN conv 8-16" in line and "lr ×0.1 every 5" in line and "wd 0.01" in line
    # An MLP does not name its (unused) conv filters.
    mlp = config.replace({"model.kind": "mlp"})
    assert "conv" not in lever_summary(mlp)


def test_the_plateau_preset_and_the_full_default_preset(tmp_path):
    from fitgap_gui.resource_files import resources_dir

    presets = resources_dir() / "presets"
    plateau = load_preset(presets / "reduce-lr-on-plateau.json")
    assert plateau.changes["training.lr_schedule"]["kind"] == "plateau"
    assert "on plateau" in plateau.description
    assert load_preset(presets / "default.json").sets_everything
    changed = plateau.apply(RunConfig())
    assert changed.training.lr_schedule["patience"] == 3


def test_learning_rate_goes_into_the_store_csv_and_tensorboard(tmp_path, tiny_config):
    from fitgap_gui.core.export.files import export_runs
    from fitgap_gui.core.run.session import run_recorded
    from fitgap_gui.core.store.runstore import RunStore

    config = tiny_config.replace({"training.lr_schedule": {"kind": "step", "every": 1}})
    store = RunStore()
    result = run_recorded(config, store)
    rates = result.history["learning_rate"]
    assert rates == pytest.approx([1e-3, 5e-4, 2.5e-4], rel=1e-5)
    assert [e.metrics["learning_rate"] for e in store.epochs(result.run_id)] == rates
    (path,) = export_runs(store, "csv", [result.run_id], tmp_path / "runs.csv")
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [float(r["learning_rate"]) for r in rows] == pytest.approx(rates)
    (folder,) = export_runs(store, "tensorboard", [result.run_id], tmp_path / "tb")
    events = b"".join(p.read_bytes() for p in (folder / "train").glob("events.*"))
    assert b"epoch_learning_rate" in events
    stored = json.loads(store.get_run(result.run_id).config.to_json())
    assert stored["training"]["lr_schedule"] == {"kind": "step", "every": 1, "factor": 0.5}


def test_fitgap_train_prints_each_learning_rate_drop(tmp_path, tiny_config, capsys):
    from fitgap_gui.cli import main

    config = tiny_config.replace({"training.lr_schedule": {"kind": "step", "every": 2}})
    path = tmp_path / "step.json"
    config.save(path)
    assert main(["train", "--config", str(path), "--epochs", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    drops = [line.strip() for line in lines if "learning rate" in line]
    assert drops == ["learning rate 0.001 -> 0.0005"]  # after epoch 2, once
    at = lines.index("  learning rate 0.001 -> 0.0005")
    assert lines[at - 1].startswith("epoch 3/3")  # under the epoch that used the new rate


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_exported_layers_stay_within_100_columns(kind):
    from fitgap_gui.core.export.script import keras_script

    config = RunConfig.from_dict(
        {
            "model": {
                "kind": kind,
                "batch_norm": kind == "cnn",
                "activation": "relu",
                "hidden_units": [4096],
                "l1": 1e-4 if kind == "cnn" else 0.0,
                "l2": 1e-3,
            },
            "training": {"lr_schedule": {"kind": "cosine", "warmup_epochs": 2}},
        }
    )
    text = keras_script(config, input_shape=(64,), image_shape=(8, 8))
    compile(text, "run.py", "exec")
    assert max(len(line) for line in text.splitlines()) <= 100
    assert '"layer": "Conv2D"' in text if kind == "cnn" else "Conv2D" not in text
