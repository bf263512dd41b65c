"""`fitgap export examples` and `fitgap clean`: the per-example CSV and the cleaned run."""

from __future__ import annotations

import csv
import json

import numpy as np

from fitgap_gui.cli import main
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.export.examples import EXAMPLE_COLUMNS
from fitgap_gui.core.store.runstore import RunStore


def test_export_examples_then_clean(write_config, tiny_config, tmp_path, capsys):
    import keras

    config = tiny_config.replace({"training.epochs": 2, "data.label_noise": 0.2})
    assert main(["train", "--config", str(write_config(config))]) == 0
    (parent,) = RunStore().list_runs()
    out = tmp_path / "examples.csv"
    assert main(["export", "examples", str(parent.run_id), "--out", str(out)]) == 0
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == EXAMPLE_COLUMNS
    table = {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}
    dataset = load_dataset(config.data, config.training.seed)
    assert len(rows) - 1 == len(dataset.y_train)
    # index: the row in the source as read (digits: sklearn's 1,797), before any split.
    from sklearn.datasets import load_digits

    digits = load_digits()
    index = np.array(table["index"], dtype=int)
    position = {int(r): i for i, r in enumerate(dataset.source_rows)}
    at = np.array([position[i] for i in index])
    original = np.array(table["original_label"], dtype=int)
    np.testing.assert_array_equal(original, digits.target[index])
    np.testing.assert_array_equal(np.array(table["given_label"], dtype=int), dataset.y_train[at])
    flipped = np.array(table["flipped"], dtype=int)
    assert flipped.sum() == len(dataset.flipped_rows) > 0
    np.testing.assert_array_equal(flipped, dataset.y_train[at] != original)
    # final_correct: the exported model's predictions on those rows.
    model_file = tmp_path / "model.keras"
    assert main(["export", "model", str(parent.run_id), "-o", str(model_file)]) == 0
    model = keras.models.load_model(model_file)
    predicted = model.predict(dataset.x_train[at], verbose=0).argmax(axis=1)
    final = np.array(table["final_correct"], dtype=int)
    np.testing.assert_array_equal(final, predicted == dataset.y_train[at])
    assert set(table["first_learned_epoch"]) <= {"", "1", "2"}
    assert all(0 <= float(c) <= 1 for c in table["confidence"])

    # The report gets the data map and the suspects' precision per epoch.
    report = tmp_path / "report.html"
    assert main(["export", "report", str(parent.run_id), "-o", str(report)]) == 0
    html = report.read_text()
    assert "Data map of run" in html and "Suspects vs flipped labels" in html
    assert html.count('fill-opacity="0.6"') == len(dataset.y_train)  # one dot per example

    capsys.readouterr()
    child_json = tmp_path / "child.json"
    assert main(["clean", str(parent.run_id), "--drop", "3", "--out", str(child_json)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(child_json.read_text())
    assert result["parent_run_id"] == parent.run_id and result["cleaning"]["k"] == 3
    child = RunStore().get_run(result["run_id"])
    assert (child.parent_run_id, child.branch_epoch) == (parent.run_id, None)
    assert child.config == parent.config  # same seed and split
    child_rows = stored_rows(child.run_id)
    assert len(child_rows) == len(dataset.y_train) - 3
    assert "parent" in printed and "child" in printed and "accuracy" in printed

    capsys.readouterr()  # its Keras script would train the parent's data: refused
    assert main(["export", "script", str(child.run_id), "-o", str(tmp_path / "c.py")]) == 2
    assert "cannot repeat yet" in capsys.readouterr().err
    assert main(["clean", str(parent.run_id), "--relabel", "9999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "k must be" in err[0]


def stored_rows(run_id: int) -> list:
    from fitgap_gui.core.export.examples import example_rows, stored_dynamics

    return example_rows(stored_dynamics(RunStore(), run_id))
