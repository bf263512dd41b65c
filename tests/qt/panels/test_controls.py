"""The controls panel (controls.py): a RunConfig round trip, refusals, which levers are
enabled, and what picking a data source does to the handicaps, the network, the
training subset and the validation part."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.qt.panels.controls import TIPS, parse_hidden_units


def test_set_config_then_config_gives_the_same_config(controls):
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
    controls.set_config(config)
    assert controls.config() == config


def test_keys_without_a_control_survive_the_round_trip(controls):
    config = RunConfig().replace({"data.grayscale": True, "model.augment_flip": True})
    controls.set_config(config)
    assert controls.config().data.grayscale is True
    assert controls.config().model.augment_flip is True


def test_early_stopping_levers_follow_the_switch(controls):
    controls.set_config(RunConfig())
    assert not controls.patience.isEnabled() and not controls.monitor.isEnabled()
    controls.early_stopping.setChecked(True)
    assert controls.patience.isEnabled() and controls.restore_best_weights.isEnabled()
    assert controls.config().early_stopping.enabled


def test_noise_only_for_toy_sets_and_path_only_for_files(controls):
    controls.set_config(RunConfig())  # digits
    assert not controls.noise.isEnabled() and not controls.path.isEnabled()
    controls.source.setCurrentIndex(controls.source.findData("spirals"))
    assert controls.noise.isEnabled() and not controls.path.isEnabled()
    controls.source.setCurrentIndex(controls.source.findData("npz"))
    assert controls.path.isEnabled() and controls.browse.isEnabled()
    assert not controls.noise.isEnabled()
    # an NPZ without x_val (x, y; or x_train with x_test) splits validation by it
    assert controls.validation_split.isEnabled() and controls.test_split.isEnabled()


def test_the_test_split_is_a_data_control_that_says_what_it_is_for(controls):
    controls.set_config(RunConfig())
    assert controls.test_split.value() == 0.2 and controls.test_split.isEnabled()
    assert "validation chooses, test judges" in controls.test_split.toolTip()
    assert controls.test_split.maximum() == 0.5 and controls.test_split.minimum() == 0.0
    controls.test_split.setValue(0.0)
    assert controls.config().data.test_split == 0.0  # no test part
    controls.set_config(RunConfig().replace({"data.test_split": 0.35}))
    assert controls.test_split.value() == 0.35
    assert controls.config().to_dict() == RunConfig().replace({"data.test_split": 0.35}).to_dict()
    data_group = next(g for g in controls.findChildren(QGroupBox) if g.title() == "Data")
    assert controls.test_split in data_group.findChildren(QDoubleSpinBox)


def test_a_file_source_without_a_path_is_refused(controls):
    controls.source.setCurrentIndex(controls.source.findData("npz"))
    controls.path.setText("")
    with pytest.raises(ConfigError, match="data.path"):
        controls.config()


def test_hidden_units_accept_only_numbers_and_commas(controls, qtbot):
    controls.hidden_units.clear()
    qtbot.keyClicks(controls.hidden_units, "64x, 3-2")
    assert controls.hidden_units.text() == "64, 32"
    assert controls.config().model.hidden_units == [64, 32]
    controls.hidden_units.setText("")
    assert controls.config().model.hidden_units == []
    with pytest.raises(ConfigError, match="hidden_units"):
        parse_hidden_units("12, x")


def test_spin_boxes_hold_the_contract_ranges(controls):
    controls.dropout.setValue(5.0)
    controls.train_fraction.setValue(0.0)
    controls.learning_rate.setValue(0.0)
    config = controls.config()  # clamped into range, so still a valid config
    assert config.model.dropout < 1.0
    assert config.data.train_fraction > 0.0
    assert config.training.learning_rate > 0.0


def test_every_lever_has_a_tooltip_with_a_typical_range_or_purpose(controls):
    for name in TIPS:
        assert len(getattr(controls, name).toolTip()) > 30, name
    for name in ("dropout", "l2", "l1", "patience", "train_fraction"):
        assert "Typical" in getattr(controls, name).toolTip(), name


def test_file_and_image_levers_round_trip_and_follow_the_source(controls):
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
    controls.set_config(images)
    assert controls.config() == images
    assert controls.image_height.isEnabled() and controls.augment_flip.isEnabled()
    assert not controls.label_column.isEnabled()

    csv = RunConfig().replace({"data.source": "csv", "data.path": "t.csv", "data.label_column": 3})
    controls.set_config(csv)
    assert controls.config() == csv
    assert controls.label_column.isEnabled() and not controls.image_height.isEnabled()
    assert not controls.augment_flip.isEnabled()  # augmentation is for image data only
    controls.label_column.setText("species")
    assert controls.config().data.label_column == "species"


def test_choosing_ones_own_data_drops_the_demo_handicaps_and_back_restores_them(controls):
    demo = RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2})
    controls.set_config(demo)
    for own in ("csv", "npz", "images", "mnist"):
        controls.source.setCurrentIndex(controls.source.findData(own))
        controls.path.setText("/data/mine")
        config = controls.config()
        assert (config.data.train_fraction, config.data.label_noise) == (1.0, 0.0), own
        controls.source.setCurrentIndex(controls.source.findData("digits"))
        config = controls.config()
        assert (config.data.train_fraction, config.data.label_noise) == (0.25, 0.2), own


def test_a_handicap_set_on_ones_own_data_or_loaded_stays(controls):
    # A stored run's config is shown as it is: no reset while set_config shows it.
    mine = RunConfig().replace(
        {"data.source": "csv", "data.path": "t.csv", "data.train_fraction": 0.5}
    )
    controls.set_config(mine)
    assert controls.config().data.train_fraction == 0.5
    controls.source.setCurrentIndex(controls.source.findData("npz"))  # own data to own data
    assert controls.config().data.train_fraction == 0.5


def test_every_config_key_has_a_lever_and_a_control(controls):
    from fitgap_gui.core.config.levers import LEVERS, LEVERS_BY_KEY, MORE_LEVERS
    from fitgap_gui.qt.panels.controls import control_names

    keys = {f"{section}.{key}" for section, values in RunConfig().to_dict().items()
            for key in values}  # fmt: skip
    assert keys == set(LEVERS_BY_KEY)
    widgets = controls.lever_widgets()
    assert list(widgets) == [name for lv in LEVERS for name in control_names(lv)]
    for lv in LEVERS:
        for name in control_names(lv):
            # The typed attribute named after the lever is the widget the table built.
            assert getattr(controls, name) is widgets[name], name
            assert widgets[name].toolTip() == lv.tooltip, lv.key
    # Lists, objects and nulls have controls too (tests/qt/panels/test_lever_controls.py).
    assert MORE_LEVERS == ()


def test_the_data_group_says_which_handicaps_are_on(controls):
    controls.set_config(RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2}))
    note = controls.handicaps_note.text()
    assert "trains on 25% of the rows" in note and "20% of labels flipped" in note
    controls.source.setCurrentIndex(controls.source.findData("csv"))
    assert controls.handicaps_note.text().startswith("No handicaps")
    controls.label_noise.setValue(0.1)
    assert controls.handicaps_note.text() == "Handicaps on: 10% of labels flipped."


def test_back_to_the_demo_after_opening_data_restores_its_handicaps(controls):
    demo = RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2})
    controls.set_config(demo)
    # What File → Open data does: the config with the user's CSV and no handicaps.
    controls.set_config(demo.replace({"data.source": "csv", "data.path": "t.csv",
                                   "data.train_fraction": 1.0, "data.label_noise": 0.0}))  # fmt: skip
    controls.source.setCurrentIndex(controls.source.findData("digits"))
    data = controls.config().data
    assert (data.train_fraction, data.label_noise) == (0.25, 0.2)


# -- picking a source: the network, the training subset and the validation part ---------
@pytest.fixture
def mnist_and_cifar10(keras_home):
    """A tiny MNIST and CIFAR-10 in a private Keras cache, so both can be picked."""
    import pickle

    x, y = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
    np.savez(keras_home / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    cifar = keras_home / "cifar-10-batches-py"
    cifar.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": np.zeros((10, 3072), np.uint8), b"labels": list(range(10))}
        (cifar / name).write_bytes(pickle.dumps(batch, protocol=2))


def _select(controls, name: str) -> None:
    controls.source.setCurrentIndex(controls.source.findData(name))


def test_keras_image_sets_pick_the_cnn_and_other_data_resets_it(mnist_and_cifar10, controls):
    assert controls.config().model.kind == "mlp"
    _select(controls, "mnist")
    assert controls.config().model.kind == "cnn"
    note = controls.network_note
    assert note.isVisible() and "CNN chosen for MNIST" in note.text()
    _select(controls, "digits")  # can use the CNN: not switched
    assert controls.config().model.kind == "cnn"
    controls.kind.activated.emit(controls.kind.currentIndex())  # the user picks a network
    assert not controls.network_note.isVisible()
    _select(controls, "moons")  # not images: back to the MLP, with a note, before any error
    config = controls.config()
    assert config.model.kind == "mlp"
    assert "Network reset to mlp: moons (2-D) is not image data" in controls.network_note.text()
    # Digits and image folders are never switched to the CNN by themselves.
    _select(controls, "digits")
    assert controls.config().model.kind == "mlp"
    _select(controls, "images")
    assert controls.kind.currentText() == "mlp"
    # A config loaded from a file means what it says: no model.kind is the MLP.
    controls.set_config(RunConfig.from_dict({"data": {"source": "mnist"}}))
    assert controls.config().model.kind == "mlp" and not controls.network_note.isVisible()


def test_cifar10_comes_with_its_subset_shown_in_images(mnist_and_cifar10, controls):
    controls.set_config(RunConfig())  # validation_split 0.2: the note counts by it
    assert not controls.subset_note.isVisible()  # digits: no known image count
    _select(controls, "cifar10")
    config = controls.config()
    assert config.data.train_fraction == 0.06 and config.model.kind == "cnn"
    assert controls.subset_note.isVisible()
    # validation is split from the 50,000 training images; the official test set judges
    assert controls.subset_note.text().startswith("≈2,400 of 40,000 training images")
    assert controls.subset_note.text().endswith("test: the 10,000 official test images")
    assert controls.validation_split.isEnabled()
    assert not controls.test_split.isEnabled()  # its own test set: test_split is not used
    controls.train_fraction.setValue(0.1)
    assert controls.subset_note.text().startswith("≈4,000 of 40,000")
    controls.validation_split.setValue(0.1)
    assert controls.subset_note.text().startswith("≈4,500 of 45,000")
    controls.validation_split.setValue(0.2)
    controls.train_fraction.setValue(0.06)
    _select(controls, "mnist")  # one's own data again: all of it
    assert controls.config().data.train_fraction == 1.0
    assert controls.subset_note.text().startswith("≈48,000 of 48,000")


def test_cifar10_validates_on_a_fixed_part_of_its_test_images(mnist_and_cifar10, controls):
    controls.set_config(RunConfig())  # validation_split 0.2: the note counts by it
    # digits splits itself: the control is off and the config keeps all of it.
    assert not controls.validation_fraction.isEnabled()
    assert controls.config().data.validation_fraction == 1.0
    assert "√(p(1−p)/n)" in controls.validation_fraction.toolTip()
    _select(controls, "cifar10")
    assert controls.config().data.validation_fraction == 0.2
    assert controls.validation_fraction.isEnabled()
    assert controls.subset_note.text() == (
        "≈2,400 of 40,000 training images · validation: ≈2,000 of 10,000 · "
        "test: the 10,000 official test images"
    )
    controls.validation_fraction.setValue(0.5)
    assert "validation: ≈5,000 of 10,000 · test" in controls.subset_note.text()
    controls.validation_fraction.setValue(0.2)
    _select(controls, "mnist")  # CIFAR-10's own value left unchanged: all of MNIST's
    assert controls.config().data.validation_fraction == 1.0
    assert "validation: 12,000 · test: the 10,000" in controls.subset_note.text()
    controls.validation_fraction.setValue(0.5)  # the user's own choice stays on such data
    _select(controls, "fashion_mnist")
    assert controls.config().data.validation_fraction == 0.5
    _select(controls, "digits")  # would be refused on data that splits itself
    assert controls.config().data.validation_fraction == 1.0
    assert not controls.validation_fraction.isEnabled()
    # A config shows as it is and comes back unchanged.
    shown = RunConfig.from_dict({"data": {"source": "cifar10", "validation_fraction": 0.35}})
    controls.set_config(shown)
    assert controls.config().data.validation_fraction == 0.35
    assert controls.config().to_dict() == shown.to_dict()


def test_a_widget_of_another_type_or_one_left_unnamed_stops_the_panel(qtbot):
    from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

    from fitgap_gui.qt.panels.controls import _Built

    built = _Built({"dropout": QDoubleSpinBox(), "epochs": QSpinBox()})
    with pytest.raises(TypeError, match="dropout's control is a QDoubleSpinBox, not QSpinBox"):
        built.take("dropout", QSpinBox)
    assert isinstance(built.take("dropout", QDoubleSpinBox), QDoubleSpinBox)
    with pytest.raises(TypeError, match="levers without a panel attribute: epochs"):
        built.check_all_taken()
    built.take("epochs", QSpinBox)
    built.check_all_taken()
