"""``fitgap runs``, ``fitgap store`` and ``fitgap export``: the run store, no training."""

from __future__ import annotations

import argparse
import json

from fitgap_gui.cli.common import EXIT_OK, Parser, format_epoch, quiet_tensorflow, run_id_arg
from fitgap_gui.cli.examples import cmd_export_examples
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.summary import run_row, run_summary, runs_table
from fitgap_gui.core.results.script_data import script_name
from fitgap_gui.core.store.repair import check_store, recover_store
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable


def cmd_runs_list(args: argparse.Namespace) -> int:

    runs = RunStore().list_runs()
    if args.json:
        print(json.dumps([run_row(run) for run in runs], indent=2))
    elif runs:
        for line in runs_table(runs).splitlines():
            print(printable(line))
    else:
        print("no runs yet; start one with 'fitgap train'")
    return EXIT_OK


def cmd_runs_show(args: argparse.Namespace) -> int:

    run = RunStore().get_run(args.run_id)
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
        return EXIT_OK
    best = f", best epoch {run.best_epoch}" if run.best_epoch else ""
    # Names, messages and levers (a data file's name) are the user's text: escaped.
    name = printable(run.name)
    print(f"run {run.run_id} '{name}': {run.status} after {run.epochs_run} epochs{best}")
    print(f"created {run.created}; levers: {printable(run_summary(run))}")
    if run.class_names:
        classes = ", ".join(run.class_names)
        print(f"classes ({len(run.class_names)}): {printable(classes)}")
    if run.kind == "callback":
        print(f"recorded by FitGapCallback from {printable(script_name(run.script_data))}")
    if run.ran_on:
        print(f"ran on {printable(run.ran_on)}")
    if run.branched_from:
        print(f"{run.branched_from} (epochs 1-{run.branch_epoch} are that run's)")
    if run.message:
        print(printable(run.message))
    if run.diagnosis:
        diagnosis = run.diagnosis.get("summary", run.diagnosis.get("verdict"))
        print(f"diagnosis: {printable(diagnosis)}")
    n = len(next(iter(run.history.values()), []))
    for epoch in range(1, n + 1):
        metrics = {k: v[epoch - 1] for k, v in run.history.items() if v[epoch - 1] is not None}
        mark = "  <- best" if epoch == run.best_epoch else ""
        print(format_epoch(epoch, max(n, 1), metrics) + mark)
    return EXIT_OK


def cmd_runs_delete(args: argparse.Namespace) -> int:

    RunStore().delete_run(args.run_id)
    print(f"deleted run {args.run_id}")
    return EXIT_OK


def cmd_runs_rename(args: argparse.Namespace) -> int:
    """What the window's Rename does: the name is stored as given (trimmed)."""

    store = RunStore()
    store.rename_run(args.run_id, args.name)
    print(f"renamed run {args.run_id} to '{printable(store.get_run(args.run_id).name)}'")
    return EXIT_OK


def cmd_store_check(args: argparse.Namespace) -> int:

    report = check_store()
    if not report.exists:
        print(f"no run store at {printable(report.path)} yet; nothing to check")
        return EXIT_OK
    if report.ok:
        print(f"the run store {printable(report.path)} is sound")
        return EXIT_OK
    for problem in report.problems:  # SQLite's own words, for whoever wants them
        print(printable(problem))
    raise FitGapError(
        f"the run store {report.path} is damaged ({len(report.problems)} problems found); "
        "run 'fitgap store recover' to move it aside and salvage its runs"
    )


def cmd_store_recover(args: argparse.Namespace) -> int:

    report = recover_store(force=args.force)
    if report is None:
        print("the run store is sound; nothing to recover (--force rebuilds it anyway)")
        return EXIT_OK
    print(f"moved the damaged store to {printable(report.moved_to)}")
    print(f"salvaged {report.runs} runs and {report.epochs} epochs into {printable(report.path)}")
    if report.runs_lost:
        print(f"could not read runs {', '.join(map(str, report.runs_lost))}")
    return EXIT_OK


def add_store(sub) -> None:
    store = sub.add_parser("store", help="check the run store, or salvage a damaged one")
    actions = store.add_subparsers(dest="action", required=True, parser_class=Parser)
    check = actions.add_parser("check", help="SQLite's integrity check (exit 2 when damaged)")
    check.set_defaults(func=cmd_store_check)
    recover = actions.add_parser(
        "recover",
        help="move a damaged store aside and salvage what can be read into a fresh one "
        "(close FitGap windows and runs first)",
    )
    recover.add_argument(
        "--force", action="store_true", help="rebuild the store even when it passes its check"
    )
    recover.set_defaults(func=cmd_store_recover)


def cmd_export(args: argparse.Namespace) -> int:
    quiet_tensorflow()
    if args.format == "examples":  # one run's per-example CSV (core/export/examples.py)
        return cmd_export_examples(args)
    for path in export_runs(RunStore(), args.format, args.run_ids, args.output):
        print(printable(path))
    return EXIT_OK


def add_runs_and_export(sub) -> None:
    runs = sub.add_parser("runs", help="list, show, rename or delete the runs in the run store")
    actions = runs.add_subparsers(dest="action", required=True, parser_class=Parser)
    listing = actions.add_parser("list", help="a table of every run, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=cmd_runs_list)
    show = actions.add_parser("show", help="one run with its per-epoch history")
    show.add_argument("run_id", type=run_id_arg, metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="print the run result JSON")
    show.set_defaults(func=cmd_runs_show)
    rename = actions.add_parser("rename", help="give a run another name")
    rename.add_argument("run_id", type=run_id_arg, metavar="RUN_ID")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(func=cmd_runs_rename)
    delete = actions.add_parser("delete", help="delete a run, its epochs and its model")
    delete.add_argument("run_id", type=run_id_arg, metavar="RUN_ID")
    delete.set_defaults(func=cmd_runs_delete)

    export = sub.add_parser(
        "export", help="write runs as CSV, JSON, Keras script, model, TensorBoard or a report"
    )
    export.add_argument(
        "format",
        choices=("csv", "json", "script", "model", "tensorboard", "report", "examples"),
    )
    export.add_argument("run_ids", type=run_id_arg, nargs="+", metavar="RUN_ID")
    export.add_argument(
        "-o",
        "--output",
        "--out",
        required=True,
        metavar="PATH",
        help="the file to write (a folder for tensorboard, or for several scripts/models; "
        "an .html file for report; a .csv for examples: one row per training example)",
    )
    export.set_defaults(func=cmd_export)
