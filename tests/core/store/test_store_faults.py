"""Faults of the run store itself, made for real: garbage written into a page of the
SQLite file, a database that runs out of pages mid-run, a lock held by another
connection, a read-only (immutable) store, a ``models`` path that cannot be written,
a store folder moved elsewhere.  Each must end in one clear line or keep working,
and never lose a stored epoch."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_epoch
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RUN_WRITE_ATTEMPTS, RunStore, StoreError


def _record(store: RunStore, config, name: str, epochs: int = 4) -> int:
    """A finished run written through the store's own API (no training: fast)."""
    run_id = store.create_run(config, name=name)
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    for epoch in range(1, epochs + 1):
        metrics = {"loss": 1.0 / epoch, "val_loss": 1.1 / epoch}
        store.append_epoch(run_id, EpochMetrics(epoch, metrics, seconds=0.01))
        for key, value in metrics.items():
            history[key].append(value)
    store.finish_run(run_id, RunResult(config, history, "completed", epochs, best_epoch(history)))
    return run_id


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that the file holds every page."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


# -- a damaged store ---------------------------------------------------------------------
def test_a_damaged_page_is_one_line_and_recover_salvages_the_rest(
    tiny_config, fitgap_home, tmp_path, capsys, damage_a_page
):
    store = RunStore()
    config = tiny_config.replace({"data.path": "x" * 1500})  # big rows: several leaf pages
    ids = [_record(store, config, f"run {n}") for n in range(30)]
    store.model_path(ids[0]).write_bytes(b"a model")
    store.finish_run(ids[0], store.get_run(ids[0]).to_result(), str(store.model_path(ids[0])))
    store.close()
    damage_a_page(store.path)

    for argv in (["runs", "list"], ["runs", "show", str(ids[-1])], ["runs", "list", "--json"]):
        assert main(argv) == 2, argv
        line = _one_error_line(capsys)
        assert str(store.path) in line and "fitgap store recover" in line, line
    assert main(["train", "--epochs", "1"]) == 2
    assert "fitgap store recover" in _one_error_line(capsys)

    assert main(["store", "check"]) == 2
    assert "is damaged" in _one_error_line(capsys)

    assert main(["store", "recover"]) == 0
    out = capsys.readouterr().out
    moved = list(fitgap_home.glob("runs.damaged-*.sqlite3"))
    assert len(moved) == 1 and str(moved[0]) in out
    assert main(["store", "check"]) == 0
    assert "sound" in capsys.readouterr().out

    recovered = RunStore()
    kept = {run.run_id for run in recovered.list_runs()}
    assert 0 < len(kept) < len(ids), "one page of runs is lost, the others are not"
    assert kept <= set(ids)
    for run_id in kept:  # a salvaged run keeps every epoch
        assert recovered.get_run(run_id).history["loss"] == [1.0, 0.5, 1 / 3, 0.25]
    if ids[0] in kept:
        assert recovered.get_run(ids[0]).has_model
    assert store.model_path(ids[0]).read_bytes() == b"a model"  # models/ is left alone
    new = recovered.create_run(tiny_config)
    assert new > max(ids), "a lost run's id (and its model file) is never reused"
    print(f"damaged store: {len(kept)} of {len(ids)} runs salvaged")


def test_a_damaged_epochs_page_costs_only_its_epochs(tiny_config, capsys, damage_a_page):
    store = RunStore()
    ids = [_record(store, tiny_config, f"run {n}", epochs=12) for n in range(25)]
    store.close()
    damage_a_page(store.path, "epochs")
    assert main(["runs", "list"]) == 0  # the runs table is whole
    capsys.readouterr()
    shown = [main(["runs", "show", str(run_id)]) for run_id in ids]
    assert 2 in shown
    assert "fitgap store recover" in capsys.readouterr().err

    assert main(["store", "recover"]) == 0
    recovered = RunStore()
    assert sorted(run.run_id for run in recovered.list_runs()) == ids  # every run kept
    lengths = [len(recovered.history(run_id).get("loss", [])) for run_id in ids]
    assert 0 < 12 * len(ids) - sum(lengths) < 12 * len(ids) // 2
    for run_id, n in zip(ids, lengths, strict=True):
        message = recovered.get_run(run_id).message or ""
        if n < 12:
            assert f"{12 - n} of its 12 epochs could not be read" in message
        elif n == 12:
            assert "recovered" not in message
    print(f"damaged epochs page: {sum(lengths)} of {12 * len(ids)} epochs salvaged")


