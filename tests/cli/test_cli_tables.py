"""`fitgap data show` and `fitgap train --label`: a real-world table without editing it."""

from __future__ import annotations

import json

import pytest

from fitgap_gui.cli import main


@pytest.fixture
def birds(tmp_path):
    """Text labels, a text category with NA, numbers with NA, an ID column."""
    rows = [
        f"{i},{['Adelie', 'Gentoo'][i % 2]},{['Biscoe', 'Dream', 'NA'][i % 3]},"
        f"{'NA' if i % 9 == 4 else 35 + 10 * (i % 2) + i % 5},{3000 + 50 * i}"
        for i in range(60)
    ]
    path = tmp_path / "birds.csv"
    path.write_text("rowid,species,island,bill,mass\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def test_data_show_prints_every_column_and_what_happens(birds, capsys):
    assert main(["data", "show", str(birds), "--label", "species"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "birds.csv: 60 rows, 5 columns"
    assert out[1].split() == ["column", "type", "distinct", "missing", "what", "happens"]
    assert out[2].split() == ["rowid", "integer", "60", "0", "dropped:", "every", "value",
                              "distinct", "(an", "ID?)"]  # fmt: skip
    assert out[4].split() == ["island", "text", "2", "20", "one-hot,", "2", "categories"]
    assert "label: 'species', 2 classes: Adelie 30, Gentoo 30" in out
    assert "notice: column 'bill': 7 missing cells filled with the training rows' median" in out


def test_data_show_of_a_label_that_cannot_be_used_ends_in_one_error_line(birds, capsys):
    assert main(["data", "show", str(birds), "--label", "mass"]) == 2
    captured = capsys.readouterr()
    assert "mass" in captured.out  # the table is still shown
    (line,) = captured.err.splitlines()
    assert line.startswith("error: ") and "looks like a regression target (60 distinct" in line


def test_train_with_a_label_column_keeps_the_class_names(birds, tmp_path, capsys):
    out = tmp_path / "result.json"
    args = ["train", "--data", str(birds), "--label", "species", "--epochs", "1"]
    assert main([*args, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["class_names"] == ["Adelie", "Gentoo"]
    assert result["config"]["data"]["label_column"] == "species"
    stdout = capsys.readouterr().out
    assert "column 'rowid' dropped: every value distinct (an ID?)" in stdout  # notices
    assert main(["runs", "show", str(result["run_id"])]) == 0
    assert "classes (2): Adelie, Gentoo" in capsys.readouterr().out
