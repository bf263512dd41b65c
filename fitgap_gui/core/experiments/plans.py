"""Experiments made of several runs: compare remedies, validation and learning curves.

An experiment is a list of planned runs, ``(key, RunConfig)`` pairs built from one
base config, so the window can show the plan, run it on its worker thread (each
item is one ``run_recorded`` call) and the CLI can run the same list with
``run_sequence``.  Each finished run becomes one ``ResultRow`` and each arm one
``ArmSummary`` (``core.experiments.tables``): arms are judged by the model each run
delivers, on the test part.

Planned configs differ from the base only in the lever under study; data and seed
stay the same, so the runs differ only in that lever.  Compare remedies climbs each
remedy's ladder past what the baseline already has, so no arm is the baseline
again.  ``with_repeats`` trains each planned config with seeds s, s+1, ... (the
seed also draws the split), and ``summarize`` turns the rows into the per-arm table
with paired verdicts (``core.results.stats``; no verdict below three paired seeds).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, overload

from fitgap_gui.core.config.schema import SECTIONS, RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments.executors import Executor, LocalExecutor, PlanItem
from fitgap_gui.core.experiments.tables import (
    ArmSummary,
    ResultRow,
    best_row,
    group_rows,
    summarize,
)
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import InspectModel, ShouldStop
from fitgap_gui.core.store.runstore import RunStore

Planned = tuple[Any, RunConfig]

#: Repeats (seeds) for compare remedies and sweeps unless asked otherwise.
DEFAULT_REPEATS = 3
#: The most runs one plan (a repeated train, a compare, a sweep) may hold.  A stated
#: limit, not a measured one: a paired comparison needs 3 to a few dozen seeds (the
#: window offers up to 20), every run is a store row and a printed row, and compare and
#: sweep load each seed's own split before the first run trains (a digits split took
#: 9 ms to load and 0.4 MB to keep), so 1 000 runs is seconds of loading and, at
#: about a second even for a tiny run, a quarter of an hour of training; a count such
#: as 1 000 000 is a typo, refused at once.
MAX_PLAN_RUNS = 1_000

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


def remedy_notes(base: RunConfig) -> list[str]:
    """Where the numbers in the arms' names come from (printed above the table)."""
    es = base.early_stopping
    if es.enabled:
        return [
            f"patience {max(1, es.patience // 2)}: half the baseline's {es.patience}, "
            "the next step stronger"
        ]
    if es.patience > REMEDY_PATIENCE:
        return [f"patience {es.patience}: the baseline's early stopping settings"]
    return [
        f"patience {REMEDY_PATIENCE}: compare remedies' patience for a baseline without "
        "early stopping (the diagnosis's advice may size it to the curve's wobble instead)"
    ]


def nothing_to_fix(arms: Sequence[Any]) -> str | None:
    """Words for a baseline that did not overfit: on each of these seeds its best epoch
    was its last, so remedies against overfitting have nothing to fix there; None when
    it overfit on every seed (``arms``: ``tables.summarize``'s, baseline first)."""
    if not arms:
        return None
    rows = arms[0].rows
    flat = [r for r in rows if r.best_epoch is not None and r.best_epoch == r.epochs_run]
    if not flat:
        return None
    seeds = ", ".join(str(r.seed) for r in flat)
    which = "on any seed" if len(flat) == len(rows) else f"on seed{'s' * (len(flat) > 1)} {seeds}"
    epochs = ", ".join(f"{r.best_epoch} of {r.epochs_run}" for r in flat)
    return (
        f"the baseline did not overfit {which}: its best epoch was its last ({epochs}), so "
        "remedies against overfitting have nothing to fix there; train longer, or start "
        "from a setup that overfits"
    )


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


def check_repeats(repeats: int, configs: int = 1) -> None:
    """Refuse a repeat count below 1, or one that makes a plan of more than
    ``MAX_PLAN_RUNS`` runs (``configs`` planned configs, each ``repeats`` times)."""
    if repeats < 1:
        raise ConfigError(f"repeats must be 1 or more, not {repeats}")
    if repeats * max(configs, 1) > MAX_PLAN_RUNS:
        most = MAX_PLAN_RUNS // max(configs, 1)
        each = f" of {configs} configurations" if configs > 1 else ""
        raise ConfigError(
            f"{repeats} repeats{each} is more than a plan can hold: at most "
            f"{MAX_PLAN_RUNS} runs per plan, so at most {most} repeats here"
        )


class RepeatedPlan(Sequence[Planned]):
    """``with_repeats``'s plan: each config is made when it is asked for, not before.

    A plan of thousands of runs costs nothing until its runs start, and its first
    run's config is at hand at once.
    """

    def __init__(self, planned: Sequence[Planned], repeats: int) -> None:
        self._planned = list(planned)
        self._repeats = repeats

    def __len__(self) -> int:
        return len(self._planned) * self._repeats

    @overload
    def __getitem__(self, index: int) -> Planned: ...
    @overload
    def __getitem__(self, index: slice) -> list[Planned]: ...
    def __getitem__(self, index: int | slice) -> Planned | list[Planned]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        key, config = self._planned[index // self._repeats]
        offset = index % self._repeats
        if offset == 0:
            return key, config
        return key, config.replace({"training.seed": config.training.seed + offset})


def with_repeats(planned: Sequence[Planned], repeats: int) -> RepeatedPlan:
    """Each planned config with seeds s, s+1, ..., s+repeats-1, arm after arm.

    Keys stay the planned ones (a sweep's rows keep their values); every arm uses
    the same seeds, so arms can be compared seed by seed (paired).  Counts are
    checked at once (``check_repeats``); the configs are made as they are used.
    """
    check_repeats(repeats, len(planned))
    for _key, config in planned:
        seed = config.training.seed
        if seed + repeats - 1 > 2**31 - 1:
            raise ConfigError(f"training.seed {seed} + {repeats} repeats is past 2**31 - 1")
    return RepeatedPlan(planned, repeats)


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