def test_store_check_and_recover_on_a_sound_or_missing_store(tiny_config, capsys):
    assert main(["store", "check"]) == 0
    assert "nothing to check" in capsys.readouterr().out
    assert main(["store", "recover"]) == 2
    assert "no run store" in _one_error_line(capsys)
    _record(RunStore(), tiny_config, "fine")
    assert main(["store", "recover"]) == 0
    assert "nothing to recover" in capsys.readouterr().out
    assert main(["store", "recover", "--force"]) == 0
    assert "salvaged 1 runs and 4 epochs" in capsys.readouterr().out
    assert [run.name for run in RunStore().list_runs()] == ["fine"]
    live = RunStore().create_run(tiny_config)  # owned by this (live) process
    assert main(["store", "recover", "--force"]) == 2
    assert f"run {live} is still training" in _one_error_line(capsys)


def test_garbage_in_place_of_the_whole_file_is_one_line(fitgap_home, capsys):
    fitgap_home.mkdir()
    (fitgap_home / "runs.sqlite3").write_bytes(random.Random(1).randbytes(8192))
    assert main(["runs", "list"]) == 2
    assert "fitgap store recover" in _one_error_line(capsys)
    assert main(["store", "recover"]) == 0
    assert "salvaged 0 runs" in capsys.readouterr().out
    assert RunStore().list_runs() == []


# -- a full database ---------------------------------------------------------------------
def _fill(db: sqlite3.Connection) -> None:
    """Make the database full for real: no page may be added, and the last pages of
    both tables are packed with rows of shrinking size until not one byte fits."""
    with db:
        db.execute(
            "INSERT INTO runs (id, name, created, config, status) "
            "VALUES (99999, 'filler', '', '{}', 'completed')"
        )
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    inserts = (
        "INSERT INTO epochs (run_id, epoch, metrics) VALUES (99999, ?, ?)",
        "INSERT INTO runs (id, name, created, config, status) "
        "VALUES (? + 100000, ?, '', '{}', 'completed')",
    )
    for sql in inserts:
        n, size = 1, 3000
        while size >= 1:
            try:
                with db:
                    db.execute(sql, (n, json.dumps({"pad": "x" * size})))
                n += 1
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
                size //= 2


def test_a_full_database_mid_run_keeps_the_written_epochs(tiny_config, capsys):
    config = tiny_config.replace({"training.epochs": 8})
    store = RunStore()
    shown: list[int] = []

    def on_epoch(run_id: int, metrics: EpochMetrics) -> None:
        shown.append(metrics.epoch)
        if metrics.epoch == 2:
            _fill(store._connect())

    with pytest.raises(StoreError) as caught:
        run_recorded(config, store, on_epoch=on_epoch, name="full")
    message = str(caught.value)
    assert caught.value.kind == "full" and "\n" not in message
    assert str(store.path) in message and "disk is full" in message
    assert "its 2 epochs are kept" in message
    assert shown == [1, 2]
    (run,) = [r for r in store.list_runs() if r.name == "full"]
    run = store.get_run(run.run_id)
    assert run.status == "interrupted" and "disk is full" in run.message
    assert run.epochs_run == 2 and len(run.history["loss"]) == 2


def test_a_full_database_still_lists_and_shows(tiny_config, capsys):
    """Marking a dead run needs a write; on a full store the list still works."""
    store = RunStore()
    run_id = _record(store, tiny_config, "done")
    dead = store.create_run(tiny_config, name="orphan")
    db = store._connect()
    with db:  # owned by a dead process, and written before runs kept a reserve
        db.execute(
            "UPDATE runs SET pid = 999999999, pid_started = NULL, reserve = NULL WHERE id = ?",
            (dead,),
        )
    _fill(db)
    assert store.mark_interrupted() == 0  # the row cannot grow: skipped, no error
    assert db.execute("SELECT status FROM runs WHERE id = ?", (dead,)).fetchone()[0] == "running"
    runs = {r.run_id: r for r in store.list_runs()}
    assert runs[dead].status == "interrupted"  # shown as what it is
    assert store.get_run(run_id).history["loss"][0] == 1.0
    with pytest.raises(StoreError, match="disk is full"):
        store.rename_run(run_id, "a much longer name than before " * 20)


