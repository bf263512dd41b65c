"""Runs of a plan as Ray tasks: a lab's cluster, or a local Ray instance.

Each plan item is one Ray task running ``core.training.train``.  Each distinct dataset
is put once into Ray's object store (``ray.put``), so the user's files need not exist
on the cluster's machines, and a task reads the arrays from there.  Tasks send their
``started`` and ``epoch`` events through one ``ray.util.queue.Queue`` while they train;
the result (and the model file's bytes) come back as the task's return value, and the
parent's ``PlanRecorder`` writes everything into the local store, exactly as for local
workers.  Stop sets a flag actor that each task polls between execution chunks, and
``ray.cancel`` drops the tasks that have not started yet.

Ray is optional (``pip install -e ".[ray]"``); nothing here imports it until used.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fitgap_gui
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.executors.base import (
    Executor,
    PlanRecorder,
    error_kind,
    limit_tensorflow_threads,
    probe_hook,
    probe_study,
)
from fitgap_gui.core.experiments.executors.local import model_to_bytes
from fitgap_gui.core.run.training import ShouldStop, train

INSTALL_HINT = 'Ray is not installed; install it with: pip install -e ".[ray]"'
#: How long a stopped plan waits for its running tasks to return before cancelling them.
STOP_GRACE_SECONDS = 10.0
#: How often a task asks the stop flag actor whether to stop.
STOP_POLL_SECONDS = 0.25
#: How long the reachability probe waits for a cluster's port to answer.  Ray's own
#: connect retries for minutes on a closed port, so the probe comes first.
PROBE_SECONDS = 10.0
#: Ray Client's port, when a ``ray://`` address names none.
RAY_CLIENT_PORT = 10001


def import_ray() -> Any:
    """The ``ray`` module, or FitGap's one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise FitGapError(INSTALL_HINT) from None
    return ray


def check_address(address: str | None) -> None:
    """Refuse, in one line and within ``PROBE_SECONDS``, a Ray address nobody answers at.

    ``auto``, ``local`` and None name no machine and are left to Ray.  A ``ray://``
    address (port 10001 by default) or a ``HOST:PORT`` head address must accept a TCP
    connection: a closed port, an unknown host or an address that does not answer is
    refused here, before any data is loaded, instead of Ray's minutes of retries.
    An empty address is an error (an unset variable in ``--ray "$HEAD"``).
    """
    if address is None:
        return
    text = address.strip()
    if not text:
        raise FitGapError("--ray needs an address: 'auto', 'local' or 'ray://HOST:10001'")
    if text in ("auto", "local"):
        return
    client = text.startswith("ray://")
    rest = text.removeprefix("ray://")
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise FitGapError(f"Ray address {address!r} is not HOST:PORT ({exc})") from None
    where = ""
    if port is None and client:
        port, where = RAY_CLIENT_PORT, f" (port {RAY_CLIENT_PORT})"
    if not host or port is None or parts.path not in ("", "/"):
        raise FitGapError(
            f"Ray address {address!r} is not 'auto', 'local', 'ray://HOST:PORT' or HOST:PORT"
        )
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS):
            pass
    except TimeoutError:
        why = f"no answer within {PROBE_SECONDS:g} s"
    except socket.gaierror as exc:
        why = f"unknown host ({exc.strerror})"
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
    else:
        return
    raise FitGapError(f"cannot reach Ray at {address!r}{where}: {why}")


def package_folder() -> str:
    """FitGap's package folder, as Ray's ``py_modules`` takes it.

    A path, not the module object: over Ray Client (``ray://``) the runtime env is
    pickled (Ray's uv hook), and a module cannot be.
    """
    return str(Path(fitgap_gui.__file__).resolve().parent)


