"""Stores written before the kind/levers/provenance columns get them on open, rows kept."""

from __future__ import annotations

import sqlite3

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore

OLD_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created TEXT NOT NULL,
    finished TEXT, config TEXT NOT NULL, status TEXT NOT NULL,
    epochs_run INTEGER NOT NULL DEFAULT 0, best_epoch INTEGER, stopped_epoch INTEGER,
    restored_best INTEGER NOT NULL DEFAULT 0, best_metrics TEXT, last_metrics TEXT,
    diagnosis TEXT, message TEXT, model_file TEXT, pid INTEGER
);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL, seconds REAL, extras TEXT, PRIMARY KEY (run_id, epoch)
);
"""


def _old_store(tmp_path) -> tuple[RunStore, set[str]]:
    """A store written before the later columns, holding one run, opened now: the store
    and its runs table's columns after the open."""
    with sqlite3.connect(tmp_path / "runs.sqlite3") as db:
        db.executescript(OLD_SCHEMA)
        db.execute(
            "INSERT INTO runs (name, created, config, status) VALUES (?, ?, ?, 'completed')",
            ("old run", "2026-01-01T00:00:00+00:00", RunConfig().to_json(indent=None)),
        )
    db.close()
    store = RunStore(tmp_path)
    return store, {row["name"] for row in store._connect().execute("PRAGMA table_info(runs)")}


def test_an_old_store_gets_the_new_columns_and_keeps_its_runs(tmp_path):
    store, columns = _old_store(tmp_path)
    assert {"pid_started", "kind", "levers", "provenance"} <= columns
    (old,) = store.list_runs()
    assert (old.name, old.kind, old.levers, old.provenance) == ("old run", "fitgap", None, None)
    new = store.create_run(RunConfig(), "mine", kind="callback", levers={"dropout": []})
    run = store.get_run(new)
    assert run.kind == "callback" and run.levers == {"dropout": []}
    assert run.to_dict()["kind"] == "callback"
    RunStore(tmp_path)  # a second open adds nothing twice


def test_runs_from_before_the_test_part_read_as_having_none(tmp_path):
    """An old store gets the ``test`` column; its runs keep their meaning: no test part."""
    store, columns = _old_store(tmp_path)
    assert "test" in columns
    (old,) = store.list_runs()
    assert old.test is None
    out = old.to_dict()
    assert "test" in out and out["test"] is None


def test_an_old_store_gets_script_data_and_a_callback_config_names_no_data_set(tmp_path):
    store, columns = _old_store(tmp_path)
    assert "script_data" in columns
    (old,) = store.list_runs()
    assert old.script_data is None
    about = {"script": "bc.py", "input_shape": [30], "train_samples": 426, "val_samples": 143}
    new = store.create_run(RunConfig(), "mine", kind="callback", script_data=about)
    row = store._connect().execute("SELECT config FROM runs WHERE id = ?", (new,)).fetchone()
    assert "digits" not in row["config"] and '"data"' not in row["config"]
    out = store.get_run(new).to_dict()
    assert out["script_data"] == about and "data" not in out["config"]


def test_an_old_store_gets_the_examples_table_and_keeps_one_blob_per_run(tmp_path):
    import numpy as np

    from fitgap_gui.core.results.examples import ExampleDynamics
    from fitgap_gui.core.results.records import RunResult

    store, _ = _old_store(tmp_path)
    (old,) = store.list_runs()
    assert store.example_dynamics(old.run_id) is None
    dyn = ExampleDynamics(rows=np.arange(3), given=np.array([0, 1, 1]))
    dyn.update(1, np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]))
    run_id = store.create_run(RunConfig(), "mine")
    result = RunResult(config=RunConfig(), history={}, status="completed", epochs_run=1)
    result.examples = dyn
    store.finish_run(run_id, result)
    back = ExampleDynamics.from_bytes(store.example_dynamics(run_id))
    np.testing.assert_allclose(back.aum(), dyn.aum())
    store.delete_run(run_id)  # its blob goes with it
    assert store._connect().execute("SELECT COUNT(*) FROM examples").fetchone()[0] == 0
