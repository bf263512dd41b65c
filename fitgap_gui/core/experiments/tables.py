"""Experiment results as tables: one ``ResultRow`` per run, one ``ArmSummary`` per arm.

A row holds the model the run delivers (the restored weights when early stopping
restored them, else the last epoch's) and its numbers on the test part, which
nothing in the run decided with, beside the best epoch's validation numbers
("chosen on validation": that epoch was picked on the rows it is read from).  An
arm summarizes its seeds (mean and 95 % interval, ``core.results.stats``) and is
paired seed by seed with the baseline on ``TEST_METRIC``; a comparison where a run
has no test part (a source with its own validation rows only, runs from before)
is judged on the best validation cross-entropy instead, and the metric's name
says so (``val_cross_entropy``).  The same rows and arms become the CLI's
fixed-width lines, the compare JSON and the CSV/JSON of ``write_rows``.

The gap, everywhere: validation cross-entropy minus training cross-entropy, both
measured at the epoch's end in inference mode (``train_eval_cross_entropy``); each
says where it was read: ``delivered_gap`` at the delivered epoch, ``gap`` at the
best epoch.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from fitgap_gui.core.experiments.text_table import Column, header_lines, line, wrap_key
from fitgap_gui.core.results.records import (
    BEST_METRIC,
    RunResult,
    best_epoch,
    delivered_epoch_of,
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
from fitgap_gui.core.textsafe import spreadsheet_cell


# -- one row per run ----------------------------------------------------------------------------------
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
    test numbers' own, else ``delivered_epoch_of(result)``.
    """
    best = result.best_epoch or best_epoch(result.history)
    test = result.test or {}
    delivered = delivered_epoch_of(result)

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
        test_n=int(test.get("n") or 0) if result.test else None,
        delivered_gap=minus(
            at("val_cross_entropy", delivered), at("train_eval_cross_entropy", delivered)
        ),
        delivered_accuracy_gap=minus(
            at("train_eval_accuracy", delivered), at("val_accuracy", delivered)
        ),
    )


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


#: The per-run table's columns after the label: (title, width, numeric, group).
_ROW_COLUMNS = (
    ("epoch", 5, True, "delivered model"),
    ("test_ce", 8, True, ""),
    ("test_acc", 8, True, ""),
    ("gap", 8, True, ""),
    ("best", 4, True, "chosen on validation"),
    ("restored", 8, False, ""),
    ("val_ce", 8, True, ""),
    ("val_acc", 7, True, ""),
    ("epochs", 6, True, ""),
    ("run", 6, True, ""),
    ("status", 6, False, ""),
)


def row_columns(label_title: str = "value", labels: Sequence[str] = ()) -> list[Column]:
    """The per-run table's columns; the first names what the rows differ in ("arm" for
    compare remedies, the swept setting for a sweep) and fits ``labels``."""
    first = Column(label_title, 14).fit(list(labels))
    return [first, *(Column(t, w, n, g) for t, w, n, g in _ROW_COLUMNS)]


def row_header(columns: Sequence[Column] | None = None) -> str:
    """The group line and the titles of the per-run table."""
    return header_lines(columns or row_columns())


def format_row(row: ResultRow, columns: Sequence[Column] | None = None) -> str:
    """One fixed-width line: the delivered model's epoch, test cross-entropy/accuracy
    and gap there; then the best epoch (and whether its weights were restored) and its
    validation numbers; epochs, run id, status."""
    cells = [
        row.label,
        _num(row.delivered_epoch, "d"),
        _num(row.test_cross_entropy, ".4f"),
        _num(row.test_accuracy, ".4f"),
        _num(row.delivered_gap, "+.4f"),
        _num(row.best_epoch, "d"),
        "yes" if row.restored_best else "-",
        _num(row.val_cross_entropy, ".4f"),
        _num(row.val_accuracy, ".4f"),
        str(row.epochs_run),
        _num(row.run_id, "d"),
        row.status,
    ]
    return line(cells, columns or row_columns())


#: The per-run table's header with its first column titled "value".
ROW_HEADER = row_header()

#: Under the per-run table: what each column and mark means.
ROW_KEY = wrap_key(
    "epoch = the delivered model's epoch; test_ce, test_acc = its cross-entropy and "
    "accuracy on the test part; gap = validation minus training cross-entropy there "
    "(nats); best = the epoch chosen on validation, val_ce and val_acc its numbers; "
    "restored yes = early stopping restored that epoch's weights; - = none (no test "
    "part, not measured)"
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
    best_epoch: Interval = Interval(None, None, None, 0)

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
            best_epoch=t_interval([_float(row.best_epoch) for row in rows]),
        )
        if index == 0:
            baseline = rows
        else:
            arm.versus_baseline = paired_comparison(*_pair_by_seed(rows, baseline, metric), metric)
        arms.append(arm)
    return arms


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)


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
    if not math.isclose(interval.mean - interval.low, interval.high - interval.mean, abs_tol=1e-12):
        # Clipped at a bound (an accuracy near 1): the interval itself, not ± half.
        low, high = format(interval.low, spec), format(interval.high, spec)
        return f"{format(interval.mean, spec)} ({low}-{high})"
    half = (interval.high - interval.low) / 2
    return f"{format(interval.mean, spec)} ± {format(half, spec.lstrip('+'))}"


