"""Training throughput: plain ``model.fit`` vs FitGap's engine, headless and in the window.

Also the peers people use for live curves: ``model.fit`` with Keras's TensorBoard
callback, and with livelossplot's Keras callback (matplotlib Agg backend).  Every
round runs each program once on the same data and model, in rotated order, so
machine drift cancels; the figures are medians over rounds.

    .venv/bin/python benchmarks/bench_throughput.py            # both sizes, ~3 min
    .venv/bin/python benchmarks/bench_throughput.py --sizes large --rounds 5

"Steady" is seconds per epoch after the first one (the first includes graph
tracing); "run" is the whole program (build, compile, fit; for the window also
loading the data, storing epochs and saving the model).  Speed-up = plain's steady
epoch time / the program's.  Goals: engine >= 1.15x plain on small data, >= 0.98x on
large data.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import warnings

import benchlib

PROGRAMS = ("plain", "engine", "window", "tensorboard", "livelossplot")
GOALS = {"small": 1.15, "large": 0.98}


def peer_callbacks(program: str, tmp) -> list:
    if program == "tensorboard":
        import keras

        return [keras.callbacks.TensorBoard(log_dir=str(tmp / "tb"))]
    if program == "livelossplot":
        from livelossplot import PlotLossesKeras
        from livelossplot.outputs import MatplotlibPlot

        # The default notebook mode calls plt.show() (a no-op on Agg); saving the figure
        # makes matplotlib really draw it every epoch, as a live view must.
        return [PlotLossesKeras(outputs=[MatplotlibPlot(figpath=str(tmp / "llp.png"))])]
    return []


def device_line() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return "device: " + (", ".join(g.name for g in gpus) if gpus else "CPU only (no GPU found)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large", help="small, large or both")
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--rounds", type=int, default=0, help="default: 5 small, 3 large")
    parser.add_argument("--epochs-small", type=int, default=12)
    parser.add_argument("--epochs-large", type=int, default=2)
    args = parser.parse_args()

    tmp = benchlib.setup_env()
    print(benchlib.machine_line())
    print("#", device_line())
    programs = [p for p in args.programs.split(",") if p]
    if "livelossplot" in programs:
        try:
            import livelossplot  # noqa: F401
        except ImportError:
            print(
                "# livelossplot is not installed: its line is skipped "
                "(.venv/bin/pip install livelossplot matplotlib)"
            )
            programs.remove("livelossplot")
    harness = benchlib.WindowHarness() if "window" in programs else None

    try:
        for size in args.sizes.split(","):
            epochs = args.epochs_small if size == "small" else args.epochs_large
            rounds = args.rounds or (5 if size == "small" else 3)
            config = benchlib.make_config(size, epochs, tmp)
            dataset = benchlib.load(config)
            from fitgap_gui.core.run.training import choose_steps_per_execution, count_dense_params

            spe = choose_steps_per_execution(
                len(dataset.x_train),
                config.training.batch_size,
                count_dense_params(
                    dataset.input_shape, config.model.hidden_units, dataset.n_classes
                ),
            )
            print(
                f"\n## {size}: {len(dataset.x_train)} x {dataset.input_shape} training, "
                f"{len(dataset.x_val)} validation, Dense 128, batch 32, {epochs} epochs, "
                f"{rounds} rounds; engine steps_per_execution = {spe}"
            )
            times: dict[str, list[tuple[float, float, float]]] = {p: [] for p in programs}
            for order in benchlib.alternate(programs, rounds):
                for program in order:
                    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                        warnings.simplefilter("ignore")  # matplotlib: "non-interactive", 20 figures
                        if program == "engine":
                            run = benchlib.engine_fit(dataset, config)
                        elif program == "window":
                            run = harness.run(config)
                        else:
                            run = benchlib.plain_fit(dataset, config, peer_callbacks(program, tmp))
                    times[program].append(benchlib.epoch_times(run))
                print(f"  round done ({benchlib.load_line()})", flush=True)
            plain_steady = benchlib.median([t[1] for t in times.get("plain", [])])
            print(
                f"{'program':<13} {'steady s/epoch':<26} {'first epoch s':<24} "
                f"{'whole run s':<24} speed-up"
            )
            for program in programs:
                first, steady, whole = zip(*times[program], strict=True)
                ratio = plain_steady / benchlib.median(steady)
                ratios = [
                    plain / mine
                    for plain, mine in zip(
                        [t[1] for t in times.get("plain", [])], steady, strict=False
                    )
                ]
                goal = ""
                if program == "engine" and "plain" in times:
                    goal = f"  goal >= {GOALS[size]}x: {benchlib.verdict(ratio >= GOALS[size])}"
                print(
                    f"{program:<13} {benchlib.summary(steady):<26} {benchlib.summary(first):<24} "
                    f"{benchlib.summary(whole):<24} {ratio:.2f}x "
                    f"(per round {min(ratios):.2f}-{max(ratios):.2f}){goal}"
                )
    finally:
        if harness is not None:
            harness.close()


if __name__ == "__main__":
    main()
