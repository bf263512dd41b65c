"""Run → Lab…: the generalization lab in the window, one experiment at a time.

Pick the randomization test, double descent or the learning-rate range test and its
settings; Run plans it (``core.experiments.lab``) and hands the runs to the window's
own ``train_requests(as_plan=True)``, so they train on the executor of Edit →
Preferences and appear in the window like any experiment's.  The dialog listens to
the window's ``TrainingController``: each finished run of its plan (matched by the
request's tag) goes into a ``LabCollector`` and the plot is redrawn from its JSON.
The range test is no run: it trains on a ``BackgroundTask`` of its own, each batch
reported and drawn.  The reading under the plot is ``core.experiments.lab_readings``;
Apply copies the suggested rate into the learning-rate lever.  When an experiment
ends its lab record is kept (``core.experiments.labstore``) for the report.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments import lab, lr_range
from fitgap_gui.core.experiments.lab_readings import (
    double_descent_reading,
    lr_range_reading,
    randomization_reading,
)
from fitgap_gui.core.experiments.lab_results import lr_range_payload
from fitgap_gui.core.experiments.labstore import save_record
from fitgap_gui.core.run.live import RunRequest
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.panels.config_access import ConfigEditor
from fitgap_gui.qt.runtime.background import BackgroundTask, TaskState
from fitgap_gui.qt.runtime.worker import TrainingController

EXPERIMENTS = (
    ("randomization", "Randomization test (random labels)"),
    ("double-descent", "Double descent (width)"),
    ("lr-range", "Learning-rate range test"),
)
TRAIN_PEN, TEST_PEN = pg.mkPen("#1f77b4", width=2), pg.mkPen("#d62728", width=2)
MARK_PEN = pg.mkPen("#555555", style=pg.QtCore.Qt.PenStyle.DashLine)


class LabHost(Protocol):
    """What the dialog asks of the window."""

    @property
    def controls(self) -> ConfigEditor: ...

    @property
    def controller(self) -> TrainingController: ...

    @property
    def store(self) -> RunStore: ...

    def train_requests(self, requests: list[RunRequest], *, as_plan: bool = False) -> bool: ...


def _floats(text: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise FitGapError(f"expected comma-separated numbers, not {text!r}") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise FitGapError(f"expected comma-separated whole numbers, not {text!r}") from None


def _lr_range_task(state: TaskState, config: RunConfig, low: float, high: float, steps: int):
    """The range test on the task's thread; each batch reported as (rate, loss, smoothed)."""
    dataset = load_datasets([("lr-range", config)])[0]
    payload = lr_range.lr_range_test(
        config,
        dataset,
        min_rate=low,
        max_rate=high,
        steps=steps,
        on_step=lambda _i, rate, loss, smooth: state.report((rate, loss, smooth)),
        should_stop=state.abort_requested,
    )
    return payload, {"n_train": len(dataset.x_train), "n_classes": dataset.n_classes}


