"""The controls panel: a RunConfig round trip, refusals, and which levers are enabled."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.qt.panels.controls import TIPS, ControlsPanel, parse_hidden_units


@pytest.fixture
def panel(qtbot):
    widget = ControlsPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_set_config_then_config_gives_the_same_config(panel):
    config = RunConfig.from_dict(
        {
            "data": {
                "source": "moons",
                "noise": 0.35,
                "n_samples": 600,
                "train_fraction": 0.5,
                "validation_split": 0.3,
                "label_noise": 0.1,
                "scale": "standard",
            },
            "model": {
                "hidden_units": [64, 32, 16],
                "activation": "tanh",
                "dropout": 0.25,
                "l2": 0.0005,
                "l1": 1e-05,
            },
            "training": {
                "optimizer": "sgd",
                "learning_rate": 0.05,
                "batch_size": 64,
                "epochs": 120,
                "seed": 7,
            },
            "early_stopping": {
                "enabled": True,
                "monitor": "val_accuracy",
                "patience": 9,
                "min_delta": 0.001,
                "restore_best_weights": False,
            },
        }
    )
    panel.set_config(config)
    assert panel.config() == config


def test_keys_without_a_control_survive_the_round_trip(panel):
    config = RunConfig().replace({"data.grayscale": True, "model.augment_flip": True})
    panel.set_config(config)
    assert panel.config().data.grayscale is True
    assert panel.config().model.augment_flip is True


def test_early_stopping_levers_follow_the_switch(panel):
    panel.set_config(RunConfig())
    assert not panel.patience.isEnabled() and not panel.monitor.isEnabled()
    panel.early_stopping.setChecked(True)
    assert panel.patience.isEnabled() and panel.restore_best_weights.isEnabled()
    assert panel.config().early_stopping.enabled


def test_noise_only_for_toy_sets_and_path_only_for_files(panel):
    panel.set_config(RunConfig())  # digits
    assert not panel.noise.isEnabled() and not panel.path.isEnabled()
    panel.source.setCurrentIndex(panel.source.findData("spirals"))
    assert panel.noise.isEnabled() and not panel.path.isEnabled()
    panel.source.setCurrentIndex(panel.source.findData("npz"))
    assert panel.path.isEnabled() and panel.browse.isEnabled()
    assert not panel.noise.isEnabled() and not panel.validation_split.isEnabled()


def test_a_file_source_without_a_path_is_refused(panel):
    panel.source.setCurrentIndex(panel.source.findData("npz"))
    panel.path.setText("")
    with pytest.raises(ConfigError, match="data.path"):
        panel.config()


def test_hidden_units_accept_only_numbers_and_commas(panel, qtbot):
    panel.hidden_units.clear()
    qtbot.keyClicks(panel.hidden_units, "64x, 3-2")
    assert panel.hidden_units.text() == "64, 32"
    assert panel.config().model.hidden_units == [64, 32]
    panel.hidden_units.setText("")
    assert panel.config().model.hidden_units == []
    with pytest.raises(ConfigError, match="hidden_units"):
        parse_hidden_units("12, x")


def test_spin_boxes_hold_the_contract_ranges(panel):
    panel.dropout.setValue(5.0)
    panel.train_fraction.setValue(0.0)
    panel.learning_rate.setValue(0.0)
    config = panel.config()  # clamped into range, so still a valid config
    assert config.model.dropout < 1.0
    assert config.data.train_fraction > 0.0
    assert config.training.learning_rate > 0.0


def test_every_lever_has_a_tooltip_with_a_typical_range_or_purpose(panel):
    for name in TIPS:
        assert len(getattr(panel, name).toolTip()) > 30, name
    for name in ("dropout", "l2", "l1", "patience", "train_fraction"):
        assert "Typical" in getattr(panel, name).toolTip(), name


def test_file_and_image_levers_round_trip_and_follow_the_source(panel):
    images = RunConfig().replace(
        {
            "data.source": "images",
            "data.path": "/data/pets",
            "data.image_size": [48, 40],
            "data.grayscale": True,
            "model.augment_flip": True,
            "model.augment_rotation": 0.05,
        }
    )
    panel.set_config(images)
    assert panel.config() == images
    assert panel.image_height.isEnabled() and panel.augment_flip.isEnabled()
    assert not panel.label_column.isEnabled()

    csv = RunConfig().replace({"data.source": "csv", "data.path": "t.csv", "data.label_column": 3})
    panel.set_config(csv)
    assert panel.config() == csv
    assert panel.label_column.isEnabled() and not panel.image_height.isEnabled()
    assert not panel.augment_flip.isEnabled()  # augmentation is for image data only
    panel.label_column.setText("species")
    assert panel.config().data.label_column == "species"


def test_choosing_ones_own_data_drops_the_demo_handicaps_and_back_restores_them(panel):
    demo = RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2})
    panel.set_config(demo)
    for own in ("csv", "npz", "images", "mnist"):
        panel.source.setCurrentIndex(panel.source.findData(own))
        panel.path.setText("/data/mine")
        config = panel.config()
        assert (config.data.train_fraction, config.data.label_noise) == (1.0, 0.0), own
        panel.source.setCurrentIndex(panel.source.findData("digits"))
        config = panel.config()
        assert (config.data.train_fraction, config.data.label_noise) == (0.25, 0.2), own


def test_a_handicap_set_on_ones_own_data_or_loaded_stays(panel):
    # A stored run's config is shown as it is: no reset while set_config shows it.
    mine = RunConfig().replace(
        {"data.source": "csv", "data.path": "t.csv", "data.train_fraction": 0.5}
    )
    panel.set_config(mine)
    assert panel.config().data.train_fraction == 0.5
    panel.source.setCurrentIndex(panel.source.findData("npz"))  # own data to own data
    assert panel.config().data.train_fraction == 0.5


def test_every_config_key_has_a_lever_and_a_control(panel):
    from fitgap_gui.core.config.levers import LEVERS, LEVERS_BY_KEY, MORE_LEVERS
    from fitgap_gui.qt.panels.controls import control_names

    keys = {f"{section}.{key}" for section, values in RunConfig().to_dict().items()
            for key in values}  # fmt: skip
    assert keys == set(LEVERS_BY_KEY)
    for lv in LEVERS:
        for name in control_names(lv):
            assert getattr(panel, name).toolTip() == lv.tooltip, lv.key
    # Lists, objects and nulls have controls too (tests/qt/panels/test_lever_controls.py).
    assert MORE_LEVERS == ()


def test_keras_datasets_are_offered_only_when_cached(qtbot, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    widget = ControlsPanel()
    qtbot.addWidget(widget)
    combo = widget.source
    index = combo.findData("mnist")
    assert "not downloaded" in combo.itemText(index)
    assert "never downloads" in combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert not combo.model().item(index).isEnabled()
    assert combo.model().item(combo.findData("digits")).isEnabled()

    folder = tmp_path / "keras" / "datasets"
    folder.mkdir(parents=True)
    x, y = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)
    np.savez(folder / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    combo.refresh()  # what opening the list does
    assert combo.itemText(index) == "MNIST (cached)"
    assert combo.model().item(index).isEnabled()
    assert "not downloaded" in combo.itemText(combo.findData("cifar10"))


def test_the_data_group_says_which_handicaps_are_on(panel):
    panel.set_config(RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2}))
    note = panel.handicaps_note.text()
    assert "trains on 25% of the rows" in note and "20% of labels flipped" in note
    panel.source.setCurrentIndex(panel.source.findData("csv"))
    assert panel.handicaps_note.text().startswith("No handicaps")
    panel.label_noise.setValue(0.1)
    assert panel.handicaps_note.text() == "Handicaps on: 10% of labels flipped."


def test_back_to_the_demo_after_opening_data_restores_its_handicaps(panel):
    demo = RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2})
    panel.set_config(demo)
    # What File → Open data does: the config with the user's CSV and no handicaps.
    panel.set_config(demo.replace({"data.source": "csv", "data.path": "t.csv",
                                   "data.train_fraction": 1.0, "data.label_noise": 0.0}))  # fmt: skip
    panel.source.setCurrentIndex(panel.source.findData("digits"))
    assert (panel.config().data.train_fraction, panel.config().data.label_noise) == (0.25, 0.2)
