"""A table's class names, not numbers, in the confusion matrix and the mistakes."""

from __future__ import annotations

import numpy as np

from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.diagnosis.insights import validation_insight
from fitgap_gui.qt.panels.insights_validation import ValidationView


def _payload(class_names):
    y_val = np.array([0, 1, 2, 2, 1, 0])
    x_val = np.eye(3)[[0, 1, 2, 1, 1, 0]]  # row 3 (a Gentoo) looks like a Chinstrap
    dataset = Dataset(x_val, y_val, x_val, y_val, class_names, "penguins")
    insight = validation_insight(lambda x: 0.1 + 0.7 * x, dataset)
    wrong = [vars(m) for m in insight.misclassified]
    return {
        "epoch": 3,
        "which": "best",
        "confusion": insight.confusion,
        "class_names": insight.class_names,
        "accuracy": insight.accuracy,
        "n_wrong": len(wrong),
        "misclassified": wrong,
        "is_image": False,
    }


def test_confusion_matrix_and_mistakes_name_the_classes(qtbot):
    view = ValidationView()
    qtbot.addWidget(view)
    view.show_insight(_payload(["Adelie", "Chinstrap", "Gentoo"]))
    headers = [view.table.horizontalHeaderItem(i).text() for i in range(3)]
    assert headers == ["Adelie", "Chinstrap", "Gentoo"]
    assert view.table.verticalHeaderItem(2).text() == "Gentoo"
    assert view.table.item(2, 1).text() == "1"  # true Gentoo, predicted Chinstrap
    assert "validation row 3: Gentoo → Chinstrap (80%)" in view.mistakes_title.text()

    view.show_insight(_payload(["0", "1", "2"]))  # no names: the numbers stay
    assert view.table.horizontalHeaderItem(2).text() == "2"
    assert "validation row 3: 2 → 1" in view.mistakes_title.text()
