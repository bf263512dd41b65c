"""Plot cost: one epoch's update with 20 runs x 1,000 epochs overlaid.

19 finished runs of 1,000 epochs are shown with ``PlotsPanel.show_history`` and a
20th, live run is under way; then each timed step adds one epoch to the live
run.  ``add_epoch`` only buffers the epoch; the panel's ~30 Hz paint timer hands
it to the curves (``PlotsPanel.flush``) and Qt repaints.  Figures per step:

- ``add_epoch`` alone (buffering);
- ``add_epoch + repaint``: add_epoch, the timer's work (``flush``, called at once
  instead of waiting up to 33 ms for the tick) and the repaint it triggers
  (``processEvents``) -- the whole cost of showing that epoch;
- the same through the real timer: the GUI thread's CPU time (``thread_time``) from
  add_epoch until the tick has fired and the repaint is done (waiting for the tick
  blocks without using CPU, so it is not counted).  The timer updates the plots one
  at a time, a step each; this waits until the last step (``PlotsPanel.painting``);
- ``add_epoch`` + flush + one forced render of the whole panel (``grab``).

Two cases: the live run inside the range of the others (epoch 500) and past it
(epoch 1,000+, where the x range must grow).  On code without a paint timer
(no ``flush``) the flush steps are skipped, so old and new figures compare.

    .venv/bin/python benchmarks/bench_plots.py                 # ~30 s
    .venv/bin/python benchmarks/bench_plots.py --steps 200

Goal: <= 5 ms per epoch update (with its repaint).
"""

from __future__ import annotations

import argparse
import time

import benchlib
import numpy as np

RUNS, EPOCHS = 20, 1000


def history(seed: int, n: int) -> dict[str, list[float]]:
    """Believable curves: training loss falls, validation turns up, with noise."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, n + 1)
    loss = 2.0 * np.exp(-e / 80) + 0.02 + rng.normal(0, 0.01, n)
    val = 2.0 * np.exp(-e / 60) + 0.3 + e / 2000 + rng.normal(0, 0.02, n)
    acc = 1 - loss / 2.5
    return {
        "loss": loss.tolist(),
        "val_loss": val.tolist(),
        "accuracy": acc.tolist(),
        "val_accuracy": (acc - 0.1).tolist(),
    }


def fill(panel, live_epochs: int) -> int:
    """19 finished runs of 1,000 epochs and a live one; returns the live run's id."""
    for run_id in range(1, RUNS):
        panel.show_history(run_id, f"#{run_id}", history(run_id, EPOCHS))
    live = RUNS
    panel.begin_run(live, f"#{live}")
    panel.runs[live].extend(history(live, live_epochs))
    return live


def time_steps(app, panel, live: int, steps: int, repaint, clock=time.perf_counter):
    from fitgap_gui.core.results.records import EpochMetrics

    curves = panel.runs[live]
    out = []
    for _ in range(steps):
        epoch = curves.count + 1
        metrics = EpochMetrics(
            epoch, {"loss": 0.02, "val_loss": 0.8, "accuracy": 0.99, "val_accuracy": 0.9}
        )
        t = clock()
        panel.add_epoch(live, metrics)
        if repaint is not None:
            repaint()
        out.append(clock() - t)
        flush = getattr(panel, "flush", None)
        if flush is not None:
            flush()
        app.processEvents()  # settle anything left before the next step
    return out


def measure(app, panel, live: int, steps: int, widget) -> dict[str, list[float]]:
    from PySide6.QtCore import QEventLoop

    flush = getattr(panel, "flush", lambda: None)

    def repaint() -> None:
        flush()  # the paint timer's work for this epoch
        app.processEvents()  # the repaint it triggers

    # Older trees paint every plot in one tick and have no ``painting``.
    pending = getattr(panel, "painting", lambda: bool(getattr(panel, "_dirty", None)))

    def through_timer() -> None:
        while pending():  # block (no CPU) until the paint (all its steps) is done
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        app.processEvents()  # the repaint the tick triggered

    def render() -> None:
        flush()
        widget.grab()

    modes = {
        "add_epoch only": (None, time.perf_counter),
        "add_epoch + repaint (flush + processEvents)": (repaint, time.perf_counter),
        "add_epoch + repaint by the timer (CPU)": (through_timer, time.thread_time),
        "add_epoch + full render (grab)": (render, time.perf_counter),
    }
    results: dict[str, list[float]] = {name: [] for name in modes}
    # Interleave the modes in small blocks so drift cancels.
    for _ in range(max(1, steps // 10)):
        for name, (step, clock) in modes.items():
            results[name] += time_steps(app, panel, live, 10, step, clock)
    return results


def report(title: str, results: dict[str, list[float]]) -> None:
    print(f"\n## {title}")
    for name, values in results.items():
        goal = ""
        if name.startswith("add_epoch + repaint"):
            goal = f"  goal <= 5 ms: {benchlib.verdict(benchlib.median(values) * 1000 <= 5)}"
        p90 = benchlib.percentile(values, 90) * 1000
        print(f"{name:<38} {benchlib.summary(values, ' ms', 1000)}, p90 {p90:.3g} ms{goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed epochs per mode")
    args = parser.parse_args()
    benchlib.setup_env()
    print(benchlib.machine_line())
    from fitgap_gui.app import make_application
    from fitgap_gui.qt.plots.plots import PlotsPanel

    app = make_application([])
    for live_epochs, what in (
        (500, "live run at epoch 500: inside the range, the axes stay"),
        (EPOCHS, "live run past epoch 1,000: the x range must grow"),
    ):
        panel = PlotsPanel()
        panel.resize(1040, 800)
        panel.show()
        live = fill(panel, live_epochs)
        app.processEvents()
        title = f"PlotsPanel 1040 x 800, {RUNS - 1} runs x {EPOCHS} epochs + {what}"
        report(title, measure(app, panel, live, args.steps, panel))
        panel.close()
        panel.deleteLater()
        app.processEvents()
    print(f"\n({benchlib.load_line()})")


if __name__ == "__main__":
    main()
