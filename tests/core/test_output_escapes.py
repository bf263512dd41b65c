"""User text leaving FitGap: escaped for the terminal, neutralised for spreadsheets.

Run names, data file names, paths and class labels reach ``fitgap train``,
``runs list``, ``runs show`` and ``error:`` lines with every control character and
bidi override escaped (an OSC title change never reaches the terminal raw), while
``--json``/``--jsonl`` stay valid JSON holding the text exactly.  CSV exports give a
text cell that a spreadsheet would run as a formula a leading quote; numbers stay
numbers.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.tables import best_row, write_rows
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.summary import RUNS_TABLE_NOTE
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_epoch
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable, spreadsheet_cell

OSC_TITLE = "\x1b]0;pwned\x07"
#: Hostile names: OSC, CSI colour and cursor moves, C1 CSI, DEL, bidi, separators.
NAMES = [
    f"title {OSC_TITLE}",
    "red \x1b[31mtext\x1b[0m \x1b[2J\x1b[H",
    "c1 \x9b31m \x85 del \x7f bell \x07 nul \x00",
    "bidi \u202eexe.txt\u202c \u2066x\u2069 \u200f",
    "two\nlines\rcarriage \u2028 sep \t tab",
]
RAW = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
RAW += ["\u202e", "\u202c", "\u2066", "\u2069", "\u200f", "\u2028"]


def _assert_no_raw_controls(text: str) -> None:
    """Only the newlines that end lines: no other control or bidi character at all."""
    for line in text.splitlines():
        bad = [ch for ch in line if ch in RAW]
        assert not bad, (line, bad)
    assert "\r" not in text and "\x1b" not in text


# -- the helpers ---------------------------------------------------------------------------------
def test_printable_escapes_controls_and_keeps_normal_text():
    assert printable(OSC_TITLE) == "\\x1b]0;pwned\\x07"
    assert printable("\x9b\x7f\x00\n\r\t") == "\\x9b\\x7f\\x00\\n\\r\\t"
    assert printable("a\u202eb\u2028c\u2066") == "a\\u202eb\\u2028c\\u2066"
    assert printable("bad utf-8 \udcff") == "bad utf-8 \\udcff"  # printing one would raise
    normal = 'Zoë\'s café 😀 日本 C:\\Users\\nina {0} %s "quoted" – Ω'
    assert printable(normal) == normal
    for name in NAMES:
        _assert_no_raw_controls(printable(name))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.5", "-0.5"),  # text that is only a number stays a number
        ("+1e-05", "+1e-05"),
        ("plain name", "plain name"),
        ("a=b", "a=b"),
        (-0.5, -0.5),
        (3, 3),
        (None, None),
    ],
)
def test_spreadsheet_cell(cell, expected):
    assert spreadsheet_cell(cell) == expected


# -- the CLI -------------------------------------------------------------------------------------
def _record(store: RunStore, config: RunConfig, name: str) -> int:
    history = {"loss": [0.9, 0.5], "accuracy": [0.5, 0.7], "val_loss": [1.0, 0.8]}
    history["val_accuracy"] = [0.4, 0.6]
    run_id = store.create_run(config, name=name)
    for epoch in (1, 2):
        metrics = {k: v[epoch - 1] for k, v in history.items()}
        store.append_epoch(run_id, EpochMetrics(epoch, metrics, seconds=0.01))
    result = RunResult(config, history, "completed", 2, best_epoch(history), run_id=run_id)
    store.finish_run(run_id, result, model_file=None)
    return run_id


@pytest.fixture
def hostile_runs(tmp_path):
    """Runs with hostile names, on data files with hostile names (in the levers)."""
    store = RunStore()
    ids = []
    for i, name in enumerate(NAMES):
        path = tmp_path / f"data {OSC_TITLE} {i}.csv"
        path.write_text("a,b\n1,x\n")
        config = RunConfig().replace({"data.source": "csv", "data.path": str(path)})
        ids.append(_record(store, config, name))
    return store, ids


def test_runs_list_and_show_escape_names_and_paths(hostile_runs, capsys):
    store, ids = hostile_runs
    assert main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    _assert_no_raw_controls(out)
    assert "title \\x1b]0;pwned\\x07" in out
    # A newline in a name breaks no row: the header, a row per run, a blank line, the note.
    assert len(out.splitlines()) == len(NAMES) + 2 + len(RUNS_TABLE_NOTE.splitlines())
    for run_id in ids:
        assert main(["runs", "show", str(run_id)]) == 0
        out = capsys.readouterr().out
        _assert_no_raw_controls(out)
        assert printable(store.get_run(run_id).name) in out
        assert "\\x1b]0;pwned\\x07" in out  # the data file's name, in the levers


def test_json_output_stays_valid_json_with_the_exact_names(hostile_runs, capsys):
    store, ids = hostile_runs
    assert main(["runs", "list", "--json"]) == 0
    out = capsys.readouterr().out
    _assert_no_raw_controls(out)
    stored = {run.run_id: run.name for run in store.list_runs()}
    assert {row["run_id"]: row["name"] for row in json.loads(out)} == stored
    assert main(["runs", "show", str(ids[0]), "--json"]) == 0
    out = capsys.readouterr().out
    _assert_no_raw_controls(out)
    assert json.loads(out)["name"] == NAMES[0]


def test_error_lines_escape_paths_and_arguments(tmp_path, capsys):
    missing = tmp_path / f"missing {OSC_TITLE}\u202e.csv"
    assert main(["train", "--data", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    _assert_no_raw_controls(err)
    assert "missing \\x1b]0;pwned\\x07\\u202e.csv" in err

    assert main(["runs", "list", f"extra {OSC_TITLE}"]) == 2  # argparse's own message
    err = capsys.readouterr().err
    assert err.startswith("error: unrecognized arguments") and len(err.splitlines()) == 1
    _assert_no_raw_controls(err)


def test_train_progress_escapes_the_file_name_and_jsonl_stays_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / f"train {OSC_TITLE}.csv"
    labels = [f"cat {OSC_TITLE}", "dog \u202e"]
    rows = [f"{x:.4f},{y:.4f},{labels[i % 2]}" for i, (x, y) in enumerate(rng.normal(size=(30, 2)))]
    path.write_text("x,y,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["train", "--data", str(path), "--epochs", "1", "--seed", "1"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    _assert_no_raw_controls(out + err)
    assert "train \\x1b]0;pwned\\x07" in out.splitlines()[0]

    assert main([*args, "--jsonl"]) == 0
    out, err = capsys.readouterr()
    _assert_no_raw_controls(out + err)
    assert [json.loads(line)["epoch"] for line in out.splitlines()] == [1]


# -- CSV exports ---------------------------------------------------------------------------------
FORMULAS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=tab", "\r=cr", "-0.5"]


def test_metrics_csv_neutralises_formula_names(tmp_path):
    store = RunStore()
    ids = [_record(store, RunConfig(), name) for name in FORMULAS]
    (path,) = export_runs(store, "csv", ids, tmp_path / "runs.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {int(row["run_id"]): row["run_name"] for row in rows}
    # create_run's name is stored as given; the store strips nothing here.
    expected = ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=tab", "'\r=cr", "-0.5"]
    assert [names[i] for i in ids] == expected
    assert float(rows[0]["loss"]) == 0.9  # numbers stay plain numbers


def test_sweep_csv_neutralises_text_cells_and_keeps_negative_numbers(tmp_path):
    history = {"loss": [1.0], "val_loss": [0.5], "accuracy": [0.5], "val_accuracy": [0.9]}
    # The gap is the inference-mode one: validation minus training cross-entropy at the epoch's end.
    history |= {"val_cross_entropy": [0.5], "train_eval_cross_entropy": [1.0]}
    history |= {"train_eval_accuracy": [0.5]}
    result = RunResult(RunConfig(), history, "completed", 1, best_epoch=1, run_id=3)
    rows = [best_row(result, value="=cmd|'/C calc'!A0"), best_row(result, value=-0.25)]
    rows.append(best_row(result, label="@label", value=[8, 8]))
    write_rows(tmp_path / "rows.csv", rows, param="+param")
    with (tmp_path / "rows.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["value"] for r in records] == ["'=cmd|'/C calc'!A0", "-0.25", "[8, 8]"]
    assert [r["label"] for r in records] == ["'=cmd|'/C calc'!A0", "-0.25", "'@label"]
    assert {r["param"] for r in records} == {"'+param"}
    assert records[1]["gap"] == "-0.5" and records[1]["accuracy_gap"] == "-0.4"
