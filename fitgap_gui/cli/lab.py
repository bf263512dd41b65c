"""``fitgap lab``: the generalization lab headless (randomization, double descent, LR range).

Each command prints a table as runs finish, then one plain-language reading, and writes
the experiment's JSON with ``--out`` (docs/ARCHITECTURE.md, "CLI contract").  The runs
are ordinary store rows; each experiment also keeps a lab record beside the store
(``core.experiments.labstore``), which the report reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fitgap_gui.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopOnCtrlC,
    add_executor_flags,
    check_writable,
    executor_from_args,
    load_config,
    quiet_tensorflow,
    repeats_arg,
    write_out,
)
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments import lab, lr_range
from fitgap_gui.core.experiments.lab_readings import (
    double_descent_reading,
    lr_range_reading,
    randomization_reading,
)
from fitgap_gui.core.experiments.lab_results import epochs_to_fit, final_value
from fitgap_gui.core.experiments.labstore import save_record
from fitgap_gui.core.formatting import format_accuracy
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable


def _numbers(text: str, kind: type, flag: str) -> list[Any]:
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{flag}: expected comma-separated numbers, not {text!r}") from None


def _pct(value: float | None) -> str:
    return "-" if value is None else format_accuracy(value)  # 89.2%, 85.0%


def _write(out: str | None, payload: dict[str, Any]) -> None:
    if out:  # checked before training; a failure now is one line, the runs kept
        write_out(out, payload)


def _run(
    plan: lab.LabPlan, args: argparse.Namespace, executor, on_done
) -> tuple[dict, str | None, bool]:
    with StopOnCtrlC() as stop:
        payload, _collector, path = lab.run_lab(
            plan, RunStore(), executor, on_run_done=on_done, should_stop=stop
        )
    return payload, path, stop.requested


def cmd_randomization(args: argparse.Namespace) -> int:
    """Random labels at each level: training accuracy, test accuracy, epochs to fit."""
    quiet_tensorflow()
    config = load_config(args)
    levels = _numbers(args.levels, float, "--levels")
    if args.out:
        check_writable(Path(args.out))
    executor = executor_from_args(args)
    plan = lab.plan_randomization(config, levels, args.repeats, args.permutations)
    print(
        f"randomization test: {len(plan.items)} runs ({len(levels)} levels x {args.repeats} "
        f"seeds, {args.permutations} on random labels for the p-value), "
        f"{config.training.epochs} epochs, early stopping off; {printable(plan.data['summary'])}",
        flush=True,
    )
    print(f"{'level':>6} {'run':>5} {'train acc':>10} {'test acc':>9} {'fit at':>7}", flush=True)

    def on_done(_index: int, keys: dict[str, Any], result) -> None:
        test = (result.test or {}).get("accuracy")
        fit = epochs_to_fit(result.history)
        role = "p" if keys.get("role") == "permutation" else ""
        print(
            f"{keys['level']:>6g}{role} {result.run_id!s:>5} "
            f"{_pct(final_value(result.history, 'train_eval_accuracy')):>10} {_pct(test):>9} "
            f"{'-' if fit is None else fit:>7}",
            flush=True,
        )

    payload, path, stopped = _run(plan, args, executor, on_done)
    print(printable(randomization_reading(payload)))
    if path:
        print(f"lab record: {printable(path)}")
    _write(args.out, payload)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def cmd_double_descent(args: argparse.Namespace) -> int:
    """One hidden layer per width, nothing regularizing: train and test error by width."""
    quiet_tensorflow()
    config = load_config(args)
    widths = _numbers(args.widths, int, "--widths")
    if args.out:
        check_writable(Path(args.out))
    executor = executor_from_args(args)
    plan = lab.plan_double_descent(config, widths, args.label_noise)
    n_train = plan.data["n_train"]
    print(
        f"double descent: {len(plan.items)} widths, label noise {args.label_noise:g}, "
        f"{config.training.epochs} epochs, no early stopping or regularization; "
        f"{n_train} training rows; {printable(plan.data['summary'])}",
        flush=True,
    )
    print(f"{'width':>6} {'params':>9} {'run':>5} {'train err':>10} {'test err':>9}", flush=True)

    def on_done(_index: int, keys: dict[str, Any], result) -> None:
        train = final_value(result.history, "train_eval_accuracy")
        test = (result.test or {}).get("accuracy")
        print(
            f"{keys['width']:>6} {keys['params']:>9} {result.run_id!s:>5} "
            f"{_pct(None if train is None else 1 - train):>10} "
            f"{_pct(None if test is None else 1 - test):>9}",
            flush=True,
        )

    payload, path, stopped = _run(plan, args, executor, on_done)
    print(printable(double_descent_reading(payload, n_train)))
    if path:
        print(f"lab record (with each run's test error by epoch, for study): {printable(path)}")
    _write(args.out, payload)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def cmd_lr_range(args: argparse.Namespace) -> int:
    """One short run, the rate rising exponentially per batch; a suggested rate."""
    quiet_tensorflow()
    config = load_config(args)
    if args.out:
        check_writable(Path(args.out))
    if not 0 < args.min < args.max:
        raise ConfigError(f"--min and --max need 0 < min < max, not {args.min:g} and {args.max:g}")
    if args.steps < 10:
        raise ConfigError(f"--steps must be at least 10, not {args.steps}")
    dataset = load_datasets([("lr-range", config)])[0]
    print(
        f"learning-rate range test: {args.steps} batches of {config.training.batch_size}, "
        f"rate {args.min:g} to {args.max:g}; {printable(dataset.summary())}",
        flush=True,
    )
    with StopOnCtrlC() as stop:
        payload = lr_range.lr_range_test(
            config,
            dataset,
            min_rate=args.min,
            max_rate=args.max,
            steps=args.steps,
            should_stop=stop,
        )
    print(f"{'rate':>10} {'loss':>9} {'smoothed':>9}")
    count = len(payload["rates"])
    for i in range(0, count, max(1, count // 10)):
        loss, smooth = payload["losses"][i], payload["smoothed"][i]
        print(
            f"{payload['rates'][i]:>10.3g} {'-' if loss is None else f'{loss:.4f}':>9} "
            f"{'-' if smooth is None else f'{smooth:.4f}':>9}"
        )
    print(printable(lr_range_reading(payload)))
    settings = {
        "min": args.min,
        "max": args.max,
        "steps": args.steps,
        "base_config": config.to_dict(),
    }
    data = {"n_train": len(dataset.x_train), "n_classes": dataset.n_classes}
    path = save_record(RunStore(), "lr-range", settings, payload, data)
    print(f"lab record: {printable(str(path))}")
    _write(args.out, payload)
    return EXIT_INTERRUPTED if stop.requested else EXIT_OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="the base RunConfig JSON file")
    parser.add_argument("--data", metavar="PATH", help="a data file or image folder")
    parser.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    parser.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    parser.add_argument("--out", metavar="FILE", help="write the experiment's JSON here")


def add_lab(sub) -> None:
    group = sub.add_parser(
        "lab", help="the generalization lab: randomization, double descent, LR range test"
    )
    experiments = group.add_subparsers(dest="experiment", parser_class=type(group), required=True)

    rand = experiments.add_parser(
        "randomization", help="random training labels at each level (Zhang et al. 2017)"
    )
    _common(rand)
    rand.add_argument(
        "--levels",
        default=",".join(f"{lv:g}" for lv in lab.DEFAULT_LEVELS),
        metavar="F,F,...",
        help="fractions of training labels made random (default 0,0.2,0.4,0.6,0.8,1)",
    )
    rand.add_argument("--repeats", type=repeats_arg, default=3, metavar="N", help="seeds per level")
    rand.add_argument(
        "--permutations",
        type=repeats_arg,
        default=0,
        metavar="N",
        help="N runs on fully random labels for a permutation p-value (default 0: none)",
    )
    add_executor_flags(rand)
    rand.set_defaults(func=cmd_randomization)

    dd = experiments.add_parser(
        "double-descent", help="test error by hidden width (Nakkiran et al. 2019)"
    )
    _common(dd)
    dd.add_argument(
        "--widths",
        default=",".join(str(w) for w in lab.DEFAULT_WIDTHS),
        metavar="W,W,...",
        help="hidden widths, one run each (default 1,2,4,...,1024)",
    )
    dd.add_argument(
        "--label-noise",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of training labels given a random wrong class (default 0)",
    )
    add_executor_flags(dd)
    dd.set_defaults(func=cmd_double_descent)

    lr = experiments.add_parser(
        "lr-range", help="learning-rate range test: one run, rate rising per batch (Smith 2017)"
    )
    _common(lr)
    lr.add_argument("--min", type=float, default=lr_range.DEFAULT_MIN_RATE, metavar="RATE")
    lr.add_argument("--max", type=float, default=lr_range.DEFAULT_MAX_RATE, metavar="RATE")
    lr.add_argument(
        "--steps",
        type=int,
        default=lr_range.DEFAULT_STEPS,
        metavar="N",
        help="batches (default 100)",
    )
    lr.set_defaults(func=cmd_lr_range)
