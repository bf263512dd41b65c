"""Experiments over several seeds in the window: repeats, bands, paired verdicts, and
the inference-mode training curve (measured at the epoch's end) on the plots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fitgap_gui.core.formatting import format_validation_loss
from fitgap_gui.core.results.stats import paired_comparison
from fitgap_gui.core.store.runstore import RunStore


def _t_text(values: list[float], spec: str) -> str:
    """mean ± half the 95 % t interval, computed here with scipy."""
    mean = float(np.mean(values))
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    return f"{mean:{spec}} ± {(high - low) / 2:{spec.lstrip('+')}}"


def test_compare_remedies_over_two_seeds_shows_bands_a_table_and_paired_verdicts(
    ready_window, tiny_config, finished_runs
):
    window = ready_window
    panel = window.experiments_panel
    base = tiny_config.replace({"training.epochs": 3})
    window.controls.set_config(base)
    panel.repeats_box.setValue(2)
    runs = finished_runs(window, panel.compare_remedies)

    # Five arms x two seeds, arm after arm; each run carries its arm and seed.
    assert len(runs) == 10
    seed = base.training.seed
    assert [r.config.training.seed for r in runs] == [seed, seed + 1] * 5
    assert runs[0].name == f"baseline (seed {seed})"
    assert runs[9].name == f"all three (seed {seed + 1})"
    assert panel.progress.text() == "done: 10 runs"

    # One table row per arm: mean ± half the 95 % interval over the two seeds.
    assert panel.table.rowCount() == 5
    arms = [runs[i : i + 2] for i in range(0, 10, 2)]
    # Judged by the delivered models' test numbers (without a test part: the best
    # epoch's validation numbers, and the headers say so).
    by_id = {r.run_id: r for r in panel.rows}
    test = panel.summaries[0].metric == "test_cross_entropy"

    def judged(run):
        if test:
            return by_id[run.run_id].test_cross_entropy, by_id[run.run_id].test_accuracy
        return run.best_metrics["val_cross_entropy"], run.best_metrics["val_accuracy"]

    for row, arm in enumerate(arms):
        ce = [judged(r)[0] for r in arm]
        acc = [100 * judged(r)[1] for r in arm]
        assert panel.table.item(row, 0).text() == arm[0].name.removesuffix(f" (seed {seed})")
        assert panel.table.item(row, 1).text().replace("\n", " ") == _t_text(ce, ".4f")
        cell = panel.table.item(row, 2).text().replace("%", "").replace("\n", " ")
        low, high = stats.t.interval(0.95, 1, loc=np.mean(acc), scale=stats.sem(acc))
        if max(acc) > min(acc) and (low < 0 or high > 100):
            # Clipped: the interval itself, within 0 to 100 %.
            assert cell == f"{np.mean(acc):.1f} {max(low, 0.0):.1f}–{min(high, 100.0):.1f}"
        else:
            assert cell == _t_text(acc, ".1f")
    # The paired comparison of "+ L2" with the baseline, from core.stats, in words:
    # two seeds hold the numbers and draw no verdict.
    base_ce = [judged(r)[0] for r in arms[0]]
    l2_ce = [judged(r)[0] for r in arms[2]]
    paired = paired_comparison(l2_ce, base_ce)
    assert paired.verdict == "too_few_seeds"
    assert panel.table.item(2, 5).text() == "too few\nseeds"
    tip = panel.table.item(2, 5).toolTip()
    assert tip.startswith("L2 0.001 ") and f"{paired.seeds_agree} of 2 seeds agree" in tip
    assert tip.endswith("too few seeds for a verdict (2 paired, 3 needed)")
    assert tip in panel.best_note.text().replace("&amp;", "&")
    assert panel.table.item(0, 5).text() == "–"  # the baseline is the reference
    lowest = min(panel.summaries, key=lambda a: a.judged.mean)
    assert lowest.versus_baseline is None or (
        "too few seeds to tell it from the baseline" in panel.best_note.text()
    )

    # The L2 runs' val_loss holds the penalty; where it is shown, it says so and how much.
    best = runs[4].best_metrics
    assert best["val_loss"] == pytest.approx(best["val_cross_entropy"] + best["penalty"], abs=1e-5)
    assert "includes the weight penalty" in format_validation_loss(best)
    window.runs_panel.refresh()
    table = window.runs_panel.table
    tips = {table.item(r, 0).text(): table.item(r, 0).toolTip() for r in range(table.rowCount())}
    assert "includes the weight penalty" in tips[runs[4].name]
    assert "penalty" not in tips[runs[0].name]  # the baseline has none

    # Each arm is one mean curve with a min-max band; its runs' own curves are hidden.
    plots = window.plots
    assert list(plots.bands) == [panel.table.item(r, 0).text() for r in range(5)]
    for arm in arms:
        band = plots.bands[arm[0].name.removesuffix(f" (seed {seed})")]
        assert band.run_ids == [r.run_id for r in arm]
        assert not any(plots.runs[r.run_id].visible for r in arm)
        histories = [RunStore().history(r.run_id)["val_cross_entropy"] for r in arm]
        n = min(len(h) for h in histories)
        val = np.array([h[:n] for h in histories], dtype=float)
        assert band.values["val_loss"][:n] == pytest.approx(val[:, :n].mean(axis=0))
        assert band.values["val_loss_low"][:n] == pytest.approx(val[:, :n].min(axis=0))
        assert band.values["val_loss_high"][:n] == pytest.approx(val[:, :n].max(axis=0))
        fill, _lower, _upper = band.fills[1]
        assert fill.isVisible() and fill.brush().color().alpha() < 80
        # The learning rate too, on its log plot: the band's mean sits at log10(rate).
        (lr_mean,) = [item for plot, item, _name in band.means if plot == "lr"]
        rate = base.training.learning_rate
        assert lr_mean.getData()[1][0] == pytest.approx(math.log10(rate))
        assert plots.plots["lr"].getViewBox().viewRange()[1][0] < math.log10(rate)
        assert plots.plots["lr"].getViewBox().viewRange()[1][1] > math.log10(rate)
    # The key names the arms with their bands; the hover reads the band's mean.
    assert "shaded band: min–max of 2 seeds" in plots.key_label.text().replace("&nbsp;", " ")
    # One colour per arm (the runs' own slots would repeat within five arms).
    assert len({band.colour for band in plots.bands.values()}) == 5
    text = plots.hover.show_at("loss", 1)
    assert "mean of 2 seeds, validation cross-entropy" in text

    # A new experiment clears the bands.
    panel.bands_cleared.emit()
    assert not plots.bands


def test_the_repeats_box_is_remembered_and_a_sweep_plots_one_mean_per_value(
    ready_window, tiny_config, finished_runs
):
    from fitgap_gui.qt.panels.experiments_panel import REPEATS_KEY
    from fitgap_gui.qt.window.settings import open_settings

    window = ready_window
    panel = window.experiments_panel
    panel.repeats_box.setValue(2)
    assert open_settings().value(REPEATS_KEY, type=int) == 2  # the next window opens with 2
    window.controls.set_config(tiny_config.replace({"training.epochs": 2}))
    runs = finished_runs(window, lambda: panel.start_sweep("model.dropout", [0.0, 0.3]))

    assert [r.config.model.dropout for r in runs] == [0.0, 0.0, 0.3, 0.3]
    assert [r.name for r in runs][:2] == ["dropout 0 (seed 1)", "dropout 0 (seed 2)"]
    assert panel.point_count() == 2
    xs, _train, val = panel.sweep_points()
    assert xs == [0.0, 0.0, 0.3, 0.3]
    assert val == pytest.approx([r.best_metrics["val_cross_entropy"] for r in runs])
    y = panel.val_points.yData
    assert y == pytest.approx([np.mean(val[:2]), np.mean(val[2:])])
    assert "mean of 2 seeds" in panel.sweep_plot.getAxis("left").labelText
    assert panel.table.rowCount() == 2


def test_plots_draw_the_end_of_epoch_training_curve_and_keras_running_mean_on_request(panel):
    history = {
        "loss": [1.0, 0.8, 0.6],
        "val_loss": [0.9, 0.8, 0.85],
        "accuracy": [0.5, 0.6, 0.7],
        "val_accuracy": [0.55, 0.6, 0.62],
        "train_eval_cross_entropy": [0.7, 0.5, 0.3],
        "train_eval_accuracy": [0.6, 0.7, 0.9],
        "cross_entropy": [0.95, 0.75, 0.55],
        "val_cross_entropy": [0.85, 0.75, 0.8],
        "penalty": [0.05, 0.05, 0.05],
    }
    curves = panel.show_history(1, "measured", history)
    loss_item = curves.curves[0][0]
    assert list(loss_item.yData) == history["train_eval_cross_entropy"]
    assert list(curves.curves[1][0].yData) == history["val_cross_entropy"]
    gap = dict(zip([s[1] for s in curves.spec], [c[0] for c in curves.curves], strict=True))
    assert gap["loss_gap"].yData == pytest.approx([0.15, 0.25, 0.5])  # val CE - train CE
    assert gap["accuracy_gap"].yData == pytest.approx([0.05, 0.1, 0.28])
    keras = gap["keras_loss"]
    assert not keras.isVisible()  # Keras's running mean only on request
    assert "end of epoch" in panel.hover.show_at("loss", 2)
    assert "Keras running-mean" not in panel.hover.show_at("loss", 2)

    panel.set_keras_running(True)
    assert keras.isVisible() and list(keras.yData) == history["loss"]
    assert keras.opts["pen"].color().alpha() < 255  # drawn faint
    assert "Keras running-mean training loss" in panel.hover.show_at("loss", 2)

    # A run stored before the end-of-epoch measurements falls back, labelled so.
    old = {k: history[k] for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
    old_curves = panel.show_history(2, "old", old)
    assert list(old_curves.curves[0][0].yData) == old["loss"]
    assert not dict(
        zip([s[1] for s in old_curves.spec], [c[0] for c in old_curves.curves], strict=True)
    )["keras_loss"].isVisible()  # its training curve already is Keras's
    assert "Keras running mean; old run" in panel.hover.show_at("loss", 2)
    assert "nats" in panel.plots["gap"].getAxis("left").labelText


def test_early_stopping_offers_val_cross_entropy_as_its_monitor(window):
    monitor = window.controls.monitor
    choices = [monitor.itemText(i) for i in range(monitor.count())]
    assert {"val_loss", "val_cross_entropy", "val_accuracy"} <= set(choices)
    assert "penalty" in monitor.toolTip()


def test_the_view_menu_draws_keras_running_mean_on_request_and_remembers_it(window):
    options = window.view_options
    assert not options.keras_action.isChecked() and not window.plots.keras_running
    options.keras_action.trigger()
    assert window.plots.keras_running
    assert options.settings.value("view/keras_running", type=bool)
    assert "running means" in options.keras_action.toolTip()


def test_the_sweep_dialog_sets_the_same_repeats_as_the_experiments_tab(window):
    from fitgap_gui.qt.dialogs.sweep_dialog import SweepDialog

    panel = window.experiments_panel
    dialog = SweepDialog(panel, window)
    assert dialog.repeats.value() == panel.repeats_box.value() == 3  # the default
    dialog.repeats.setValue(5)
    assert panel.repeats_box.value() == 5 and panel._saved_repeats() == 5
    panel.repeats_box.setValue(2)
    assert dialog.repeats.value() == 2


def test_a_band_over_runs_of_unequal_length_uses_the_runs_that_reached_each_epoch():
    from fitgap_gui.qt.plots.bands import band_statistics

    long = np.array([1.0, 0.8, 0.6, 0.5])
    short = np.array([0.9, np.nan, 0.7])  # a NaN epoch, then early stopping
    epochs, mean, low, high = band_statistics([long, short])
    assert list(epochs) == [1, 2, 3, 4]
    assert mean == pytest.approx([0.95, 0.8, 0.65, 0.5])
    assert low == pytest.approx([0.9, 0.8, 0.6, 0.5])
    assert high == pytest.approx([1.0, 0.8, 0.7, 0.5])
    _e, mean, low, _h = band_statistics([np.array([np.nan]), np.array([np.nan])])
    assert np.isnan(mean[0]) and np.isnan(low[0])  # no run has a value: no band there
