"""What every executor shares: the plan, the callbacks, and the parent's store recorder.

An experiment is a plan of independent runs (``PlanItem``: a RunConfig and its label).
An executor trains the items wherever it likes (this process, worker processes, Ray
tasks) and streams events back to the one process that owns the store; there
``PlanRecorder`` turns them into store rows with the same steps as ``run_recorded``
(``session.begin_run`` / ``append_epoch`` / ``session.end_run``): an epoch row is
committed, *then* the caller is told.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitgap_gui.core import errors
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_datasets
from fitgap_gui.core.diagnosis.inputs import inputs_for_diagnosis
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.kerasimport import import_tensorflow
from fitgap_gui.core.memory import cgroup_limit, mem_available
from fitgap_gui.core.model.memory import estimate_model_memory
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.session import begin_run, check_run, end_run
from fitgap_gui.core.run.training import InspectModel, ShouldStop
from fitgap_gui.core.store.runstore import RunStore

#: (plan index, run id, where it runs) once the run's store row exists.
OnRunStarted = Callable[[int, int, str], None]
#: (plan index, run id, metrics) after the epoch row is committed.
OnPlanEpoch = Callable[[int, int, EpochMetrics], None]
#: (plan index, result) once the run's row is finished (the result holds no model).
OnRunDone = Callable[[int, RunResult], None]

#: A TensorFlow process's own memory before any model or data: the plain Keras program
#: peaked at 643 MiB with Keras imported, 693 MiB after a digits run
#: (benchmarks/RESULTS.md, "Memory"); the data and model are counted on top.
TF_PROCESS_BASELINE_BYTES = 600 * 1024**2


class RunFailedError(RuntimeError):
    """A run of a plan raised something other than a FitGapError in its worker."""


@dataclass(frozen=True)
class PlanItem:
    """One run of an experiment: what to train, and the name its store row gets.

    ``probe`` (optional, picklable: it travels to the worker) watches the run for an
    experiment's own record: ``probe.start(dataset)`` gives the ``inspect_model``
    hook of ``core.run.training.train`` (called after each epoch; inference only, so
    the run's numbers do not change), and ``probe.collected()`` what it recorded,
    which the run's result carries back as ``RunResult.study`` (never stored in the
    run's row or history).
    """

    config: RunConfig
    label: str
    probe: Any = None


class Executor:
    """Runs a plan; every executor has this one ``run`` and the same callbacks.

    ``run`` returns one entry per plan item, in plan order: its RunResult (with
    ``run_id``, ``diagnosis``; no ``model``), or None for an item that never started
    because the plan was stopped.  Bad data or a config that cannot fit its data
    raises before anything trains.  A run that raised is stored as ``failed``; no new
    run starts after it, the runs already training finish, and then its error is
    raised (a FitGapError as itself).  A run whose worker process died is ``failed``
    too, but the plan goes on with the other workers; its ``RunFailedError`` (naming
    the run and the worker's end) is raised once the plan ends.  Subclasses implement
    ``execute``.
    """

    def run(
        self,
        plan: Sequence[PlanItem],
        store: RunStore,
        *,
        datasets: Sequence[Dataset] | None = None,
        on_run_started: OnRunStarted | None = None,
        on_epoch: OnPlanEpoch | None = None,
        on_run_done: OnRunDone | None = None,
        should_stop: ShouldStop | None = None,
    ) -> list[RunResult | None]:
        datasets = plan_datasets(plan) if datasets is None else datasets
        check_plan(plan, datasets)
        recorder = PlanRecorder(plan, datasets, store, on_run_started, on_epoch, on_run_done)
        if plan:
            self.execute(recorder, should_stop or (lambda: False))
        error = recorder.error or recorder.lost
        if error is not None:
            raise error
        return recorder.results

    def execute(self, recorder: PlanRecorder, stop: ShouldStop) -> None:
        """Train ``recorder.plan``, feeding its events to ``recorder``; poll ``stop``."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the user: where the plan's runs train."""
        raise NotImplementedError


def probe_hook(probe: Any, dataset: Dataset) -> InspectModel | None:
    """The ``inspect_model`` hook of a plan item's probe, or None without one."""
    return None if probe is None else probe.start(dataset)


def probe_study(probe: Any, result: RunResult) -> None:
    """Hand what a plan item's probe recorded to the run's result (``study``)."""
    if probe is not None:
        result.study = probe.collected()


def plan_datasets(plan: Sequence[PlanItem]) -> list[Dataset]:
    """Each item's data, loaded once per distinct data config and seed (bad data raises)."""
    return load_datasets([(item.label, item.config) for item in plan])


def check_plan(plan: Sequence[PlanItem], datasets: Sequence[Dataset]) -> None:
    """Refuse, before anything trains, a config that cannot fit its data or memory."""
    if len(plan) != len(datasets):
        raise ValueError("one dataset per plan item is needed")
    for item, dataset in zip(plan, datasets, strict=True):
        check_run(item.config, dataset)  # each run's begin_run then skips it (checked=True)


def dataset_bytes(dataset: Dataset) -> int:
    return sum(a.nbytes for a in (dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val))


def bytes_per_run(plan: Sequence[PlanItem], datasets: Sequence[Dataset]) -> int:
    """Memory one worker needs for the plan's largest run: data + model + TensorFlow.

    The worker's copy of the arrays, ``core.memory``'s estimate of the run (weights,
    gradients, optimizer slots, a batch's activations, the copy ``fit`` makes), and
    the TensorFlow process baseline.
    """
    largest = 0
    for item, dataset in zip(plan, datasets, strict=True):
        n_samples = len(dataset.x_train) + len(dataset.x_val)
        run = estimate_model_memory(item.config, dataset.input_shape, dataset.n_classes, n_samples)
        largest = max(largest, dataset_bytes(dataset) + run.total)
    return largest + TF_PROCESS_BASELINE_BYTES


def available_memory() -> int | None:
    """Memory the workers may share: MemAvailable, or the cgroup's limit if lower."""

    found = [v for v in (mem_available(), cgroup_limit()) if v is not None]
    return min(found) if found else None


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(
    plan_size: int,
    per_worker_bytes: int,
    cores: int | None = None,
    memory: int | None = None,
) -> int:
    """Workers the machine can carry: cores, memory / per-worker need, the plan's size."""
    cores = usable_cores() if cores is None else cores
    memory = available_memory() if memory is None else memory
    by_memory = cores if memory is None else max(1, memory // max(1, per_worker_bytes))
    return max(1, min(cores, by_memory, plan_size))


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """TensorFlow's intra-op threads for each of ``workers``: the cores shared out."""
    cores = usable_cores() if cores is None else cores
    return max(1, math.floor(cores / max(1, workers)))


def limit_tensorflow_threads(threads: int) -> None:
    """Before TensorFlow starts in this process: ``threads`` intra-op, one inter-op.

    The environment variables cover the first import; the tf.config calls cover a
    process where TensorFlow was imported but not yet initialised, and fail (ignored)
    once it runs, where nothing can change any more.
    """
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = str(threads)

    tf = import_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow already initialised in this process (a reused Ray worker)


def error_kind(exc: BaseException) -> str:
    """The FitGapError subclass name of ``exc`` (re-raised as such), else ''."""

    name = type(exc).__name__
    return name if isinstance(exc, FitGapError) and hasattr(errors, name) else ""


def rebuild_error(kind: str, message: str) -> Exception:
    """The exception a worker reported, rebuilt in the parent from kind and message."""

    cls = getattr(errors, kind, None) if kind else None
    if isinstance(cls, type) and issubclass(cls, FitGapError):
        return cls(message)
    return RunFailedError(message)


class PlanRecorder:
    """The parent's side of a plan: store rows from worker events, then the callbacks."""

    def __init__(
        self,
        plan: Sequence[PlanItem],
        datasets: Sequence[Dataset],
        store: RunStore,
        on_run_started: OnRunStarted | None,
        on_epoch: OnPlanEpoch | None,
        on_run_done: OnRunDone | None,
    ) -> None:
        self.plan, self.datasets, self.store = plan, datasets, store
        self.on_run_started, self.on_epoch, self.on_run_done = on_run_started, on_epoch, on_run_done
        self.run_ids: dict[int, int] = {}
        self.results: list[RunResult | None] = [None] * len(plan)
        self.ended: set[int] = set()
        self.error: Exception | None = None
        #: A run lost with its worker (killed, out of memory): the plan goes on with the
        #: other workers, and this is raised once it ends.
        self.lost: Exception | None = None

    def started(self, index: int, ran_on: str) -> int:
        item = self.plan[index]
        run_id = begin_run(
            item.config,
            self.store,
            self.datasets[index],
            name=item.label,
            ran_on=ran_on,
            checked=True,  # by check_plan, before anything trained
        )
        self.run_ids[index] = run_id
        if self.on_run_started is not None:
            self.on_run_started(index, run_id, ran_on)
        return run_id

    def epoch(self, index: int, metrics: EpochMetrics) -> None:
        run_id = self.run_ids[index]
        self.store.append_epoch(run_id, metrics)
        if self.on_epoch is not None:
            self.on_epoch(index, run_id, metrics)

    def done(self, index: int, result: RunResult, model_bytes: bytes | None) -> None:
        """A worker's run returned: diagnose it, write its model, finish its row."""

        def write_model(path: Path) -> None:
            assert model_bytes is not None
            path.write_bytes(model_bytes)

        end_run(
            self.store,
            self.run_ids[index],
            result,
            self.datasets[index].n_classes,
            write_model if model_bytes else None,
            inputs_for_diagnosis(result.config.data.resolved_scale, self.datasets[index].x_train),
        )
        self.returned(index, result)

    def returned(self, index: int, result: RunResult) -> None:
        """A run's row is finished: keep its result and tell the caller."""
        self.ended.add(index)
        self.results[index] = result
        if self.on_run_done is not None:
            self.on_run_done(index, result)

    def failed(self, index: int, kind: str, message: str, *, plan_goes_on: bool = False) -> None:
        """A run raised (or its worker died): its row is ``failed``, its error kept.

        An error that is not the user's to fix names the run ("run 7 'compare: + L2
        0.01 (seed 2)': ..."), so its one line says which run it was.  With
        ``plan_goes_on`` (a worker that died) the other runs still train.
        """
        self.ended.add(index)
        if index in self.run_ids:
            self.store.fail_run(self.run_ids[index], message)
        if not kind:
            run = f"run {self.run_ids[index]} " if index in self.run_ids else ""
            message = f"{run}{self.plan[index].label!r}: {message}"
        if plan_goes_on:
            self.lost = self.lost or rebuild_error(kind, message)
        elif self.error is None:
            self.error = rebuild_error(kind, message)

    def end_unfinished(self, stopping: bool) -> None:
        """Rows of runs whose worker was ended before they returned: keep their epochs."""
        for index, run_id in self.run_ids.items():
            if index in self.ended:
                continue
            self.ended.add(index)
            if stopping:
                message = "stopped; its worker did not end in time, so it was ended"
                self.store.fail_run(run_id, message, status="stopped")
            else:
                self.store.fail_run(run_id, "its worker was ended before the run returned")
