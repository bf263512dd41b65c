"""Runs of a plan on this machine: in this process, or in N worker processes.

``LocalExecutor(workers=1)`` (and any plan of one run) trains in the calling process
with ``run_recorded``, exactly as a single run always has.  With N > 1 workers it
starts N processes with multiprocessing's ``spawn`` context (TensorFlow is not
fork-safe), each importing TensorFlow once with ``cores / N`` intra-op threads and
running ``core.training.train``.  The parent loads each distinct dataset once and
sends the arrays with a worker's task (a worker keeps the last one it got, so runs on
the same data cost one transfer); the worker never reads the user's files.

Only the parent writes the store: workers send ``started``, ``epoch`` and ``done``
events, each worker through its own pipe, in the order they happen, and the parent's
``PlanRecorder`` commits each epoch before it tells the caller.  A pipe per worker, not
one shared queue: a worker killed while writing (a shared queue's writers share a lock)
would otherwise hold the lock forever and silence the others.  Stop sets a shared
Event that each worker's ``should_stop`` reads between execution chunks; workers ignore
Ctrl+C (the parent decides) and exit on their own when the parent process is gone.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any

from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.experiments.executors.base import (
    Executor,
    PlanItem,
    PlanRecorder,
    RunFailedError,
    bytes_per_run,
    default_workers,
    error_kind,
    limit_tensorflow_threads,
    probe_hook,
    probe_study,
    threads_per_worker,
)
from fitgap_gui.core.kerasimport import import_keras
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import ShouldStop, train
from fitgap_gui.core.store.runstore import here

#: How long a stopped plan waits for its workers' runs to return before ending them.
STOP_GRACE_SECONDS = 10.0
#: How often a worker checks that its parent process still exists.
PARENT_CHECK_SECONDS = 0.2


class LocalExecutor(Executor):
    """N worker processes on this machine; ``workers=None`` picks N (``choose_workers``)."""

    def __init__(self, workers: int | None = None, *, save_model: bool = True) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.save_model = save_model
        #: The worker count and threads the last ``run`` used (for reports and tests).
        self.last_workers = 0
        self.last_threads = 0
        #: Pids of the last run's worker processes.
        self.worker_pids: list[int] = []

    def describe(self) -> str:
        if self.workers is None:
            return "this machine (as many workers as it carries)"
        return f"this machine ({self.workers} worker{'s' if self.workers > 1 else ''})"

    def choose_workers(self, plan: Sequence[PlanItem], datasets: Sequence[Dataset]) -> int:
        """The given N, or cores and MemAvailable / per-run memory, capped by the plan."""
        if self.workers is not None:
            return max(1, min(self.workers, len(plan)))
        return default_workers(len(plan), bytes_per_run(plan, datasets))

    def execute(self, recorder: PlanRecorder, stop: ShouldStop) -> None:
        n = self.choose_workers(recorder.plan, recorder.datasets)
        self.last_workers = n
        if n <= 1:
            self.last_threads = 0  # TensorFlow's own default, as always
            self._run_here(recorder, stop)
            return
        self.last_threads = threads_per_worker(n)
        _WorkerPool(self, recorder, n, self.last_threads, stop).run()

    def _run_here(self, recorder: PlanRecorder, stop: ShouldStop) -> None:
        """One after another in this process: ``run_recorded``, the path of a single run."""
        ran_on = here()
        on_started, on_epoch = recorder.on_run_started, recorder.on_epoch
        for index, (item, dataset) in enumerate(zip(recorder.plan, recorder.datasets, strict=True)):
            if stop():
                break
            result = run_recorded(
                item.config,
                recorder.store,
                dataset=dataset,
                name=item.label,
                save_model=self.save_model,
                should_stop=stop,
                checked=True,  # by check_plan, before anything trained
                inspect_model=probe_hook(item.probe, dataset),
                on_started=(lambda run_id, _ds, i=index: on_started(i, run_id, ran_on))  # type: ignore[misc]
                if on_started
                else None,
                on_epoch=(lambda run_id, metrics, i=index: on_epoch(i, run_id, metrics))  # type: ignore[misc]
                if on_epoch
                else None,
            )
            result.model = None  # the Keras model is large; do not keep one per run alive
            probe_study(item.probe, result)
            recorder.returned(index, result)
            if result.status == "stopped":
                break


class _WorkerPool:
    """The parent's loop for one plan: dispatch items to idle workers, record events."""

    def __init__(
        self,
        executor: LocalExecutor,
        recorder: PlanRecorder,
        n: int,
        threads: int,
        stop: ShouldStop,
    ) -> None:
        self.executor, self.recorder = executor, recorder
        self.plan, self.datasets = recorder.plan, recorder.datasets
        self.n, self.threads, self.stop = n, threads, stop
        # Items on the same data share one key, so a worker is sent each dataset once.
        keys: dict[int, int] = {}
        self.data_keys = [keys.setdefault(id(d), len(keys)) for d in self.datasets]

    def run(self) -> None:
        ctx = mp.get_context("spawn")
        pipes = [ctx.Pipe(duplex=False) for _ in range(self.n)]  # (parent's end, worker's)
        stop_flag = ctx.Event()
        tasks = [ctx.Queue() for _ in range(self.n)]
        procs = [
            ctx.Process(
                target=worker_main,
                args=(i, tasks[i], pipes[i][1], stop_flag, os.getpid(), self.threads),
                name=f"fitgap-worker-{i + 1}",
                daemon=True,  # a parent that exits normally takes its workers along
            )
            for i in range(self.n)
        ]
        for proc in procs:
            proc.start()
        for _reader, writer in pipes:
            writer.close()  # the worker holds its end alone: its death reads as EOF here
        self.readers = {worker: reader for worker, (reader, _writer) in enumerate(pipes)}
        self.executor.worker_pids = [p.pid for p in procs if p.pid is not None]
        pending = deque(range(len(self.plan)))
        busy: dict[int, int] = {}  # worker -> plan index
        has_key = [-1] * self.n
        stopping = False
        deadline = float("inf")
        recorder = self.recorder
        try:
            while pending or busy:
                if not stopping and self.stop():
                    stopping = True
                    stop_flag.set()
                    deadline = time.monotonic() + STOP_GRACE_SECONDS
                if stopping or recorder.error is not None:
                    pending.clear()  # nothing new starts; runs under way finish
                self._check_workers(procs, busy)
                dead = {w for w, proc in enumerate(procs) if proc.exitcode is not None}
                if len(dead) == self.n and pending:  # no worker left to train the rest
                    if recorder.error is None and recorder.lost is None:
                        recorder.lost = RunFailedError(
                            f"every worker process ended; {len(pending)} runs never started"
                        )
                    break
                for worker in range(self.n):
                    if pending and worker not in busy and worker not in dead:
                        index = pending.popleft()
                        key = self.data_keys[index]
                        data = None if has_key[worker] == key else self.datasets[index]
                        has_key[worker] = key
                        item = self.plan[index]
                        save = self.executor.save_model
                        tasks[worker].put((index, item.config, data, save, item.probe))
                        busy[worker] = index
                if not busy:
                    break
                ready = mp_connection.wait(list(self.readers.values()), timeout=0.1)
                if not ready and time.monotonic() > deadline:
                    break  # the rest is ended below, their epochs kept
                for worker, reader in list(self.readers.items()):
                    if reader in ready:
                        self._receive(worker, busy)
        finally:
            stop_flag.set()
            for task_queue in tasks:
                with contextlib.suppress(Exception):
                    task_queue.put(None)
            _end_processes(procs)
            recorder.end_unfinished(stopping)
            for reader in self.readers.values():
                reader.close()
            for task_queue in tasks:
                task_queue.cancel_join_thread()

    def _receive(self, worker: int, busy: dict[int, int]) -> bool:
        """One event from ``worker``'s pipe; False (and its pipe closed) once it is gone."""
        reader = self.readers.get(worker)
        if reader is None:
            return False
        try:
            event = reader.recv()
        except (EOFError, OSError, pickle.UnpicklingError):  # gone, maybe mid-message
            reader.close()
            del self.readers[worker]
            return False
        self._handle(event, busy)
        return True

    def _handle(self, event: tuple, busy: dict[int, int]) -> None:
        kind, worker, index = event[0], event[1], event[2]
        if kind == "started":
            self.recorder.started(index, event[3])
        elif kind == "epoch":
            self.recorder.epoch(index, event[3])
        elif kind == "done":
            busy.pop(worker, None)
            self.recorder.done(index, event[3], event[4])
        elif kind == "failed":
            busy.pop(worker, None)
            self.recorder.failed(index, event[3], event[4])

    def _check_workers(self, procs: list, busy: dict[int, int]) -> None:
        """A worker that died (killed, out of memory) fails the run it had, once what it
        sent before is read; the other workers go on with the plan."""
        for worker, index in list(busy.items()):
            code = procs[worker].exitcode
            if code is None:
                continue
            reader = self.readers.get(worker)
            while reader is not None and worker in busy and self._poll(reader):
                if not self._receive(worker, busy):
                    break
            if worker not in busy:
                continue  # its run had ended after all
            busy.pop(worker)
            if -code in signal.valid_signals():
                how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
            else:
                how = f"ended unexpectedly (exit code {code})"
            self.recorder.failed(index, "", f"worker process {worker + 1} {how}", plan_goes_on=True)

    @staticmethod
    def _poll(reader: Any) -> bool:
        try:
            return bool(reader.poll(0))
        except (OSError, EOFError):
            return False


