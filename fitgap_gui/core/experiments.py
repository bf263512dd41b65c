"""Experiments made of several runs: compare remedies, validation and learning curves.

An experiment is a list of planned runs, ``(key, RunConfig)`` pairs built from one
base config, so the window can show the plan, run it on its worker thread (each
item is one ``run_recorded`` call) and the CLI can run the same list with
``run_sequence``.  ``ResultRow`` is the one table row both show: best validation
loss and accuracy, the gap at the best epoch, epochs run and the run id.

Planned configs differ from the base only in the lever under study; data and seed
stay the same, so the runs differ only in that lever.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import SECTIONS, RunConfig
from .data import Dataset, load_dataset
from .errors import ConfigError
from .results import EpochMetrics, RunResult, best_epoch, finite_or_none
from .session import run_recorded
from .store import RunStore
from .textsafe import spreadsheet_cell
from .training import InspectModel, ShouldStop

Planned = tuple[Any, RunConfig]

#: The remedies of "compare remedies"; each is raised to this if the base is lower.
REMEDY_DROPOUT = 0.3
REMEDY_L2 = 1e-3
REMEDY_PATIENCE = 5

#: Good first values for a validation curve, and whether to plot them on a log axis.
DEFAULT_VALUES: dict[str, tuple[list[Any], bool]] = {
    "model.dropout": ([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], False),
    "model.l2": ([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], True),
    "model.l1": ([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], True),
    "model.hidden_units": ([2, 8, 32, 128, 512], True),
    "early_stopping.patience": ([1, 2, 3, 5, 8, 13], False),
    "training.learning_rate": ([1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2], True),
    "training.batch_size": ([8, 16, 32, 64, 128], True),
    "data.train_fraction": ([0.1, 0.2, 0.35, 0.5, 0.75, 1.0], False),
    "data.label_noise": ([0.0, 0.1, 0.2, 0.3, 0.4], False),
}
LEARNING_CURVE_FRACTIONS = DEFAULT_VALUES["data.train_fraction"][0]


# -- planning ---------------------------------------------------------------------------------------
def remedy_configs(base: RunConfig) -> list[Planned]:
    """Baseline, + dropout, + L2, + early stopping, and all three: the classic lesson.

    A remedy that the base already uses more strongly keeps the base's value, so
    "+ dropout" never weakens the baseline's dropout.
    """
    dropout = max(base.model.dropout, REMEDY_DROPOUT)
    l2 = max(base.model.l2, REMEDY_L2)
    patience = max(base.early_stopping.patience, REMEDY_PATIENCE)
    remedies: dict[str, dict[str, Any]] = {
        f"+ dropout {dropout:g}": {"model.dropout": dropout},
        f"+ L2 {l2:g}": {"model.l2": l2},
        f"+ early stopping (patience {patience})": {
            "early_stopping.enabled": True,
            "early_stopping.patience": patience,
        },
    }
    planned: list[Planned] = [("baseline", base)]
    planned += [(label, base.replace(changes)) for label, changes in remedies.items()]
    everything = {k: v for changes in remedies.values() for k, v in changes.items()}
    planned.append(("all three", base.replace(everything)))
    return planned


def check_param(param: str) -> None:
    """Raise ConfigError unless ``param`` is a dotted config key such as model.dropout."""
    section, _, key = param.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or key not in {f.name for f in dataclasses.fields(cls)}:
        known = ", ".join(DEFAULT_VALUES)
        raise ConfigError(f"unknown setting {param!r}; sweepable settings include {known}")


def default_values(param: str) -> list[Any]:
    """The default grid for ``param`` (L2 and learning rate on a log grid)."""
    check_param(param)
    if param not in DEFAULT_VALUES:
        raise ConfigError(f"no default values for {param}; give the values to try")
    return list(DEFAULT_VALUES[param][0])


def is_log_scale(param: str) -> bool:
    """Whether a validation curve over ``param`` reads best on a log x axis."""
    return DEFAULT_VALUES.get(param, ([], False))[1]


def sweep_configs(base: RunConfig, param: str, values: Sequence[Any]) -> list[Planned]:
    """One validated config per value: ``[(value, config), ...]`` for a validation curve.

    ``model.hidden_units`` accepts a width (every hidden layer gets it) or a list.
    Sweeping an ``early_stopping.*`` key turns early stopping on, since the key
    means nothing otherwise.  A bad key or value raises ConfigError naming both,
    before anything trains.
    """
    check_param(param)
    if not values:
        raise ConfigError(f"no values given for {param}")
    planned: list[Planned] = []
    for value in values:
        setting = value
        if param == "model.hidden_units" and not isinstance(value, (list, tuple)):
            setting = [value] * max(1, len(base.model.hidden_units))
        changes = {param: setting}
        if param.startswith("early_stopping.") and param != "early_stopping.enabled":
            changes["early_stopping.enabled"] = True
        try:
            planned.append((value, base.replace(changes)))
        except ConfigError as exc:
            raise ConfigError(f"value {value!r} for {param}: {exc}") from None
    return planned


def learning_curve_configs(
    base: RunConfig, fractions: Sequence[float] | None = None
) -> list[Planned]:
    """One config per training-set fraction (about 10% to 100% by default)."""
    return sweep_configs(base, "data.train_fraction", fractions or LEARNING_CURVE_FRACTIONS)


# -- results as table rows ----------------------------------------------------------------------------
@dataclass
class ResultRow:
    """One line of the compare/sweep table: the run's numbers at its best epoch."""

    label: str
    value: Any
    run_id: int | None
    status: str
    epochs_run: int
    best_epoch: int | None
    val_loss: float | None
    val_accuracy: float | None
    loss: float | None
    accuracy: float | None
    gap: float | None  # val_loss - loss at the best epoch
    accuracy_gap: float | None  # accuracy - val_accuracy at the best epoch
    verdict: str | None
    seconds: float
    n_train: int | None = None  # training samples: the x axis of a learning curve

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