class LabDialog(QDialog):
    """The experiment, its settings, the live plot, runs under way, reading, Stop, Apply."""

    def __init__(self, host: LabHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.setWindowTitle("Lab")
        self.resize(720, 620)
        self.kind = QComboBox()
        for key, words in EXPERIMENTS:
            self.kind.addItem(words, key)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(host.controls.config().training.epochs)
        self.epochs.setToolTip("Epochs of every run (early stopping is off in the lab)")
        self.pages = QStackedWidget()
        self.levels = QLineEdit("0, 0.2, 0.4, 0.6, 0.8, 1")
        self.repeats = self._spin(1, 50, 3)
        self.permutations = self._spin(0, 1000, 0)
        self.widths = QLineEdit(", ".join(str(w) for w in lab.DEFAULT_WIDTHS))
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 0.95)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(0.2)
        self.min_rate, self.max_rate = QLineEdit("1e-7"), QLineEdit("10")
        self.steps = self._spin(10, 100_000, lr_range.DEFAULT_STEPS)
        self.pages.addWidget(
            self._form(
                ("Levels of random labels:", self.levels),
                ("Repeats (seeds) per level:", self.repeats),
                ("Runs on random labels for a p-value:", self.permutations),
            )
        )
        self.pages.addWidget(
            self._form(("Hidden widths:", self.widths), ("Label noise:", self.noise))
        )
        self.pages.addWidget(
            self._form(
                ("Lowest rate:", self.min_rate),
                ("Highest rate:", self.max_rate),
                ("Batches:", self.steps),
            )
        )
        self.plot = pg.PlotWidget(background="w")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.under_way = QLabel("")
        self.reading = QLabel("Choose an experiment and press Run.")
        self.reading.setWordWrap(True)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d1495b;")
        self.error.setWordWrap(True)
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.apply_button = QPushButton("Apply rate")
        self.apply_button.setToolTip("Copy the suggested rate into the learning-rate lever")
        self.stop_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply)

        top = QFormLayout()
        top.addRow("Experiment:", self.kind)
        top.addRow("Epochs per run:", self.epochs)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.apply_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.pages)
        column.addLayout(buttons)
        column.addWidget(self.plot, 1)
        column.addWidget(self.under_way)
        column.addWidget(self.reading)
        column.addWidget(self.error)
        self.kind.currentIndexChanged.connect(self._kind_changed)

        self.plan: lab.LabPlan | None = None
        self.collector: lab.LabCollector | None = None
        self.payload: dict[str, Any] | None = None
        self.record_path: str | None = None
        self._run_index: dict[int, int] = {}  # run id -> plan index
        self._epochs: dict[int, int] = {}  # run id -> epochs done, for runs under way
        self._task: BackgroundTask | None = None
        self._points: list[tuple[float, float, float]] = []
        controller = host.controller
        controller.started.connect(self._on_started)
        controller.epoch_done.connect(self._on_epoch)
        controller.finished.connect(self._on_finished)
        controller.idle.connect(self._on_idle)

    @staticmethod
    def _spin(low: int, high: int, value: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        return box

    @staticmethod
    def _form(*rows: tuple[str, QWidget]) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in rows:
            form.addRow(label, widget)
        return page

    def _kind_changed(self) -> None:
        self.pages.setCurrentIndex(self.kind.currentIndex())
        self.epochs.setEnabled(self.kind.currentData() != "lr-range")

    def choose(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def is_running(self) -> bool:
        return self.plan is not None or self._task is not None

    # -- starting and stopping -------------------------------------------------------------
    def run(self) -> bool:
        """Plan the chosen experiment and start it; False (with the reason shown) if not."""
        if self.is_running():
            return False
        self.error.setText("")
        kind = self.kind.currentData()
        try:
            base = self.host.controls.config()
            if kind == "lr-range":
                return self._start_lr_range(base)
            base = base.replace({"training.epochs": self.epochs.value()})
            if kind == "randomization":
                plan = lab.plan_randomization(
                    base,
                    _floats(self.levels.text()),
                    self.repeats.value(),
                    self.permutations.value(),
                )
            else:
                plan = lab.plan_double_descent(base, _ints(self.widths.text()), self.noise.value())
        except FitGapError as exc:
            self.error.setText(str(exc))
            return False
        requests = [
            RunRequest(item.config, item.label, tag=("lab", i), probe=item.probe)
            for i, item in enumerate(plan.items)
        ]
        self.plan, self.collector = plan, lab.LabCollector(plan)
        self.payload, self.record_path = None, None
        self._run_index.clear()
        self._epochs.clear()
        if not self.host.train_requests(requests, as_plan=True):
            self.plan = self.collector = None
            self.error.setText(
                "The window is busy (a run or experiment is training); try again after it."
            )
            return False
        self._set_running(True)
        self._redraw()
        return True

    def _start_lr_range(self, base: RunConfig) -> bool:
        try:
            low, high = float(self.min_rate.text()), float(self.max_rate.text())
        except ValueError:
            raise FitGapError("the rates must be numbers such as 1e-7 and 10") from None
        if not 0 < low < high:
            raise FitGapError(f"the rates need 0 < lowest < highest, not {low:g} and {high:g}")
        if self.host.controller.is_busy():
            raise FitGapError(
                "The window is busy (a run or experiment is training); try again after it."
            )
        self._points = []
        self.payload = None
        self._lr_settings = {
            "min": low,
            "max": high,
            "steps": self.steps.value(),
            "base_config": base.to_dict(),
        }
        task = BackgroundTask(
            _lr_range_task, base, low, high, self.steps.value(), name="fitgap-lab", pass_state=True
        )
        task.yielded.connect(self._on_lr_step)
        task.returned.connect(self._on_lr_done)
        task.errored.connect(lambda exc: self.error.setText(str(exc)))
        task.finished.connect(self._on_lr_finished)
        self._task = task
        self._set_running(True)
        self.under_way.setText("Range test running…")
        task.start()
        return True

    def stop(self) -> None:
        if self._task is not None:
            self._task.abort()
        elif self.plan is not None:
            self.host.controller.stop()

    def apply(self) -> bool:
        """Copy the suggested rate into the learning-rate lever."""
        rate = (self.payload or {}).get("suggested")
        if rate is None:
            return False
        config = self.host.controls.config().replace({"training.learning_rate": float(rate)})
        self.host.controls.set_config(config)
        self.reading.setText(self.reading.text() + f" Learning rate set to {rate:.3g}.")
        return True

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.kind.setEnabled(not running)
        self.apply_button.setEnabled(
            not running and (self.payload or {}).get("suggested") is not None
        )

    # -- the window's runs -----------------------------------------------------------------
    def _mine(self, request: RunRequest) -> bool:
        tag = request.tag
        return (
            self.plan is not None and isinstance(tag, tuple) and len(tag) == 2 and tag[0] == "lab"
        )

    def _on_started(self, run_id: int, request: RunRequest) -> None:
        if self._mine(request):
            self._run_index[run_id] = request.tag[1]
            self._epochs[run_id] = 0
            self._show_under_way()

    def _on_epoch(self, run_id: int, metrics: Any) -> None:
        if run_id in self._epochs:
            self._epochs[run_id] = metrics.epoch
            self._show_under_way()

    def _on_finished(self, run_id: int, result: Any) -> None:
        index = self._run_index.get(run_id)
        if index is None or self.collector is None:
            return
        self._epochs.pop(run_id, None)
        self.collector.add(index, result)
        self._redraw()
        self._show_under_way()

    def _on_idle(self) -> None:
        if self.plan is None or self.collector is None:
            return
        if self.collector.rows:
            self.record_path = self.collector.save(self.host.store)
        self.plan = None
        self._epochs.clear()
        self._set_running(False)
        self._show_under_way()

    def _show_under_way(self) -> None:
        if self.plan is None or self.collector is None:
            self.under_way.setText("")
            return
        done = len(self.collector.rows) + len(self.collector.null_scores)
        names = {v: k for k, v in self._run_index.items()}
        training = ", ".join(
            f"{self.plan.items[names_index].label} (epoch {epoch})"
            for run_id, epoch in self._epochs.items()
            if (names_index := self._run_index[run_id]) is not None
        )
        del names
        text = f"{done} of {len(self.plan.items)} runs finished"
        self.under_way.setText(text + (f"; training: {training}" if training else ""))

    # -- the range test --------------------------------------------------------------------
    def _on_lr_step(self, point: tuple[float, float, float]) -> None:
        self._points.append(point)
        rates, losses, smoothed = ([p[i] for p in self._points] for i in range(3))
        self.payload = lr_range_payload(rates, losses, smoothed)
        if len(self._points) % 5 == 0:
            self._redraw()

    def _on_lr_done(self, value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        self.payload, data = value
        self.record_path = str(
            save_record(self.host.store, "lr-range", self._lr_settings, self.payload, data)
        )

    def _on_lr_finished(self) -> None:
        self._task = None
        self.under_way.setText("")
        self._set_running(False)
        self._redraw()

    # -- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        plot = self.plot
        plot.clear()
        plot.getAxis("bottom").setTicks(None)
        kind = self.kind.currentData()
        # The legend where the curves are not: falling curves (errors) keep the top right free.
        self.legend.setOffset((10, 10) if kind == "lr-range" else (-10, 10))
        if kind == "lr-range":
            self._draw_lr_range()
        elif self.collector is not None or self.payload is not None:
            payload = self.collector.payload() if self.collector is not None else self.payload
            self.payload = payload
            if kind == "randomization":
                self._draw_randomization(payload)
            else:
                self._draw_double_descent(payload)

    def _draw_randomization(self, payload: dict[str, Any]) -> None:
        plot = self.plot
        plot.setLogMode(x=False, y=False)
        plot.setLabel("bottom", "fraction of training labels made random")
        plot.setLabel("left", "accuracy")
        levels = payload["levels"]
        x = [lv["level"] for lv in levels]
        for key, pen, name in (
            ("train_accuracy", TRAIN_PEN, "training (labels trained on)"),
            ("test_accuracy", TEST_PEN, "test (delivered model)"),
        ):
            y = [lv[key]["mean"] if lv[key]["mean"] is not None else math.nan for lv in levels]
            plot.plot(x, y, pen=pen, symbol="o", symbolBrush=pen.color(), name=name)
        if self.plan is not None or self.collector is not None:
            n_classes = (self.collector.plan if self.collector else self.plan).data["n_classes"]  # type: ignore[union-attr]
            plot.addItem(pg.InfiniteLine(1.0 / n_classes, angle=0, pen=MARK_PEN, label="chance"))
        self.reading.setText(randomization_reading(payload))

    def _draw_double_descent(self, payload: dict[str, Any]) -> None:
        plot = self.plot
        plot.setLogMode(x=True, y=False)
        plot.setLabel("bottom", "hidden width (log)")
        plot.setLabel("left", "error")
        widths = payload["widths"]
        x = [w["width"] for w in widths]
        plot.getAxis("bottom").setTicks([[(math.log10(v), str(v)) for v in x]])
        for key, pen, name in (
            ("train_error", TRAIN_PEN, "training error (labels trained on)"),
            ("test_error", TEST_PEN, "test error (delivered model)"),
        ):
            y = [w[key] if w[key] is not None else math.nan for w in widths]
            plot.plot(x, y, pen=pen, symbol="o", symbolBrush=pen.color(), name=name)
        plan = self.collector.plan if self.collector is not None else None
        if payload["threshold_width"] is not None:
            plot.addItem(
                pg.InfiniteLine(
                    math.log10(payload["threshold_width"]),
                    pen=MARK_PEN,
                    label="threshold",
                    labelOpts={"position": 0.95},
                )
            )
        if plan is not None:
            data = plan.data
            width = (data["n_train"] - data["n_classes"]) / (
                data["input_dim"] + 1 + data["n_classes"]
            )
            if width > 0:
                line = pg.InfiniteLine(
                    math.log10(width),
                    pen=pg.mkPen("#2ca02c", style=pg.QtCore.Qt.PenStyle.DotLine),
                    label="params = n_train",
                    labelOpts={"position": 0.85},
                )
                plot.addItem(line)
        n_train = plan.data["n_train"] if plan is not None else None
        self.reading.setText(double_descent_reading(payload, n_train))

    def _draw_lr_range(self) -> None:
        plot = self.plot
        plot.setLogMode(x=True, y=False)
        plot.setLabel("bottom", "learning rate (log)")
        plot.setLabel("left", "training loss")
        payload = self.payload
        if not payload or not payload["rates"]:
            return
        rates = payload["rates"]
        loss = [v if v is not None else math.nan for v in payload["losses"]]
        smooth = [v if v is not None else math.nan for v in payload["smoothed"]]
        plot.plot(rates, loss, pen=pg.mkPen("#9ecae1"), name="loss per batch")
        plot.plot(rates, smooth, pen=TRAIN_PEN, name="smoothed")
        finite = [v for v in smooth + loss if math.isfinite(v)]
        if finite:
            low = min(finite)
            plot.setYRange(
                low * 0.9, min(max(finite), 4.5 * min(v for v in smooth if math.isfinite(v)))
            )
        if payload.get("suggested") is not None:
            plot.addItem(
                pg.InfiniteLine(
                    math.log10(payload["suggested"]),
                    pen=MARK_PEN,
                    label="suggested",
                    labelOpts={"position": 0.95},
                )
            )
        self.reading.setText(lr_range_reading(payload))
