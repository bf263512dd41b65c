"""File → Open data…: the preview before training, its options, refusals, and applying it."""

from __future__ import annotations

import numpy as np
import pytest
import shiboken6
from PIL import Image

from fitgap_gui.core.data.readers.keras_cache import datasets_dir
from fitgap_gui.core.store.runstore import RunStore


def _preview(window, qtbot, path):
    """Open ``path`` and wait until its preview is shown."""
    opener = window.data_opener
    dialog = opener.open_path(path)
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=20_000)
    return dialog


def _image_folder(root, per_class=6, broken=True):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "eel"):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, size=(12 + i, 10, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    if broken:
        (root / "dog" / "torn.png").write_bytes(b"\x89PNG not really")
    return root


def test_menu_has_open_data_with_ctrl_o_and_an_image_folder_entry(window):
    texts = [a.text() for a in window.menus["file"].actions()]
    assert "&Open data…" in texts and "Open &image folder…" in texts
    assert window.data_opener.open_action.shortcut().toString() == "Ctrl+O"
    # File entries sit above Quit.
    assert texts.index("&Open data…") < texts.index("&Quit")


def test_keras_cache_entries_greyed_with_the_missing_file_and_folder(window, qtbot, keras_home):
    folder = keras_home
    assert datasets_dir() == folder
    x = np.zeros((6, 28, 28), np.uint8)
    np.savez(folder / "mnist.npz", x_train=x, y_train=np.arange(6) % 2, x_test=x[:2],
             y_test=np.array([0, 1]))  # fmt: skip
    window.data_opener.fill_keras_menu()
    entries = {
        a.text().split(":")[0].split(" (")[0]: a for a in window.data_opener.keras_menu.actions()
    }
    assert entries["MNIST"].isEnabled() and "cached" in entries["MNIST"].text()
    fashion = entries["Fashion-MNIST"]
    assert not fashion.isEnabled()
    assert "train-labels-idx1-ubyte.gz" in fashion.text()
    assert str(folder / "fashion-mnist") in fashion.text()
    assert not entries["CIFAR-10"].isEnabled()

    # The cached one opens in the preview: its official test set is the test part, and
    # validation is split from its training images.
    opener = window.data_opener
    entries["MNIST"].trigger()
    dialog = opener.dialog
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=20_000)
    assert (dialog.current.n_train, dialog.current.n_val, dialog.current.n_test) == (4, 2, 2)
    assert _facts(dialog)["Test part"] == "2: MNIST's official test set"
    assert len(dialog.image_labels()) == 6  # drawn from the 6 training images

    # Opening another source replaces the dialog; the opener follows the newest one.
    second = opener.open_keras("mnist")
    qtbot.waitUntil(lambda: second.current is not None, timeout=20_000)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5_000)  # closed, deleted
    assert opener.dialog is second
    second.use_button.click()
    assert window.controls.config().data.source == "mnist"
    assert window.controls.config().model.kind == "cnn"  # the window picks the CNN
    assert "CNN chosen for MNIST" in window.statusBar().currentMessage()


def test_csv_preview_shows_counts_delimiter_header_and_label_column(window, qtbot, tmp_path):
    path = tmp_path / "flowers.csv"
    rows = ["a;b;kind"] + [f"{i};{i * 2};{'rose' if i % 3 else 'tulip'}" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    dialog = _preview(window, qtbot, path)

    p = dialog.current
    assert (p.n_samples, p.n_features) == (30, 2)
    assert dict(zip(p.class_names, p.class_counts, strict=True)) == {"rose": 20, "tulip": 10}
    facts = _facts(dialog)
    assert facts["Delimiter"] == "semicolon" and facts["Header row"] == "yes"
    assert facts["Label column"] == "kind"  # the last column, found without being named
    assert facts["Training / validation"].startswith("19 / 5")
    assert facts["Test part"] == "6: 20 % of the rows, drawn first"
    assert dialog.classes.rowCount() == 2 and dialog.classes.item(0, 0).text() == "rose"
    assert dialog.image_labels() == []  # table rows have no pictures
    assert dialog.use_button.isEnabled()


def _facts(dialog):
    form = dialog.facts
    out = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole).widget().text()
        out[label] = form.itemAt(row, form.ItemRole.FieldRole).widget().text()
    return out