def auth_hint(address: str | None) -> str:
    """What to try when a ``ray://`` connection fails: the cluster's token.

    Ray never turns token authentication on by itself for an explicit address (a head
    started where ``~/.ray/auth_token`` exists requires it), and the client then times
    out without saying why.
    """
    if not (address or "").startswith("ray://") or os.environ.get("RAY_AUTH_MODE") == "token":
        return ""
    return (
        " (if the cluster requires token authentication, set RAY_AUTH_MODE=token and its "
        "token in RAY_AUTH_TOKEN or ~/.ray/auth_token)"
    )


class RayExecutor(Executor):
    """Each run a Ray task on the cluster at ``address``.

    ``address``: ``"auto"`` (the cluster this machine belongs to), ``"ray://host:10001"``
    (a remote cluster through Ray Client), ``"local"`` (start a private local instance),
    or None (the Ray session this process already has, else Ray's own default).
    For a cluster address FitGap's own code travels with the job (``py_modules``);
    the cluster's Python needs TensorFlow, Keras and scikit-learn installed.
    ``cpus_per_run``: Ray CPUs (and TensorFlow threads) per task; by default the
    cluster's CPUs shared out over the plan, at least 1.
    """

    def __init__(
        self,
        address: str | None = "auto",
        *,
        cpus_per_run: int | None = None,
        save_model: bool = True,
    ) -> None:
        self.address = address
        self.cpus_per_run = cpus_per_run
        self.save_model = save_model
        self._started_ray = False
        self.last_cpus_per_run = 0

    def describe(self) -> str:
        return f"Ray at {self.address or 'the current session'}"

    def connect(self) -> Any:
        """Join (or start) the Ray instance; returns the ray module."""
        ray = import_ray()
        if ray.is_initialized():
            return ray
        kwargs: dict[str, Any] = {"log_to_driver": False}
        if self.address in (None, "local"):
            kwargs["include_dashboard"] = False
        else:
            # The cluster's machines may not have FitGap: its package goes with the job.
            kwargs["runtime_env"] = {"py_modules": [package_folder()]}
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FitGapError(
                f"cannot connect to Ray at {self.address!r}: {first}{auth_hint(self.address)}"
            ) from None
        self._started_ray = True
        return ray

    def shutdown(self) -> None:
        """Leave the Ray session this executor started (a no-op otherwise)."""
        if self._started_ray:
            import_ray().shutdown()
            self._started_ray = False

    def execute(self, recorder: PlanRecorder, stop: ShouldStop) -> None:
        plan, datasets = recorder.plan, recorder.datasets
        ray = self.connect()
        from ray.util.queue import Empty, Queue

        cpus = self.cpus_per_run or max(
            1, math.floor(ray.cluster_resources().get("CPU", 1) / len(plan))
        )
        self.last_cpus_per_run = cpus
        events = Queue(actor_options={"num_cpus": 0})
        flag = ray.remote(num_cpus=0)(_StopFlag).remote()
        task = ray.remote(ray_task).options(num_cpus=cpus, max_retries=0)
        data_refs = {id(d): ray.put(d) for d in datasets}  # each distinct dataset once
        # At most as many tasks in flight as the cluster has room for, submitted in plan
        # order: Ray does not keep the order of queued tasks whose arguments differ, and
        # a stopped plan then has little to cancel.
        slots = max(1, math.floor(ray.cluster_resources().get("CPU", 1) / cpus))
        pending = list(range(len(plan)))[::-1]
        refs: dict[Any, int] = {}

        def submit() -> None:
            while pending and len(refs) < slots:
                index = pending.pop()
                ref = task.remote(
                    index,
                    plan[index].config,
                    data_refs[id(datasets[index])],
                    events,
                    flag,
                    cpus,
                    self.save_model,
                    plan[index].probe,
                )
                refs[ref] = index

        submit()
        stopping = False
        deadline = float("inf")

        def drain(block: bool) -> None:
            while True:
                try:
                    event = events.get(block=block, timeout=0.1 if block else None)
                except Empty:
                    return
                block = False
                kind, index = event[0], event[1]
                if kind == "started":
                    recorder.started(index, event[2])
                elif kind == "epoch":
                    recorder.epoch(index, event[2])

        try:
            while refs:
                if recorder.error is not None:
                    pending.clear()  # after a failed run nothing new starts
                if not stopping and stop():
                    stopping = True
                    flag.set.remote()
                    deadline = time.monotonic() + STOP_GRACE_SECONDS
                    pending.clear()
                    for ref, index in refs.items():
                        if index not in recorder.run_ids:
                            ray.cancel(ref)  # not started yet: it never will
                drain(block=True)
                ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0)
                if ready:
                    drain(block=False)  # a task's events are all queued before it returns
                for ref in ready:
                    self._collect(ray, ref, refs.pop(ref), recorder)
                if not stopping:
                    submit()
                if refs and time.monotonic() > deadline:
                    for ref in refs:
                        ray.cancel(ref, force=True)
                    break
        finally:
            recorder.end_unfinished(stopping)
            with contextlib.suppress(Exception):
                ray.kill(flag)
            with contextlib.suppress(Exception):
                events.shutdown()

    @staticmethod
    def _collect(ray: Any, ref: Any, index: int, recorder: PlanRecorder) -> None:
        try:
            outcome = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            return  # never started (or cancelled after a stop): end_unfinished keeps epochs
        except ray.exceptions.RayError as exc:  # the task's worker died, or the node
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            recorder.failed(index, "", f"the Ray task failed: {first}")
            return
        if outcome[0] == "done":
            recorder.done(index, outcome[1], outcome[2])
        elif outcome[0] == "failed":
            recorder.failed(index, outcome[1], outcome[2])
        # "skipped": the plan was stopped before this task began; no row exists


