"""Executors: a plan's runs in worker processes or Ray tasks, recorded by this process.

Real Keras in real worker processes (spawned, so each imports TensorFlow: ~5-10 s),
real SQLite.  A run's history must not depend on where it ran: it equals the plain
Keras program of the faithfulness contract, and the same run in this process.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from support.plain_keras import plain_keras_history

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.executors import (
    INSTALL_HINT,
    LocalExecutor,
    PlanItem,
    default_workers,
    make_executor,
    threads_per_worker,
)
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.store.runstore import RunStore

SEED, LR, BATCH, EPOCHS = 11, 0.003, 16, 4
LEVERS = [
    {"units": [16], "dropout": 0.0, "l2": 0.0},
    {"units": [24, 12], "dropout": 0.3, "l2": 1e-3},
]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) is gone for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def faithful_plan(path) -> list[PlanItem]:
    return [
        PlanItem(
            RunConfig.from_dict(
                {
                    "data": {"source": "npz", "path": str(path)},
                    "model": {k: v for k, v in levers.items() if k != "units"}
                    | {"hidden_units": levers["units"]},
                    "training": {
                        "learning_rate": LR,
                        "batch_size": BATCH,
                        "epochs": EPOCHS,
                        "seed": SEED,
                    },
                }
            ),
            f"levers {i}",
        )
        for i, levers in enumerate(LEVERS)
    ]


def check_faithful(results, path) -> None:
    """Each result's history equals the plain Keras program's to 1e-4."""
    for result, levers in zip(results, LEVERS, strict=True):
        expected = plain_keras_history(
            path, SEED, levers["units"], levers["dropout"], levers["l2"], LR, BATCH, EPOCHS
        )
        # FitGap's own measurements and the learning rate of each epoch sit beside Keras's
        # keys and change none of them.
        assert set(result.history) == set(expected) | set(TRAIN_EVAL_KEYS) | {"learning_rate"}
        for key, values in expected.items():
            np.testing.assert_allclose(result.history[key], values, atol=1e-4, rtol=0, err_msg=key)


def long_plan(n: int) -> list[PlanItem]:
    """Runs that would train practically forever on a few dozen samples."""
    config = RunConfig.from_dict(
        {
            "data": {"source": "xor", "n_samples": 40},
            "model": {"hidden_units": [8]},
            "training": {"epochs": 100000, "batch_size": 8, "seed": 3},
        }
    )
    return [PlanItem(config.replace({"training.seed": i}), f"long {i}") for i in range(n)]


class StopWhenLongRunsTrain:
    """``on_epoch`` + ``should_stop``: stop once two long runs have 2 epochs stored each."""

    def __init__(self, store: RunStore, long_indices: set[int], training: int = 2) -> None:
        self.store, self.long, self.training = store, long_indices, training
        self.told: list[tuple[int, int, bool]] = []
        self.counts: dict[int, int] = {}
        self.stop = threading.Event()
        self.stopped_at = 0.0
        self.returned_at = 0.0  # set by the test when the executor's run returned

    def on_epoch(self, index, run_id, metrics) -> None:
        # Committed, then told: the epoch row is already in the store.
        stored = [m.epoch for m in self.store.epochs(run_id)]
        self.told.append((index, metrics.epoch, metrics.epoch in stored))
        if index in self.long:
            self.counts[index] = metrics.epoch
        if len(self.counts) == self.training and min(self.counts.values()) >= 2:
            if not self.stop.is_set():
                self.stopped_at = time.monotonic()
            self.stop.set()

    def epochs_told(self, index: int) -> list[int]:
        return [epoch for i, epoch, _ in self.told if i == index]


def check_plan_outcome(plan, results, store, watch) -> None:
    """Faithful short runs, stopped long runs with their epochs, an unstarted last item."""
    check_faithful(results[:2], watch_path(plan))
    assert all(committed for *_, committed in watch.told)
    for index, result in enumerate(results[:2]):
        assert watch.epochs_told(index) == list(range(1, EPOCHS + 1))
        run = store.get_run(result.run_id)
        assert run.name == plan[index].label
        assert run.status == "completed" and run.epochs_run == EPOCHS
        assert run.history["val_loss"] == pytest.approx(result.history["val_loss"], abs=1e-9)
        assert run.diagnosis is not None and run.has_model
    # Stop ended every run within seconds; each keeps the epochs it had stored.
    assert watch.returned_at - watch.stopped_at < 5.0
    stopped = [index for index in (2, 3, 4) if results[index] is not None]
    assert sorted(stopped) == sorted(watch.counts)  # the third never started: no row
    for index in stopped:
        run = store.get_run(results[index].run_id)
        assert run.status == "stopped" == results[index].status
        assert run.epochs_run >= 2 and len(run.history["loss"]) == run.epochs_run
        assert watch.epochs_told(index) == list(range(1, run.epochs_run + 1))
    assert len(store.list_runs()) == 4


def watch_path(plan) -> str:
    return plan[0].config.data.path


def test_two_workers_are_faithful_fill_the_store_stop_and_leave_no_process(presplit_npz):  # noqa: F811
    plan = faithful_plan(presplit_npz) + long_plan(3)
    store = RunStore()
    here = LocalExecutor(workers=1).run(plan[:2], RunStore(presplit_npz.parent / "here"))
    check_faithful(here, presplit_npz)

    watch = StopWhenLongRunsTrain(store, {2, 3, 4})
    started: list[tuple[int, str]] = []
    pool = LocalExecutor(workers=2)
    results = pool.run(
        plan,
        store,
        on_run_started=lambda i, run_id, where: started.append((i, where)),
        on_epoch=watch.on_epoch,
        should_stop=watch.stop.is_set,
    )
    watch.returned_at = time.monotonic()
    assert pool.last_workers == 2 and pool.last_threads == threads_per_worker(2)
    check_plan_outcome(plan, results, store, watch)
    # Where a run trained does not change its history (one worker = this process).
    for a, b in zip(here, results, strict=False):
        for key in a.history:
            np.testing.assert_allclose(a.history[key], b.history[key], atol=1e-4, rtol=0)
    assert str(os.getpid()) in RunStore(presplit_npz.parent / "here").get_run(1).ran_on
    # The runs trained in two worker processes, not here, and none is left.
    where = {w for _, w in started}
    assert len(where) == 2 and all("worker" in w and str(os.getpid()) not in w for w in where)
    assert {store.get_run(r.run_id).ran_on for r in results if r} == where
    assert not any(pid_alive(pid) for pid in pool.worker_pids)


def worker_pids_in_store(home) -> list[int]:
    """The worker pids that the store's training runs name (``... worker K pid N``)."""
    runs = [r for r in RunStore(home).list_runs() if r.status == "running" and r.epochs_run]
    return [int(r.ran_on.rsplit(" ", 1)[1]) for r in runs if r.ran_on and "worker" in r.ran_on]