def test_changing_the_label_column_previews_again_and_use_applies_it(window, qtbot, tmp_path):
    path = tmp_path / "two.csv"
    rows = ["x,group,y"] + [f"{i},{i % 2},{i % 3}" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    dialog = _preview(window, qtbot, path)
    assert len(dialog.current.class_names) == 3  # "y" is a label name it looks for

    with qtbot.waitSignal(dialog.preview_ready, timeout=20_000):
        dialog.label_column.setCurrentText("group")  # a combo of the file's columns
    assert len(dialog.current.class_names) == 2
    assert _facts(dialog)["Label column"] == "group"
    dialog.use_button.click()
    data = window.controls.config().data
    assert (data.source, data.path, data.label_column) == ("csv", str(path), "group")
    assert not dialog.isVisible()

    # The same file keeps its label; one it lacks is explained inside the open dialog.
    window.controls.set_config(window.controls.config().replace({"data.label_column": "nope"}))
    dialog = window.data_opener.open_path(path)
    with qtbot.waitSignal(dialog.preview_failed, timeout=20_000) as failed:
        pass
    assert "'nope'" in failed.args[0] and failed.args[0] == dialog.message.text()
    assert dialog.isVisible() and not dialog.use_button.isEnabled()
    with qtbot.waitSignal(dialog.preview_ready, timeout=20_000):
        dialog.label_column.setCurrentText("y")
    assert len(dialog.current.class_names) == 3 and dialog.use_button.isEnabled()


def test_image_folder_preview_shows_images_skipped_count_and_size_options(window, qtbot, tmp_path):
    root = _image_folder(tmp_path / "pets")
    dialog = _preview(window, qtbot, root)
    p = dialog.current
    assert p.class_names == ["cat", "dog", "eel"] and p.class_counts == [6, 6, 6]
    assert "1 unreadable" in _facts(dialog)["Skipped images"]
    cells = dialog.image_labels()
    assert len(cells) == 12 and not cells[0].pixmap().isNull()
    assert p.input_shape == (32, 32, 3)

    with qtbot.waitSignal(dialog.preview_ready, timeout=20_000):
        dialog.image_height.setValue(16)
        dialog.grayscale.setChecked(True)
    assert dialog.current.input_shape[:2] == (16, 32)
    assert dialog.current.sample_images[0][0].ndim == 2  # grey pixels
    dialog.use_button.click()
    data = window.controls.config().data
    assert data.source == "images" and data.path == str(root)
    assert data.image_size == [16, 32] and data.grayscale


def test_npz_preview_reports_the_presplit_sizes(window, qtbot, tmp_path):
    path = tmp_path / "arrays.npz"
    rng = np.random.default_rng(1)
    np.savez(
        path,
        x_train=rng.normal(size=(20, 5)),
        y_train=np.arange(20) % 2,
        x_val=rng.normal(size=(8, 5)),
        y_val=np.arange(8) % 2,
    )
    dialog = _preview(window, qtbot, path)
    assert (dialog.current.n_train, dialog.current.n_val) == (20, 8)
    assert "pre-split" in _facts(dialog)["Training / validation"]
    # its own validation rows but no test rows: the dialog says there is no test part
    assert _facts(dialog)["Test part"] == (
        "none: the NPZ brings its own validation rows but no test rows"
    )


def _written(name: str, content: bytes):
    def make(folder):
        (folder / name).write_bytes(content)
        return folder / name

    return make


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d / "missing.csv",
        _written("empty.csv", b""),
        _written("bad.npz", b"PK\x03\x04 torn"),
        lambda d: _image_folder(d / "imgs", per_class=1, broken=False).parent / "imgs" / "cat",
    ],
    ids=["missing", "empty", "corrupt-npz", "no-class-folders"],
)
def test_a_broken_file_is_refused_in_the_error_dialog_and_nothing_else_changes(
    ready_window, qtbot, tmp_path, tiny_config, make
):
    window = ready_window
    window.controls.set_config(tiny_config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    store = RunStore()
    before = [(r.run_id, r.status, r.epochs_run) for r in store.list_runs()]
    assert len(before) == 1

    path = make(tmp_path)
    with qtbot.waitSignal(window.error_shown, timeout=20_000) as shown:
        window.data_opener.open_path(path)
    message = shown.args[0]
    assert str(path) in message and "\n" not in message
    assert window._error_box.isVisible() and window._error_box.text() == message
    assert window.data_opener.dialog is None  # the preview dialog closed itself
    assert [(r.run_id, r.status, r.epochs_run) for r in store.list_runs()] == before
    assert window.controls.config().data.source == "digits"  # the controls are untouched

    # The window is still usable: it trains again.
    window._error_box.close()
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    assert len(store.list_runs()) == 2 and store.list_runs()[0].status == "completed"


def test_closing_the_window_while_a_preview_reads_waits_for_it(window, qtbot, tmp_path):
    root = _image_folder(tmp_path / "many", per_class=40, broken=False)
    opener = window.data_opener
    opener.open_path(root)
    assert opener.is_running()
    window.close()  # deferred until the preview thread is done, never destroyed running
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert not opener.is_running()


def test_opening_ones_own_csv_drops_the_demo_handicaps(window, qtbot, tmp_path):
    from fitgap_gui.core.export.summary import summary_line

    demo = window.controls.config()
    assert demo.data.source == "digits" and demo.data.train_fraction < 1.0
    assert demo.data.label_noise > 0.0 and "handicaps: trains on 25%" in summary_line(demo)

    path = tmp_path / "easy.csv"
    rows = ["a,b,label"] + [f"{i % 2},{i % 2},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    dialog = _preview(window, qtbot, path)
    dialog.use_button.click()
    config = window.controls.config()
    assert (config.data.source, config.data.train_fraction, config.data.label_noise) == (
        "csv",
        1.0,
        0.0,
    )
    assert "no handicaps" in summary_line(config)
    assert config.model == demo.model  # only the data and its handicaps changed


def test_opening_a_csv_after_a_cnn_resets_the_network_to_mlp_with_a_note(window, qtbot, tmp_path):
    window.controls.kind.setCurrentText("cnn")  # digits can use the CNN
    assert window.controls.config().model.kind == "cnn"
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    dialog = _preview(window, qtbot, path)
    dialog.use_button.click()
    assert window.controls.config().model.kind == "mlp"  # no ConfigError at Train
    assert "Network reset to mlp" in window.statusBar().currentMessage()


def test_keras_entries_say_not_downloaded_and_that_fitgap_never_downloads(window, keras_home):
    window.data_opener.fill_keras_menu()
    for action in window.data_opener.keras_menu.actions():
        assert not action.isEnabled()
        assert "not downloaded (FitGap never downloads)" in action.text()
