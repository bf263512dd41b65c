"""Short text for runs, worded from the lever table (levers.py).

``summary_line(config)`` is the window's one-line summary of a run, handicaps included;
``lever_summary(config)`` gives "dropout 0.5, L2 1e-3, ES p=3": what the runs panel
and ``fitgap runs list`` show so two runs can be told apart at a glance.  Only
settings that differ from ``RunConfig()`` are named, most telling first (capacity
and regularization, then early stopping, then data, then the optimizer).

``delivered(run)`` is the model a run delivers, read once for every view: its epoch
(the one early stopping restored, else the last), its test numbers, and the gap at
that epoch; ``delivered_line`` says it in one sentence.  The best epoch is chosen on
validation, so its numbers are the detail, never the headline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fitgap_gui.core.config.levers import ALL_LEVERS, LEVERS_BY_KEY
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.config.sources import source as data_source
from fitgap_gui.core.formatting import (
    MISSING,
    format_accuracy,
    format_accuracy_change,
    format_loss,
    format_number,
    format_percent,
)
from fitgap_gui.core.results.records import RunResult, delivered_epoch_of
from fitgap_gui.core.results.script_data import script_data_words
from fitgap_gui.core.store.stored import StoredRun
from fitgap_gui.core.textsafe import printable

__all__ = [
    "summary_line",
    "format_number",
    "handicaps",
    "handicaps_in_words",
    "lever_summary",
    "run_summary",
    "callback_summary",
    "Delivered",
    "delivered",
    "delivered_line",
    "NO_TEST_PART",
    "RUNS_TABLE_NOTE",
    "run_row",
    "runs_table",
]

#: The order a summary names levers in: what tells runs apart first.
_SUMMARY_SECTIONS = ("model", "early_stopping", "data", "training")


def _differs(config: RunConfig, base: RunConfig, key: str) -> bool:
    return config.get(key) != base.get(key)


def _early_stopping_words(config: RunConfig) -> str:
    """ "ES p=3", with the monitor, min delta and restore only when not the defaults."""
    es, plain = config.early_stopping, RunConfig().early_stopping
    text = "ES " + LEVERS_BY_KEY["early_stopping.patience"].words(es.patience)
    for name in ("monitor", "min_delta", "restore_best_weights"):
        value = getattr(es, name)
        if value != getattr(plain, name):
            text += " " + LEVERS_BY_KEY[f"early_stopping.{name}"].words(value)
    return text


def lever_summary(config: RunConfig, default: RunConfig | None = None) -> str:
    """The settings of ``config`` that differ from ``default`` (the defaults), in words.

    "dropout 0.5, L2 1e-3, ES p=3": what the runs table and ``fitgap runs list``
    show so two runs can be told apart.  Levers that do not apply to the run's data
    source (a toy set's noise on a CSV) are not named.  An unchanged config reads
    "defaults".
    """
    base = default or RunConfig()
    source = config.data.source
    parts: list[str] = []
    for section in _SUMMARY_SECTIONS:
        if section == "early_stopping":
            if config.early_stopping.enabled:
                parts.append(_early_stopping_words(config))
            continue
        for lv in ALL_LEVERS:
            if lv.section != section or not lv.applies_to(source):
                continue
            if lv.key == "data.path":
                continue  # named with its source
            if lv.key == "data.source":
                if _differs(config, base, "data.source") or _differs(config, base, "data.path"):
                    path = config.data.path
                    parts.append(f"{source} {_path_words(path)}" if path else source)
                continue
            if lv.key == "model.conv_filters" and config.model.kind != "cnn":
                continue  # unused by an MLP
            if _differs(config, base, lv.key):
                parts.append(lv.words(config.get(lv.key)))
    return ", ".join(parts) or "defaults"


def callback_summary(levers: Mapping[str, Any] | None) -> str:
    """A user's model in a few words: "3 layers, 2,113 parameters, dropout 0.2, ES p=5"."""
    levers = levers or {}
    parts = []
    layers = levers.get("layers") or []
    if layers:
        parts.append(f"{len(layers)} layers")
    if levers.get("parameters") is not None:
        parts.append(f"{levers['parameters']:,} parameters")
    rates = [d["rate"] for d in levers.get("dropout") or [] if isinstance(d.get("rate"), float)]
    if rates:
        parts.append("dropout " + "/".join(format_number(r) for r in rates))
    if levers.get("regularizers"):
        parts.append("penalty")
    es = levers.get("early_stopping")
    if es and es.get("patience") is not None:
        parts.append(f"ES p={es['patience']}")
    return ", ".join(parts) or "levers not read"


def run_summary(run: StoredRun) -> str:
    """What tells a run apart, for the runs table and ``fitgap runs list``: a FitGap
    run's levers (``lever_summary``); a callback run's data and model as its script had
    them (never the config's default data source, which it did not use)."""
    if run.kind == "callback":
        return f"{script_data_words(run.script_data)}; {callback_summary(run.levers)}"
    return lever_summary(run.config)


def _path_words(path: str) -> str:
    return LEVERS_BY_KEY["data.path"].words(path)


def handicaps_in_words(train_fraction: float, label_noise: float) -> list[str]:
    """The handicaps that are on, in words: ["trains on 25% of the rows", ...]."""
    out = []
    if train_fraction < 1.0:
        out.append(f"trains on {format_percent(train_fraction)} of the rows")
    if label_noise > 0.0:
        out.append(f"{format_percent(label_noise)} of labels flipped")
    return out


def handicaps(config: RunConfig) -> list[str]:
    """The handicaps on in ``config``, in words ("trains on 25% of the rows")."""
    return handicaps_in_words(config.data.train_fraction, config.data.label_noise)


def summary_line(config: RunConfig) -> str:
    """One line that says what a run is: data and its handicaps, model, regularization, training.

    "digits · handicaps: trains on 25% of the rows, 20% of labels flipped · 512-512 relu ·
    no regularization · adam lr 0.001, batch 32, 60 epochs".  The handicaps are always
    named (or "no handicaps"), so a user's own data never trains handicapped unseen.
    """
    d, m, t, e = config.data, config.model, config.training, config.early_stopping
    kind = data_source(d.source)
    data = d.source if not d.path else f"{d.source} {_path_words(d.path)}"
    if kind.toy:
        data += f" (n={d.n_samples}, noise {format_number(d.noise)})"
    on = handicaps(config)
    parts = [data, "handicaps: " + ", ".join(on) if on else "no handicaps"]
    network = f"{LEVERS_BY_KEY['model.hidden_units'].words(m.hidden_units)} {m.activation}"
    if m.kind == "cnn":
        network = f"CNN {LEVERS_BY_KEY['model.conv_filters'].words(m.conv_filters)}, {network}"
    parts.append(network)
    plain = RunConfig()
    regs = [
        lv.words(config.get(lv.key))
        for lv in ALL_LEVERS
        if lv.group == "Regularization"
        and lv.applies_to(d.source)
        and config.get(lv.key) != plain.get(lv.key)
    ]
    parts.append(", ".join(regs) or "no regularization")
    training = [
        t.optimizer,
        LEVERS_BY_KEY["training.learning_rate"].words(t.learning_rate),
        LEVERS_BY_KEY["training.batch_size"].words(t.batch_size),
        LEVERS_BY_KEY["training.epochs"].words(t.epochs),
    ]
    if t.lr_schedule != plain.training.lr_schedule:
        training.insert(2, LEVERS_BY_KEY["training.lr_schedule"].words(t.lr_schedule))
    parts.append(" ".join(training[:2]) + ", " + ", ".join(training[2:]))
    if e.enabled:
        parts.append(f"early stopping on {e.monitor}, patience {e.patience}")
    return " · ".join(parts)


#: What a run without a test part shows where its test numbers would be.
NO_TEST_PART = "no test part"
#: Statuses whose run delivered no model to judge (yet).
_NOT_DELIVERED = {
    "running": "test numbers come when the run ends",
    "failed": "none: the run did not finish",
    "interrupted": "none: the run did not finish",
    "branched": "none: it went on as a branch",
}


@dataclass(frozen=True)
class Delivered:
    """The model a run delivers and its numbers: what every view of a run leads with."""

    #: Its epoch: the one early stopping restored, else the last one run (None: no epoch).
    epoch: int | None
    #: Early stopping restored this earlier epoch's weights.
    restored: bool
    #: The run's status (``RunStatus``): a run still training has no test numbers yet.
    status: str
    #: ``{"epoch", "cross_entropy", "accuracy", "n"}`` on the test part, or None.
    test: Mapping[str, Any] | None = None
    #: The epoch's numbers from the history ({} when not known).
    metrics: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float | None:
        return None if self.test is None else self.test.get("accuracy")

    @property
    def test_cross_entropy(self) -> float | None:
        return None if self.test is None else self.test.get("cross_entropy")

    @property
    def test_rows(self) -> int | None:
        return None if self.test is None else self.test.get("n")

    @property
    def val_accuracy(self) -> float | None:
        return self.metrics.get("val_accuracy")

    @property
    def val_cross_entropy(self) -> float | None:
        """Without the weight penalty; a run stored before it was measured: ``val_loss``."""
        return self.metrics.get("val_cross_entropy", self.metrics.get("val_loss"))

    @property
    def gap(self) -> float | None:
        """Training minus validation accuracy at this epoch (the epoch's end, measured
        like validation; older runs: Keras's running training accuracy)."""
        train = self.metrics.get("train_eval_accuracy", self.metrics.get("accuracy"))
        val = self.val_accuracy
        return None if train is None or val is None else train - val

    @property
    def which(self) -> str:
        """ "epoch 21, restored by early stopping" or "epoch 60, the last"."""
        if self.epoch is None:
            return "no epoch yet"
        how = "restored by early stopping" if self.restored else "the last"
        if self.status == "running":
            how = "the latest so far"
        return f"epoch {self.epoch}, {how}"

    @property
    def no_test(self) -> str:
        """Why there are no test numbers: no test part, or the run delivered none yet."""
        return _NOT_DELIVERED.get(self.status, NO_TEST_PART)

    def test_cell(
        self, value: float | None, as_text: Callable[[float | None], str] = format_accuracy
    ) -> str:
        """A table cell: the test number, "no test part", or a dash (no model yet)."""
        if self.test is not None:
            return as_text(value)
        return NO_TEST_PART if self.status not in _NOT_DELIVERED else MISSING

    def test_words(self) -> str:
        """ "test accuracy 80.1%, test cross-entropy 0.7812 on 360 rows", or why none."""
        if self.test is None:
            return self.no_test
        rows = "" if self.test_rows is None else f" on {self.test_rows} rows"
        return (
            f"test accuracy {format_accuracy(self.test_accuracy)}, "
            f"test cross-entropy {format_loss(self.test_cross_entropy)}{rows}"
        )

    def gap_words(self) -> str:
        """ "training − validation accuracy +19.9 pp at epoch 60"."""
        if self.epoch is None:
            return "no gap yet"
        return (
            f"training − validation accuracy {format_accuracy_change(self.gap)} "
            f"at epoch {self.epoch}"
        )


def _metrics_at(run: StoredRun | RunResult, epoch: int | None) -> Mapping[str, float | None]:
    if epoch is None:
        return {}
    if run.history:
        return {
            key: values[epoch - 1] if 1 <= epoch <= len(values) else None
            for key, values in run.history.items()
        }
    if isinstance(run, StoredRun):  # a listed run has no history: its two stored epochs
        if epoch == run.best_epoch:
            return run.best_metrics
        if epoch == run.epochs_run:
            return run.last_metrics
    return {}


def delivered(run: StoredRun | RunResult) -> Delivered:
    """The model ``run`` delivers: its epoch, test numbers and that epoch's numbers."""
    epoch = delivered_epoch_of(run)
    restored = epoch is not None and epoch != run.epochs_run and run.restored_best
    return Delivered(epoch, restored, run.status, run.test, _metrics_at(run, epoch))


def delivered_line(run: StoredRun | RunResult) -> str:
    """The run's headline in one sentence: "Delivered model (epoch 60, the last): test
    accuracy 80.1%, test cross-entropy 0.7812 on 360 rows; training − validation
    accuracy +19.9 pp at epoch 60."."""
    d = delivered(run)
    return f"Delivered model ({d.which}): {d.test_words()}; {d.gap_words()}."


def run_row(run: StoredRun) -> dict[str, Any]:
    """One run as the flat record of ``fitgap runs list --json``: the delivered model
    first (its epoch, test numbers and gap), then the best epoch's (chosen on validation)."""
    best = run.best_metrics
    d = delivered(run)
    return {
        "run_id": run.run_id,
        "name": run.name,
        "created": run.created,
        "status": run.status,
        "epochs_run": run.epochs_run,
        "delivered_epoch": d.epoch,
        "test_accuracy": d.test_accuracy,
        "test_cross_entropy": d.test_cross_entropy,
        "test_n": d.test_rows,
        "gap_at_delivered": d.gap,
        "best_epoch": run.best_epoch,
        "best_val_accuracy": best.get("val_accuracy"),
        "best_val_loss": best.get("val_loss"),  # Keras's: holds the weight penalty
        "best_val_cross_entropy": best.get("val_cross_entropy"),  # chosen on validation
        "gap_at_best": run.gap_at_best,
        "levers": run_summary(run),
        "kind": run.kind,
    }


#: Under the table: where each number was read.
RUNS_TABLE_NOTE = (
    "delivered: the epoch of the model each run delivers (early stopping's restored\n"
    "epoch, else the last). test_acc, test_ce: that model on the test part. gap:\n"
    "training minus validation accuracy at that epoch. The best epoch's numbers\n"
    "(chosen on validation): fitgap runs list --json, fitgap runs show."
)


def runs_table(runs: list[StoredRun]) -> str:
    """A plain-text table of runs for the terminal (``fitgap runs list``), then a note
    that says where its numbers were read."""
    header = ["id", "name", "created", "status", "epochs", "delivered", "test_acc", "test_ce"]
    header += ["gap", "levers"]
    rows = []
    for run in runs:
        d = delivered(run)
        rows.append(
            [
                str(run.run_id),
                printable(run.name),  # a terminal's text: no escape sequences, one line
                run.created.replace("T", " ")[:16],
                run.status,
                str(run.epochs_run),
                MISSING if d.epoch is None else str(d.epoch),
                d.test_cell(d.test_accuracy),
                format_loss(d.test_cross_entropy),  # the accuracy's cell says why none
                format_accuracy_change(d.gap),
                printable(run_summary(run)),
            ]
        )
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    numeric = {0, 4, 5, 6, 7, 8}
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join([*lines, "", RUNS_TABLE_NOTE])
