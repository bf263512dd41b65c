"""One recorded run: load the data, train, and keep every epoch in the store.

This is what the window's worker and ``fitgap train`` both call, so the order of
events is the same everywhere: the epoch row is committed, *then* ``on_epoch`` is
told.  A failure inside training is stored as a ``failed`` run with its message and
raised again for the caller to show.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import RunConfig
from .data import Dataset, load_dataset
from .diagnosis import diagnose
from .model import augmentation_image_shape
from .provenance import provenance
from .results import EpochMetrics, RunResult
from .store import RunStore
from .training import InspectModel, ShouldStop, train

OnStarted = Callable[[int, Dataset], None]
OnRunEpoch = Callable[[int, EpochMetrics], None]


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
    # A config that cannot fit this data (augmenting non-images) is refused before a run row.
    augmentation_image_shape(config.model, dataset.input_shape, dataset.image_shape)
    # What a lab report needs to repeat the run: versions, the seed, the arrays' hashes.
    repeat = provenance(
        seed=config.training.seed,
        data={
            "train": (dataset.x_train, dataset.y_train),
            "validation": (dataset.x_val, dataset.y_val),
        },
    )
    run_id = store.create_run(config, name=name, provenance=repeat)
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
    result.run_id = run_id
    result.diagnosis = diagnose(result.history, config, n_classes=dataset.n_classes).to_dict()
    model_file = None
    if save_model and result.model is not None and result.epochs_run > 0:
        path = store.model_path(run_id)
        result.model.save(path)
        model_file = str(path)
    store.finish_run(run_id, result, model_file=model_file)
    return result
