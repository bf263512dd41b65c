"""Experiments made of several runs: compare remedies, validation and learning curves.

An experiment is a list of planned runs, ``(key, RunConfig)`` pairs built from one
base config, so the window can show the plan, run it on its worker thread (each
item is one ``run_recorded`` call) and the CLI can run the same list with
``run_sequence``.  ``ResultRow`` is the one table row both show: best validation
cross-entropy and accuracy, the gap at the best epoch, epochs run and the run id.

Planned configs differ from the base only in the lever under study; data and seed
stay the same, so the runs differ only in that lever.  ``with_repeats`` trains each
planned config with seeds s, s+1, ... (the seed also draws the split), and
``summarize`` turns the rows into the per-arm table with paired verdicts
(``core.stats``).

The gap, everywhere: validation cross-entropy minus training cross-entropy, both
measured at the epoch's end in inference mode (``train_eval_cross_entropy``); the
accuracy gap is training minus validation accuracy, measured the same way.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitgap_gui.core.config.schema import SECTIONS, RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments.executors import Executor, LocalExecutor, PlanItem
from fitgap_gui.core.results.records import (
    BEST_METRIC,
    EpochMetrics,
    RunResult,
    best_epoch,
    finite_or_none,
)
from fitgap_gui.core.results.stats import (
    Interval,
    Paired,
    comparison_words,
    paired_comparison,
    t_interval,
)
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import InspectModel, ShouldStop
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import spreadsheet_cell

Planned = tuple[Any, RunConfig]

#: Repeats (seeds) for compare remedies and sweeps unless asked otherwise.
DEFAULT_REPEATS = 3

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


def with_repeats(planned: Sequence[Planned], repeats: int) -> list[Planned]:
    """Each planned config with seeds s, s+1, ..., s+repeats-1, arm after arm.

    Keys stay the planned ones (a sweep's rows keep their values); every arm uses
    the same seeds, so arms can be compared seed by seed (paired).
    """
    if repeats < 1:
        raise ConfigError(f"repeats must be 1 or more, not {repeats}")
    out: list[Planned] = []
    for key, config in planned:
        seed = config.training.seed
        if seed + repeats - 1 > 2**31 - 1:
            raise ConfigError(f"training.seed {seed} + {repeats} repeats is past 2**31 - 1")
        out += [(key, config.replace({"training.seed": seed + i})) for i in range(repeats)]
    return out


# -- results as table rows ----------------------------------------------------------------------------
@dataclass
class ResultRow:
    """One line of the compare/sweep table: the run's numbers at its best epoch.

    ``val_loss``, ``loss`` and ``accuracy`` are Keras's own (``val_loss`` holds the
    weight penalty, ``loss``/``accuracy`` are running means over the epoch); the
    comparisons use ``val_cross_entropy`` and the inference-mode training numbers.
    """

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
    gap: float | None  # val_cross_entropy - train_eval_cross_entropy at the best epoch
    accuracy_gap: float | None  # train_eval_accuracy - val_accuracy at the best epoch
    verdict: str | None
    seconds: float
    n_train: int | None = None  # training samples: the x axis of a learning curve
    val_cross_entropy: float | None = None
    train_eval_cross_entropy: float | None = None
    train_eval_accuracy: float | None = None
    penalty: float | None = None
    seed: int | None = None
    #: Early stopping restored this epoch's weights: the numbers are the kept model's.
    restored_best: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


ROW_FIELDS = [f.name for f in dataclasses.fields(ResultRow)]


def best_row(
    result: RunResult, label: str | None = None, value: Any = None, n_train: int | None = None
) -> ResultRow:
    """The table row for a finished run, read at its best epoch.

    The best epoch is the run's own (the restored one under early stopping), else
    the epoch with the lowest validation cross-entropy.
    """
    best = result.best_epoch or best_epoch(result.history)

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
        gap=minus(at("val_cross_entropy"), at("train_eval_cross_entropy")),
        accuracy_gap=minus(at("train_eval_accuracy"), at("val_accuracy")),
        verdict=(result.diagnosis or {}).get("verdict"),
        seconds=round(result.seconds, 3),
        n_train=n_train,
        val_cross_entropy=at("val_cross_entropy"),
        train_eval_cross_entropy=at("train_eval_cross_entropy"),
        train_eval_accuracy=at("train_eval_accuracy"),
        penalty=at("penalty"),
        seed=result.config.training.seed,
        restored_best=result.restored_best and best == result.best_epoch,
    )


# -- running ----------------------------------------------------------------------------------------
OnRunStarted = Callable[[int, Any, int], None]  # (index, key, run_id)
OnSequenceEpoch = Callable[[int, int, EpochMetrics], None]  # (index, run_id, metrics)
OnRunDone = Callable[[int, ResultRow, RunResult], None]  # (index, row, result)


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
    name_seeds: bool = False,
) -> list[ResultRow]:
    """Run planned configs one after another with ``run_recorded``; one row per run.

    ``should_stop`` is polled inside each run and between runs: a stopped run still
    gives its row (status ``stopped``) and nothing after it starts.  Runs are named
    ``name_prefix + str(key)`` in the store.  ``datasets`` (from ``load_datasets``)
    saves loading the data again when the caller already checked it;
    ``inspect_model`` goes to each run (see ``core.training.train``); ``name_seeds``
    adds each run's seed to its name (repeats).  An error in
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
            name=f"{name_prefix}{key}" + (f" (seed {config.training.seed})" if name_seeds else ""),
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