# -- a read-only store -------------------------------------------------------------------
def _chattr(flag: str, *paths: Path) -> bool:
    import subprocess

    done = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True)
    return done.returncode == 0


def test_a_read_only_store_can_be_read(tiny_config, fitgap_home, capsys):
    """An immutable file and folder: even root cannot write them."""
    store = RunStore()
    run_id = _record(store, tiny_config, "kept")
    dead = store.create_run(tiny_config, name="orphan")
    with store._connect() as db:
        db.execute("UPDATE runs SET pid = 999999999, pid_started = NULL WHERE id = ?", (dead,))
    store.close()
    _checkpoint(store.path)
    locked = [store.path, fitgap_home]
    if not _chattr("+i", *locked):
        pytest.skip("chattr +i is not possible here")
    try:
        with pytest.raises(OSError):
            (fitgap_home / "probe").write_text("")  # really read-only, even for root
        assert main(["runs", "list", "--json"]) == 0
        rows = {row["run_id"]: row for row in json.loads(capsys.readouterr().out)}
        assert rows[run_id]["name"] == "kept" and rows[dead]["status"] == "interrupted"
        assert main(["runs", "show", str(run_id)]) == 0
        assert "kept" in capsys.readouterr().out
        for argv in (["runs", "rename", str(run_id), "x"], ["train", "--epochs", "1"]):
            assert main(argv) == 2
            line = _one_error_line(capsys)
            assert str(store.path) in line and "read-only" in line
        assert RunStore().read_only
    finally:
        _chattr("-i", *locked)


# -- a lock held by another program ---------------------------------------------------------
@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv("FITGAP_STORE_TIMEOUT", "0.5")
    return 0.5


def _hold_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_held_lock_is_one_line_and_reads_still_work(tiny_config, short_timeout, capsys):
    store = RunStore()
    run_id = _record(store, tiny_config, "kept")
    dead = store.create_run(tiny_config, name="orphan")  # marking it needs a write
    with store._connect() as db:
        db.execute("UPDATE runs SET pid = 999999999, pid_started = NULL WHERE id = ?", (dead,))
    other = _hold_lock(store.path)
    try:
        start = time.monotonic()
        assert main(["runs", "rename", str(run_id), "new"]) == 2
        line = _one_error_line(capsys)
        assert str(store.path) in line and "locked by another program" in line
        assert main(["runs", "list", "--json"]) == 0  # readers are not blocked in WAL mode
        rows = {row["run_id"]: row for row in json.loads(capsys.readouterr().out)}
        assert rows[dead]["status"] == "interrupted"  # not marked (locked), shown as such
        assert main(["runs", "show", str(run_id)]) == 0
        assert time.monotonic() - start < 10 * short_timeout + 5
    finally:
        other.close()
    assert main(["runs", "rename", str(run_id), "new"]) == 0


def test_a_lock_taken_mid_run_pauses_it_and_the_run_completes(tiny_config, short_timeout):
    """Held for about two timeouts: the run waits, then goes on; nothing is failed."""
    config = tiny_config.replace({"training.epochs": 4})
    store = RunStore()
    waited: list[float] = []

    def on_epoch(run_id: int, metrics: EpochMetrics) -> None:
        if metrics.epoch == 2:
            other = _hold_lock(store.path)
            threading.Timer(2.2 * short_timeout, other.close).start()
            waited.append(time.monotonic())
        elif metrics.epoch == 3:
            waited.append(time.monotonic())

    result = run_recorded(config, store, on_epoch=on_epoch)
    assert waited[1] - waited[0] >= 2 * short_timeout  # epoch 3 really waited for the lock
    run = store.get_run(result.run_id)
    assert run.status == "completed" and run.epochs_run == 4
    assert len(run.history["loss"]) == 4


