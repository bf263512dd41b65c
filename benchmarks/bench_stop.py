"""Stop latency: from a click on Stop to the worker's ``finished`` signal.

The real window (offscreen) trains a long run; once the first epoch is shown (graph
tracing is over) a timer clicks the Stop button at a different point of an epoch in
each round.  "finished" is when the worker's ``finished`` signal reaches the GUI
thread (the run is stored, its model saved); "idle" is when Train is enabled again.

    .venv/bin/python benchmarks/bench_stop.py                  # ~1.5 min
    .venv/bin/python benchmarks/bench_stop.py --rounds 8

Goal: < 1 s.
"""

from __future__ import annotations

import argparse
import time

import benchlib

#: Where in an epoch (as a share of one epoch's time) each round clicks Stop.
PHASES = (0.15, 0.5, 0.85, 0.3, 0.7, 0.05, 0.95, 0.4)


def stop_once(harness, config, delay_s: float) -> dict:
    from PySide6.QtCore import QTimer

    window = harness.window
    worker = window.controller.worker
    marks: dict[str, float] = {}

    def click() -> None:
        marks["click"] = time.perf_counter()
        window.stop_button.click()

    def on_epoch(_run_id, _metrics) -> None:
        if "armed" not in marks:
            marks["armed"] = time.perf_counter()
            QTimer.singleShot(int(delay_s * 1000), click)

    def on_finished(_run_id, result) -> None:
        marks["finished"] = time.perf_counter()
        marks["status"] = result.status

    def on_error(message: str) -> None:
        marks["error"] = message

    window.live_runs.epoch_appended.connect(on_epoch)
    worker.finished.connect(on_finished)
    window.error_shown.connect(on_error)
    harness.wait_for(window.training_ended, lambda: window.train_configs([config]))
    marks["idle"] = time.perf_counter()
    window.live_runs.epoch_appended.disconnect(on_epoch)
    worker.finished.disconnect(on_finished)
    window.error_shown.disconnect(on_error)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    tmp = benchlib.setup_env()
    print(benchlib.machine_line())
    harness = benchlib.WindowHarness()
    try:
        for size in args.sizes.split(","):
            # Long enough that the run is always stopped, never completes.
            config = benchlib.make_config(size, 500 if size == "small" else 12, tmp)
            probe = harness.run(benchlib.make_config(size, 3, tmp))
            epoch_s = (probe["ends"][-1] - probe["ends"][0]) / (len(probe["ends"]) - 1)
            to_finished, to_idle, statuses = [], [], []
            for r in range(args.rounds):
                phase = PHASES[r % len(PHASES)]
                marks = stop_once(harness, config, phase * epoch_s)
                if "click" not in marks:
                    print(
                        f"  round {r}: the run ended before Stop was clicked "
                        f"({marks.get('status') or marks.get('error', 'no result')})"
                    )
                    continue
                print(
                    f"  round {r}: Stop at {phase:.2f} of an epoch -> finished after "
                    f"{marks['finished'] - marks['click']:.3f} s",
                    flush=True,
                )
                to_finished.append(marks["finished"] - marks["click"])
                to_idle.append(marks["idle"] - marks["click"])
                statuses.append(marks["status"])
            ok = bool(to_finished) and max(to_finished) < 1.0
            print(
                f"\n## {size}: epoch ~{epoch_s:.2f} s, Stop clicked at {args.rounds} points "
                f"of an epoch ({benchlib.load_line()})"
            )
            print(
                f"Stop -> finished signal  {benchlib.summary(to_finished, ' s')}  "
                f"goal < 1 s (max): {benchlib.verdict(ok)}"
            )
            print(f"Stop -> Train enabled    {benchlib.summary(to_idle, ' s')}")
            print(f"statuses: {sorted(set(statuses))}")
    finally:
        harness.close()


if __name__ == "__main__":
    main()