def run_repeats(
    planned: Sequence[Planned],
    store: RunStore,
    repeats: int,
    *,
    name_prefix: str = "",
    on_run_done: OnRunDone | None = None,
    should_stop: ShouldStop | None = None,
    executor: Executor | None = None,
    loaded: dict[str, Dataset] | None = None,
) -> tuple[list[ResultRow], list[ArmSummary]]:
    """Run every planned config ``repeats`` times (seeds s, s+1, ...) and summarize.

    All the data is loaded first, so a bad file fails before any training; data
    already in ``loaded`` (from ``load_datasets``) is not loaded again.  The
    first planned config is the baseline of the paired comparisons.  ``executor``
    (``core.executors``; by default this process, one run after another) may train
    several runs at once; ``on_run_done`` then comes as runs end, with each run's
    plan index.
    """
    repeated = with_repeats(planned, repeats)
    datasets = load_datasets(repeated, loaded)
    keys = [key for key, _ in planned]
    indexed = run_plan(
        repeated,
        store,
        executor or LocalExecutor(workers=1),  # in this process, one after another
        datasets=datasets,
        name_prefix=name_prefix,
        on_run_done=on_run_done,
        should_stop=should_stop,
        name_seeds=repeats > 1,
    )
    rows = [row for row in indexed if row is not None]
    return rows, summarize(group_rows(indexed, keys, repeats))


def run_plan(
    planned: Sequence[Planned],
    store: RunStore,
    executor: Executor,
    *,
    datasets: Sequence[Dataset],
    name_prefix: str = "",
    on_run_done: OnRunDone | None = None,
    should_stop: ShouldStop | None = None,
    name_seeds: bool = False,
) -> list[ResultRow | None]:
    """``run_sequence`` through an executor: one row per planned run, in plan order.

    A run that never started (the plan was stopped) has None in its place.
    """
    plan = [
        PlanItem(
            config,
            f"{name_prefix}{key}" + (f" (seed {config.training.seed})" if name_seeds else ""),
        )
        for key, config in planned
    ]
    rows: list[ResultRow | None] = [None] * len(plan)

    def done(index: int, result: RunResult) -> None:
        key = planned[index][0]
        row = best_row(result, label=str(key), value=key, n_train=len(datasets[index].x_train))
        rows[index] = row
        if on_run_done is not None:
            on_run_done(index, row, result)

    executor.run(plan, store, datasets=datasets, on_run_done=done, should_stop=should_stop)
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


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_row(row: ResultRow) -> str:
    """One fixed-width line: value, best epoch, val cross-entropy/accuracy, gap, run id."""
    best = _num(row.best_epoch, "d") + ("r" if row.restored_best else "")
    return (
        f"{row.label:>14}  {best:>4}  "
        f"{_num(row.val_cross_entropy, '.4f'):>8}  {_num(row.val_accuracy, '.4f'):>7}  "
        f"{_num(row.gap, '+.4f'):>8}  {row.epochs_run:>6}  {_num(row.run_id, 'd'):>6}  {row.status}"
    )


#: ``best``: the best epoch ("r": early stopping restored its weights); ``val_ce``:
#: validation cross-entropy (no penalty); ``gap``: val_ce minus the training
#: cross-entropy at the epoch's end, in nats per sample.
ROW_HEADER = (
    f"{'value':>14}  {'best':>4}  {'val_ce':>8}  {'val_acc':>7}  {'gap':>8}  "
    f"{'epochs':>6}  {'run':>6}  status"
)


# -- repeats: one summary per arm ----------------------------------------------------------------
@dataclass
class ArmSummary:
    """One arm over its seeds: mean and 95 % interval of the best-epoch numbers.

    ``versus_baseline`` pairs each seed's best validation cross-entropy with the
    baseline's of the same seed (None for the baseline itself).
    """

    name: str
    rows: list[ResultRow]
    val_cross_entropy: Interval
    val_accuracy: Interval
    gap: Interval
    epochs_run: Interval
    versus_baseline: Paired | None = None

    @property
    def run_ids(self) -> list[int | None]:
        return [row.run_id for row in self.rows]

    def sentence(self) -> str:
        """The paired verdict in words ('' for the baseline)."""
        if self.versus_baseline is None:
            return ""
        words = "best validation cross-entropy"
        return comparison_words(self.name, self.versus_baseline, words, len(self.rows))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_ids": self.run_ids,
            "best": {
                "val_cross_entropy": self.val_cross_entropy.to_dict(),
                "val_accuracy": self.val_accuracy.to_dict(),
            },
            "versus_baseline": (
                None if self.versus_baseline is None else self.versus_baseline.to_dict()
            ),
        }


