"""One recorded run: load the data, train, and keep every epoch in the store.

This is what the window's worker and ``fitgap train`` both call, so the order of
events is the same everywhere: the epoch row is committed, *then* ``on_epoch`` is
told.  A failure inside training is stored as a ``failed`` run with its message and
raised again for the caller to show.  A store that stops taking epochs (a full disk,
a lock held too long) ends the run ``interrupted`` with the epochs it had written, and
a model that cannot be saved costs only the model: the run is still ``completed``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_dataset
from fitgap_gui.core.diagnosis.inputs import inputs_for_diagnosis
from fitgap_gui.core.diagnosis.verdict import diagnose
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.model.build import check_model_for_data
from fitgap_gui.core.model.memory import check_dataset_memory
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.branching import PauseGate, TrainingState
from fitgap_gui.core.run.provenance import provenance
from fitgap_gui.core.run.training import InspectModel, ShouldStop, train
from fitgap_gui.core.store.runstore import RunStore, StoreError

OnStarted = Callable[[int, Dataset], None]
OnRunEpoch = Callable[[int, EpochMetrics], None]


def check_run(config: RunConfig, dataset: Dataset) -> None:
    """Refuse a config that cannot fit this data or this machine's memory.

    Augmenting or a CNN on data that is not images, or a model too large for memory,
    raises (DataError, ConfigError) before a run row exists and before TensorFlow
    builds anything: arithmetic only, no random number drawn.  Each run is checked
    once: by ``begin_run``, or for a plan by ``executors.base.check_plan`` up front.
    """
    check_model_for_data(config.model, dataset.input_shape, dataset.image_shape)
    check_dataset_memory(config, dataset)


def begin_run(
    config: RunConfig,
    store: RunStore,
    dataset: Dataset,
    *,
    name: str | None = None,
    ran_on: str | None = None,
    resume: TrainingState | None = None,
    checked: bool = False,
    parent_run_id: int | None = None,
) -> int:
    """Check ``config`` against the data and memory, then create its 'running' row.

    ``checked``: the caller already ran ``check_run`` on this config and data (a plan).
    With ``resume`` (a branch) the row names its parent and the epoch it goes on
    from, and starts with the parent's epochs up to it.
    """
    if not checked:
        check_run(config, dataset)
    # What a lab report needs to repeat the run: versions, the seed, the arrays' hashes.
    parts: dict[str, Sequence[Any]] = {
        "train": (dataset.x_train, dataset.y_train),
        "validation": (dataset.x_val, dataset.y_val),
    }
    if dataset.has_test:
        parts["test"] = (dataset.x_test, dataset.y_test)
    repeat = provenance(seed=config.training.seed, data=parts)
    return store.create_run(
        config,
        name=name,
        provenance=repeat,
        ran_on=ran_on,
        parent_run_id=resume.parent_run_id if resume is not None else parent_run_id,
        branch_epoch=resume.epoch if resume is not None else None,
    )


def end_run(
    store: RunStore,
    run_id: int,
    result: RunResult,
    n_classes: int,
    write_model: Callable[[Path], None] | None = None,
    inputs: dict[str, float] | None = None,
) -> RunResult:
    """Diagnose a returned run, write its model (once an epoch ran), finish its row.

    ``inputs``: the training inputs' spread when they are not scaled
    (``diagnosis.inputs.inputs_for_diagnosis``)."""
    result.run_id = run_id
    result.diagnosis = diagnose(
        result.history, result.config, n_classes=n_classes, inputs=inputs
    ).to_dict()
    model_file = None
    if write_model is not None and result.epochs_run > 0:
        model_file = _save_model(result, write_model, store.model_path(run_id))
    try:
        store.finish_run(run_id, result, model_file=model_file)
    except StoreError as exc:
        error = StoreError(
            f"run {run_id} finished, but its result was not recorded "
            f"(its {result.epochs_run} epochs are kept): {exc}",
            exc.kind,
        )
        with contextlib.suppress(StoreError):  # the short form may still fit
            store.fail_run(run_id, str(error), status="interrupted")
        raise error from None
    return result


def run_recorded(
    config: RunConfig,
    store: RunStore,
    *,
    on_started: OnStarted | None = None,
    on_epoch: OnRunEpoch | None = None,
    should_stop: ShouldStop | None = None,
    dataset: Dataset | None = None,
    name: str | None = None,
    save_model: bool = True,
    inspect_model: InspectModel | None = None,
    gate: PauseGate | None = None,
    resume: TrainingState | None = None,
    checked: bool = False,
    parent_run_id: int | None = None,
    on_examples: Callable[[Any], None] | None = None,
) -> RunResult:
    """Train ``config`` and record it; returns the RunResult with its ``run_id``.

    ``gate`` lets the caller pause the run (``core.branching``); a run continued with
    changed levers returns with status ``branched`` and ``result.branch`` set, and the
    caller starts the child with ``resume=result.branch.state`` (``run_branches``).

    Bad data raises DataError, and a model too large for memory ConfigError, before
    any run row exists, so nothing half-made is stored for a setting the user has
    to change anyway (the window, sweeps and ``fitgap train`` alike); ``checked``
    says a plan's ``check_plan`` already did (``begin_run``).
    """
    if dataset is None:
        dataset = load_dataset(config.data, config.training.seed)
    run_id = begin_run(
        config,
        store,
        dataset,
        name=name,
        resume=resume,
        checked=checked,
        parent_run_id=parent_run_id,  # a run from scratch linked to its parent (cleaning)
    )
    if on_started is not None:
        on_started(run_id, dataset)

    written = resume.epoch if resume is not None else 0

    def committed_then_told(metrics: EpochMetrics) -> None:
        nonlocal written
        store.append_epoch(run_id, metrics)
        written = metrics.epoch
        if on_epoch is not None:
            on_epoch(run_id, metrics)

    try:
        result = train(
            config,
            dataset,
            committed_then_told,
            should_stop,
            inspect_model=inspect_model,
            gate=gate,
            resume=resume,
            run_id=run_id,
            on_examples=on_examples,
        )
    except StoreError as exc:
        kept = f"its {written} epochs are kept" if written else "no epoch was written"
        error = StoreError(f"run {run_id} ended after epoch {written} ({kept}): {exc}", exc.kind)
        # The store may refuse this write too (it is full, or still locked): the run
        # then reads as interrupted once this process ends, and the caller says why.
        with contextlib.suppress(StoreError):
            store.fail_run(run_id, str(error), status="interrupted")
        raise error from None
    except FitGapError as exc:
        # A refusal before this run trained an epoch of its own (a continued run whose
        # saved model does not fit): the store is left as it was (the CLI's exit 2).
        with contextlib.suppress(StoreError):
            if written == (resume.epoch if resume is not None else 0):
                store.discard_run(run_id)
            else:
                store.fail_run(run_id, f"{type(exc).__name__}: {exc}".strip())
        raise
    except BaseException as exc:
        with contextlib.suppress(StoreError):  # never a second error on top of the first
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}".strip())
        raise
    if resume is not None and resume.note:  # what the continuation could not carry
        result.message = f"{result.message}; {resume.note}" if result.message else resume.note
    model = result.model
    write_model = model.save if save_model and model is not None else None
    inputs = inputs_for_diagnosis(config.data.resolved_scale, dataset.x_train)
    return end_run(store, run_id, result, dataset.n_classes, write_model, inputs)


OnFinished = Callable[[RunResult], None]


def run_with_branches(
    config: RunConfig,
    store: RunStore,
    *,
    on_finished: OnFinished | None = None,
    dataset: Dataset | None = None,
    resume: TrainingState | None = None,
    **kwargs,
) -> RunResult:
    """``run_recorded``, then the child of each pause continued with changed levers.

    ``on_finished`` hears each run's result (the parent, status ``branched``, then its
    child); the last run's result is returned.  The children train on the parent's
    data (a branch cannot change it).  ``kwargs`` go to every ``run_recorded``.
    """
    loaded: dict[str, Dataset] = {}
    on_started = kwargs.pop("on_started", None)

    def started(run_id: int, data: Dataset) -> None:
        loaded["dataset"] = data
        if on_started is not None:
            on_started(run_id, data)

    while True:
        result = run_recorded(
            config, store, on_started=started, dataset=dataset, resume=resume, **kwargs
        )
        if on_finished is not None:
            on_finished(result)
        if result.branch is None:
            return result
        kwargs.pop("name", None)  # the child is named after its own id
        config, resume = result.branch.config, result.branch.state
        dataset = loaded.get("dataset", dataset)


def _save_model(result: RunResult, write: Callable[[Path], None], path: Path) -> str | None:
    """Save the trained model; a failure becomes a warning in the run's message.

    The model is a by-product: a read-only or missing ``models`` folder, a full disk
    or anything Keras refuses must not cost the run it belongs to.
    """
    try:
        write(path)
        return str(path)
    except Exception as exc:  # noqa: BLE001 - whatever the cause, the run stands
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        with contextlib.suppress(OSError):
            if path.is_file():  # a half-written file is not a model
                path.unlink()
        warning = (
            f"its model was not kept: cannot save {path} ({reason.strip() or type(exc).__name__})"
        )
        result.message = f"{result.message}; {warning}" if result.message else warning
        return None