def _end_processes(procs: list) -> None:
    """Ask nicely (each got a None task), then terminate, then kill: nothing outlives us."""
    deadline = time.monotonic() + 5.0
    for proc in procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=2.0)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=2.0)


# -- the worker process ---------------------------------------------------------------------------
def _watch_parent(parent_pid: int) -> None:
    """Exit this worker at once when the parent is gone (killed with -9, crashed).

    A process whose parent died is re-parented, so ``getppid`` changes; checked
    every 0.2 s on a daemon thread, while the main thread is inside TensorFlow.
    """
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def worker_main(
    worker: int, tasks: Any, events: Any, stop_flag: Any, parent_pid: int, threads: int
) -> None:
    """A worker's life: import TensorFlow once, then train each task until a None.

    ``events`` is this worker's end of its pipe to the parent; each ``send`` returns
    once the event is written, so nothing is left to flush at the end.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()

    limit_tensorflow_threads(threads)
    # Starts TensorFlow's devices now, its C++ start-up lines going to the log file
    # rather than the terminal the worker inherited from the window.
    import_keras()

    ran_on = f"{socket.gethostname()} worker {worker + 1} pid {os.getpid()}"
    dataset: Dataset | None = None
    while True:
        task = tasks.get()
        if task is None:
            # Every event is written to the parent; leave without TensorFlow's slow
            # interpreter teardown (seconds on a busy machine, for nothing).
            events.close()
            os._exit(0)
        index, config, data, save_model, probe = task
        if data is not None:
            dataset = data
        assert dataset is not None  # the parent sends the data with a worker's first task

        def send_epoch(metrics: EpochMetrics, i: int = index) -> None:
            events.send(("epoch", worker, i, metrics))

        try:
            events.send(("started", worker, index, ran_on))
            hook = probe_hook(probe, dataset)
            result = train(config, dataset, send_epoch, stop_flag.is_set, inspect_model=hook)
            probe_study(probe, result)
            keep = save_model and result.epochs_run > 0
            model_bytes = model_to_bytes(result.model) if keep else None
            result.model = None
            events.send(("done", worker, index, result, model_bytes))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}".strip()
            events.send(("failed", worker, index, error_kind(exc), message))


def model_to_bytes(model: Any) -> bytes | None:
    """The ``.keras`` file of ``model`` as bytes, for the parent to write into the store."""
    if model is None:
        return None
    with tempfile.TemporaryDirectory(prefix="fitgap-model-") as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()
