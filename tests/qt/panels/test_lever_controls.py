"""The controls of lever_controls.py in the controls panel: the data source picker
(Keras's sets offered once cached), the learning-rate schedule, the optional weight
decay and the conv filters list.

Round trips (config -> controls -> config, exactly), configs without their keys left
as they are, only the chosen schedule's settings shown, and inline messages for bad
text (the contract's own).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError

SCHEDULES = (
    {"kind": "constant"},
    {"kind": "plateau", "factor": 0.2, "patience": 5, "min_delta": 0.001, "min_lr": 1e-06},
    {"kind": "plateau", "factor": 0.123456, "patience": 2, "min_delta": 1e-7, "min_lr": 3.3e-9},
    {"kind": "cosine", "warmup_epochs": 3},
    {"kind": "step", "every": 7, "factor": 0.1},
    {"kind": "step", "every": 1, "factor": 1.0},
)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s["kind"])
def test_schedules_round_trip_exactly(controls, schedule):
    config = RunConfig().replace(
        {"training.lr_schedule": schedule, "training.weight_decay": 3e-05,
         "model.kind": "cnn", "model.conv_filters": [8, 16, 4], "model.batch_norm": True}
    )  # fmt: skip
    controls.set_config(config)
    assert controls.config() == config
    assert controls.config().training.lr_schedule == schedule


def test_a_config_without_schedule_or_weight_decay_comes_back_unchanged(controls):
    raw = {"data": {"source": "digits"}, "training": {"optimizer": "adamw", "epochs": 7}}
    config = RunConfig.from_dict(raw)
    controls.set_config(config)
    back = controls.config()
    assert back == config
    assert back.training.weight_decay is None  # adamw keeps Keras's own 0.004
    assert back.training.lr_schedule == {"kind": "constant"} and back.model.kind == "mlp"
    # Showing another schedule and coming back leaves no stray keys behind.
    controls.lr_schedule.kind.setCurrentIndex(controls.lr_schedule.kind.findData("plateau"))
    controls.lr_schedule.kind.setCurrentIndex(controls.lr_schedule.kind.findData("constant"))
    assert controls.config() == config


def test_only_the_chosen_schedules_settings_are_shown(controls):
    controls.more_levers.setChecked(True)  # its row folds under "More levers"
    control = controls.lr_schedule
    for kind, visible in (("constant", set()), ("plateau", {"factor", "patience",
                          "min_delta", "min_lr"}), ("cosine", {"warmup_epochs"}),
                          ("step", {"every", "factor"})):  # fmt: skip
        control.kind.setCurrentIndex(control.kind.findData(kind))
        for other, boxes in control.boxes.items():
            for name, box in boxes.items():
                assert box.isVisible() == (other == kind and name in visible), (kind, other, name)
    control.boxes["step"]["every"].setValue(4)
    control.boxes["step"]["factor"].setValue(0.25)
    assert controls.config().training.lr_schedule == {"kind": "step", "every": 4, "factor": 0.25}


def test_a_warm_up_as_long_as_the_run_is_refused_with_the_contracts_message(controls):
    controls.epochs.setValue(5)
    control = controls.lr_schedule
    control.kind.setCurrentIndex(control.kind.findData("cosine"))
    control.boxes["cosine"]["warmup_epochs"].setValue(5)
    with pytest.raises(ConfigError, match="warmup_epochs"):
        controls.config()


def test_weight_decay_empty_is_the_optimizers_default_and_bad_text_says_so(controls, qtbot):
    controls.more_levers.setChecked(True)  # its row folds under "More levers"
    assert controls.weight_decay.line.placeholderText() == "optimizer default"
    controls.weight_decay.setValue(None)
    assert controls.config().training.weight_decay is None
    controls.weight_decay.line.clear()
    qtbot.keyClicks(controls.weight_decay.line, "1e-4")
    assert controls.config().training.weight_decay == 1e-4
    assert not controls.weight_decay.message.isVisible()
    controls.weight_decay.line.setText("11")  # past the contract's 10
    assert controls.weight_decay.message.isVisible()
    assert "training.weight_decay must be in [0, 10]" in controls.weight_decay.message.text()
    with pytest.raises(ConfigError, match="weight_decay"):
        controls.config()
    controls.weight_decay.line.setText("1e")  # half typed
    assert "must be a number" in controls.weight_decay.message.text()
    controls.weight_decay.line.setText("0")  # zero is a value, not the default
    assert controls.config().training.weight_decay == 0.0
    assert not controls.weight_decay.message.isVisible()


def test_conv_filters_follow_the_network_and_bad_lists_get_a_message(controls, qtbot):
    controls.more_levers.setChecked(True)  # its row folds under "More levers"
    controls.set_config(RunConfig())  # digits, mlp
    assert not controls.conv_filters.isEnabled()
    controls.kind.setCurrentText("cnn")
    assert controls.conv_filters.isEnabled()
    controls.conv_filters.line.clear()
    qtbot.keyClicks(controls.conv_filters.line, "8x, 1-6")  # letters and signs are refused
    assert controls.conv_filters.line.text() == "8, 16"
    assert controls.config().model.conv_filters == [8, 16]
    for bad, words in (("", "non-empty"), ("0", "must be in [1, 1024]"),
                       ("1,2,3,4,5,6,7,8,9", "at most 8")):  # fmt: skip
        controls.conv_filters.line.setText(bad)
        assert controls.conv_filters.message.isVisible(), bad
        assert words in controls.conv_filters.message.text(), bad
        with pytest.raises(ConfigError, match="conv_filters"):
            controls.config()
    # An MLP does not use them: a half-typed list does not block its run.
    controls.kind.setCurrentText("mlp")
    assert controls.config().model.conv_filters == [16, 32]


def test_tooltips_teach_what_batch_norm_weight_decay_and_schedules_do_to_the_gap(controls):
    bn = controls.batch_norm.toolTip()
    assert "moving averages" in bn and "regularizes a little" in bn
    wd = controls.weight_decay.toolTip()
    assert "decoupled" in wd and "L2" in wd and "adam" in wd
    lr = controls.lr_schedule.toolTip()
    assert "validation loss can fall again" in lr
    for box in controls.lr_schedule.boxes["plateau"].values():
        assert box.toolTip()


def test_keras_datasets_are_offered_only_when_cached(keras_home, controls):
    combo = controls.source
    index = combo.findData("mnist")
    assert "not downloaded" in combo.itemText(index)
    assert "never downloads" in combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert not combo.model().item(index).isEnabled()
    assert combo.model().item(combo.findData("digits")).isEnabled()

    x, y = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)
    np.savez(keras_home / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    combo.refresh()  # what opening the list does
    assert combo.itemText(index) == "MNIST (cached)"
    assert combo.model().item(index).isEnabled()
    assert "not downloaded" in combo.itemText(combo.findData("cifar10"))
