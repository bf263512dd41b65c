"""Exports: CSV/JSON content, the .keras copy, TensorBoard files read back with
TensorBoard's own reader, and the Keras script, which must reproduce a run's history
to 1e-4 when executed on its own in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.errors import FitGapError, RunNotFoundError
from fitgap_gui.core.export.files import export_runs, script_for_run
from fitgap_gui.core.export.script import ScriptExportError, check_exportable, keras_script
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

LEVERS = {
    "model": {"hidden_units": [16, 8], "dropout": 0.3, "l2": 1e-3},
    "data": {"label_noise": 0.1, "scale": "standard"},
    "early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 1},
    "training": {"epochs": 15, "learning_rate": 0.03},  # early stopping fires at epoch 6
}


@pytest.fixture
def two_runs(tiny_config):
    store = RunStore()
    first = run_recorded(tiny_config, store, name="plain")
    second = run_recorded(tiny_config.replace({"model.dropout": 0.5}), store, name="dropout 0.5")
    return store, [first, second]


def test_csv_has_one_row_per_run_and_epoch(two_runs, tmp_path):
    store, results = two_runs
    (path,) = export_runs(store, "csv", [r.run_id for r in results], tmp_path / "runs.csv")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    assert header[:7] == [
        "run_id",
        "run_name",
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
    ]
    assert len(rows) == sum(r.epochs_run for r in results)
    for result in results:
        mine = [row for row in rows if int(row["run_id"]) == result.run_id]
        assert [int(row["epoch"]) for row in mine] == list(range(1, result.epochs_run + 1))
        for key, values in result.history.items():
            assert [float(row[key]) for row in mine] == values  # repr: no digits lost
    assert {row["run_name"] for row in rows} == {"plain", "dropout 0.5"}


def test_json_holds_each_run_result_with_its_history(two_runs, tmp_path):
    store, results = two_runs
    (path,) = export_runs(store, "json", [r.run_id for r in results], tmp_path / "runs.json")
    doc = json.loads(path.read_text())
    assert [run["run_id"] for run in doc["runs"]] == [r.run_id for r in results]
    for run, result in zip(doc["runs"], results, strict=True):
        assert run["history"] == result.history
        assert run["config"] == result.config.to_dict()
        assert run["best_epoch"] == result.best_epoch and run["status"] == result.status
        assert {"name", "created"} <= set(run)


def test_model_export_is_the_trained_model(two_runs, tmp_path):
    import keras

    store, results = two_runs
    (path,) = export_runs(store, "model", [results[0].run_id], tmp_path / "m.keras")
    model = keras.saving.load_model(path)
    x = load_dataset(results[0].config.data, results[0].config.training.seed).x_val[:5]
    np.testing.assert_allclose(model.predict(x, verbose=0), results[0].model.predict(x, verbose=0))

    paths = export_runs(store, "model", [r.run_id for r in results], tmp_path / "models")
    assert [p.name for p in paths] == [f"run-{r.run_id}.keras" for r in results]
    with pytest.raises(FitGapError, match="must end in .keras"):
        export_runs(store, "model", [results[0].run_id], tmp_path / "m.h5")


def test_a_run_without_a_model_cannot_export_one(tiny_config, tmp_path):
    store = RunStore()
    run_id = store.create_run(tiny_config)
    store.fail_run(run_id, "stopped early", status="interrupted")
    with pytest.raises(FitGapError, match="no saved model"):
        export_runs(store, "model", [run_id], tmp_path / "m.keras")


def test_tensorboard_files_read_back_with_tensorboards_reader(two_runs, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    store, results = two_runs
    logdir = tmp_path / "tb"
    for _ in range(2):  # a re-export replaces the events instead of doubling them
        export_runs(store, "tensorboard", [r.run_id for r in results], logdir)
    assert sorted(p.name for p in logdir.iterdir()) == ["dropout-0.5", "plain"]
    for result, name in zip(results, ["plain", "dropout-0.5"], strict=True):
        for sub, prefix in (("train", ""), ("validation", "val_")):
            acc = EventAccumulator(str(logdir / name / sub))
            acc.Reload()
            tags = sorted(acc.Tags()["scalars"])
            measured = ["epoch_cross_entropy"]
            if sub == "train":  # the measurements without a val_ prefix sit with training
                measured += ["epoch_penalty", "epoch_train_eval_accuracy"]
                measured += ["epoch_train_eval_cross_entropy"]
                measured += ["epoch_learning_rate"]  # as Keras's TensorBoard callback writes it
            assert tags == sorted(["epoch_accuracy", "epoch_loss", *measured])
            for metric in ("loss", "accuracy", "cross_entropy"):
                events = acc.Scalars(f"epoch_{metric}")
                assert [e.step for e in events] == list(range(result.epochs_run))
                np.testing.assert_allclose(
                    [e.value for e in events], result.history[prefix + metric], rtol=1e-6
                )


def test_bad_ids_and_paths_are_one_line_errors(two_runs, tmp_path):
    store, results = two_runs
    with pytest.raises(RunNotFoundError, match="no run with id 999"):
        export_runs(store, "csv", [results[0].run_id, 999], tmp_path / "x.csv")
    with pytest.raises(FitGapError, match="does not exist"):
        export_runs(store, "json", [results[0].run_id], tmp_path / "missing" / "x.json")
    with pytest.raises(FitGapError, match="is a folder"):
        export_runs(store, "csv", [results[0].run_id], tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(FitGapError, match="is a file"):
        export_runs(store, "tensorboard", [results[0].run_id], tmp_path / "file")
    assert not (tmp_path / "x.csv").exists()


# -- the Keras script ---------------------------------------------------------------------------
def _run_script(path) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("levers", [{}, LEVERS], ids=["plain", "dropout-l2-es-noise-scale"])
def test_exported_script_reproduces_the_run(tiny_config, tmp_path, levers):
    config = RunConfig.from_dict(_merge(tiny_config, levers))
    store = RunStore()
    result = run_recorded(config, store)
    assert result.status == ("early_stopped" if levers else "completed")
    start = time.perf_counter()
    (path,) = export_runs(store, "script", [result.run_id], tmp_path / "run.py")
    seconds = time.perf_counter() - start
    text = path.read_text()
    assert "import fitgap" not in text and "from fitgap" not in text
    assert text.rstrip().endswith("main()")

    history = _run_script(path)
    assert set(history) == set(result.history)
    worst = 0.0
    for key, values in result.history.items():
        assert len(history[key]) == len(values) == result.epochs_run
        worst = max(worst, *(abs(a - b) for a, b in zip(history[key], values, strict=True)))
    assert worst <= 1e-4
    print(
        f"script export {seconds * 1000:.1f} ms, {result.epochs_run} epochs, max |diff| {worst:g}"
    )


def _merge(config: RunConfig, levers: dict) -> dict:
    base = config.to_dict()
    return {section: {**base[section], **levers.get(section, {})} for section in base}


@pytest.mark.parametrize(
    "data",
    [
        {"source": "digits", "train_fraction": 0.3, "label_noise": 0.25, "scale": "minmax"},
        {"source": "digits", "validation_split": 0.5},
        {"source": "digits", "test_split": 0.0},
        {"source": "digits", "test_split": 0.35, "label_noise": 0.3, "scale": "standard"},
        {"source": "moons", "n_samples": 120, "noise": 0.3, "scale": "standard"},
        {"source": "circles", "n_samples": 100, "train_fraction": 0.5},
        {"source": "spirals", "n_samples": 90, "label_noise": 0.1},
        {"source": "xor", "n_samples": 80, "noise": 0.1},
        {"source": "npz", "path": "presplit.npz", "scale": "standard", "label_noise": 0.2},
        {"source": "npz", "path": "unsplit.npz", "train_fraction": 0.5},
        {"source": "npz", "path": "few.npz"},
    ],
)
def test_script_builds_the_same_arrays_as_fitgap(tmp_path, data, assert_same_data):
    """The script's load_data() equals core.data.load_dataset bit for bit (no training)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4, 3))
    y = rng.integers(0, 3, size=60)
    np.savez(
        tmp_path / "presplit.npz",
        x_train=x[:40],
        y_train=np.eye(3)[y[:40]],
        x_val=x[40:],
        y_val=y[40:],
    )
    np.savez(tmp_path / "unsplit.npz", x=x.reshape(60, -1), y=y)
    np.savez(tmp_path / "few.npz", x=x[:7, 0], y=np.array([0, 0, 0, 1, 1, 2, 1]))  # no stratify
    if "path" in data:
        data = {**data, "path": str(tmp_path / data["path"])}
    config = RunConfig.from_dict({"data": data, "training": {"seed": 3}})
    expected = load_dataset(config.data, seed=3)

    namespace: dict = {"__name__": "exported_script"}
    source = keras_script(config, input_rank=len(expected.input_shape))
    exec(compile(source, "exported_script.py", "exec"), namespace)
    assert_same_data(namespace["load_data"](), expected)  # the test part too
    assert ("Flatten" in source) == (len(expected.input_shape) > 1)