def test_a_lock_held_too_long_mid_run_ends_it_clearly(tiny_config, short_timeout):
    config = tiny_config.replace({"training.epochs": 5})
    store = RunStore()
    holder: list[sqlite3.Connection] = []

    def on_epoch(run_id: int, metrics: EpochMetrics) -> None:
        if metrics.epoch == 2:
            holder.append(_hold_lock(store.path))

    start = time.monotonic()
    try:
        with pytest.raises(StoreError) as caught:
            run_recorded(config, store, on_epoch=on_epoch, name="locked")
    finally:
        for other in holder:
            other.close()
    elapsed = time.monotonic() - start
    message = str(caught.value)
    assert caught.value.kind == "locked" and str(store.path) in message
    assert "its 2 epochs are kept" in message
    assert f"waited {RUN_WRITE_ATTEMPTS * short_timeout:g} s" in message
    assert elapsed < 30
    (run,) = store.list_runs()
    run = store.get_run(run.run_id)
    assert run.status == "interrupted" and run.epochs_run == 2  # cut short, not 'failed'
    assert "locked by another program" in run.message
    assert len(run.history["loss"]) == 2
    raw = sqlite3.connect(store.path).execute("SELECT status FROM runs").fetchone()[0]
    assert raw == "running"  # the end could not be written while the lock was held ...
    store.create_run(config)  # ... and is, with the next write that goes through
    assert store.get_run(run.run_id).status == "interrupted"
    raw = sqlite3.connect(store.path).execute("SELECT status FROM runs").fetchone()[0]
    assert raw == "interrupted"


def test_a_bad_store_timeout_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("FITGAP_STORE_TIMEOUT", "soon")
    assert main(["runs", "list"]) == 2
    assert "FITGAP_STORE_TIMEOUT" in _one_error_line(capsys)


# -- the models folder ----------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["models is a file", "the model path is a folder"])
def test_a_model_that_cannot_be_saved_leaves_the_run_completed(tiny_config, fitgap_home, fault):
    fitgap_home.mkdir()
    if fault == "models is a file":
        (fitgap_home / "models").write_text("not a folder")
    store = RunStore()
    if fault == "the model path is a folder":
        store.model_path(1).mkdir(parents=True)
    result = run_recorded(tiny_config, store)
    assert result.run_id == 1
    run = store.get_run(1)
    assert (run.status, run.epochs_run) == ("completed", 3)
    assert "its model was not kept" in run.message and str(store.model_path(1)) in run.message
    assert not run.has_model


# -- a moved store --------------------------------------------------------------------------
def test_a_moved_store_keeps_its_models(tiny_config, fitgap_home, tmp_path, monkeypatch):
    store = RunStore()
    result = run_recorded(tiny_config, store)
    store.close()
    raw = sqlite3.connect(store.path).execute("SELECT model_file FROM runs").fetchone()[0]
    assert raw == f"models/run-{result.run_id}.keras"  # relative to the store folder

    moved = tmp_path / "elsewhere"
    shutil.copytree(fitgap_home, moved)
    shutil.rmtree(fitgap_home)
    run = RunStore(moved).get_run(result.run_id)
    assert run.has_model and Path(run.model_file) == moved / "models" / raw.split("/")[1]
    monkeypatch.setenv("FITGAP_HOME", str(moved))
    assert main(["export", "model", str(result.run_id), "-o", str(tmp_path / "m.keras")]) == 0
    assert (tmp_path / "m.keras").read_bytes() == Path(run.model_file).read_bytes()


def test_an_old_store_with_absolute_model_paths_still_finds_them(tiny_config, fitgap_home):
    store = RunStore()
    kept = _record(store, tiny_config, "old and moved")
    gone = _record(store, tiny_config, "model deleted")
    store.model_path(kept).write_bytes(b"model")
    with store._connect() as db:  # as written before paths were relative, from elsewhere
        db.execute(
            "UPDATE runs SET model_file = ? WHERE id = ?",
            (f"/no/such/home/models/run-{kept}.keras", kept),
        )
        db.execute(
            "UPDATE runs SET model_file = ? WHERE id = ?",
            (f"/no/such/home/models/run-{gone}.keras", gone),
        )
    assert store.get_run(kept).has_model
    assert Path(store.get_run(kept).model_file) == store.model_path(kept)
    assert not store.get_run(gone).has_model


