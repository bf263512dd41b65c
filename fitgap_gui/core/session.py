"""One recorded run: load the data, train, and keep every epoch in the store.

This is what the window's worker and ``fitgap train`` both call, so the order of
events is the same everywhere: the epoch row is committed, *then* ``on_epoch`` is
told.  A failure inside training is stored as a ``failed`` run with its message and
raised again for the caller to show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .config import RunConfig
from .data import Dataset, load_dataset
from .diagnosis import diagnose
from .model import augmentation_image_shape
from .results import EpochMetrics, RunResult
from .store import RunStore
from .training import InspectModel, ShouldStop, train

OnStarted = Callable[[int, Dataset], None]
OnRunEpoch = Callable[[int, EpochMetrics], None]


def begin_run(
    config: RunConfig,
    store: RunStore,
    dataset: Dataset,
    *,
    name: str | None = None,
    ran_on: str | None = None,
) -> int:
    """Check ``config`` against the data, then create its 'running' store row."""
    # A config that cannot fit this data (augmenting non-images) is refused before a run row.
    augmentation_image_shape(config.model, dataset.input_shape, dataset.image_shape)
    return store.create_run(config, name=name, ran_on=ran_on)


def end_run(
    store: RunStore,
    run_id: int,
    result: RunResult,
    n_classes: int,
    write_model: Callable[[Path], None] | None = None,
) -> RunResult:
    """Diagnose a returned run, write its model (once an epoch ran) and finish its row."""
    result.run_id = run_id
    result.diagnosis = diagnose(result.history, result.config, n_classes=n_classes).to_dict()
    model_file = None
    if write_model is not None and result.epochs_run > 0:
        path = store.model_path(run_id)
        write_model(path)
        model_file = str(path)
    store.finish_run(run_id, result, model_file=model_file)
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
) -> RunResult:
    """Train ``config`` and record it; returns the RunResult with its ``run_id``.

    Bad data raises DataError before any run row exists, so nothing half-made is
    stored for a file the user has to fix anyway.
    """
    if dataset is None:
        dataset = load_dataset(config.data, config.training.seed)
    run_id = begin_run(config, store, dataset, name=name)
    if on_started is not None:
        on_started(run_id, dataset)

    def committed_then_told(metrics: EpochMetrics) -> None:
        store.append_epoch(run_id, metrics)
        if on_epoch is not None:
            on_epoch(run_id, metrics)

    try:
        result = train(
            config, dataset, committed_then_told, should_stop, inspect_model=inspect_model
        )
    except BaseException as exc:
        store.fail_run(run_id, f"{type(exc).__name__}: {exc}".strip())
        raise
    model = result.model
    write_model = model.save if save_model and model is not None else None
    return end_run(store, run_id, result, dataset.n_classes, write_model)
