"""Bad input, round three: run ids, counts, Ray addresses, ``--out``, closed pipes and
the last-resort handler each end in one ``error:`` line (or quietly), never a traceback."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError, RunNotFoundError
from fitgap_gui.core.experiments import plans
from fitgap_gui.core.experiments.executors import make_executor
from fitgap_gui.core.store.runstore import RunStore
from tests.support.runs import commit_run

HUGE = "99999999999999999999"  # beyond SQLite's 64-bit INTEGER


def one_error_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error:") and "Traceback" not in err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "show", HUGE],
        ["runs", "delete", HUGE],
        ["runs", "rename", HUGE, "x"],
        ["export", "json", HUGE, "-o", "out.json"],
        ["export", "report", "1", HUGE, "-o", "out.html"],
        ["train", "--continue", HUGE],
    ],
)
def test_a_run_id_beyond_64_bits_is_one_error_line(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    one_error_line(capsys, f"no run with id {HUGE}", "2**63 - 1")


def test_the_store_refuses_a_run_id_beyond_64_bits_itself(tiny_config):
    store = RunStore()
    for call in (
        store.get_run,
        store.delete_run,
        store.is_live,
        store.history,
        store.epochs,
        lambda run_id: store.rename_run(run_id, "x"),
        lambda run_id: store.create_run(tiny_config, parent_run_id=run_id, branch_epoch=1),
    ):
        with pytest.raises(RunNotFoundError, match="2\\*\\*63 - 1"):
            call(int(HUGE))
    assert store.list_runs() == []


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["train", "--repeats", "1000000"], ["--repeats", "at most 1000 runs per plan"]),
        (["compare", "--repeats", "2147483647"], ["at most 1000 runs per plan"]),
        (
            ["sweep", "--param", "model.dropout", "--values", "0,0.1,0.2", "--repeats", "500"],
            ["500 repeats of 3 configurations", "at most 333 repeats"],
        ),
    ],
)
def test_a_count_no_plan_holds_is_refused_at_once(args, fragments, capsys):
    assert main(args) == 2
    one_error_line(capsys, *fragments)
    assert RunStore().list_runs() == []


def test_repeats_are_planned_lazily(monkeypatch):
    made = []
    replace = RunConfig.replace
    monkeypatch.setattr(RunConfig, "replace", lambda self, ch: made.append(ch) or replace(self, ch))
    base = RunConfig()
    plan = plans.with_repeats([("a", base), ("b", base)], plans.MAX_PLAN_RUNS // 2)
    assert made == []  # nothing built before a run asks for it
    assert len(plan) == plans.MAX_PLAN_RUNS
    key, config = plan[-1]
    assert key == "b" and config.training.seed == base.training.seed + plans.MAX_PLAN_RUNS // 2 - 1
    assert [c.training.seed for _, c in plan[:2]] == [base.training.seed, base.training.seed + 1]
    with pytest.raises(FitGapError, match="at most 1000 runs per plan"):
        plans.with_repeats([("a", base), ("b", base)], plans.MAX_PLAN_RUNS // 2 + 1)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_unreachable_ray_address_is_refused_at_once(scheme, capsys):
    address = f"{scheme}127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    assert main(["compare", "--ray", address, "--repeats", "1"]) == 2
    assert time.monotonic() - started < 30
    one_error_line(capsys, f"cannot reach Ray at {address!r}")
    assert RunStore().list_runs() == []


@pytest.mark.parametrize("address", ["", "  "])
def test_an_empty_ray_address_is_an_error(address, capsys):
    assert main(["sweep", "--param", "model.dropout", "--values", "0", "--ray", address]) == 2
    one_error_line(capsys, "--ray needs an address")
    with pytest.raises(FitGapError, match="needs an address"):
        make_executor(ray_address=address)


def _file(path: Path) -> Path:
    path.write_text("")
    return path


@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        (lambda t: t / "missing" / "out.json", "does not exist"),
        (lambda t: t, "is a folder"),
        (lambda t: _file(t / "a-file") / "out.json", "a part of the path is a file"),
    ],
)
def test_an_out_that_cannot_be_written_is_refused_before_training(out, fragment, tmp_path, capsys):
    args = ["train", "--data", "no-such.csv", "--out", str(out(tmp_path))]
    assert main(args) == 2  # before the data, before TensorFlow
    one_error_line(capsys, fragment)
    assert RunStore().list_runs() == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_at_the_end_says_the_runs_stay_stored(config_file, capsys):
    assert main(["train", "--config", str(config_file), "--out", "/dev/full"]) == 2
    one_error_line(capsys, "cannot write /dev/full", "the runs stay stored")
    (run,) = RunStore().list_runs()
    assert run.status == "completed"
    assert Path("/dev/full").is_char_device()  # written in place, never replaced


def test_a_device_is_written_in_place(tmp_path):
    from fitgap_gui.cli.common import check_writable, write_out

    check_writable(Path("/dev/null"))
    write_out("/dev/null", {"a": 1})
    assert Path("/dev/null").is_char_device()
    target = tmp_path / "out.json"
    target.write_text("old and longer than what replaces it")
    write_out(target, {"a": 1})  # a regular file is written anew
    assert target.read_text() == '{\n  "a": 1\n}\n'


def _cli(*args: str, stdout_closed: bool = False) -> tuple[int, str]:
    """``fitgap ARGS`` in a child process: (exit code, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fitgap_gui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if stdout_closed:
        proc.stdout.close()  # the reader is gone before the first line: `| head -c 0`
        with proc.stderr:
            err = proc.stderr.read().decode()
        return proc.wait(timeout=60), err
    _out, err_bytes = proc.communicate(timeout=60)
    return proc.returncode, err_bytes.decode()


def test_a_closed_pipe_ends_every_command_quietly(tiny_config):
    store = RunStore()
    for i in range(30):
        commit_run(store, tiny_config, epochs=3, name=f"run number {i}")
    for args in (["runs", "list"], ["runs", "list", "--json"], ["runs", "show", "1"]):
        code, err = _cli(*args, stdout_closed=True)
        assert err == "" and code == 141, (args, code, err)
    code, err = _cli("runs", "show", HUGE)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_an_unexpected_failure_is_one_line_naming_the_log(monkeypatch, capsys, fitgap_home):
    from fitgap_gui.cli import runs

    def broken(args):
        raise RuntimeError("something no test foresaw")

    monkeypatch.setattr(runs, "cmd_runs_list", broken)
    try:
        assert main(["runs", "list"]) == 1
    finally:  # the log handler main put on the root logger goes with this test
        from fitgap_gui.core.logfiles import QuietRotatingFileHandler

        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, QuietRotatingFileHandler)]:
            root.removeHandler(handler)
            handler.close()
    line = one_error_line(capsys, "RuntimeError: something no test foresaw", "fitgap.log")
    log = fitgap_home / "logs" / "fitgap.log"
    assert str(log) in line
    assert "Traceback" in log.read_text() and "something no test foresaw" in log.read_text()


