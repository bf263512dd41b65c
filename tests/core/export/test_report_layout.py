"""The report at 1200 pixels: the best-epochs table fits, only differing levers are
highlighted (a script's run beside FitGap's), and its charts follow the window's key."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.report import (
    ACCURACY_LINES,
    LOSS_LINES,
    chart,
    levers_table,
    render_report,
)
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.plots.texts import KEY as KEY_TEXT

HISTORY = {
    "loss": [1.9, 1.2, 0.8],
    "accuracy": [0.3, 0.6, 0.8],
    "val_loss": [1.8, 1.3, 1.2],
    "val_accuracy": [0.3, 0.55, 0.6],
    "train_eval_cross_entropy": [1.7, 1.1, 0.7],
    "train_eval_accuracy": [0.35, 0.62, 0.82],
    "val_cross_entropy": [1.75, 1.28, 1.18],
}
#: Pixels per character of the report's 13-pixel table text, generously.
CHAR_PX = 7.5
#: A cell's padding (8 + 8) and border.
CELL_PX = 17


def _record(store: RunStore, name: str, **kwargs) -> int:
    config = RunConfig().replace({"training.epochs": 3})
    run_id = store.create_run(config, name=name, **kwargs)
    for epoch in range(1, 4):
        store.append_epoch(
            run_id, EpochMetrics(epoch, {k: v[epoch - 1] for k, v in HISTORY.items()})
        )
    store.finish_run(run_id, RunResult(config, HISTORY, "early_stopped", 3, 2, run_id=run_id))
    return run_id


class _Table(HTMLParser):
    """The rows of cells of the table in the section with ``id``."""

    def __init__(self, section: str) -> None:
        super().__init__()
        self.section, self.inside, self.rows, self.cell = section, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.inside = dict(attrs).get("id") == self.section
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _narrowest(text: str) -> int:
    """The longest run of characters a browser cannot break (spaces, after hyphens)."""
    return max((len(word) for word in re.split(r"\s+|(?<=-)", text.strip())), default=1)


def test_the_best_epochs_table_fits_a_1200_pixel_window():
    store = RunStore()
    ids = [_record(store, "compare: + L2 0.01 (baseline has 0.001) (seed 4)") for _ in range(2)]
    html = render_report(store.get_runs(ids))
    parser = _Table("best")
    parser.feed(html)
    columns = list(zip(*parser.rows, strict=True))
    width = sum(max(_narrowest(c) for c in column) * CHAR_PX + CELL_PX for column in columns)
    # 1200 pixels of window, the page's max-width of 1100 (the body's CSS).
    assert "max-width: 1100px" in html
    assert width <= 1100, (width, [max(map(_narrowest, c)) for c in columns])


def test_only_levers_that_differ_are_highlighted_beside_a_scripts_run():
    store = RunStore()
    mine = _record(store, "fitgap run")
    other = _record(store, "fitgap dropout")
    about = {"script": "bc.py", "input_shape": [30], "train_samples": 341, "val_samples": 114}
    levers = {"layers": [], "dropout": [], "regularizers": [], "loss": "binary_crossentropy"}
    script = _record(store, "bc dense 64", kind="callback", levers=levers, script_data=about)
    runs = store.get_runs([mine, script])
    rows = {row["name"]: row for row in levers_table(runs)["rows"]}
    assert not any(row["differs"] for row in rows.values()), [
        name for name, row in rows.items() if row["differs"]
    ]
    assert rows["data"]["cells"] == [
        "-",
        "bc.py's data: 341 training, 114 validation samples, input (30,)",
    ]
    runs = store.get_runs([mine, other, script])
    runs[1].config = runs[1].config.replace({"model.dropout": 0.5})
    differs = [row["name"] for row in levers_table(runs)["rows"] if row["differs"]]
    assert differs == ["model.dropout"]


def test_the_report_charts_follow_the_windows_line_key():
    assert KEY_TEXT.startswith("solid: training (measured")
    loss = {line["key"]: line for line in chart(HISTORY, LOSS_LINES, "loss")["lines"]}
    accuracy = {line["key"]: line for line in chart(HISTORY, ACCURACY_LINES, "acc")["lines"]}
    for lines, measured in ((loss, "train_eval_cross_entropy"), (accuracy, "train_eval_accuracy")):
        assert lines[measured]["dash"] == ""  # solid: measured, as in the window
        assert lines[next(k for k in lines if k.startswith("val_"))]["dash"]  # dashed
    assert loss["loss"]["dash"] and loss["loss"]["label"] == "training, Keras's running mean"
    assert "val_cross_entropy" in loss and "val_loss" not in loss  # the measured one
    store = RunStore()
    html = render_report(store.get_runs([_record(store, "one")]))
    assert "Key: solid: training, measured" in html and "dash-dot: best epoch 2" in html


def test_a_legend_keeps_long_notes_out_of_its_unbreakable_entries(tmp_path):
    """Legend entries never wrap (``.legend span``: nowrap); a sentence in one ran 80 pixels
    past a 1200-pixel window (the data map's note), so notes go in their own block."""
    import numpy as np

    from fitgap_gui.core.results.examples import ExampleDynamics

    store = RunStore(tmp_path)
    run = store.get_run(_record(store, "mine"))
    dyn = ExampleDynamics(rows=np.arange(3), given=np.array([0, 1, 1]))
    dyn.update(1, np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]))
    html = render_report([run], examples_of=lambda run_id: dyn)
    captions = re.findall(r'<figcaption class="legend">(.*?)</figcaption>', html, re.S)
    assert any("training examples measured" in c for c in captions)  # the data map's note
    for caption in captions:
        for entry in re.findall(r"<span[^>]*>(.*?)</span>", caption, re.S):
            text = " ".join(re.sub(r"<[^>]+>", " ", entry).split())
            assert len(text) * CHAR_PX <= 400, text  # a chart is WIDTH pixels wide
