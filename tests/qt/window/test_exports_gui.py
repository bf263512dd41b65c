"""File → Export from the window: CSV/JSON of the selected runs, plots as PNG/SVG, script."""

from __future__ import annotations

import csv
import json
import re

from support.runs import commit_run as _commit_run
from support.runs import train_in_window as _train

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore


def _two_runs(window):
    store = RunStore()
    ids = [
        _commit_run(store, RunConfig(), epochs=3, name="baseline"),
        _commit_run(store, RunConfig().replace({"model.dropout": 0.5}), epochs=2, name="drop"),
    ]
    window.runs_panel.refresh()
    window.runs_panel.select_runs(ids)
    return ids


def test_csv_and_json_of_the_selected_runs_in_one_click(window, tmp_path):
    ids = _two_runs(window)
    written = window.exporter.export_runs("csv", tmp_path / "runs.csv")
    assert written == [tmp_path / "runs.csv"]
    with open(written[0], newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["run_id"]), int(r["epoch"])) for r in rows] == [
        (ids[0], 1),
        (ids[0], 2),
        (ids[0], 3),
        (ids[1], 1),
        (ids[1], 2),
    ]
    assert rows[0]["run_name"] == "baseline"
    assert float(rows[2]["loss"]) == 1.0 / 3
    message = window.statusBar().currentMessage()
    assert "Exported 2 runs to" in message
    # A quick export reads "in 3 ms" or "in under 1 ms", never "in 0.00 s".
    assert re.search(r" in (under 1 ms|[1-9]\d* ms|\d+\.\d s)\.$", message), message

    written = window.exporter.export_runs("json", tmp_path / "runs.json")
    doc = json.loads(written[0].read_text())
    assert [run["name"] for run in doc["runs"]] == ["baseline", "drop"]
    assert len(doc["runs"][1]["history"]["val_loss"]) == 2


def test_an_export_error_is_one_line_in_the_window(window, qtbot, tmp_path):
    _two_runs(window)
    with qtbot.waitSignal(window.error_shown, timeout=2_000) as blocker:
        assert window.exporter.export_runs("csv", tmp_path / "missing" / "runs.csv") == []
    assert "does not exist" in blocker.args[0] and "\n" not in blocker.args[0]
    window.runs_panel.select_runs([])
    with qtbot.waitSignal(window.error_shown, timeout=2_000):
        assert window.exporter.export_runs("csv", tmp_path / "x.csv") == []


def test_plots_export_as_png_and_svg(window, tmp_path):
    _two_runs(window)
    png = window.exporter.export_png(tmp_path / "plots.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    svg = window.exporter.export_svg(tmp_path / "plots.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")
    # Vector curves, not a screenshot: 2 runs x 6 curves at least as polylines (only
    # the best-epoch dots are small bitmaps, pyqtgraph draws symbols from an atlas).
    assert text.count("<polyline") >= 12
    assert all(int(w) <= 20 for w in re.findall(r'<image[^>]* width="(\d+)"', text))
    # The run names are in the legends, as text.
    assert "baseline" in text and "drop" in text


def test_model_script_and_tensorboard_of_a_trained_run(ready_window, qtbot, tiny_config, tmp_path):
    window = ready_window
    run_id = _train(window, qtbot, tiny_config)
    window.runs_panel.select_runs([run_id])
    (model,) = window.exporter.export_runs("model", tmp_path / "model.keras")
    assert model.stat().st_size > 1000
    (script,) = window.exporter.export_runs("script", tmp_path / "run.py")
    text = script.read_text()
    assert (
        "import keras" in text
        and "fitgap" not in text.split("import keras")[1].lower().split("\n")[0]
    )
    (logdir,) = window.exporter.export_runs("tensorboard", tmp_path / "tb")
    assert list((logdir / "train").glob("events.out.tfevents.*"))
    assert list((logdir / "validation").glob("events.out.tfevents.*"))


def test_file_export_report_writes_one_html_file_with_the_names_escaped(window, tmp_path):
    ids = _two_runs(window)
    hostile = '<script>alert("x")</script> & <b>co</b>'
    window.runs_panel.store.rename_run(ids[1], hostile)
    window.runs_panel.refresh()
    window.runs_panel.select_runs(ids)
    # One step from the File menu, with report.html proposed.
    action = window.exporter.report_action
    assert action is not None and action in window.menus["file"].actions()
    assert "report" in action.text().lower()

    written = window.exporter.export_runs("report", tmp_path / "report.html")
    assert written == [tmp_path / "report.html"]
    html = written[0].read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "baseline" in html
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    assert "&lt;b&gt;co&lt;/b&gt;" in html and "<b>co</b>" not in html
    assert "Exported 2 runs to" in window.statusBar().currentMessage()


def test_export_report_proposes_report_html(window, tmp_path, monkeypatch):
    from fitgap_gui.qt.window import exports

    _two_runs(window)
    asked: list[str] = []

    def save_as(_parent, _title, start, _filters):  # the user types "lab" and saves
        asked.append(start)
        return str(tmp_path / "lab"), ""

    monkeypatch.setattr(exports.QFileDialog, "getSaveFileName", save_as)
    window.exporter.report_action.trigger()
    assert asked and asked[0].endswith("report.html")
    assert (tmp_path / "lab.html").read_text(encoding="utf-8").count("baseline") >= 1
