"""The controls of the newer levers: schedules, weight decay, conv filters, the CNN picked.

Round trips (config -> controls -> config, exactly), configs without the keys left as
they are, inline messages for bad text, and what the window does to the network and
the training subset when the user picks a Keras image set.
"""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.qt.panels.controls import ControlsPanel

SCHEDULES = (
    {"kind": "constant"},
    {"kind": "plateau", "factor": 0.2, "patience": 5, "min_delta": 0.001, "min_lr": 1e-06},
    {"kind": "plateau", "factor": 0.123456, "patience": 2, "min_delta": 1e-7, "min_lr": 3.3e-9},
    {"kind": "cosine", "warmup_epochs": 3},
    {"kind": "step", "every": 7, "factor": 0.1},
    {"kind": "step", "every": 1, "factor": 1.0},
)


@pytest.fixture
def panel(qtbot):
    widget = ControlsPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _select(panel, name: str) -> None:
    panel.source.setCurrentIndex(panel.source.findData(name))


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s["kind"])
def test_schedules_round_trip_exactly(panel, schedule):
    config = RunConfig().replace(
        {"training.lr_schedule": schedule, "training.weight_decay": 3e-05,
         "model.kind": "cnn", "model.conv_filters": [8, 16, 4], "model.batch_norm": True}
    )  # fmt: skip
    panel.set_config(config)
    assert panel.config() == config
    assert panel.config().training.lr_schedule == schedule


def test_a_config_without_the_new_keys_comes_back_unchanged(panel):
    raw = {"data": {"source": "digits"}, "training": {"optimizer": "adamw", "epochs": 7}}
    config = RunConfig.from_dict(raw)
    panel.set_config(config)
    back = panel.config()
    assert back == config
    assert back.training.weight_decay is None  # adamw keeps Keras's own 0.004
    assert back.training.lr_schedule == {"kind": "constant"} and back.model.kind == "mlp"
    # Showing another schedule and coming back leaves no stray keys behind.
    panel.lr_schedule.kind.setCurrentIndex(panel.lr_schedule.kind.findData("plateau"))
    panel.lr_schedule.kind.setCurrentIndex(panel.lr_schedule.kind.findData("constant"))
    assert panel.config() == config


def test_only_the_chosen_schedules_settings_are_shown(panel):
    control = panel.lr_schedule
    for kind, visible in (("constant", set()), ("plateau", {"factor", "patience",
                          "min_delta", "min_lr"}), ("cosine", {"warmup_epochs"}),
                          ("step", {"every", "factor"})):  # fmt: skip
        control.kind.setCurrentIndex(control.kind.findData(kind))
        for other, boxes in control.boxes.items():
            for name, box in boxes.items():
                assert box.isVisible() == (other == kind and name in visible), (kind, other, name)
    control.boxes["step"]["every"].setValue(4)
    control.boxes["step"]["factor"].setValue(0.25)
    assert panel.config().training.lr_schedule == {"kind": "step", "every": 4, "factor": 0.25}


def test_a_warm_up_as_long_as_the_run_is_refused_with_the_contracts_message(panel):
    panel.epochs.setValue(5)
    control = panel.lr_schedule
    control.kind.setCurrentIndex(control.kind.findData("cosine"))
    control.boxes["cosine"]["warmup_epochs"].setValue(5)
    with pytest.raises(ConfigError, match="warmup_epochs"):
        panel.config()


def test_weight_decay_empty_is_the_optimizers_default_and_bad_text_says_so(panel, qtbot):
    assert panel.weight_decay.line.placeholderText() == "optimizer default"
    panel.weight_decay.setValue(None)
    assert panel.config().training.weight_decay is None
    panel.weight_decay.line.clear()
    qtbot.keyClicks(panel.weight_decay.line, "1e-4")
    assert panel.config().training.weight_decay == 1e-4
    assert not panel.weight_decay.message.isVisible()
    panel.weight_decay.line.setText("11")  # past the contract's 10
    assert panel.weight_decay.message.isVisible()
    assert "training.weight_decay must be in [0, 10]" in panel.weight_decay.message.text()
    with pytest.raises(ConfigError, match="weight_decay"):
        panel.config()
    panel.weight_decay.line.setText("1e")  # half typed
    assert "must be a number" in panel.weight_decay.message.text()
    panel.weight_decay.line.setText("0")  # zero is a value, not the default
    assert panel.config().training.weight_decay == 0.0
    assert not panel.weight_decay.message.isVisible()


def test_conv_filters_follow_the_network_and_bad_lists_get_a_message(panel, qtbot):
    panel.set_config(RunConfig())  # digits, mlp
    assert not panel.conv_filters.isEnabled()
    panel.kind.setCurrentText("cnn")
    assert panel.conv_filters.isEnabled()
    panel.conv_filters.line.clear()
    qtbot.keyClicks(panel.conv_filters.line, "8x, 1-6")  # letters and signs are refused
    assert panel.conv_filters.line.text() == "8, 16"
    assert panel.config().model.conv_filters == [8, 16]
    for bad, words in (("", "non-empty"), ("0", "must be in [1, 1024]"),
                       ("1,2,3,4,5,6,7,8,9", "at most 8")):  # fmt: skip
        panel.conv_filters.line.setText(bad)
        assert panel.conv_filters.message.isVisible(), bad
        assert words in panel.conv_filters.message.text(), bad
        with pytest.raises(ConfigError, match="conv_filters"):
            panel.config()
    # An MLP does not use them: a half-typed list does not block its run.
    panel.kind.setCurrentText("mlp")
    assert panel.config().model.conv_filters == [16, 32]


