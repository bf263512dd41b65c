"""The evidence behind ``choose_steps_per_execution`` and ``jit_compile``.

Runs FitGap's engine (``core.training.train``) with ``steps_per_execution`` forced
through ``FITGAP_STEPS_PER_EXECUTION`` to several values, on small (digits) and
large (synthetic 60,000 x 784) data, in rotated order per round, next to the plain
program (``plain spe=1``, Keras's defaults); and the plain program with
``jit_compile=True`` vs ``False`` at the engine's steps_per_execution, without and
with dropout 0.3, with the largest difference XLA makes to the history (the
faithfulness contract allows 1e-4).

    .venv/bin/python benchmarks/bench_spe.py                      # ~4 min
    .venv/bin/python benchmarks/bench_spe.py --sizes large --rounds 3 --values 1,64,128,1875

"chunk" is how long one compiled execution takes (steady epoch time x
steps_per_execution / steps per epoch, validation included, so an upper bound): a
stop request is seen between chunks.
"""

from __future__ import annotations

import argparse
import math
import os

import benchlib

DEFAULT_VALUES = {"small": "1,5,15,45", "large": "1,32,128,512,1875"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--values", default="", help="steps_per_execution values to try")
    parser.add_argument("--rounds", type=int, default=0, help="default: 3 small, 2 large")
    parser.add_argument("--epochs-small", type=int, default=10)
    parser.add_argument("--epochs-large", type=int, default=3)
    parser.add_argument("--no-jit", action="store_true", help="skip the jit_compile lines")
    args = parser.parse_args()

    tmp = benchlib.setup_env()
    print(benchlib.machine_line())
    from fitgap_gui.core.run.training import choose_steps_per_execution, count_dense_params

    for size in args.sizes.split(","):
        epochs = args.epochs_small if size == "small" else args.epochs_large
        rounds = args.rounds or (3 if size == "small" else 2)
        config = benchlib.make_config(size, epochs, tmp)
        dataset = benchlib.load(config)
        steps = math.ceil(len(dataset.x_train) / config.training.batch_size)
        chosen = choose_steps_per_execution(
            len(dataset.x_train),
            config.training.batch_size,
            count_dense_params(dataset.input_shape, config.model.hidden_units, dataset.n_classes),
        )
        values = [int(v) for v in (args.values or DEFAULT_VALUES[size]).split(",")]
        programs = ["plain spe=1", *(f"engine spe={v}" for v in values)]
        if not args.no_jit:
            programs += [
                f"plain spe={chosen} jit={jit}{drop}"
                for drop in ("", " dropout=0.3")
                for jit in (False, True)
            ]
        dropout_config = benchlib.make_config(size, epochs, tmp, dropout=0.3)
        histories: dict[str, dict] = {}
        print(
            f"\n## {size}: {steps} steps per epoch, {epochs} epochs, {rounds} rounds; "
            f"choose_steps_per_execution = {chosen}"
        )
        times: dict[str, list[tuple[float, float, float]]] = {p: [] for p in programs}
        for order in benchlib.alternate(programs, rounds):
            for program in order:
                spe = int(program.split("spe=")[1].split()[0])
                if program.startswith("engine"):
                    os.environ["FITGAP_STEPS_PER_EXECUTION"] = str(spe)
                    run = benchlib.engine_fit(dataset, config)
                    del os.environ["FITGAP_STEPS_PER_EXECUTION"]
                else:
                    jit = "jit=True" in program
                    run = benchlib.plain_fit(
                        dataset,
                        dropout_config if "dropout" in program else config,
                        steps_per_execution=spe,
                        jit_compile=jit,
                    )
                times[program].append(benchlib.epoch_times(run))
                histories[program] = run["history"]
            print(f"  round done ({benchlib.load_line()})", flush=True)
        base = benchlib.median([t[1] for t in times[programs[0]]])
        print(
            f"{'program':<26} {'steady s/epoch':<26} {'first epoch s':<24} "
            f"{'chunk s':<8} vs {programs[0]}"
        )
        for program in programs:
            first, steady, _whole = zip(*times[program], strict=True)
            spe = int(program.split("spe=")[1].split()[0])
            chunk = benchlib.median(steady) * min(spe, steps) / steps
            print(
                f"{program:<26} {benchlib.summary(steady):<26} {benchlib.summary(first):<24} "
                f"{chunk:<8.3f} {base / benchlib.median(steady):.2f}x"
            )
        for jit_program in (p for p in programs if "jit=True" in p):
            # Faithfulness: does XLA move the numbers away from the plain program's?
            ref = histories[jit_program.replace("jit=True", "jit=False")]
            mine = histories[jit_program]
            diff = max(abs(a - b) for k in ref for a, b in zip(ref[k], mine[k], strict=True))
            print(f"{jit_program}: max |history difference| vs jit=False = {diff:.2g}")


if __name__ == "__main__":
    main()