def test_a_source_without_a_template_refuses_to_export(monkeypatch):
    """Every source has one now (tests/core/export/test_script_sources.py); a new one must too."""
    import fitgap_gui.core.export.script as ks

    monkeypatch.delitem(ks.SOURCES, "csv")
    with pytest.raises(ScriptExportError, match="data.source 'csv'"):
        check_exportable(RunConfig().replace({"data.source": "csv", "data.path": "x.csv"}))


def test_any_unknown_setting_off_its_default_is_refused(monkeypatch):
    """A lever added to the config later must not be silently dropped from the script."""
    import fitgap_gui.core.export.script as ks

    monkeypatch.setitem(ks.SUPPORTED, "model", ks.SUPPORTED["model"] - {"dropout"})
    check_exportable(RunConfig())
    with pytest.raises(ScriptExportError, match=r"model\.dropout = 0\.5"):
        check_exportable(RunConfig().replace({"model.dropout": 0.5}))


def test_a_stopped_run_exports_the_epochs_it_ran(tiny_config):
    store = RunStore()
    run_id = store.create_run(tiny_config.replace({"training.epochs": 50}))
    for n in (1, 2):
        metrics = {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5}
        store.append_epoch(run_id, EpochMetrics(n, metrics))
    store.fail_run(run_id, "stopped by the user", status="stopped")
    text = script_for_run(store.get_run(run_id))
    assert "EPOCHS = 2\n" in text
    assert "stopped after 2 of 50 epochs" in text