def summarize(groups: Sequence[tuple[str, Sequence[ResultRow]]]) -> list[ArmSummary]:
    """Per-arm summaries; the first group is the baseline the others are paired with.

    An arm is paired with the baseline seed by seed (``ResultRow.seed``), whatever
    order its runs finished in: runs trained in parallel finish out of seed order,
    and an arm may have fewer seeds finished than the baseline.  Rows without a seed
    are paired by position (the i-th row of every arm trained with the same seed).
    """
    arms: list[ArmSummary] = []
    baseline: Sequence[ResultRow] = []
    for index, (name, rows) in enumerate(groups):
        values = [row.val_cross_entropy for row in rows]
        arm = ArmSummary(
            name=name,
            rows=list(rows),
            val_cross_entropy=t_interval(values),
            val_accuracy=t_interval([row.val_accuracy for row in rows]),
            gap=t_interval([row.gap for row in rows]),
            epochs_run=t_interval([float(row.epochs_run) for row in rows]),
        )
        if index == 0:
            baseline = rows
        else:
            arm.versus_baseline = paired_comparison(*_pair_by_seed(rows, baseline), BEST_METRIC)
        arms.append(arm)
    return arms


def _pair_by_seed(
    rows: Sequence[ResultRow], baseline: Sequence[ResultRow]
) -> tuple[list[float | None], list[float | None]]:
    """The best validation cross-entropy of ``rows`` and of the baseline, seed by seed."""
    if any(row.seed is None for row in [*rows, *baseline]):
        return [r.val_cross_entropy for r in rows], [r.val_cross_entropy for r in baseline]
    base = {int(row.seed or 0): row.val_cross_entropy for row in baseline}
    mine = {int(row.seed or 0): row.val_cross_entropy for row in rows}
    seeds = sorted(seed for seed in mine if seed in base)
    return [mine[seed] for seed in seeds], [base[seed] for seed in seeds]


def group_rows(
    rows: Sequence[ResultRow | None], keys: Sequence[Any], repeats: int
) -> list[tuple[str, list[ResultRow]]]:
    """Rows of ``run_sequence(with_repeats(planned, repeats))``, one group per planned key.

    A sequence stopped early gives the groups it reached (the last one may be short);
    None stands for a run an executor never started.
    """
    groups = [
        (str(key), [row for row in rows[i * repeats : (i + 1) * repeats] if row is not None])
        for i, key in enumerate(keys)
    ]
    return [(name, group) for name, group in groups if group]


def summary_payload(arms: Sequence[ArmSummary]) -> dict[str, Any]:
    """The compare JSON: ``{"metric": "val_cross_entropy", "arms": [...]}``, baseline first."""
    return {"metric": BEST_METRIC, "arms": [arm.to_dict() for arm in arms]}


def _interval_text(interval: Interval, spec: str) -> str:
    if interval.mean is None:
        return "-"
    if interval.low is None or interval.high is None:
        return format(interval.mean, spec)
    half = (interval.high - interval.low) / 2
    return f"{format(interval.mean, spec)} ± {format(half, spec.lstrip('+'))}"


SUMMARY_HEADER = (
    f"{'arm':<34}  {'best val_ce (95% CI)':>20}  {'val_acc':>15}  {'gap (nats)':>17}  "
    f"{'epochs':>6}  versus baseline"
)


def format_summary(arm: ArmSummary) -> str:
    """One line of the repeats table: mean ± half the 95 % interval, and the verdict."""
    versus: str = "-" if arm.versus_baseline is None else arm.versus_baseline.verdict
    if arm.versus_baseline is not None and arm.versus_baseline.difference.mean is not None:
        d = arm.versus_baseline.difference
        versus += f" ({_num(d.mean, '+.4f')}, {arm.versus_baseline.seeds_agree}/{len(arm.rows)})"
    return (
        f"{arm.name[:34]:<34}  {_interval_text(arm.val_cross_entropy, '.4f'):>20}  "
        f"{_interval_text(arm.val_accuracy, '.3f'):>15}  {_interval_text(arm.gap, '+.4f'):>17}  "
        f"{_num(arm.epochs_run.mean, '.1f'):>6}  {versus}"
    )


def write_rows(
    path: str | Path,
    rows: Sequence[ResultRow],
    param: str | None = None,
    summary: Sequence[ArmSummary] | None = None,
) -> None:
    """CSV when ``path`` ends in .csv (one line per row), JSON otherwise.

    The JSON also holds ``summary`` (``summary_payload``: one arm per value over its
    repeats) when given.
    """
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
    payload: dict[str, Any] = {"param": param, "rows": [row.to_dict() for row in rows]}
    if summary is not None:
        payload["summary"] = summary_payload(summary)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
