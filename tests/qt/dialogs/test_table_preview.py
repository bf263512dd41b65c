"""File → Open data on a real-world table: the column table, the label choice, refusals inside."""

from __future__ import annotations


def _penguins(path, label_last=False):
    """Text label, two text columns, NA cells, numbers (a penguins-like table)."""
    rows = []
    for i in range(60):
        species = ("Adelie", "Chinstrap", "Gentoo")[i % 3]
        island = ("Biscoe", "Dream")[i % 2]
        bill = "NA" if i % 20 == 5 else f"{35 + (i % 3) * 5 + (i % 7) * 0.3:.1f}"
        sex = "NA" if i % 15 == 4 else ("male", "female")[i % 2]
        rows.append([species, island, bill, str(3000 + (i % 3) * 800 + i), sex])
    header = ["species", "island", "bill_length_mm", "body_mass_g", "sex"]
    if label_last:  # a measurement last: the default label looks like a regression target
        header, rows = [*header, "mass"], [[*r, f"{i * 1.37:.2f}"] for i, r in enumerate(rows)]
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


def _open(window, qtbot, path):
    dialog = window.data_opener.open_path(path)
    qtbot.waitUntil(lambda: dialog.shown_once and dialog.busy.isHidden(), timeout=20_000)
    return dialog


def _choose(dialog, qtbot, name):
    with qtbot.waitSignal(dialog.preview_ready, timeout=20_000):
        dialog.label_column.setCurrentText(name)


def test_table_preview_shows_each_column_and_the_label_choice_is_per_file(window, qtbot, tmp_path):
    dialog = _open(window, qtbot, _penguins(tmp_path / "penguins.csv"))
    assert dialog.current is not None, dialog.message.text()
    choices = [dialog.label_column.itemText(i) for i in range(dialog.label_column.count())]
    assert choices == ["species", "island", "bill_length_mm", "body_mass_g", "sex"]
    assert dialog.label_column.currentText() == "sex"  # no label-like name: the last
    assert dialog.current.class_names == ["female", "male"]

    _choose(dialog, qtbot, "species")
    assert dialog.current.class_names == ["Adelie", "Chinstrap", "Gentoo"]
    rows = {row[0]: row for row in dialog.column_table.rows()}
    assert dialog.column_table.rows()[0][0] == "species"  # the label column first
    assert dialog.column_table.item(0, 0).font().bold()
    assert rows["island"][1:4] == ("text", "2", "none") and "one-hot" in rows["island"][4]
    assert rows["bill_length_mm"][1] == "number" and rows["bill_length_mm"][3] == "3"
    assert rows["sex"][3] == "4" and "one-hot" in rows["sex"][4]
    assert "median" in rows["bill_length_mm"][4]  # what is done to its missing cells

    _choose(dialog, qtbot, "island")
    assert dialog.current.class_names == ["Biscoe", "Dream"]
    assert dialog.column_table.rows()[0][0] == "island"
    dialog.use_button.click()
    assert window.controls.config().data.label_column == "island"

    # Another file starts from its own default: its label column is found afresh.
    other = tmp_path / "other.csv"
    other.write_text("a,b,kind\n" + "".join(f"{i},{i % 4},{'xy'[i % 2]}\n" for i in range(30)))
    second = _open(window, qtbot, other)
    assert second.current is not None, second.message.text()
    assert second.label_column.currentText() == "kind"
    assert second.current.class_names == ["x", "y"]


def test_a_label_that_does_not_fit_is_explained_inside_the_open_preview(window, qtbot, tmp_path):
    dialog = _open(window, qtbot, _penguins(tmp_path / "mass_last.csv", label_last=True))
    assert dialog.isVisible() and window.data_opener.dialog is dialog
    assert dialog.current is None and not dialog.use_button.isEnabled()
    reason = dialog.message.text()
    assert "regression" in reason and "60" in reason
    assert dialog.use_button.toolTip() == reason
    assert len(dialog.column_table.rows()) == 6  # the columns are shown all the same

    _choose(dialog, qtbot, "species")  # the right one: usable
    assert dialog.use_button.isEnabled() and dialog.current.class_names[0] == "Adelie"

    # Data that cannot be trained on as it is: still previewed, the reason inside.
    for name, text, words in (
        ("one.csv", "a,label\n1,0\n2,0\n3,0\n4,0\n", "class"),
        ("typo.csv", "a,label\n1,0\nfour,1\n3,0\n4,1\n", "four"),
    ):
        (tmp_path / name).write_text(text)
        refused = _open(window, qtbot, tmp_path / name)
        assert refused.isVisible() and not refused.use_button.isEnabled()
        assert words in refused.message.text() and refused.column_table.rowCount() == 2
