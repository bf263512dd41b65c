"""Texts the panels show: one number format, no Python reprs, no scientific notation."""

from __future__ import annotations

from fitgap_gui.qt.panels.diagnosis_panel import numbers_text


def test_diagnosis_numbers_read_as_losses_and_percentage_points():
    lines = numbers_text(
        {
            "best_epoch": 12,
            "epochs": 40,
            "epochs_past_best": 28,
            "gap_at_best": 0.0412,
            "gap_at_last": 0.31,
            "accuracy_gap_at_best": 0.05,
            "accuracy_gap_at_last": 0.2,
            "val_loss_slope": 0.00413,
        }
    )
    text = "\n".join(lines)
    assert "+0.0041 per epoch" in text
    assert "e-0" not in text and "[" not in text
    assert "+0.0412 at the best epoch, +0.3100 at the last" in text
    assert "+5.0 pp at the best epoch, +20.0 pp at the last" in text
