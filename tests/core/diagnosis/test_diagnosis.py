"""Diagnosis: verdicts on real tiny training runs and on hand-made histories."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.diagnosis.advice import would_have_stopped
from fitgap_gui.core.diagnosis.verdict import diagnose, smooth
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import train
from fitgap_gui.core.store.runstore import RunStore

# -- real training scenarios ---------------------------------------------------------------------
#: A wide network on 142 digits, 30% of their labels flipped: it memorizes the noise.
MEMORIZE = {
    "data": {"source": "digits", "train_fraction": 0.1, "label_noise": 0.3},
    "model": {"hidden_units": [256]},
    "training": {"epochs": 24, "learning_rate": 0.003, "seed": 0},
}
#: Two hidden units cannot separate ten digit classes in a few epochs.
TOO_SMALL = {
    "data": {"source": "digits"},
    "model": {"hidden_units": [2]},
    "training": {"epochs": 8, "seed": 0},
}
#: Dropout and L2 on all 1,437 training digits: validation follows training.
REGULARIZED = {
    # Every digits row trains or validates: the subject is enough data, not the test part.
    "data": {"source": "digits", "scale": "minmax", "test_split": 0.0},
    "model": {"hidden_units": [64], "dropout": 0.3, "l2": 1e-3},
    "training": {"epochs": 20, "learning_rate": 0.003, "seed": 0},
}


def _train(raw: dict):
    config = RunConfig.from_dict(raw)
    dataset = load_dataset(config.data, config.training.seed)
    return config, dataset, train(config, dataset)


def test_wide_network_on_noisy_labels_reads_overfitting_with_its_onset():
    config, dataset, result = _train(MEMORIZE)
    diagnosis = diagnose(result.history, config, n_classes=dataset.n_classes)
    assert diagnosis.verdict == "overfitting", diagnosis.summary
    # Validation loss is lowest around epochs 3-10 on this data; training loss keeps falling.
    assert 3 <= diagnosis.onset_epoch <= 15
    val = result.history["val_loss"]
    assert val[-1] > min(val) + 0.05
    assert result.history["loss"][-1] < result.history["loss"][diagnosis.onset_epoch - 1] / 3
    numbers = diagnosis.numbers
    assert numbers["gap_at_last"] > numbers["gap_at_best"] > 0
    assert numbers["val_loss_slope"] > 0
    keys = [a.key for a in diagnosis.advice]
    assert keys[0] == "early_stopping"
    assert {"label_noise", "more_data", "dropout", "l2", "smaller_model"} <= set(keys)


def test_would_have_stopped_matches_a_real_keras_early_stopping_run():
    config, dataset, full = _train({**MEMORIZE, "training": {**MEMORIZE["training"], "epochs": 15}})
    estimate = would_have_stopped(full.history, patience=2)
    stopped = train(
        config.replace({"early_stopping.enabled": True, "early_stopping.patience": 2}), dataset
    )
    assert stopped.status == "early_stopped"
    assert estimate.stopped_epoch == stopped.stopped_epoch
    assert estimate.best_epoch == stopped.best_epoch
    assert estimate.epochs_saved == 15 - stopped.stopped_epoch
    # Early stopping draws no random numbers: the stopped run is a prefix of the full one.
    n = stopped.epochs_run
    np.testing.assert_allclose(stopped.history["val_loss"], full.history["val_loss"][:n], rtol=1e-5)


def test_two_hidden_units_read_underfitting():
    config, dataset, result = _train(TOO_SMALL)
    diagnosis = diagnose(result.history, config, n_classes=dataset.n_classes)
    assert diagnosis.verdict == "underfitting", diagnosis.summary
    assert diagnosis.onset_epoch is None
    first = diagnosis.advice[0]
    assert first.key == "bigger_model"
    assert first.changes["model.hidden_units"][0] > 2
    assert "dropout" not in [a.key for a in diagnosis.advice]


def test_regularized_network_with_enough_data_reads_good_fit_and_is_stored():
    config = RunConfig.from_dict(REGULARIZED)
    store = RunStore()
    result = run_recorded(config, store, save_model=False)
    assert result.diagnosis["verdict"] == "good_fit", result.diagnosis["summary"]
    stored = store.get_run(result.run_id).to_dict()
    assert stored["diagnosis"] == result.diagnosis
    assert abs(stored["diagnosis"]["numbers"]["gap_at_last"]) < 0.1
    json.dumps(stored, allow_nan=False)


# -- hand-made histories --------------------------------------------------------------------------
def _history(loss, val, acc=None, val_acc=None):
    out = {"loss": list(loss), "val_loss": list(val)}
    if acc is not None:
        out.update(accuracy=list(acc), val_accuracy=list(val_acc))
    return out


def _overfit_curve(n=60, onset=15, noise=0.0, seed=0):
    epochs = np.arange(1, n + 1)
    loss = 1.5 * np.exp(-epochs / 8) + 0.01
    val = 0.5 + 1.0 * np.exp(-epochs / 5) + 0.004 * np.maximum(0, epochs - onset) ** 1.3
    val += np.random.default_rng(seed).normal(scale=noise, size=n)
    return _history(loss, val)


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_synthetic_overfitting_finds_the_onset_despite_noise(noise):
    history = _overfit_curve(noise=noise)
    true_low = int(np.argmin(_overfit_curve()["val_loss"])) + 1
    diagnosis = diagnose(history)
    assert diagnosis.verdict == "overfitting"
    assert abs(diagnosis.onset_epoch - true_low) <= 5


def test_validation_creeping_down_while_training_collapses_is_a_plateau_not_overfitting():
    # Validation loss drifts from 1.0 to 0.97 over 30 epochs while training loss falls
    # from 1.2 to 0.05: the network stopped generalizing better around epoch 6, but
    # validation never got worse, so no overfitting verdict: a plateau, with the advice
    # against a widening gap.
    epochs = np.arange(1, 41)
    loss = 1.2 * np.exp(-(epochs - 1) / 8) + 0.05
    val = np.where(epochs < 6, 2.0 - epochs / 5, 1.0 - 0.001 * (epochs - 6))
    diagnosis = diagnose(_history(loss, val))
    assert diagnosis.verdict == "inconclusive"
    assert diagnosis.summary.startswith("plateau since epoch")
    assert 4 <= diagnosis.numbers["stall_epoch"] <= 10
    assert {"dropout", "l2"} <= {a.key for a in diagnosis.advice}


def test_overfitting_cut_short_by_early_stopping_says_which_weights_were_kept():
    history = {k: v[:40] for k, v in _overfit_curve().items()}
    config = RunConfig().replace(
        {"early_stopping.enabled": True, "early_stopping.patience": 20, "training.epochs": 60}
    )
    diagnosis = diagnose(history, config)
    assert diagnosis.verdict == "overfitting"
    kept = would_have_stopped(history, patience=20).best_epoch
    assert diagnosis.summary.endswith(
        f"early stopping ended the run at epoch 40 and kept the weights of epoch {kept}"
    )
    assert "early_stopping" not in [a.key for a in diagnosis.advice]


def test_one_bad_epoch_is_not_overfitting():
    epochs = np.arange(1, 31)
    loss = 1.0 * np.exp(-epochs / 6) + 0.2
    val = loss + 0.03
    val[-1] += 0.3  # a single spike at the end
    assert diagnose(_history(loss, val)).verdict == "good_fit"


def test_short_history_is_inconclusive_and_asks_for_epochs():
    config = RunConfig().replace({"training.epochs": 3})
    diagnosis = diagnose(_history([2.0, 1.5, 1.2], [2.1, 1.7, 1.5]), config)
    assert diagnosis.verdict == "inconclusive"
    assert diagnosis.advice[0].changes == {"training.epochs": 20}
    # While a longer run is still going, there is nothing to click yet.
    assert diagnose(_history([2.0, 1.5], [2.1, 1.7]), RunConfig()).advice == []


def test_flat_and_noisy_histories_are_inconclusive():
    flat = diagnose(_history([0.7] * 30, [0.72] * 30))
    assert flat.verdict == "inconclusive" and "barely moved" in flat.summary
    rng = np.random.default_rng(3)
    noisy = diagnose(_history(0.5 + 0.01 * rng.normal(size=40), 1.0 + 0.6 * rng.normal(size=40)))
    assert noisy.verdict == "inconclusive"
    assert noisy.advice[0].key == "bigger_validation_set"


def test_empty_or_no_validation_is_inconclusive():
    assert diagnose({}).verdict == "inconclusive"
    for history in ({"loss": [1.0] * 10}, {"loss": [1.0] * 10, "val_loss": []}):
        diagnosis = diagnose(history)
        assert diagnosis.verdict == "inconclusive"
        assert diagnosis.summary == "no validation loss to compare"


def test_label_noise_raises_the_bar_for_underfitting():
    # Loss 1.35 with 10 classes: poor for clean labels, near the best possible with 30% noise.
    n = 20
    loss = np.linspace(1.5, 1.35, n)
    history = _history(loss, loss + 0.02, np.full(n, 0.66), np.full(n, 0.65))
    clean = RunConfig()
    noisy = clean.replace({"data.label_noise": 0.3})
    assert diagnose(history, clean).verdict == "underfitting"
    assert diagnose(history, noisy).verdict == "good_fit"


def test_underfitting_cut_short_by_early_stopping_asks_for_patience():
    config = RunConfig().replace(
        {"early_stopping.enabled": True, "early_stopping.patience": 2, "training.epochs": 50}
    )
    loss = np.linspace(2.3, 2.0, 8)
    diagnosis = diagnose(_history(loss, loss + 0.01), config)
    assert diagnosis.verdict == "underfitting"
    keys = [a.key for a in diagnosis.advice]
    assert "more_patience" in keys and "more_epochs" not in keys
    assert diagnosis.advice[keys.index("more_patience")].changes == {"early_stopping.patience": 5}


def test_diverged_history_advises_a_lower_learning_rate_first():
    loss = [2.0, 1.5, 1.2, 1.0, 0.9, 0.85, float("nan")]
    val = [2.1, 1.6, 1.3, 1.1, 1.0, 0.95, None]
    diagnosis = diagnose(_history(loss, val))
    assert diagnosis.numbers["diverged"] is True
    assert diagnosis.advice[0].changes == {"training.learning_rate": 1e-4}
    json.dumps(diagnosis.to_dict(), allow_nan=False)


def test_every_advice_item_applies_to_its_config():
    config = RunConfig.from_dict(MEMORIZE)
    for history in (_overfit_curve(), _history([2.2] * 10, [2.25] * 10)):
        for item in diagnose(history, config).advice:
            changed = config.replace(item.changes)
            assert changed != config, item.key
            assert item.title and item.why


def test_would_have_stopped_follows_keras_rules():
    history = {"val_loss": [1.0, 0.9, 0.95, 0.91, 0.92, 0.5], "val_accuracy": [0.1, 0.5, 0.4, 0.4]}
    estimate = would_have_stopped(history, patience=3)
    assert (estimate.stopped_epoch, estimate.best_epoch, estimate.epochs_saved) == (5, 2, 1)
    assert "would have stopped at epoch 5 and saved 1 epoch" in estimate.message
    assert would_have_stopped(history, patience=4).stopped_epoch is None
    # min_delta: 1.0 -> 0.9 is not an improvement of more than 0.2.
    assert would_have_stopped(history, patience=1, min_delta=0.2).stopped_epoch == 2
    # Higher is better for accuracy.
    acc = would_have_stopped(history, patience=2, monitor="val_accuracy")
    assert (acc.stopped_epoch, acc.best_epoch) == (4, 2)
    # NaN (null once stored) first: Keras keeps it as the best and stops after patience.
    nan_first = would_have_stopped({"val_loss": [None, 0.9, 0.8, 0.7]}, patience=2)
    assert (nan_first.stopped_epoch, nan_first.best_epoch) == (3, 1)


def test_smoothing_keeps_a_line_and_has_no_lag():
    line = np.arange(20, dtype=float)
    np.testing.assert_allclose(smooth(line, 5)[2:-2], line[2:-2])


finite_or_odd = st.one_of(
    st.floats(0, 20, allow_nan=False), st.just(float("nan")), st.just(float("inf")), st.none()
)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 40).flatmap(
        lambda n: st.tuples(
            st.lists(finite_or_odd, min_size=n, max_size=n),
            st.lists(finite_or_odd, min_size=n, max_size=n),
        )
    )
)
def test_diagnose_never_raises_and_always_gives_json(columns):
    loss, val = columns
    diagnosis = diagnose({"loss": loss, "val_loss": val}, RunConfig())
    assert diagnosis.verdict in ("overfitting", "underfitting", "good_fit", "inconclusive")
    assert json.loads(json.dumps(diagnosis.to_dict(), allow_nan=False))["verdict"] == (
        diagnosis.verdict
    )


def test_train_out_and_runs_show_carry_the_diagnosis(tiny_config, tmp_path, capsys):
    from fitgap_gui.cli import main

    config_file, out = tmp_path / "tiny.json", tmp_path / "result.json"
    tiny_config.save(config_file)
    assert main(["train", "--config", str(config_file), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["diagnosis"]["verdict"] == "inconclusive"  # 3 epochs are too few
    assert result["diagnosis"]["advice"][0]["changes"] == {"training.epochs": 20}
    capsys.readouterr()
    assert main(["runs", "show", str(result["run_id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["diagnosis"] == result["diagnosis"]


# -- the inference-mode curves and plain words ------------------------------------------------------------
def _inference_history(train_ce, val_ce, train_acc=None, val_acc=None, **extra):
    """A history with the inference-mode keys (and Keras's, copied, so both exist)."""
    out = {
        "loss": list(train_ce),
        "val_loss": list(val_ce),
        "train_eval_cross_entropy": list(train_ce),
        "val_cross_entropy": list(val_ce),
    }
    if train_acc is not None:
        out.update(
            accuracy=list(train_acc),
            train_eval_accuracy=list(train_acc),
            val_accuracy=list(val_acc),
        )
    out.update({k: list(v) for k, v in extra.items()})
    return out


def test_the_diagnosis_reads_the_inference_mode_curves_not_keras_running_loss():
    epochs = np.arange(1, 31)
    train_ce = 1.0 * np.exp(-epochs / 6) + 0.2
    val_ce = train_ce + 0.03
    history = _inference_history(train_ce, val_ce)
    # Keras's running loss (dropout on, penalty in val_loss) would tell another story.
    history["loss"] = list(train_ce + 0.5)
    history["val_loss"] = list(_overfit_curve(n=30)["val_loss"])
    diagnosis = diagnose(history)
    assert diagnosis.verdict == "good_fit", diagnosis.summary
    assert diagnosis.numbers["curves"] == "inference"
    assert "validation cross-entropy follows training cross-entropy" in diagnosis.summary


def test_onset_is_never_before_the_last_real_improvement():
    # Validation gains 0.02 per epoch until epoch 9 (a real improvement), then rises;
    # smoothing alone put the onset at epoch 7.
    epochs = np.arange(1, 31)
    loss = 1.2 * np.exp(-(epochs - 1) / 6) + 0.02
    val = np.concatenate(
        [[1.6, 1.2, 0.9, 0.7, 0.6], [0.58, 0.56, 0.54, 0.52], 0.52 + 0.012 * np.arange(1, 22)]
    )
    diagnosis = diagnose(_history(loss, val))
    assert diagnosis.verdict == "overfitting"
    assert diagnosis.onset_epoch == 9 == diagnosis.numbers["best_epoch"]
    assert "since epoch 9" in diagnosis.summary and "->" not in diagnosis.summary
    # A later low by less than half a percent is no real improvement, and is named.
    val[14] = val[8] - 0.001
    later = diagnose(_history(loss, val))
    assert later.onset_epoch == 9 and later.numbers["best_epoch"] == 15
    assert "(its lowest, at epoch 15, is only 0.001 below epoch 9's)" in later.summary


def test_advice_says_why_its_patience_differs_from_the_settings():
    config = RunConfig().replace({"early_stopping.patience": 3})
    diagnosis = diagnose(_overfit_curve(n=60), config)
    advice = {a.key: a for a in diagnosis.advice}["early_stopping"]
    patience = advice.changes["early_stopping.patience"]
    assert patience == diagnosis.numbers["smoothing_window"] > 3
    assert f"Patience {patience}, not the 3 in the early stopping settings" in advice.why
    assert "wobble" in advice.why
    same = RunConfig().replace({"early_stopping.patience": 10})
    advice = {a.key: a for a in diagnose(_overfit_curve(n=60), same).advice}["early_stopping"]
    assert "not the" not in advice.why


def test_training_accuracy_far_below_validation_is_no_good_fit():
    epochs = np.arange(1, 31)
    train_ce = 0.9 * np.exp(-epochs / 6) + 0.6
    val_ce = 0.9 * np.exp(-epochs / 6) + 0.3
    train_acc, val_acc = np.full(30, 0.75), np.full(30, 0.91)
    noisy = RunConfig().replace({"data.source": "moons", "data.label_noise": 0.2})
    history = _inference_history(
        train_ce, val_ce, train_acc, val_acc, memorized_noise=np.full(30, 0.04)
    )
    diagnosis = diagnose(history, noisy)
    assert diagnosis.verdict != "good_fit"
    assert diagnosis.summary.startswith(
        "training accuracy (75%) is far below validation accuracy (91%): 20% of the "
        "training labels are wrong on purpose"
    )
    assert "it predicts 4% of the wrong labels: it is not memorizing them" in diagnosis.summary
    clean = diagnose(_inference_history(train_ce, val_ce, train_acc, val_acc), RunConfig())
    assert clean.verdict != "good_fit"
    assert "validation set is probably easier by chance" in clean.summary


def test_a_negative_gap_early_is_explained_with_the_numbers():
    epochs = np.arange(1, 21)
    train_ce = 1.0 * np.exp(-epochs / 5) + 1.0
    val_ce = 1.0 * np.exp(-epochs / 5) + 0.75
    history = _inference_history(train_ce, val_ce)
    history["loss"] = list(train_ce + 0.4)
    config = RunConfig().replace({"data.label_noise": 0.2, "model.dropout": 0.3})
    (note,) = diagnose(history, config).notes
    assert note.startswith(
        f"At epoch 1 validation cross-entropy ({val_ce[0]:.2f}) is below training "
        f"cross-entropy ({train_ce[0]:.2f}), a gap of -0.25"
    )
    assert "only the training labels carry the 20% label noise" in note
    assert "with dropout 0.3 active" in note
    assert diagnose(_inference_history(train_ce, train_ce + 0.1)).notes == []


def test_texts_are_plain_words():
    one = diagnose(_history([2.0], [2.1]))
    assert one.summary == "1 epoch is too few to see a trend"
    # Underfitting, still learning slowly: the slope in plain decimals.
    n = 20
    loss = np.linspace(2.25, 1.6, n)
    slow = diagnose(_history(loss, loss + 0.01), RunConfig().replace({"training.epochs": 20}))
    assert slow.verdict == "underfitting"
    texts = [slow.summary] + [a.title + " " + a.why for a in slow.advice]
    texts += [a.title + " " + a.why for a in diagnose(_overfit_curve()).advice]
    for text in texts:
        assert "[" not in text and "e-0" not in text, text
    longer = {a.key: a for a in slow.advice}["more_epochs"]
    assert "falling by about 0.03 per epoch" in longer.why  # slope -0.0342
    assert "Add capacity (128 units to 512 units)" in [a.title for a in slow.advice]
