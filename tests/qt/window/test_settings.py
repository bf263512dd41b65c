"""Remembered settings (isolated in FITGAP_HOME), File → Open/Save config, presets."""

from __future__ import annotations

import json

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.run.live import RunRequest
from fitgap_gui.qt.window import settings
from fitgap_gui.qt.window.main_window import MainWindow


def test_settings_live_in_fitgap_home_never_in_the_user_settings(fitgap_home):
    store = settings.open_settings()
    assert store.fileName() == str(fitgap_home / "settings.ini")


def test_settings_round_trip_config_geometry_splitter_and_folders(qtbot, fitgap_home, tmp_path):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    height = 711  # above the window's minimum (620); the offscreen screen is small
    first.resize(first.width(), height)
    size = first.size()
    assert size.height() == height
    first.splitter.setSizes([300, 600, 400])
    sizes = first.splitter.sizes()
    first.controls.set_config(RunConfig().replace({"model.dropout": 0.25, "training.epochs": 7}))
    settings.remember_folder("export", tmp_path / "somefile.csv")
    first.close()  # saves
    assert (fitgap_home / "settings.ini").is_file()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    config = second.controls.config()
    assert config.model.dropout == 0.25 and config.training.epochs == 7
    assert second.size() == size
    assert second.splitter.sizes() == sizes
    assert settings.last_folder("export") == str(tmp_path)


def test_a_started_run_remembers_the_controls_not_the_variant_it_trains(window):
    """Compare remedies trains variants of the controls; the controls are what is kept."""
    controls = RunConfig().replace({"model.dropout": 0.1})
    window.controls.set_config(controls)
    variant = controls.replace({"model.dropout": 0.5, "model.l2": 0.01})
    window.live_runs.begin(1, RunRequest(variant))
    assert settings.saved_config() == window.controls.config()
    assert settings.saved_config().model.dropout == 0.1


def test_a_stale_saved_config_is_ignored(window, fitgap_home):
    store = settings.open_settings()
    store.setValue(settings.KEY_CONFIG, json.dumps({"model": {"dropout": 7}}))
    assert settings.saved_config(store) is None


def test_open_and_save_config_use_the_cli_format(window, qtbot, tmp_path):
    files = window.config_files
    path = tmp_path / "mine.json"
    window.controls.set_config(RunConfig().replace({"model.l2": 0.01}))
    assert files.save_config(path)
    assert RunConfig.load(path).model.l2 == 0.01  # what `fitgap train --config` reads

    window.controls.set_config(RunConfig())
    assert files.open_config(path).model.l2 == 0.01
    assert window.controls.config().model.l2 == 0.01

    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"dropout": "lots"}}')
    with qtbot.waitSignal(window.error_shown, timeout=2_000) as blocker:
        assert files.open_config(bad) is None
    assert "dropout" in blocker.args[0] and "\n" not in blocker.args[0]
    with qtbot.waitSignal(window.error_shown, timeout=2_000):
        assert not files.save_config(tmp_path / "no-such-folder" / "x.json")


def test_presets_menu_loads_each_preset(window):
    actions = {a.text(): a for a in window.presets_menu.actions()}
    assert {"Dropout 0.5", "Early stopping", "L2 0.01", "Memorize noisy labels"} <= set(actions)
    window.controls.set_config(RunConfig())
    actions["Early stopping"].trigger()
    es = window.controls.config().early_stopping
    assert es.enabled and es.patience == 3 and es.restore_best_weights
    actions["Dropout 0.5"].trigger()
    assert window.controls.config().model.dropout == 0.5


def test_config_shortcuts_do_not_clash_with_other_file_actions(window):
    shortcuts = [
        a.shortcut().toString()
        for a in window.menus["file"].actions()
        if not a.shortcut().isEmpty()
    ]
    assert len(shortcuts) == len(set(shortcuts)), shortcuts
    texts = {a.text(): a.shortcut().toString() for a in window.menus["file"].actions()}
    assert texts["&Open config…"] == "Ctrl+Shift+O" and texts["&Save config…"] == "Ctrl+S"