ROW_FIELDS = [f.name for f in dataclasses.fields(ResultRow)]


def best_row(
    result: RunResult, label: str | None = None, value: Any = None, n_train: int | None = None
) -> ResultRow:
    """The table row for a finished run, read at its best epoch."""
    best = result.best_epoch or best_epoch(result.history, "val_loss")

    def at(name: str) -> float | None:
        return finite_or_none(result.metric_at(name, best))

    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    return ResultRow(
        label=label if label is not None else str(value if value is not None else result.run_id),
        value=value,
        run_id=result.run_id,
        status=result.status,
        epochs_run=result.epochs_run,
        best_epoch=best,
        val_loss=at("val_loss"),
        val_accuracy=at("val_accuracy"),
        loss=at("loss"),
        accuracy=at("accuracy"),
        gap=minus(at("val_loss"), at("loss")),
        accuracy_gap=minus(at("accuracy"), at("val_accuracy")),
        verdict=(result.diagnosis or {}).get("verdict"),
        seconds=round(result.seconds, 3),
        n_train=n_train,
    )


# -- running ----------------------------------------------------------------------------------------
OnRunStarted = Callable[[int, Any, int], None]  # (index, key, run_id)
OnSequenceEpoch = Callable[[int, int, EpochMetrics], None]  # (index, run_id, metrics)
OnRunDone = Callable[[int, ResultRow, RunResult], None]  # (index, row, result)


def load_datasets(planned: Sequence[Planned]) -> list[Dataset]:
    """Each planned run's data, loaded once per distinct data config and seed.

    Loading everything first means a bad data file fails before any training.
    """
    cache: dict[str, Dataset] = {}
    out = []
    for _, config in planned:
        key = json.dumps([dataclasses.asdict(config.data), config.training.seed])
        if key not in cache:
            cache[key] = load_dataset(config.data, config.training.seed)
        out.append(cache[key])
    return out


