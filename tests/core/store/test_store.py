"""The run store: round trip, live best epoch, ownership by pid + start time, and a
real ``kill -9`` in the middle of a run that must lose no epoch it had printed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError, RunNotFoundError
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore, process_start_token


def _epoch(n: int, loss: float, val_loss: float, acc=0.5, val_acc=0.4) -> EpochMetrics:
    metrics = {"loss": loss, "accuracy": acc, "val_loss": val_loss, "val_accuracy": val_acc}
    return EpochMetrics(n, metrics, seconds=0.01 * n)


def test_round_trip_of_a_recorded_run(tiny_config, fitgap_home):
    store = RunStore()
    result = run_recorded(tiny_config, store, name="tiny")
    assert store.path.parent == fitgap_home
    assert store._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    run = RunStore().get_run(result.run_id)  # a second store object: read from disk
    assert (run.name, run.status, run.epochs_run) == ("tiny", "completed", 3)
    assert run.config == tiny_config
    assert run.history == result.history
    assert set(run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert run.best_epoch == result.best_epoch
    assert run.best_metrics["val_loss"] == result.metric_at("val_loss", result.best_epoch)
    assert run.last_metrics["loss"] == result.history["loss"][-1]
    # The accuracy gap is measured like validation: training set at the epoch's end.
    assert run.gap_at_best == pytest.approx(
        run.best_metrics["train_eval_accuracy"] - run.best_metrics["val_accuracy"]
    )
    assert run.has_model and Path(run.model_file) == store.model_path(result.run_id)
    assert [e.epoch for e in store.epochs(result.run_id)] == [1, 2, 3]
    assert run.to_dict()["history"] == result.history
    assert [r.run_id for r in store.list_runs()] == [result.run_id]


def test_best_epoch_is_kept_current_while_running(tiny_config):
    store = RunStore()
    run_id = store.create_run(tiny_config)
    for n, val_loss in enumerate([1.0, 0.7, 0.9, 0.7, float("nan")], start=1):
        store.append_epoch(run_id, _epoch(n, loss=1.0 / n, val_loss=val_loss))
    run = store.get_run(run_id)
    assert run.status == "running"
    assert run.epochs_run == 5
    assert run.best_epoch == 2  # the first of the tied best values; NaN is never best
    assert run.best_metrics["val_loss"] == 0.7
    assert run.last_metrics["loss"] == 0.2 and run.last_metrics["val_loss"] is None
    assert run.history["val_loss"][-1] is None  # JSON has no NaN: stored as null


def test_best_epoch_follows_the_early_stopping_monitor(tiny_config):
    # Early stopping that restores weights decides the run's best epoch.
    config = tiny_config.replace(
        {"early_stopping.enabled": True, "early_stopping.monitor": "val_accuracy"}
    )
    store = RunStore()
    run_id = store.create_run(config)
    for n, val_acc in enumerate([0.2, 0.6, 0.5], start=1):
        store.append_epoch(run_id, _epoch(n, 1.0, 1.0, val_acc=val_acc))
    assert store.get_run(run_id).best_epoch == 2


def test_best_epoch_is_the_lowest_val_cross_entropy_without_restored_weights(tiny_config):
    store = RunStore()
    run_id = store.create_run(tiny_config)
    for n, (val_loss, val_ce) in enumerate([(1.0, 0.9), (0.8, 0.7), (0.7, 0.75)], start=1):
        epoch = _epoch(n, 1.0, val_loss)
        epoch.metrics["val_cross_entropy"] = val_ce
        store.append_epoch(run_id, epoch)
    assert store.get_run(run_id).best_epoch == 2  # val_loss alone would say 3


def test_relative_data_path_is_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = RunConfig.from_dict({"data": {"source": "npz", "path": "data/x.npz"}})
    store = RunStore()
    run_id = store.create_run(config)
    assert store.get_run(run_id).config.data.path == str(tmp_path / "data" / "x.npz")


def test_a_run_of_a_dead_process_becomes_interrupted(tiny_config):
    store = RunStore()
    run_id = store.create_run(tiny_config)
    store.append_epoch(run_id, _epoch(1, 1.0, 1.2))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    with store._connect() as db:
        db.execute("UPDATE runs SET pid = ?, pid_started = NULL WHERE id = ?", (dead_pid, run_id))

    assert RunStore().mark_interrupted() == 0  # the first open already marked it
    run = store.get_run(run_id)
    assert run.status == "interrupted"
    assert run.epochs_run == 1 and run.best_epoch == 1
    assert run.history["val_loss"] == [1.2]
    assert "epochs were kept" in run.message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="start times come from /proc")
def test_a_reused_pid_does_not_keep_a_dead_run_running(tiny_config):
    """Our own pid, but another start time: the process that made the run is gone."""
    store = RunStore()
    stale = store.create_run(tiny_config)
    live = store.create_run(tiny_config)
    with store._connect() as db:
        db.execute("UPDATE runs SET pid_started = 'another-boot:123' WHERE id = ?", (stale,))
    assert process_start_token(os.getpid()) is not None  # Linux: start times are known
    assert store.mark_interrupted() == 1
    assert store.get_run(stale).status == "interrupted"
    assert store.get_run(live).status == "running"
    assert store.is_live(live) and not store.is_live(stale)


def test_finish_fail_rename_and_delete(tiny_config):
    store = RunStore()
    run_id = store.create_run(tiny_config)
    with pytest.raises(FitGapError, match="still training"):
        store.delete_run(run_id)
    store.append_epoch(run_id, _epoch(1, 1.0, 1.1))
    result = RunResult(tiny_config, {"loss": [1.0], "val_loss": [1.1]}, "completed", 1, 1)
    store.finish_run(run_id, result)
    assert store.get_run(run_id).status == "completed"

    store.rename_run(run_id, "  renamed ")
    assert store.get_run(run_id).name == "renamed"
    with pytest.raises(FitGapError):
        store.rename_run(run_id, " ")

    failed = store.create_run(tiny_config)
    store.fail_run(failed, "DataError: boom")
    assert store.get_run(failed).status == "failed"

    store.model_path(run_id).write_bytes(b"model")
    store.delete_run(run_id)
    assert not store.model_path(run_id).exists()
    assert store.epochs(run_id) == []
    for call in (store.get_run, store.delete_run, lambda i: store.rename_run(i, "x")):
        with pytest.raises(RunNotFoundError):
            call(run_id)
    with pytest.raises(RunNotFoundError):
        store.get_runs([failed, 999])


def test_an_old_store_without_the_start_time_column_is_upgraded(fitgap_home):
    fitgap_home.mkdir(parents=True)
    db = sqlite3.connect(fitgap_home / "runs.sqlite3")
    db.execute(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
        "created TEXT NOT NULL, finished TEXT, config TEXT NOT NULL, status TEXT NOT NULL, "
        "epochs_run INTEGER NOT NULL DEFAULT 0, best_epoch INTEGER, stopped_epoch INTEGER, "
        "restored_best INTEGER NOT NULL DEFAULT 0, best_metrics TEXT, last_metrics TEXT, "
        "diagnosis TEXT, message TEXT, model_file TEXT, pid INTEGER)"
    )
    db.execute(
        "INSERT INTO runs (name, created, config, status, pid) VALUES ('old', 'x', '{}', 'running', 0)"
    )
    db.commit()
    db.close()
    store = RunStore()
    (run,) = store.list_runs()
    assert run.status == "interrupted"  # pid 0: nobody owns it


def test_kill_9_mid_run_keeps_every_printed_epoch(tmp_path, fitgap_home):
    """A real ``fitgap train --jsonl`` killed with SIGKILL after it printed 3 epochs."""
    config = tmp_path / "long.json"
    config.write_text(
        json.dumps(
            {
                "data": {"source": "digits", "train_fraction": 0.05},
                "model": {"hidden_units": [8]},
                "training": {"epochs": 10_000, "batch_size": 16},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fitgap_gui.cli", "train", "--config", str(config), "--jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "FITGAP_HOME": str(fitgap_home)},
    )
    shown = []
    try:
        for line in proc.stdout:
            shown.append(json.loads(line))
            if len(shown) == 3:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
    assert len(shown) == 3, "training ended before three epochs were printed"
    assert proc.returncode == -signal.SIGKILL

    run_id = shown[0]["run_id"]
    run = RunStore().get_run(run_id)  # a fresh open marks the orphan
    assert run.status == "interrupted"
    assert run.epochs_run >= 3
    assert len(run.history["loss"]) == run.epochs_run
    for printed in shown:  # every printed epoch is stored with the same numbers
        n = printed["epoch"]
        assert run.history["loss"][n - 1] == printed["loss"]
        assert run.history["val_accuracy"][n - 1] == printed["val_accuracy"]
    assert run.best_epoch is not None and not run.has_model
    print(f"kill -9: {len(shown)} epochs printed, {run.epochs_run} stored")


def test_version_moves_when_another_process_or_thread_commits(tiny_config):
    window, cli = RunStore(), RunStore()  # two connections, like two processes
    before = window.version()
    assert window.version() == before
    cli.create_run(tiny_config)
    assert window.version() != before
