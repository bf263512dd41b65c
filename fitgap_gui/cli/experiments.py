"""``fitgap sweep`` and ``fitgap compare``: experiment plans over seeds, headless."""

from __future__ import annotations

import argparse
from pathlib import Path

from fitgap_gui.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopOnCtrlC,
    add_executor_flags,
    add_label_flag,
    check_writable,
    executor_from_args,
    load_config,
    quiet_tensorflow,
    repeats_arg,
    write_out,
    writing_out,
)
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.experiments import plans as experiments
from fitgap_gui.core.experiments import tables
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable


def cmd_sweep(args: argparse.Namespace) -> int:
    """Validation curve: recorded runs per value (and seed), one row per run, a summary."""
    quiet_tensorflow()

    config = load_config(args)
    values = experiments.parse_values(args.values)
    planned = experiments.sweep_configs(config, args.param, values)  # bad value: exit 2 here
    experiments.with_repeats(planned, args.repeats)  # bad --repeats: exit 2 here
    if args.out:
        check_writable(Path(args.out))
    executor = executor_from_args(args)  # Ray chosen but missing: exit 2 before the data
    loaded: dict = {}  # each data set is loaded once, here, and reused by the runs
    datasets = load_datasets(planned, loaded)  # bad data: exit 2 before training
    summary = printable(datasets[0].summary())
    print(
        f"sweep {args.param} over {len(planned)} values x {args.repeats} seeds: {summary}",
        flush=True,
    )
    columns = tables.row_columns(args.param, [str(value) for value, _ in planned])
    print(tables.row_header(columns), flush=True)
    prefix = f"sweep {args.param}="
    rows, arms, stopped = _run_repeats(planned, args.repeats, prefix, executor, loaded, columns)
    if not stopped:
        _print_summary(arms, f"the first value, {args.param}={planned[0][0]}")
    if args.out:
        with writing_out(args.out) as handle:
            tables.write_rows(args.out, rows, param=args.param, summary=arms, handle=handle)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def _run_repeats(planned, repeats: int, name_prefix: str, executor=None, loaded=None, columns=None):
    """Run and record each planned config ``repeats`` times, one row printed per run.

    Returns ``(rows, arm summaries, stopped)``; Ctrl+C stops the running runs cleanly.
    ``executor`` (``executor_from_args``) says where the runs train; ``loaded`` is the
    data already loaded (``experiments.load_datasets``); ``columns`` the per-run table's.
    After the last row, the key line of its columns and marks.
    """

    with StopOnCtrlC() as stop:
        rows, arms = experiments.run_repeats(
            planned,
            RunStore(),
            repeats,
            name_prefix=name_prefix,
            on_run_done=lambda i, row, result: print(
                printable(tables.format_row(row, columns)), flush=True
            ),
            should_stop=stop,
            executor=executor,
            loaded=loaded,
        )
    print(tables.ROW_KEY, flush=True)
    return rows, arms, stop.requested or any(row.status == "stopped" for row in rows)


def _print_summary(arms, baseline: str) -> None:
    """The per-arm table over the repeats, then each paired verdict in words."""

    print(f"over the seeds (mean ± half the 95 % interval; versus {baseline}):")
    columns = tables.summary_columns(arms)
    print(printable(tables.header_lines(columns)))
    for arm in arms:
        print(printable(tables.format_summary(arm, columns)))
    print(tables.SUMMARY_KEY)
    for arm in arms:
        if arm.sentence():
            print(f"- {printable(arm.sentence())}")


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare remedies headless: the window's five arms, each over several seeds."""
    quiet_tensorflow()

    config = load_config(args)
    planned = experiments.remedy_configs(config)
    experiments.with_repeats(planned, args.repeats)  # bad --repeats: exit 2 here
    if args.out:
        check_writable(Path(args.out))
    executor = executor_from_args(args)  # Ray chosen but missing: exit 2 before the data
    loaded: dict = {}  # the arms share the data: loaded once per seed, here and below
    dataset = load_datasets(planned[:1], loaded)[0]  # bad data: exit 2 here
    print(f"compare remedies x {args.repeats} seeds: {printable(dataset.summary())}", flush=True)
    for reason in experiments.remedies(config)[1]:
        print(f"{reason}: the arm would be the baseline again", flush=True)
    for note in experiments.remedy_notes(config):
        print(note, flush=True)
    columns = tables.row_columns("arm", [str(name) for name, _ in planned])
    print(tables.row_header(columns), flush=True)
    _rows, arms, stopped = _run_repeats(
        planned, args.repeats, "compare: ", executor, loaded, columns
    )
    if not stopped:
        _print_summary(arms, "the baseline, seed by seed")
    nothing_to_fix = experiments.nothing_to_fix(arms)
    if nothing_to_fix:
        print(f"note: {nothing_to_fix}", flush=True)
    if args.out:
        payload = tables.summary_payload(arms)
        payload["note"] = nothing_to_fix
        write_out(args.out, payload)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def add_compare(sub) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare remedies: baseline, + dropout, + L2, + early stopping, all three",
    )
    compare.add_argument("--config", metavar="FILE", help="the base RunConfig JSON file")
    compare.add_argument("--data", metavar="PATH", help="a data file or image folder")
    add_label_flag(compare)
    compare.add_argument(
        "--repeats",
        type=repeats_arg,
        default=3,
        metavar="N",
        help="seeds per arm: training.seed, +1, ... (default 3)",
    )
    compare.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    compare.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    compare.add_argument("--out", metavar="FILE", help="write the summary JSON here")
    add_executor_flags(compare)
    compare.set_defaults(func=cmd_compare)


def add_sweep(sub) -> None:
    sweep = sub.add_parser(
        "sweep", help="validation curve: one recorded run per value of one setting"
    )
    sweep.add_argument("--config", metavar="FILE", help="the base RunConfig JSON file")
    sweep.add_argument(
        "--param", required=True, metavar="KEY", help="the dotted setting, e.g. model.dropout"
    )
    sweep.add_argument(
        "--values", required=True, metavar="V,V,...", help="comma-separated, e.g. 0,0.2,0.4"
    )
    sweep.add_argument("--data", metavar="PATH", help="a data file or image folder")
    add_label_flag(sweep)
    sweep.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    sweep.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    sweep.add_argument(
        "--repeats", type=repeats_arg, default=3, metavar="N", help="seeds per value (default 3)"
    )
    sweep.add_argument("--out", metavar="FILE", help="write the rows (.csv, else JSON)")
    add_executor_flags(sweep)
    sweep.set_defaults(func=cmd_sweep)