def run_sequence(
    planned: Sequence[Planned],
    store: RunStore,
    *,
    name_prefix: str = "",
    on_run_started: OnRunStarted | None = None,
    on_epoch: OnSequenceEpoch | None = None,
    on_run_done: OnRunDone | None = None,
    should_stop: ShouldStop | None = None,
    datasets: Sequence[Dataset] | None = None,
    inspect_model: InspectModel | None = None,
) -> list[ResultRow]:
    """Run planned configs one after another with ``run_recorded``; one row per run.

    ``should_stop`` is polled inside each run and between runs: a stopped run still
    gives its row (status ``stopped``) and nothing after it starts.  Runs are named
    ``name_prefix + str(key)`` in the store.  ``datasets`` (from ``load_datasets``)
    saves loading the data again when the caller already checked it;
    ``inspect_model`` goes to each run (see ``core.training.train``).  An error in
    a run (stored as ``failed``) ends the sequence and propagates to the caller.
    """
    stop = should_stop or (lambda: False)
    datasets = load_datasets(planned) if datasets is None else datasets
    rows: list[ResultRow] = []
    for index, ((key, config), dataset) in enumerate(zip(planned, datasets, strict=True)):
        if stop():
            break
        result = run_recorded(
            config,
            store,
            dataset=dataset,
            name=f"{name_prefix}{key}",
            on_started=(lambda run_id, _ds, i=index, k=key: on_run_started(i, k, run_id))  # type: ignore[misc]
            if on_run_started
            else None,
            on_epoch=(lambda run_id, metrics, i=index: on_epoch(i, run_id, metrics))  # type: ignore[misc]
            if on_epoch
            else None,
            should_stop=stop,
            inspect_model=inspect_model,
        )
        row = best_row(result, label=str(key), value=key, n_train=len(dataset.x_train))
        rows.append(row)
        if on_run_done is not None:
            on_run_done(index, row, result)
        del result  # the Keras model is large; do not keep one per run alive
        if rows[-1].status == "stopped":
            break
    return rows


# -- text in, text out (the CLI) ---------------------------------------------------------------------
def parse_values(text: str) -> list[Any]:
    """``"0,0.2,0.4"`` -> ``[0, 0.2, 0.4]``; JSON per item, so ``[16,16],[64]`` are lists.

    Items that are not JSON stay text (``relu,tanh``); the config check judges them.
    """
    items, depth, start = [], 0, 0
    for i, char in enumerate(text + ","):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    if any(not item for item in items):
        raise ConfigError(f"empty value in {text!r}; separate values with single commas")
    values = []
    for item in items:
        try:
            values.append(json.loads(item))
        except json.JSONDecodeError:
            values.append(item)
    return values


def format_row(row: ResultRow) -> str:
    """One fixed-width line: value, best epoch, val loss/accuracy, gap, run id."""

    def num(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    return (
        f"{row.label:>14}  {num(row.best_epoch, 'd'):>4}  {num(row.val_loss, '.4f'):>8}  "
        f"{num(row.val_accuracy, '.4f'):>7}  {num(row.gap, '+.4f'):>8}  "
        f"{row.epochs_run:>6}  {num(row.run_id, 'd'):>6}  {row.status}"
    )


ROW_HEADER = (
    f"{'value':>14}  {'best':>4}  {'val_loss':>8}  {'val_acc':>7}  {'gap':>8}  "
    f"{'epochs':>6}  {'run':>6}  status"
)


def write_rows(path: str | Path, rows: Sequence[ResultRow], param: str | None = None) -> None:
    """CSV when ``path`` ends in .csv (one line per row), JSON otherwise."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["param", *ROW_FIELDS])
            writer.writeheader()
            for row in rows:
                record = row.to_dict()
                if isinstance(record["value"], (list, dict)):
                    record["value"] = json.dumps(record["value"])
                # Text cells (a value such as "relu", its label) a spreadsheet must not
                # run as formulas; numbers are left as they are.
                record = {"param": param, **record}
                writer.writerow({key: spreadsheet_cell(v) for key, v in record.items()})
        return
    payload = {"param": param, "rows": [row.to_dict() for row in rows]}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