def test_a_killed_worker_is_one_error_line_and_the_other_runs_finish(
    tiny_config,
    tmp_path,
    fitgap_home,
    qtbot,  # only for its waitUntil (a polling wait with a timeout, no sleeping)
):
    config = tmp_path / "tiny.json"
    tiny_config.save(config)
    args = ["sweep", "--config", str(config), "--param", "training.epochs"]
    args += ["--values", "100000,2,2", "--repeats", "1", "--workers", "2"]

    def long_run_worker() -> int | None:
        for run in RunStore(fitgap_home).list_runs():
            if run.name.endswith("=100000") and run.epochs_run and run.ran_on:
                return int(run.ran_on.rsplit(" ", 1)[1])
        return None

    with subprocess.Popen(
        [sys.executable, "-m", "fitgap_gui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    ) as proc:
        try:
            qtbot.waitUntil(lambda: long_run_worker() is not None, timeout=240_000)
            os.kill(long_run_worker(), signal.SIGKILL)
            out, err = proc.communicate(timeout=240)
        finally:
            proc.kill()
    errors = [line for line in err.decode().splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and "Traceback" not in err.decode()
    (line,) = errors
    runs = RunStore(fitgap_home).list_runs()
    (killed,) = [run for run in runs if run.name == "sweep training.epochs=100000"]
    runs.remove(killed)
    assert f"run {killed.run_id} 'sweep training.epochs=100000'" in line
    assert "was killed by signal 9 (SIGKILL)" in line
    assert killed.status == "failed"
    assert [run.status for run in runs] == ["completed", "completed"]
    assert out.decode().count("completed") == 2
