"""The compare and sweep tables: a header on every column, text starts and numbers end
where the header's do, empty cells print "-", a key line explains every mark."""

from __future__ import annotations

import argparse
import json
import re

from fitgap_gui.cli.common import load_config
from fitgap_gui.core.config.defaults import default_config
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.plans import nothing_to_fix
from fitgap_gui.core.experiments.tables import (
    ROW_KEY,
    SUMMARY_KEY,
    ResultRow,
    format_row,
    format_summary,
    header_lines,
    row_columns,
    row_header,
    summarize,
    summary_columns,
)

ARMS = ["baseline", "+ early stopping (patience 2; baseline has 5)", "+ dropout 0.3"]


def _row(label, seed, test, best=3, epochs=3, restored=False) -> ResultRow:
    return ResultRow(
        label=label, value=None, run_id=10 + seed, status="completed", epochs_run=epochs,
        best_epoch=best, val_loss=0.5, val_accuracy=0.8, loss=0.3, accuracy=0.9, gap=0.1,
        accuracy_gap=0.05, verdict=None, seconds=1.0, val_cross_entropy=0.5 + seed / 10,
        seed=seed, restored_best=restored, delivered_epoch=epochs, test_cross_entropy=test,
        test_accuracy=None if test is None else 0.8, test_n=None if test is None else 40,
        delivered_gap=0.2,
    )  # fmt: skip


def _check_aligned(header: str, lines: list[str], columns) -> None:
    """Each cell starts (text) or ends (numbers) where its title does; none is empty."""
    titles = header.splitlines()[-1]
    for line in lines:
        at = 0
        for col in columns:
            start = titles.index(col.title, at)
            cell = line[at : at + col.width]
            assert cell.strip(), (line, col.title)
            if col.numeric:
                assert line[start + len(col.title) - 1] != " ", (line, col.title)
            else:
                assert line[start] != " ", (line, col.title)
            at += col.width + 2


def test_the_per_run_table_aligns_names_the_arm_and_explains_its_marks():
    columns = row_columns("arm", ARMS)
    header = row_header(columns)
    assert header.splitlines()[-1].startswith("arm ")
    rows = [
        format_row(_row(ARMS[1], 0, None, best=15, epochs=17, restored=True), columns),
        format_row(_row(ARMS[0], 1, 0.61), columns),
    ]
    _check_aligned(header, rows, columns)
    assert not re.search(r"\d+r\b", "\n".join(rows))  # no "15r"
    assert " - " in rows[0]  # no test part: "-", never a blank
    for mark in ("restored yes", "- = none", "best ="):
        assert mark in " ".join(ROW_KEY.split())


def test_the_summary_aligns_long_arm_names():
    arms = summarize(
        [
            (ARMS[0], [_row(ARMS[0], s, 0.6 + s / 10) for s in range(3)]),
            (ARMS[1], [_row(ARMS[1], s, 0.5 + s / 10) for s in range(3)]),
        ]
    )
    columns = summary_columns(arms)
    header = header_lines(columns)
    lines = [format_summary(arm, columns) for arm in arms]
    _check_aligned(header, lines, columns)
    assert ARMS[1] in lines[1]  # never cut
    assert "m ± h" in SUMMARY_KEY and "- = none" in SUMMARY_KEY


def test_a_baseline_best_at_its_last_epoch_has_nothing_to_fix():
    flat = summarize([("baseline", [_row("baseline", s, 0.6, best=15, epochs=15) for s in (0, 1)])])
    note = nothing_to_fix(flat)
    assert note.startswith("the baseline did not overfit on any seed")
    assert "nothing to fix" in note and "15 of 15" in note
    json.dumps({"note": note})
    overfit = summarize(
        [("baseline", [_row("baseline", s, 0.6, best=5, epochs=15) for s in (0, 1)])]
    )
    assert nothing_to_fix(overfit) is None


def test_without_config_the_window_preset_and_missing_keys_keep_their_defaults(tmp_path):
    args = argparse.Namespace(config=None, data=None, epochs=None, seed=None)
    assert load_config(args) == default_config() != RunConfig()
    partial = tmp_path / "partial.json"
    partial.write_text('{"model": {"dropout": 0.4}}', encoding="utf-8")
    config = load_config(argparse.Namespace(config=str(partial), data=None, epochs=None, seed=None))
    assert config == RunConfig().replace({"model.dropout": 0.4})