def _summary_cells(arm: ArmSummary) -> list[str]:
    versus: str = "-" if arm.versus_baseline is None else arm.versus_baseline.verdict
    if arm.versus_baseline is not None and arm.versus_baseline.difference.mean is not None:
        d = arm.versus_baseline.difference
        versus += f" ({_num(d.mean, '+.4f')}, {arm.versus_baseline.seeds_agree}/{len(arm.rows)})"
    if arm.metric != TEST_METRIC:
        return [
            arm.name,
            _interval_text(arm.val_cross_entropy, ".4f"),
            _interval_text(arm.val_accuracy, ".3f"),
            _num(arm.best_epoch.mean, ".1f"),
            _interval_text(arm.gap, "+.4f"),
            versus,
        ]
    return [
        arm.name,
        _interval_text(arm.test_cross_entropy, ".4f"),
        _interval_text(arm.test_accuracy, ".3f"),
        _num(arm.delivered_epoch.mean, ".1f"),
        _interval_text(arm.delivered_gap, "+.4f"),
        versus,
        _interval_text(arm.val_cross_entropy, ".4f"),
    ]


def summary_columns(arms: Sequence[ArmSummary] = ()) -> list[Column]:
    """The repeats table's columns, each as wide as its widest cell over ``arms``."""
    if arms and arms[0].metric != TEST_METRIC:
        columns = [
            Column("arm", 8),
            Column(
                "best val_ce (95% CI)", 20, True,
                "no test part: judged at the best epoch, chosen on validation",
            ),
            Column("best val_acc", 15, True),
            Column("best", 6, True),
            Column("gap (nats)", 17, True),
            Column("versus baseline", 15),
        ]  # fmt: skip
    else:
        columns = [
            Column("arm", 8),
            Column("test_ce (95% CI)", 20, True, "delivered model (test part)"),
            Column("test_acc", 15, True),
            Column("epoch", 6, True),
            Column("gap (nats)", 17, True),
            Column("versus baseline", 15),
            Column("best val_ce", 16, True, "chosen on validation"),
        ]
    cells = [_summary_cells(arm) for arm in arms]
    return [col.fit([row[i] for row in cells]) for i, col in enumerate(columns)]


def summary_header(arms: Sequence[ArmSummary] = ()) -> str:
    """The repeats table's header: the judged metric first, then what was chosen on
    validation; without a test part, the metric's name says it is the best epoch's."""
    return header_lines(summary_columns(arms))


#: The header with a test part (``summary_header`` says which).
SUMMARY_HEADER = summary_header()

#: Under the repeats table: what its marks mean.
SUMMARY_KEY = wrap_key(
    "m ± h = mean over the seeds and half its 95 % interval; m (l-h) = the interval "
    "itself where it is clipped at 0 or 1; versus baseline = the verdict on the judged "
    "cross-entropy (mean difference, seeds that agree/seeds); - = none"
)


def format_summary(arm: ArmSummary, columns: Sequence[Column] | None = None) -> str:
    """One line of the repeats table: mean ± half the 95 % interval, and the verdict.

    With a test part: the delivered models' test cross-entropy and accuracy, their
    epoch and the gap there, the verdict on the test cross-entropy, then the best
    validation cross-entropy (chosen on validation).  Without: the best epoch's
    numbers and the verdict on them.  ``columns``: ``summary_columns(all arms)``, so
    the lines of a table align.
    """
    return line(_summary_cells(arm), columns or summary_columns([arm]))


def write_rows(
    path: str | Path,
    rows: Sequence[ResultRow],
    param: str | None = None,
    summary: Sequence[ArmSummary] | None = None,
    handle: TextIO | None = None,
) -> None:
    """CSV when ``path`` ends in .csv (one line per row), JSON otherwise.

    The JSON also holds ``summary`` (``summary_payload``: one arm per value over its
    repeats) when given.  ``handle``: ``path`` already opened for writing (the CLI
    opens a device such as ``/dev/stdout`` in place), else ``path`` is written.
    """
    path = Path(path)
    if handle is None:
        with path.open("w", newline="", encoding="utf-8") as opened:
            write_rows(path, rows, param, summary, handle=opened)
        return
    if path.suffix.lower() == ".csv":
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
    handle.write(json.dumps(payload, indent=2) + "\n")