# -- renaming from the command line ---------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["a better name", 'x""" + __import__("os").system("true") + """', "two\nlines \x1b]0;t\x07"],
)
def test_runs_rename(tiny_config, capsys, name):
    """As the window's Rename: stored as given (trimmed), printed escaped."""
    from fitgap_gui.core.textsafe import printable

    run_id = _record(RunStore(), tiny_config, "old")
    assert main(["runs", "rename", str(run_id), name]) == 0
    out = capsys.readouterr().out
    assert out == f"renamed run {run_id} to '{printable(name.strip())}'\n"
    assert "\x1b" not in out and out.count("\n") == 1
    assert RunStore().get_run(run_id).name == name.strip()
    assert main(["runs", "show", str(run_id)]) == 0
    assert "\x1b" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["runs", "rename", "999", "x"], "no run with id 999"),
        (["runs", "rename", "{id}", "  "], "cannot be empty"),
        (["runs", "rename", "{id}"], "required"),
    ],
)
def test_runs_rename_refuses(tiny_config, capsys, argv, fragment):
    run_id = _record(RunStore(), tiny_config, "old")
    assert main([a.format(id=run_id) for a in argv]) == 2
    assert fragment in _one_error_line(capsys)
    assert RunStore().get_run(run_id).name == "old"


# -- a disk that really fills up (a tiny tmpfs in a private mount namespace) --------------
_FULL_DISK_SCRIPT = """
mount -t tmpfs -o size=160k tmpfs "$FITGAP_HOME" || exit 99
"$PY" -m fitgap_gui.cli train --config "$CFG" --jsonl > "$OUT/train.out" 2> "$OUT/train.err"
echo $? > "$OUT/train.rc"
"$PY" -m fitgap_gui.cli runs show 1 --json > "$OUT/show.out" 2> "$OUT/show.err"
echo $? > "$OUT/show.rc"
"$PY" -m fitgap_gui.cli runs list > /dev/null 2> "$OUT/list.err"
echo $? > "$OUT/list.rc"
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_a_disk_that_fills_up_mid_run_in_a_real_process(tiny_config, tmp_path):
    """``fitgap train`` on a 160 KiB file system: one error line, every printed epoch
    stored, and ``runs show``/``runs list`` still work on the full disk."""
    import os
    import subprocess
    import sys

    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    out.mkdir()
    config = tmp_path / "long.json"
    config.write_text(tiny_config.replace({"training.epochs": 200}).to_json())
    env = {**os.environ, "FITGAP_HOME": str(home), "PY": sys.executable}
    env.update(CFG=str(config), OUT=str(out))
    done = subprocess.run(["unshare", "-Urm", "sh", "-c", _FULL_DISK_SCRIPT], env=env, timeout=300)
    if done.returncode != 0:
        pytest.skip("no private mount namespace with tmpfs here")
    assert (out / "train.rc").read_text().strip() == "2"
    err = (out / "train.err").read_text()
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if x.startswith("error:")]
    assert "disk is full" in line and str(home / "runs.sqlite3") in line
    printed = [json.loads(x) for x in (out / "train.out").read_text().splitlines()]
    assert 1 <= len(printed) < 200 and f"its {len(printed)} epochs are kept" in line

    assert (out / "show.rc").read_text().strip() == "0", (out / "show.err").read_text()
    assert (out / "list.rc").read_text().strip() == "0", (out / "list.err").read_text()
    run = json.loads((out / "show.out").read_text())
    assert run["status"] == "interrupted" and run["epochs_run"] == len(printed)
    for shown in printed:
        assert run["history"]["loss"][shown["epoch"] - 1] == shown["loss"]
    print(f"full disk: {len(printed)} epochs printed and stored; ended: {run['message']}")