def test_tooltips_teach_what_the_new_levers_do_to_the_gap(panel):
    bn = panel.batch_norm.toolTip()
    assert "moving averages" in bn and "regularizes a little" in bn
    wd = panel.weight_decay.toolTip()
    assert "decoupled" in wd and "L2" in wd and "adam" in wd
    lr = panel.lr_schedule.toolTip()
    assert "validation loss can fall again" in lr
    for box in panel.lr_schedule.boxes["plateau"].values():
        assert box.toolTip()


def _cache(tmp_path, monkeypatch):
    """A tiny MNIST and CIFAR-10 in a private Keras cache, so both can be picked."""
    import pickle

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder = tmp_path / "keras" / "datasets"
    folder.mkdir(parents=True)
    x, y = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
    np.savez(folder / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    cifar = folder / "cifar-10-batches-py"
    cifar.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": np.zeros((10, 3072), np.uint8), b"labels": list(range(10))}
        (cifar / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_keras_image_sets_pick_the_cnn_and_other_data_resets_it(qtbot, tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert panel.config().model.kind == "mlp"
    _select(panel, "mnist")
    assert panel.config().model.kind == "cnn"
    assert panel.network_note.isVisible() and "CNN chosen for MNIST" in panel.network_note.text()
    _select(panel, "digits")  # can use the CNN: not switched
    assert panel.config().model.kind == "cnn"
    panel.kind.activated.emit(panel.kind.currentIndex())  # the user picks a network
    assert not panel.network_note.isVisible()
    _select(panel, "moons")  # not images: back to the MLP, with a note, before any error
    config = panel.config()
    assert config.model.kind == "mlp"
    assert "Network reset to mlp: moons (2-D) is not image data" in panel.network_note.text()
    # Digits and image folders are never switched to the CNN by themselves.
    _select(panel, "digits")
    assert panel.config().model.kind == "mlp"
    _select(panel, "images")
    assert panel.kind.currentText() == "mlp"
    # A config loaded from a file means what it says: no model.kind is the MLP.
    panel.set_config(RunConfig.from_dict({"data": {"source": "mnist"}}))
    assert panel.config().model.kind == "mlp" and not panel.network_note.isVisible()


def test_cifar10_comes_with_its_subset_shown_in_images(qtbot, tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.subset_note.isVisible()  # digits: no known image count
    _select(panel, "cifar10")
    config = panel.config()
    assert config.data.train_fraction == 0.05 and config.model.kind == "cnn"
    assert panel.subset_note.isVisible()
    assert panel.subset_note.text().startswith("≈2,500 of 50,000 training images")
    assert "10,000 test images" in panel.subset_note.text()
    assert not panel.validation_split.isEnabled()  # pre-split: the test part validates
    panel.train_fraction.setValue(0.1)
    assert panel.subset_note.text().startswith("≈5,000 of 50,000")
    panel.train_fraction.setValue(0.05)
    _select(panel, "mnist")  # one's own data again: all of it
    assert panel.config().data.train_fraction == 1.0
    assert panel.subset_note.text().startswith("≈60,000 of 60,000")


def test_the_summary_line_words_the_new_levers_readably():
    from fitgap_gui.core.export.summary import lever_summary, summary_line

    cosine = RunConfig().replace({"training.lr_schedule": {"kind": "cosine", "warmup_epochs": 2}})
    assert lever_summary(cosine) == "lr cosine (warm-up 2)"
    step = RunConfig().replace({"training.lr_schedule": {"kind": "step", "every": 5}})
    assert "adam lr 1e-3, lr ×0.5 every 5 epochs, batch 32" in summary_line(step)
    assert lever_summary(RunConfig().replace({"training.weight_decay": 0.0})) == "wd 0"


def test_cifar10_validates_on_a_fixed_part_of_its_test_images(qtbot, tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.show()
    # digits splits itself: the control is off and the config keeps all of it.
    assert not panel.validation_fraction.isEnabled()
    assert panel.config().data.validation_fraction == 1.0
    assert "√(p(1−p)/n)" in panel.validation_fraction.toolTip()
    _select(panel, "cifar10")
    assert panel.config().data.validation_fraction == 0.2
    assert panel.validation_fraction.isEnabled()
    assert panel.subset_note.text() == (
        "≈2,500 of 50,000 training images · validation: ≈2,000 of the 10,000 test images"
    )
    panel.validation_fraction.setValue(0.5)
    assert panel.subset_note.text().endswith("validation: ≈5,000 of the 10,000 test images")
    panel.validation_fraction.setValue(0.2)
    _select(panel, "mnist")  # CIFAR-10's own value left unchanged: all of MNIST's
    assert panel.config().data.validation_fraction == 1.0
    assert panel.subset_note.text().endswith("validation: the 10,000 test images")
    panel.validation_fraction.setValue(0.5)  # the user's own choice stays on such data
    _select(panel, "fashion_mnist")
    assert panel.config().data.validation_fraction == 0.5
    _select(panel, "digits")  # would be refused on data that splits itself
    assert panel.config().data.validation_fraction == 1.0
    assert not panel.validation_fraction.isEnabled()
    # A config shows as it is and comes back unchanged.
    shown = RunConfig.from_dict({"data": {"source": "cifar10", "validation_fraction": 0.35}})
    panel.set_config(shown)
    assert panel.config().data.validation_fraction == 0.35
    assert panel.config().to_dict() == shown.to_dict()