def test_learning_rate_goes_into_the_store_csv_and_tensorboard(tmp_path, tiny_config):
    config = tiny_config.replace({"training.lr_schedule": {"kind": "step", "every": 1}})
    store = RunStore()
    result = run_recorded(config, store)
    rates = result.history["learning_rate"]
    assert rates == pytest.approx([1e-3, 5e-4, 2.5e-4], rel=1e-5)
    assert [e.metrics["learning_rate"] for e in store.epochs(result.run_id)] == rates
    (path,) = export_runs(store, "csv", [result.run_id], tmp_path / "runs.csv")
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [float(r["learning_rate"]) for r in rows] == pytest.approx(rates)
    (folder,) = export_runs(store, "tensorboard", [result.run_id], tmp_path / "tb")
    events = b"".join(p.read_bytes() for p in (folder / "train").glob("events.*"))
    assert b"epoch_learning_rate" in events
    stored = json.loads(store.get_run(result.run_id).config.to_json())
    assert stored["training"]["lr_schedule"] == {"kind": "step", "every": 1, "factor": 0.5}


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_exported_layers_stay_within_100_columns(kind):
    config = RunConfig.from_dict(
        {
            "model": {
                "kind": kind,
                "batch_norm": kind == "cnn",
                "activation": "relu",
                "hidden_units": [4096],
                "l1": 1e-4 if kind == "cnn" else 0.0,
                "l2": 1e-3,
            },
            "training": {"lr_schedule": {"kind": "cosine", "warmup_epochs": 2}},
        }
    )
    text = keras_script(config, input_shape=(64,), image_shape=(8, 8))
    compile(text, "run.py", "exec")
    assert max(len(line) for line in text.splitlines()) <= 100
    assert '"layer": "Conv2D"' in text if kind == "cnn" else "Conv2D" not in text