def test_killing_fitgap_sweep_with_workers_leaves_no_worker_processes(
    tmp_path,
    fitgap_home,
    tiny_config,
    qtbot,  # only for its waitUntil (a polling wait with a timeout, no sleeping)
):
    config = tmp_path / "tiny.json"
    tiny_config.replace({"training.epochs": 100000}).save(config)
    args = ["sweep", "--config", str(config), "--param", "training.seed", "--values", "1,2"]
    with subprocess.Popen(
        [sys.executable, "-m", "fitgap_gui.cli", *args, "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # TensorFlow's start-up lines, from three processes
    ) as proc:
        try:
            # Both runs train in their own worker (their rows say which) ...
            qtbot.waitUntil(lambda: len(worker_pids_in_store(fitgap_home)) == 2, timeout=240_000)
            pids = worker_pids_in_store(fitgap_home)
            assert os.getpid() not in pids and proc.pid not in pids
            assert all(pid_alive(pid) for pid in pids)
            # ... and go with the parent when it is killed.
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            qtbot.waitUntil(lambda: not any(pid_alive(pid) for pid in pids), timeout=5_000)
        finally:
            proc.kill()
    # The killed parent's runs are interrupted, with the epochs it had committed.
    runs = RunStore(fitgap_home).list_runs()
    assert len(runs) == 2
    assert {run.status for run in runs} == {"interrupted"}
    assert all(run.epochs_run >= 1 for run in runs)


def test_default_workers_is_capped_by_cores_memory_and_plan():
    gib = 1024**3
    assert default_workers(10, gib, cores=16, memory=64 * gib) == 10  # the plan
    assert default_workers(25, gib, cores=16, memory=64 * gib) == 16  # the cores
    assert default_workers(25, 2 * gib, cores=16, memory=9 * gib) == 4  # the memory
    assert default_workers(25, 2 * gib, cores=16, memory=gib) == 1  # never below one
    assert threads_per_worker(2, cores=16) == 8
    assert threads_per_worker(32, cores=16) == 1


def test_choosing_ray_without_ray_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(FitGapError, match="pip install -e"):
        make_executor(ray_address="auto")
    args = ["sweep", "--param", "model.dropout", "--values", "0,0.2", "--ray", "auto"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {INSTALL_HINT}"]
    assert RunStore().list_runs() == []


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_the_cli_default_is_auto_workers_and_1_stays_in_process(command, capsys):
    from fitgap_gui.cli import build_parser, executor_from_args

    parser = build_parser()
    extra = ["--param", "model.dropout", "--values", "0"] if command == "sweep" else []
    default = executor_from_args(parser.parse_args([command, *extra]))
    assert isinstance(default, LocalExecutor) and default.workers is None  # auto
    one = executor_from_args(parser.parse_args([command, *extra, "--workers", "1"]))
    assert isinstance(one, LocalExecutor) and one.workers == 1
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default auto: N = the smallest of the usable cores" in help_text


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_bad_worker_counts_exit_2(bad, capsys):
    args = ["sweep", "--param", "model.dropout", "--values", "0", "--workers", bad]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "--workers" in err[0]


def test_an_older_store_gets_the_ran_on_column_and_runs_show_prints_it(tiny_config, capsys):
    store = RunStore()
    old = store.create_run(tiny_config, name="old")
    store.close()
    with sqlite3.connect(store.path) as db:
        db.execute("ALTER TABLE runs DROP COLUMN ran_on")
    reopened = RunStore()
    assert reopened.get_run(old).ran_on is None
    new = reopened.create_run(tiny_config, name="new", ran_on="node-7 worker 2 pid 99")
    assert reopened.get_run(new).ran_on == "node-7 worker 2 pid 99"
    assert main(["runs", "show", str(new)]) == 0
    assert "ran on node-7 worker 2 pid 99" in capsys.readouterr().out


# -- Ray ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_tasks_are_faithful_fill_the_store_and_stop(local_ray, presplit_npz):  # noqa: F811
    from fitgap_gui.core.experiments.executors import RayExecutor

    plan = faithful_plan(presplit_npz) + long_plan(3)
    store = RunStore()
    watch = StopWhenLongRunsTrain(store, {2, 3, 4})
    # One CPU per task on a 2-CPU instance: two tasks at a time, so the last one is
    # still waiting when the plan stops and is cancelled.
    results = RayExecutor(address=None, cpus_per_run=1).run(
        plan, store, on_epoch=watch.on_epoch, should_stop=watch.stop.is_set
    )
    watch.returned_at = time.monotonic()
    check_plan_outcome(plan, results, store, watch)
    for result in results[:4]:
        assert store.get_run(result.run_id).ran_on.startswith("ray node ")


def test_a_cluster_address_ships_fitgap_as_a_folder_ray_client_can_pickle(monkeypatch):
    """Over ray:// Ray pickles the runtime env: a module object there failed to connect."""
    import pickle

    import ray

    from fitgap_gui.core.experiments.executors.rayexec import RayExecutor, auth_hint

    seen: dict = {}
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda address=None, **kwargs: seen.update(kwargs))
    RayExecutor("ray://head.example:10001").connect()
    env = pickle.loads(pickle.dumps(seen["runtime_env"]))
    (folder,) = env["py_modules"]
    assert os.path.isfile(os.path.join(folder, "cli", "main.py"))
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    assert "RAY_AUTH_MODE=token" in auth_hint("ray://head.example:10001")
    assert auth_hint("auto") == ""


WORKER_SCRIPT = """
import sys
from fitgap_gui.app import quiet_tensorflow, start_logging
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.executors import LocalExecutor, PlanItem
from fitgap_gui.core.store.runstore import RunStore


def main():
    quiet_tensorflow()
    start_logging()
    config = RunConfig.from_dict({
        "data": {"source": "digits", "train_fraction": 0.05},
        "model": {"hidden_units": [8]},
        "training": {"epochs": 2, "batch_size": 16, "seed": 1},
    })
    plan = [PlanItem(config, "a"), PlanItem(config.replace({"training.seed": 2}), "b")]
    results = LocalExecutor(workers=2).run(plan, RunStore())
    assert [r.epochs_run for r in results] == [2, 2], results
    print("tensorflow here:", "tensorflow" in sys.modules)


if __name__ == "__main__":
    main()
"""


def test_worker_processes_keep_tensorflow_start_up_lines_out_of_the_terminal(tmp_path):
    """The window's experiments train in worker processes, which inherit its terminal:
    their TensorFlow start-up lines ("oneDNN", "Could not find cuda drivers") must go
    to the log file, like the window's own."""
    script = tmp_path / "two_workers.py"
    script.write_text(WORKER_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["FITGAP_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "tensorflow here: False" in result.stdout  # every line would be a worker's
    for noise in ("cuInit", "oneDNN", "cuda drivers", "I0000", "E0000", "W0000"):
        assert noise not in result.stderr, result.stderr
    log = (tmp_path / "home" / "logs").glob("*.log")
    assert any("oneDNN" in path.read_text() for path in log)
