"""The generalization lab: randomization test and double descent as experiment plans.

Each experiment is a ``LabPlan``: plan items (``core.experiments.executors``: local
workers or Ray), each with what the experiment needs to know of it (``keys``: its level
or width), the data, and the settings.  ``LabCollector`` turns the runs' results into
the experiment's JSON as they finish (``core.experiments.lab_results``), so the window
can redraw after every run; ``run_lab`` runs a plan through an executor and keeps a
lab record (``core.experiments.labstore``).  The runs are ordinary store rows.

* **Randomization** (Zhang et al. 2017): the base network at each level of uniformly
  random training labels (``lab_results.noise_for_level``: FitGap's label noise at
  ``level * (K - 1) / K``; the validation and test labels are never touched), with
  early stopping off so that a network that can fit random labels does.  With
  ``permutations`` N, N more runs on fully random labels (seeds after the repeats'),
  whose test accuracies give the p-value of the real labels' (level 0) test accuracy.
  Those labels are drawn uniformly, not permuted: class counts vary a little.
* **Double descent** (Nakkiran et al. 2019): one hidden layer per width, no dropout,
  L1/L2, weight decay, batch norm, augmentation or early stopping; label noise as
  FitGap's (a uniformly random *wrong* class, Nakkiran et al.'s definition).  A
  ``TestErrorProbe`` records each run's test error after every epoch for study only:
  it travels with the plan item to the worker, comes back as ``RunResult.study`` and
  is kept in the lab record, never in a run's history, and nothing reads it to choose.

The learning-rate range test is one short loop, ``core.experiments.lr_range``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments.executors import (
    Executor,
    LocalExecutor,
    OnPlanEpoch,
    OnRunStarted,
    PlanItem,
)
from fitgap_gui.core.experiments.lab_results import (
    STUDY_KEY,
    STUDY_NOTE,
    dense_params,
    double_descent_payload,
    noise_for_level,
    randomization_payload,
)
from fitgap_gui.core.experiments.labstore import save_record
from fitgap_gui.core.experiments.plans import MAX_PLAN_RUNS
from fitgap_gui.core.model.measurements import chunk_rows, keras_scores
from fitgap_gui.core.results.records import RunResult
from fitgap_gui.core.run.training import ShouldStop
from fitgap_gui.core.store.runstore import RunStore

DEFAULT_LEVELS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
DEFAULT_WIDTHS = tuple(2**i for i in range(11))  # 1 .. 1024
#: What the double-descent runs switch off: nothing but the width may control capacity.
NO_REGULARIZATION: dict[str, Any] = {
    "model.kind": "mlp",
    "model.dropout": 0.0,
    "model.l1": 0.0,
    "model.l2": 0.0,
    "model.batch_norm": False,
    "model.augment_flip": False,
    "model.augment_rotation": 0.0,
    "model.augment_translation": 0.0,
    "training.weight_decay": None,
    "early_stopping.enabled": False,
}

#: (plan index, the item's keys, result) once a run's row is finished.
OnLabRunDone = Callable[[int, dict[str, Any], RunResult], None]


class TestErrorProbe:
    """The test part's error after each epoch of one run, for study only.

    Picklable, so it travels with its plan item to a worker process or Ray task;
    ``start`` gives the run's ``inspect_model`` hook (inference only: the run's numbers
    do not change), ``collected`` the curve, ``{STUDY_KEY: [...], "note": ...}``.
    """

    __test__ = False  # not a pytest class, despite its name

    def __init__(self) -> None:
        self.errors: list[float | None] = []

    def start(self, dataset: Dataset) -> Callable[[int, Any], None] | None:
        self.errors = []
        x, y = dataset.x_test, dataset.y_test
        if x is None or y is None:  # no test part: nothing to record
            return None
        rows = chunk_rows(1024)

        def hook(_epoch: int, model: Any) -> None:
            accuracy = keras_scores(model, x, y, rows)["accuracy"]
            self.errors.append(1.0 - accuracy if math.isfinite(accuracy) else None)

        return hook

    def collected(self) -> dict[str, Any]:
        return {STUDY_KEY: list(self.errors), "note": STUDY_NOTE}


@dataclass
class LabPlan:
    """One lab experiment, planned: its runs, what each is, the data and settings."""

    kind: str
    items: list[PlanItem]
    keys: list[dict[str, Any]]
    datasets: list[Dataset]
    settings: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


def _data_sizes(dataset: Dataset) -> dict[str, Any]:
    return {
        "n_train": len(dataset.x_train),
        "n_classes": dataset.n_classes,
        "input_dim": math.prod(dataset.input_shape),
        "has_test": dataset.has_test,
        "summary": dataset.summary(),
    }


def _check_seeds(base: RunConfig, count: int) -> None:
    if base.training.seed + count - 1 > 2**31 - 1:
        raise ConfigError(f"training.seed {base.training.seed} + {count} runs is past 2**31 - 1")


def plan_randomization(
    base: RunConfig,
    levels: Sequence[float] = DEFAULT_LEVELS,
    repeats: int = 3,
    permutations: int = 0,
    loaded: dict[str, Dataset] | None = None,
) -> LabPlan:
    """Runs at each level of random training labels (seeds s..s+repeats-1), then the
    permutation runs.  Bad levels, repeats or data raise before anything trains."""
    if not levels:
        raise ConfigError("no levels given; e.g. --levels 0,0.5,1")
    if any(not 0.0 <= lv <= 1.0 for lv in levels):
        raise ConfigError(f"levels are fractions from 0 to 1, not {list(levels)}")
    if repeats < 1 or permutations < 0:
        raise ConfigError("repeats must be 1 or more and permutations 0 or more")
    if permutations and 0.0 not in levels:
        raise ConfigError("the permutation p-value needs level 0 (the real labels)")
    total = len(set(levels)) * repeats + permutations
    if total > MAX_PLAN_RUNS:
        raise ConfigError(
            f"{total} runs is more than a plan can hold: at most {MAX_PLAN_RUNS} runs per plan"
        )
    _check_seeds(base, repeats + permutations)
    base = base.replace({"early_stopping.enabled": False})
    first = load_datasets([("base", base)], loaded)[0]  # bad data: refused here
    n_classes = first.n_classes
    if n_classes < 2:
        raise ConfigError("the randomization test needs at least two classes")
    seed = base.training.seed
    planned: list[tuple[dict[str, Any], RunConfig, str]] = []
    for level in sorted(set(levels)):
        noise = noise_for_level(level, n_classes)
        for r in range(repeats):
            config = base.replace({"data.label_noise": noise, "training.seed": seed + r})
            name = f"lab random labels {level:g} (seed {seed + r})"
            planned.append(({"level": level, "role": "level"}, config, name))
    noise = noise_for_level(1.0, n_classes)
    for i in range(permutations):
        s = seed + repeats + i
        config = base.replace({"data.label_noise": noise, "training.seed": s})
        planned.append(
            ({"level": 1.0, "role": "permutation"}, config, f"lab permutation {i + 1} (seed {s})")
        )
    datasets = load_datasets([(name, config) for _, config, name in planned], loaded)
    settings = {
        "levels": sorted(set(levels)),
        "repeats": repeats,
        "permutations": permutations,
        "epochs": base.training.epochs,
        "base_config": base.to_dict(),
    }
    return LabPlan(
        "randomization",
        [PlanItem(config, name) for _, config, name in planned],
        [keys for keys, _, _ in planned],
        datasets,
        settings,
        _data_sizes(first),
    )


def plan_double_descent(
    base: RunConfig,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    label_noise: float = 0.0,
    loaded: dict[str, Dataset] | None = None,
) -> LabPlan:
    """One run per width: a single hidden layer, nothing regularizing, each with a probe."""
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ConfigError(f"widths are whole numbers of 1 or more, not {list(widths)}")
    if not 0.0 <= label_noise < 1.0:
        raise ConfigError(f"--label-noise is a fraction in [0, 1), not {label_noise}")
    base = base.replace({**NO_REGULARIZATION, "data.label_noise": label_noise})
    first = load_datasets([("base", base)], loaded)[0]
    input_dim = math.prod(first.input_shape)
    planned = []
    for width in sorted(set(widths)):
        config = base.replace({"model.hidden_units": [width]})
        params = dense_params(input_dim, width, first.n_classes)
        planned.append(({"width": width, "params": params}, config, f"lab width {width}"))
    datasets = load_datasets([(name, config) for _, config, name in planned], loaded)
    settings = {
        "widths": sorted(set(widths)),
        "label_noise": label_noise,
        "epochs": base.training.epochs,
        "base_config": base.to_dict(),
    }
    return LabPlan(
        "double-descent",
        [PlanItem(config, name, TestErrorProbe()) for _, config, name in planned],
        [keys for keys, _, _ in planned],
        datasets,
        settings,
        _data_sizes(first),
    )


class LabCollector:
    """The experiment's JSON from the runs finished so far (redrawn after each)."""

    def __init__(self, plan: LabPlan) -> None:
        self.plan = plan
        self.rows: list[dict[str, Any]] = []
        self.null_scores: list[float] = []
        self.null_ids: list[int] = []
        #: run id -> the probe's record (double descent: the test-error curve).
        self.study: dict[str, Any] = {}

    def add(self, index: int, result: RunResult) -> dict[str, Any]:
        """Take one finished run; returns its keys (level or width)."""
        keys = self.plan.keys[index]
        if result.epochs_run == 0:
            return keys  # stopped before its first epoch: nothing to show
        if keys.get("role") == "permutation":
            if result.test is not None and result.run_id is not None:
                self.null_scores.append(float(result.test["accuracy"]))
                self.null_ids.append(result.run_id)
            return keys
        self.rows.append(
            {**keys, "run_id": result.run_id, "history": result.history, "test": result.test}
        )
        if result.study is not None and result.run_id is not None:
            self.study[str(result.run_id)] = result.study
        return keys

    def payload(self) -> dict[str, Any]:
        """The JSON as the issue's contract has it, for the runs so far."""
        if self.plan.kind == "randomization":
            return randomization_payload(self.rows, self.null_scores or None)
        return double_descent_payload(self.rows)

    def save(self, store: RunStore) -> str:
        """Keep the lab record; returns its path."""
        settings = dict(self.plan.settings)
        if self.plan.kind == "randomization":
            settings["permutation_run_ids"] = list(self.null_ids)
        study = None
        if self.plan.kind == "double-descent":
            study = {"note": STUDY_NOTE, "curves": self.study}
        path = save_record(store, self.plan.kind, settings, self.payload(), self.plan.data, study)
        return str(path)


def run_lab(
    plan: LabPlan,
    store: RunStore,
    executor: Executor | None = None,
    *,
    on_run_started: OnRunStarted | None = None,
    on_epoch: OnPlanEpoch | None = None,
    on_run_done: OnLabRunDone | None = None,
    should_stop: ShouldStop | None = None,
    keep_record: bool = True,
) -> tuple[dict[str, Any], LabCollector, str | None]:
    """Run ``plan`` through ``executor`` (default: this process, one after another).

    Returns the JSON, the collector and the lab record's path (None when
    ``keep_record`` is off or no run finished).
    """
    collector = LabCollector(plan)

    def done(index: int, result: RunResult) -> None:
        keys = collector.add(index, result)
        if on_run_done is not None:
            on_run_done(index, keys, result)

    (executor or LocalExecutor(workers=1)).run(
        plan.items,
        store,
        datasets=plan.datasets,
        on_run_started=on_run_started,
        on_epoch=on_epoch,
        on_run_done=done,
        should_stop=should_stop,
    )
    path = collector.save(store) if keep_record and collector.rows else None
    return collector.payload(), collector, path
