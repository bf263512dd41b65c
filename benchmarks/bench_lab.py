"""The generalization lab on built-in digits: randomization, double descent, LR range test.

All on the window's default setup (``resources/presets/default.json``: digits, 25 % of
the training rows, minmax, Adam 1e-3, batch 32; its own label noise is replaced by each
experiment's):

- **randomization**: the default 512-512 network at levels of random training labels
  (``--levels``, default 0,0.2,...,1) x ``--repeats`` seeds, ``--rand-epochs`` epochs,
  early stopping off;
- **double descent**: one hidden layer per width (``--widths``, default 1..1024) at
  0 % and 20 % label noise, ``--dd-epochs`` epochs, nothing regularizing;
- **wall times**: the double descent at 0 % noise runs on ``--workers`` (default 2)
  with the rest, and once more at the end on the other count (1);
- **LR range test** on the default setup (100 batches, 1e-7..10) against full default
  runs at ``--sweep`` learning rates: which gave the lowest delivered test cross-entropy.

Writes ``benchmarks/results/lab-<name>.json`` and the figures ``lab-*.png``
(pyqtgraph's exporter, offscreen).

    .venv/bin/python benchmarks/bench_lab.py                    # the full grid
    .venv/bin/python benchmarks/bench_lab.py --levels 0,0.5,1 --widths 1,4,16,64,256
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

import benchlib

RESULTS = benchlib.ROOT / "benchmarks" / "results"


def base_config():
    from fitgap_gui.core.config.schema import RunConfig

    return RunConfig.load(benchlib.ROOT / "resources" / "presets" / "default.json")


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run_plan(plan, workers: int):
    from fitgap_gui.core.experiments import lab
    from fitgap_gui.core.experiments.executors import LocalExecutor
    from fitgap_gui.core.store.runstore import RunStore

    start = time.perf_counter()
    payload, collector, path = lab.run_lab(plan, RunStore(), LocalExecutor(workers=workers))
    return payload, collector, time.perf_counter() - start


def figure(path, title, x_label, series, *, log_x=False, marks=(), y_label="", ticks=None):
    """A PNG of ``series`` [(name, colour, x, y)] with vertical ``marks`` [(x, label)]."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    widget = pg.PlotWidget(background="w", title=title)
    widget.resize(720, 420)
    widget.addLegend(offset=(-10, 10))
    plot = widget.getPlotItem()
    plot.setLogMode(x=log_x, y=False)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    for name, colour, x, y in series:
        y = [math.nan if v is None else v for v in y]
        plot.plot(
            x,
            y,
            pen=pg.mkPen(colour, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=colour,
            name=name,
        )
    if ticks:
        plot.getAxis("bottom").setTicks(
            [[(math.log10(t) if log_x else t, f"{t:g}") for t in ticks]]
        )
    for i, (x, label) in enumerate(marks):
        at = math.log10(x) if log_x else x
        pen = pg.mkPen("#555", style=pg.QtCore.Qt.PenStyle.DashLine)
        opts = {"position": 0.93 - 0.1 * i, "color": "#333"}
        plot.addItem(pg.InfiniteLine(at, pen=pen, label=label, labelOpts=opts))
    widget.show()
    app.processEvents()
    pyqtgraph.exporters.ImageExporter(plot).export(str(path))
    widget.close()


def randomization(args, out):
    from fitgap_gui.core.experiments import lab

    base = base_config().replace({"training.epochs": args.rand_epochs})
    plan = lab.plan_randomization(base, args.levels, args.repeats, args.permutations)
    payload, collector, seconds = run_plan(plan, args.workers)
    out["randomization"] = {
        "payload": payload,
        "seconds": seconds,
        "workers": args.workers,
        "runs": len(plan.items),
        "n_train": plan.data["n_train"],
        "epochs": args.rand_epochs,
        "load": load(),
    }
    levels = payload["levels"]
    x = [lv["level"] for lv in levels]
    figure(
        RESULTS / "lab-randomization.png",
        f"Randomization: default 512-512 on digits ({plan.data['n_train']} training rows), "
        f"{args.rand_epochs} epochs, {args.repeats} seeds",
        "fraction of training labels made random",
        [
            (
                "training accuracy (labels trained on)",
                "#1f77b4",
                x,
                [lv["train_accuracy"]["mean"] for lv in levels],
            ),
            (
                "test accuracy (delivered)",
                "#d62728",
                x,
                [lv["test_accuracy"]["mean"] for lv in levels],
            ),
        ],
        marks=[],
        y_label="accuracy",
    )


def double_descent(args, out, noise, workers, key):
    from fitgap_gui.core.experiments import lab

    base = base_config().replace({"training.epochs": args.dd_epochs})
    plan = lab.plan_double_descent(base, args.widths, noise)
    payload, collector, seconds = run_plan(plan, workers)
    out[key] = {
        "payload": payload,
        "seconds": seconds,
        "workers": workers,
        "runs": len(plan.items),
        "n_train": plan.data["n_train"],
        "noise": noise,
        "epochs": args.dd_epochs,
        "load": load(),
        "study_curves": len(collector.study),
        "data": plan.data,
    }
    return plan, payload


def dd_figure(plan, results):
    data = plan.data
    crossing = (data["n_train"] - data["n_classes"]) / (data["input_dim"] + 1 + data["n_classes"])
    series, marks = [], [(crossing, "params = n_train")]
    colours = {0.0: ("#1f77b4", "#d62728"), 0.2: ("#6baed6", "#fc9272")}
    for noise, payload in results:
        train_c, test_c = colours.get(noise, ("#333", "#999"))
        x = [w["width"] for w in payload["widths"]]
        series.append(
            (
                f"train error, noise {noise:g}",
                train_c,
                x,
                [w["train_error"] for w in payload["widths"]],
            )
        )
        series.append(
            (
                f"test error, noise {noise:g}",
                test_c,
                x,
                [w["test_error"] for w in payload["widths"]],
            )
        )
        if payload["threshold_width"]:
            marks.append((payload["threshold_width"], f"threshold ({noise:g})"))
    figure(
        RESULTS / "lab-double-descent.png",
        f"Double descent: one hidden layer on digits ({data['n_train']} training rows)",
        "hidden width (log)",
        series,
        log_x=True,
        marks=marks,
        y_label="error",
        ticks=[w["width"] for w in results[0][1]["widths"]],
    )


def lr_range(args, out):
    from fitgap_gui.core.data.datasets import load_datasets
    from fitgap_gui.core.experiments.executors import LocalExecutor
    from fitgap_gui.core.experiments.lr_range import lr_range_test
    from fitgap_gui.core.experiments.plans import run_repeats, sweep_configs
    from fitgap_gui.core.store.runstore import RunStore

    base = base_config()
    dataset = load_datasets([("x", base)])[0]
    start = time.perf_counter()
    payload = lr_range_test(base, dataset)
    seconds = time.perf_counter() - start
    planned = sweep_configs(base, "training.learning_rate", args.sweep)
    rows, _arms = run_repeats(planned, RunStore(), 1, executor=LocalExecutor(workers=args.workers))
    sweep = [
        {
            "rate": r.value,
            "test_cross_entropy": r.test_cross_entropy,
            "test_accuracy": r.test_accuracy,
            "run_id": r.run_id,
        }
        for r in rows
    ]
    best = min(
        (s for s in sweep if s["test_cross_entropy"] is not None),
        key=lambda s: s["test_cross_entropy"],
    )
    out["lr_range"] = {
        "payload": payload,
        "seconds": seconds,
        "sweep": sweep,
        "best": best,
        "load": load(),
    }
    figure(
        RESULTS / "lab-lr-range.png",
        f"LR range test, default setup (suggested {payload['suggested']:.3g}; "
        f"best full run {best['rate']:g})",
        "learning rate (log)",
        [
            ("loss per batch", "#9ecae1", payload["rates"], payload["losses"]),
            ("smoothed", "#1f77b4", payload["rates"], payload["smoothed"]),
        ],
        log_x=True,
        marks=[(payload["suggested"], "suggested"), (best["rate"], "best full run")],
        y_label="training loss",
    )


def figures_from(path) -> None:
    """Redraw the double-descent figure from a saved JSON (digits: 64 inputs, 10 classes)."""
    from types import SimpleNamespace

    out = json.loads(Path(path).read_text(encoding="utf-8"))
    first = out["dd_0"]
    data = first.get("data") or {"n_train": first["n_train"], "n_classes": 10, "input_dim": 64}
    results = [(0.0, out["dd_0"]["payload"]), (0.2, out["dd_0.2"]["payload"])]
    dd_figure(SimpleNamespace(data=data), results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    floats = lambda text: [float(v) for v in text.split(",")]  # noqa: E731
    parser.add_argument("--levels", type=floats, default=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--permutations", type=int, default=0)
    parser.add_argument("--rand-epochs", type=int, default=100)
    parser.add_argument(
        "--widths", type=lambda t: [int(v) for v in t.split(",")], default=[2**i for i in range(11)]
    )
    parser.add_argument("--dd-epochs", type=int, default=300)
    parser.add_argument("--sweep", type=floats, default=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parts", default="rand,dd,time,lr")
    parser.add_argument("--name", default="run")
    parser.add_argument("--figures-from", metavar="JSON", help="only redraw the figures")
    args = parser.parse_args()
    if args.figures_from:
        figures_from(args.figures_from)
        return
    os.environ["FITGAP_HOME"] = tempfile.mkdtemp(prefix="fitgap-bench-lab-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parts = args.parts.split(",")
    out: dict = {"started_load": load(), "args": vars(args)}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"lab-{args.name}.json"

    def save():
        path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")

    if "rand" in parts:
        randomization(args, out)
        save()
        print("randomization", out["randomization"]["seconds"], flush=True)
    if "dd" in parts:
        results = []
        for noise in (0.0, 0.2):
            plan, payload = double_descent(args, out, noise, args.workers, f"dd_{noise:g}")
            results.append((noise, payload))
            save()
            print("double descent", noise, out[f"dd_{noise:g}"]["seconds"], flush=True)
        dd_figure(plan, results)
    if "time" in parts:
        for workers in (1, 2):
            double_descent(args, out, 0.0, workers, f"time_dd0_workers{workers}")
            save()
            print("timing", workers, out[f"time_dd0_workers{workers}"]["seconds"], flush=True)
    if "lr" in parts:
        lr_range(args, out)
        save()
        print(
            "lr range", out["lr_range"]["payload"]["suggested"], out["lr_range"]["best"], flush=True
        )


if __name__ == "__main__":
    main()
