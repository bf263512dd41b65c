"""The ``ray://`` path end to end: a real Ray head with a client server, then
``fitgap compare --ray ray://127.0.0.1:PORT`` against it, then the head is stopped.

This is the way a lab points FitGap at its cluster (Ray Client, the head's port 10001);
here the "cluster" is a head started by this script on this machine with 2 CPUs, in
its own temporary folder and ports, so it never touches another Ray instance, and with
token authentication on (its own token, given to the client as ``RAY_AUTH_MODE=token``
and ``RAY_AUTH_TOKEN``, as a lab's cluster would need).  FitGap's
code travels with the job (``runtime_env={"py_modules": [fitgap_gui]}``, see
``core/executors/rayexec.py``).  The head is ``ray start --block`` in a session of its
own; it is ended by its process group id, which this script started.

    .venv/bin/python benchmarks/check_ray_client.py      # ~1-3 min on 2 busy cores

Prints the timings and the stored rows, and exits 1 when a check fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import benchlib

HEAD_START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1.0)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


#: The head's own token: token authentication on, as a lab's cluster has it, and
#: independent of any ~/.ray/auth_token on this machine.
TOKEN = uuid.uuid4().hex


def ray_env() -> dict[str, str]:
    """The environment of the head and of the client: this check's token, no RAY_ADDRESS."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=TOKEN)
    return env


def start_head(folder: Path, gcs_port: int, client_port: int) -> subprocess.Popen:
    ray = Path(sys.executable).with_name("ray")
    command = [
        str(ray), "start", "--head", "--block",
        f"--port={gcs_port}", f"--ray-client-server-port={client_port}",
        "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={folder}",
        "--disable-usage-stats",
    ]  # fmt: skip
    env = ray_env()
    log = (folder.parent / "head.log").open("w")
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def stop_head(head: subprocess.Popen) -> float:
    """SIGTERM to ``ray start --block`` (it stops what it started), then its group."""
    start = time.monotonic()
    if head.poll() is None:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)  # the group this script started
            head.wait(timeout=30)
    return time.monotonic() - start


def from_a_thread(address: str, config_path: Path) -> list[str]:
    """The window's way: the plan runs on a thread that is not the main one."""
    import threading

    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.experiments.executors import PlanItem, RayExecutor
    from fitgap_gui.core.store.runstore import RunStore

    config = RunConfig.load(config_path)
    plan = [PlanItem(config.replace({"training.seed": s}), f"thread seed {s}") for s in (1, 2)]
    epochs: list[int] = []
    outcome: dict = {}

    def run() -> None:
        executor = RayExecutor(address)
        try:
            outcome["results"] = executor.run(
                plan, RunStore(), on_epoch=lambda _i, run_id, _m: epochs.append(run_id)
            )
        except Exception as exc:  # reported below
            outcome["error"] = exc
        finally:
            executor.shutdown()

    t = time.monotonic()
    thread = threading.Thread(target=run, name="like-the-window's-training-task")
    thread.start()
    thread.join(timeout=600)
    seconds = time.monotonic() - t
    results = outcome.get("results") or []
    print(f"the same address from a non-main thread: {len(results)} runs, {len(epochs)} epochs "
          f"streamed, {seconds:.1f} s, error: {outcome.get('error')!r}")  # fmt: skip
    if "error" in outcome or thread.is_alive():
        return [f"from a thread: {outcome.get('error')!r}"]
    if [r.status for r in results] != ["completed", "completed"] or len(epochs) != 6:
        return ["from a thread: expected 2 completed runs and 6 epochs"]
    return []


def main() -> int:
    print("ray:// client check: " + benchlib.machine_line(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="fg-ray-"))
    # Ray's socket paths must stay short: its temp folder lives right under /tmp.
    ray_folder = Path(tempfile.mkdtemp(prefix="rfg", dir="/tmp"))
    home = work / "home"
    config = work / "tiny.json"
    config.write_text(
        json.dumps(
            {
                "data": {"source": "digits", "train_fraction": 0.1, "validation_split": 0.2},
                "model": {"hidden_units": [16]},
                "training": {"epochs": 3, "batch_size": 16, "seed": 1},
            }
        )
    )
    gcs_port, client_port = free_port(), free_port()
    t0 = time.monotonic()
    head = start_head(ray_folder, gcs_port, client_port)
    failures: list[str] = []
    try:
        if not wait_for_port(client_port, HEAD_START_TIMEOUT):
            print((work / "head.log").read_text()[-3000:])
            print(f"FAILED: the head's client server did not listen on {client_port}")
            return 1
        head_seconds = time.monotonic() - t0
        print(f"ray head up (gcs {gcs_port}, client server {client_port}): {head_seconds:.1f} s")
        address = f"ray://127.0.0.1:{client_port}"
        out = work / "compare.json"
        command = [
            sys.executable, "-m", "fitgap_gui.cli", "compare", "--config", str(config),
            "--repeats", "1", "--ray", address, "--out", str(out),
        ]  # fmt: skip
        env = ray_env()
        env.update(FITGAP_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3")
        t1 = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        compare_seconds = time.monotonic() - t1
        print(f"$ fitgap compare --repeats 1 --ray {address}: exit {done.returncode}, "
              f"{compare_seconds:.1f} s")  # fmt: skip
        print(done.stdout[-2500:])
        if done.returncode != 0:
            print(done.stderr[-3000:])
            failures.append(f"fitgap compare exited {done.returncode}")
        else:
            sys.path.insert(0, str(benchlib.ROOT))
            os.environ.update(ray_env(), FITGAP_HOME=str(home))  # before ray is imported
            from fitgap_gui.core.store.runstore import RunStore

            runs = sorted(RunStore().list_runs(), key=lambda r: r.run_id)
            for run in runs:
                print(f"  run {run.run_id} {run.name!r}: {run.status}, {run.epochs_run} "
                      f"epochs, ran on {run.ran_on}")  # fmt: skip
            if len(runs) != 5 or {r.status for r in runs} - {"completed", "early_stopped"}:
                failures.append("expected 5 finished runs in the store")
            if not all((r.ran_on or "").startswith("ray node") for r in runs):
                failures.append("a run's row does not name its Ray node")
            if not out.is_file():
                failures.append("no --out file")
            failures += from_a_thread(address, config)
    finally:
        stop_seconds = stop_head(head)
        print(f"ray head stopped in {stop_seconds:.1f} s (exit {head.returncode})")
    shutil.rmtree(ray_folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("met" if not failures else "MISSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
