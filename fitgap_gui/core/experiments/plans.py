"""Experiments made of several runs: compare remedies, validation and learning curves.

An experiment is a list of planned runs, ``(key, RunConfig)`` pairs built from one
base config, so the window can show the plan, run it on its worker thread (each
item is one ``run_recorded`` call) and the CLI can run the same list with
``run_sequence``.  ``ResultRow`` is the one table row both show.

Experiments judge the model each run delivers (the restored weights when early
stopping restored them, else the last epoch's), on the test part that nothing in
the run decided with: its test cross-entropy ranks and decides, its test accuracy
stands beside it.  The best-epoch validation numbers stay as a secondary column,
"chosen on validation": that epoch was picked on the very rows it is scored on.
Runs without a test part (a source with its own validation rows only, runs from
before) fall back to the best-epoch validation numbers, and the metric's name says
so (``val_cross_entropy`` instead of ``test_cross_entropy``).

Planned configs differ from the base only in the lever under study; data and seed
stay the same, so the runs differ only in that lever.  ``with_repeats`` trains each
planned config with seeds s, s+1, ... (the seed also draws the split), and
``summarize`` turns the rows into the per-arm table with paired verdicts
(``core.results.stats``; no verdict below three paired seeds).

The gap, everywhere: validation cross-entropy minus training cross-entropy, both
measured at the epoch's end in inference mode (``train_eval_cross_entropy``); the
accuracy gap is training minus validation accuracy, measured the same way.  Each
gap says where it was read: ``delivered_gap`` at the delivered epoch, ``gap`` at
the best epoch.
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
    ACCURACY_BOUNDS,
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

#: The remedies' ladders: an arm takes the first step beyond what the baseline has.
DROPOUT_LADDER = (0.3, 0.5, 0.7)
L2_LADDER = (1e-3, 1e-2, 1e-1)
#: Early stopping's patience when the baseline has none; with early stopping already
#: on, the arm halves the baseline's patience (rounded down, at least 1).
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
def _next_step(ladder: Sequence[float], current: float) -> float | None:
    """The first rung above ``current``; None when the baseline is at or past the top."""
    return next((step for step in ladder if step > current * (1 + 1e-9)), None)


def remedies(base: RunConfig) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The remedy arms' names and changes, and why any remedy has no arm.

    Each remedy climbs its ladder past the baseline (``DROPOUT_LADDER``,
    ``L2_LADDER``; early stopping already on: patience halved), and a name says
    what the baseline already has: "+ dropout 0.5 (baseline has 0.3)".  A remedy
    with no step left (dropout 0.7, L2 0.1, patience 1) gets no arm, so no arm is
    ever the baseline's configuration.
    """
    arms: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for lever, name, ladder, current in (
        ("model.dropout", "dropout", DROPOUT_LADDER, base.model.dropout),
        ("model.l2", "L2", L2_LADDER, base.model.l2),
    ):
        step = _next_step(ladder, current)
        if step is None:
            missing.append(
                f"no {name} arm: the baseline's {name} {current:g} is at or past {ladder[-1]:g}"
            )
            continue
        has = f" (baseline has {current:g})" if current else ""
        arms[f"+ {name} {step:g}{has}"] = {lever: step}
    es = base.early_stopping
    if not es.enabled:
        patience = max(es.patience, REMEDY_PATIENCE)
        arms[f"+ early stopping (patience {patience})"] = {
            "early_stopping.enabled": True,
            "early_stopping.patience": patience,
        }
    elif max(1, es.patience // 2) < es.patience:
        patience = max(1, es.patience // 2)
        arms[f"+ early stopping (patience {patience}; baseline has {es.patience})"] = {
            "early_stopping.patience": patience
        }
    else:
        missing.append(
            f"no early stopping arm: the baseline stops with patience {es.patience} already"
        )
    return arms, missing


def remedy_configs(base: RunConfig) -> list[Planned]:
    """Baseline, + dropout, + L2, + early stopping, and all three: the classic lesson.

    The remedies are ``remedies(base)``: each a step stronger than the baseline.
    The last arm combines them ("all three"; "both" when one remedy has no step
    left, and no such arm when only one is left).
    """
    arms, _missing = remedies(base)
    planned: list[Planned] = [("baseline", base)]
    planned += [(label, base.replace(changes)) for label, changes in arms.items()]
    if len(arms) > 1:
        everything = {k: v for changes in arms.values() for k, v in changes.items()}
        planned.append(("all three" if len(arms) == 3 else "both", base.replace(everything)))
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
    """One line of the compare/sweep table: the delivered model's test numbers, and
    the run's numbers at its best epoch (chosen on validation).

    ``test_*`` are the delivered model's numbers on the test part (``RunResult.test``;
    None without a test part), ``delivered_epoch`` the epoch it is the model of and
    ``delivered_gap`` the gap there.  The rest is read at the best epoch:
    ``val_loss``, ``loss`` and ``accuracy`` are Keras's own (``val_loss`` holds the
    weight penalty, ``loss``/``accuracy`` are running means over the epoch);
    ``val_cross_entropy`` and the inference-mode training numbers are measured.
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
    delivered_epoch: int | None = None
    test_cross_entropy: float | None = None
    test_accuracy: float | None = None
    test_n: int | None = None  # rows in the test part; None: the run had none
    delivered_gap: float | None = None  # the gap at the delivered epoch
    delivered_accuracy_gap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


ROW_FIELDS = [f.name for f in dataclasses.fields(ResultRow)]


def best_row(
    result: RunResult, label: str | None = None, value: Any = None, n_train: int | None = None
) -> ResultRow:
    """The table row for a finished run: its delivered model, and its best epoch.

    The best epoch is the run's own (the restored one under early stopping), else
    the epoch with the lowest validation cross-entropy.  The delivered epoch is the
    test numbers' own, else ``delivered_epoch(result)``.
    """
    best = result.best_epoch or best_epoch(result.history)
    test = result.test or {}
    delivered = test.get("epoch") or delivered_epoch(result)

    def at(name: str, epoch: int | None = best) -> float | None:
        return finite_or_none(result.metric_at(name, epoch))

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
        delivered_epoch=delivered,
        test_cross_entropy=finite_or_none(test.get("cross_entropy")),
        test_accuracy=finite_or_none(test.get("accuracy")),
        test_n=test.get("n") if result.test else None,
        delivered_gap=minus(
            at("val_cross_entropy", delivered), at("train_eval_cross_entropy", delivered)
        ),
        delivered_accuracy_gap=minus(
            at("train_eval_accuracy", delivered), at("val_accuracy", delivered)
        ),
    )


def delivered_epoch(result: RunResult) -> int | None:
    """The epoch whose model the run delivers: the restored best epoch when early
    stopping restored its weights, else the last epoch run (None before any)."""
    if result.restored_best and result.best_epoch:
        return result.best_epoch
    return result.epochs_run or None


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
    """One fixed-width line: the delivered model's epoch, test cross-entropy/accuracy
    and gap there; then the best epoch's validation numbers; epochs, run id, status."""
    best = _num(row.best_epoch, "d") + ("r" if row.restored_best else "")
    return (
        f"{row.label:>14}  {_num(row.delivered_epoch, 'd'):>5}  "
        f"{_num(row.test_cross_entropy, '.4f'):>8}  {_num(row.test_accuracy, '.4f'):>8}  "
        f"{_num(row.delivered_gap, '+.4f'):>8}  {best:>4}  "
        f"{_num(row.val_cross_entropy, '.4f'):>8}  {_num(row.val_accuracy, '.4f'):>7}  "
        f"{row.epochs_run:>6}  {_num(row.run_id, 'd'):>6}  {row.status}"
    )


#: ``epoch``: the delivered model's epoch; ``test_ce``/``test_acc``: its test
#: cross-entropy and accuracy ("-": no test part); ``gap``: validation minus training
#: cross-entropy at that epoch, in nats per sample.  Chosen on validation: ``best``,
#: the best epoch ("r": early stopping restored its weights), and ``val_ce``
#: (no penalty) and ``val_acc`` there.
ROW_HEADER = (
    f"{'':>14}  {'delivered model':<35}  chosen on validation\n"
    f"{'value':>14}  {'epoch':>5}  {'test_ce':>8}  {'test_acc':>8}  {'gap':>8}  "
    f"{'best':>4}  {'val_ce':>8}  {'val_acc':>7}  {'epochs':>6}  {'run':>6}  status"
)


# -- repeats: one summary per arm ----------------------------------------------------------------
#: The metric experiments rank and decide by; without a test part, ``BEST_METRIC``
#: read at the best epoch (chosen and judged on validation).
TEST_METRIC = "test_cross_entropy"


@dataclass
class ArmSummary:
    """One arm over its seeds: mean and 95 % interval of the delivered models' test
    numbers and of the best-epoch (chosen on validation) numbers.

    ``metric`` is what ranks and decides: ``test_cross_entropy``, or, when a run of
    the comparison has no test part, the best validation cross-entropy
    (``val_cross_entropy``).  ``versus_baseline`` pairs each seed's ``metric`` with
    the baseline's of the same seed (None for the baseline itself).
    """

    name: str
    rows: list[ResultRow]
    val_cross_entropy: Interval
    val_accuracy: Interval
    gap: Interval
    epochs_run: Interval
    versus_baseline: Paired | None = None
    metric: str = TEST_METRIC
    test_cross_entropy: Interval = Interval(None, None, None, 0)
    test_accuracy: Interval = Interval(None, None, None, 0)
    delivered_epoch: Interval = Interval(None, None, None, 0)
    delivered_gap: Interval = Interval(None, None, None, 0)

    @property
    def run_ids(self) -> list[int | None]:
        return [row.run_id for row in self.rows]

    @property
    def judged(self) -> Interval:
        """The interval of the metric that ranks the arms."""
        return self.test_cross_entropy if self.metric == TEST_METRIC else self.val_cross_entropy

    @property
    def judged_accuracy(self) -> Interval:
        """The accuracy beside it: the test accuracy, or the best validation accuracy."""
        return self.test_accuracy if self.metric == TEST_METRIC else self.val_accuracy

    def metric_words(self) -> str:
        """The metric in words, saying where it was read."""
        if self.metric == TEST_METRIC:
            return "delivered model's test cross-entropy"
        return "best validation cross-entropy (no test part)"

    def sentence(self) -> str:
        """The paired verdict in words ('' for the baseline)."""
        if self.versus_baseline is None:
            return ""
        return comparison_words(
            self.name, self.versus_baseline, self.metric_words(), len(self.rows)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_ids": self.run_ids,
            "delivered": {
                "test_cross_entropy": self.test_cross_entropy.to_dict(),
                "test_accuracy": self.test_accuracy.to_dict(),
                "epoch": self.delivered_epoch.to_dict(),
            },
            "best": {
                "val_cross_entropy": self.val_cross_entropy.to_dict(),
                "val_accuracy": self.val_accuracy.to_dict(),
            },
            "versus_baseline": (
                None if self.versus_baseline is None else self.versus_baseline.to_dict()
            ),
        }


def judging_metric(groups: Sequence[tuple[str, Sequence[ResultRow]]]) -> str:
    """``test_cross_entropy`` when every run has a test part, else ``val_cross_entropy``
    (best epoch): the arms are judged on one footing or not at all."""
    rows = [row for _, group in groups for row in group]
    return TEST_METRIC if all(row.test_n is not None for row in rows) else BEST_METRIC


def summarize(groups: Sequence[tuple[str, Sequence[ResultRow]]]) -> list[ArmSummary]:
    """Per-arm summaries; the first group is the baseline the others are paired with.

    Arms are judged by ``judging_metric``.  An arm is paired with the baseline seed
    by seed (``ResultRow.seed``), whatever order its runs finished in: runs trained
    in parallel finish out of seed order, and an arm may have fewer seeds finished
    than the baseline.  Rows without a seed are paired by position (the i-th row of
    every arm trained with the same seed).  Accuracy intervals stay within 0 to 1.
    """
    metric = judging_metric(groups)
    arms: list[ArmSummary] = []
    baseline: Sequence[ResultRow] = []
    for index, (name, rows) in enumerate(groups):
        arm = ArmSummary(
            name=name,
            rows=list(rows),
            val_cross_entropy=t_interval([row.val_cross_entropy for row in rows]),
            val_accuracy=t_interval([row.val_accuracy for row in rows], bounds=ACCURACY_BOUNDS),
            gap=t_interval([row.gap for row in rows]),
            epochs_run=t_interval([float(row.epochs_run) for row in rows]),
            metric=metric,
            test_cross_entropy=t_interval([row.test_cross_entropy for row in rows]),
            test_accuracy=t_interval([row.test_accuracy for row in rows], bounds=ACCURACY_BOUNDS),
            delivered_epoch=t_interval(
                [
                    None if row.delivered_epoch is None else float(row.delivered_epoch)
                    for row in rows
                ]
            ),
            delivered_gap=t_interval([row.delivered_gap for row in rows]),
        )
        if index == 0:
            baseline = rows
        else:
            arm.versus_baseline = paired_comparison(*_pair_by_seed(rows, baseline, metric), metric)
        arms.append(arm)
    return arms


def _pair_by_seed(
    rows: Sequence[ResultRow], baseline: Sequence[ResultRow], metric: str = TEST_METRIC
) -> tuple[list[float | None], list[float | None]]:
    """``metric`` of ``rows`` and of the baseline, seed by seed."""

    def value(row: ResultRow) -> float | None:
        return row.test_cross_entropy if metric == TEST_METRIC else row.val_cross_entropy

    if any(row.seed is None for row in [*rows, *baseline]):
        return [value(r) for r in rows], [value(r) for r in baseline]
    base = {int(row.seed or 0): value(row) for row in baseline}
    mine = {int(row.seed or 0): value(row) for row in rows}
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
    """The compare JSON: ``{"metric": "test_cross_entropy", "arms": [...]}``, baseline
    first (``"val_cross_entropy"``, the best epoch's, when a run has no test part)."""
    metric = arms[0].metric if arms else TEST_METRIC
    return {"metric": metric, "arms": [arm.to_dict() for arm in arms]}


def _interval_text(interval: Interval, spec: str) -> str:
    if interval.mean is None:
        return "-"
    if interval.low is None or interval.high is None:
        return format(interval.mean, spec)
    half = (interval.high - interval.low) / 2
    return f"{format(interval.mean, spec)} ± {format(half, spec.lstrip('+'))}"


def summary_header(arms: Sequence[ArmSummary] = ()) -> str:
    """The repeats table's header: the judged metric first, then what was chosen on
    validation; without a test part, the metric's name says it is the best epoch's."""
    if arms and arms[0].metric != TEST_METRIC:
        return (
            f"{'':<34}  no test part: judged at the best epoch, chosen on validation\n"
            f"{'arm':<34}  {'best val_ce (95% CI)':>20}  {'best val_acc':>15}  {'best':>6}  "
            f"{'gap (nats)':>17}  versus baseline"
        )
    return (
        f"{'':<34}  {'delivered model (test part)':<64}  {'':<34}  chosen on validation\n"
        f"{'arm':<34}  {'test_ce (95% CI)':>20}  {'test_acc':>15}  {'epoch':>6}  "
        f"{'gap (nats)':>17}  {'versus baseline':<34}  best val_ce"
    )


#: The header with a test part (``summary_header`` says which).
SUMMARY_HEADER = summary_header()


def format_summary(arm: ArmSummary) -> str:
    """One line of the repeats table: mean ± half the 95 % interval, and the verdict.

    With a test part: the delivered models' test cross-entropy and accuracy, their
    epoch and the gap there, the verdict on the test cross-entropy, then the best
    validation cross-entropy (chosen on validation).  Without: the best epoch's
    numbers and the verdict on them.
    """
    versus: str = "-" if arm.versus_baseline is None else arm.versus_baseline.verdict
    if arm.versus_baseline is not None and arm.versus_baseline.difference.mean is not None:
        d = arm.versus_baseline.difference
        versus += f" ({_num(d.mean, '+.4f')}, {arm.versus_baseline.seeds_agree}/{len(arm.rows)})"
    if arm.metric != TEST_METRIC:
        best = t_interval([None if r.best_epoch is None else float(r.best_epoch) for r in arm.rows])
        return (
            f"{arm.name[:34]:<34}  {_interval_text(arm.val_cross_entropy, '.4f'):>20}  "
            f"{_interval_text(arm.val_accuracy, '.3f'):>15}  {_num(best.mean, '.1f'):>6}  "
            f"{_interval_text(arm.gap, '+.4f'):>17}  {versus}"
        )
    return (
        f"{arm.name[:34]:<34}  {_interval_text(arm.test_cross_entropy, '.4f'):>20}  "
        f"{_interval_text(arm.test_accuracy, '.3f'):>15}  "
        f"{_num(arm.delivered_epoch.mean, '.1f'):>6}  "
        f"{_interval_text(arm.delivered_gap, '+.4f'):>17}  {versus:<34}  "
        f"{_interval_text(arm.val_cross_entropy, '.4f')}"
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