class _StopFlag:
    """One bit every task of a plan can read: stop now."""

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def is_set(self) -> bool:
        return self.value


def _off_main_thread(ray: Any, ref: Any) -> Any:
    """``ray.get(ref)`` from another thread.

    Ray lends a task's CPUs to waiting tasks while the task's *main* thread blocks in
    ``ray.get``; a plan would then train more runs at once than it has CPUs for.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(ray.get, ref).result()


def ray_task(
    index: int,
    config: Any,
    dataset: Dataset,
    events: Any,
    flag: Any,
    threads: int,
    save_model: bool,
    probe: Any = None,
) -> tuple:
    """One run inside a Ray worker: ``train`` with events to the queue, result returned."""
    import ray

    if _off_main_thread(ray, flag.is_set.remote()):
        return ("skipped",)
    limit_tensorflow_threads(threads)
    stopped = threading.Event()
    finished = threading.Event()
    sent: list[Any] = []

    def send(event: tuple) -> None:
        # Not waited for (see _off_main_thread); one caller's actor calls run in order.
        sent.append(events.actor.put_nowait.remote(event))

    def poll_flag() -> None:
        while not finished.wait(STOP_POLL_SECONDS):
            with contextlib.suppress(Exception):
                if ray.get(flag.is_set.remote()):
                    stopped.set()
                    return

    context = ray.get_runtime_context()
    node = context.get_node_id()
    ran_on = f"ray node {node[:12]} ({ray.util.get_node_ip_address()}) pid {os.getpid()}"
    threading.Thread(target=poll_flag, daemon=True).start()
    try:
        send(("started", index, ran_on))
        result = train(
            config,
            dataset,
            lambda metrics: send(("epoch", index, metrics)),
            stopped.is_set,
            inspect_model=probe_hook(probe, dataset),
        )
        probe_study(probe, result)
        model_bytes = model_to_bytes(result.model) if save_model and result.epochs_run else None
        result.model = None
        outcome: tuple = ("done", result, model_bytes)
    except Exception as exc:
        outcome = ("failed", error_kind(exc), f"{type(exc).__name__}: {exc}".strip())
    finally:
        finished.set()
    # Every event is in the queue before the result is: the parent drains it on return.
    _off_main_thread(ray, sent)
    return outcome
