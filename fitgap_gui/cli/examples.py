"""``fitgap export examples`` and ``fitgap clean``: the per-example record of a run, and
a new run without (or relabelled at) its k lowest-margin examples."""

from __future__ import annotations

import argparse
from pathlib import Path

from fitgap_gui.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopOnCtrlC,
    check_writable,
    format_epoch,
    quiet_tensorflow,
    run_id_arg,
    write_out,
)
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.examples import export_examples, stored_dynamics
from fitgap_gui.core.run.cleaning import clean_dataset_for, clean_name
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable


def cmd_export_examples(args: argparse.Namespace) -> int:
    """``fitgap export examples RUN_ID --out FILE.csv``: one run's per-example CSV."""
    if len(args.run_ids) != 1:
        raise FitGapError("export examples takes one run id")
    print(printable(str(export_examples(RunStore(), args.run_ids[0], args.output))))
    return EXIT_OK


def _test_numbers(test: dict | None) -> tuple[str, str]:
    if not test:
        return "-", "-"
    accuracy, loss = test.get("accuracy"), test.get("cross_entropy")
    return (
        "-" if accuracy is None else f"{100 * accuracy:.1f} %",
        "-" if loss is None else f"{loss:.4f}",
    )


def cmd_clean(args: argparse.Namespace) -> int:
    """A new run from scratch without (``--drop K``) or relabelled at (``--relabel K``)
    the parent's k lowest-AUM examples; prints both delivered models' test numbers."""
    quiet_tensorflow()
    mode, k = ("drop", args.drop) if args.drop is not None else ("relabel", args.relabel)
    if args.out:
        check_writable(Path(args.out))
    store = RunStore()
    parent = store.get_run(args.run_id)
    dyn = stored_dynamics(store, args.run_id)
    if parent.kind != "fitgap":
        raise FitGapError(f"run {args.run_id} trained a model of its own; only FitGap's runs")
    # Bad k: one error line, before TensorFlow.
    dataset = clean_dataset_for(parent.config, dyn, mode, k, parent.best_epoch)

    def on_started(run_id: int, ds) -> None:
        what = "without" if mode == "drop" else "relabelling"
        print(
            f"run {run_id}: run {parent.run_id} again {what} its {k} lowest-margin examples",
            flush=True,
        )
        print(f"run {run_id}: {printable(ds.summary())}", flush=True)

    def on_epoch(run_id: int, metrics) -> None:
        print(format_epoch(metrics.epoch, parent.config.training.epochs, metrics.metrics))

    with StopOnCtrlC() as stop:
        result = run_recorded(
            parent.config,
            store,
            dataset=dataset,
            name=clean_name(parent.name, mode, k),
            on_started=on_started,
            on_epoch=on_epoch,
            should_stop=stop,
            parent_run_id=parent.run_id,
        )
    payload = result.to_dict()
    payload["parent_run_id"] = parent.run_id
    payload["cleaning"] = {"mode": mode, "k": k}
    if args.out:
        write_out(args.out, payload)
    parent_acc, parent_ce = _test_numbers(parent.test)
    child_acc, child_ce = _test_numbers(result.test)
    print(f"run {result.run_id}: {result.status} after {result.epochs_run} epochs")
    rows = [
        ("delivered model on the test part", "parent", "child"),
        ("  run", str(parent.run_id), str(result.run_id)),
        ("  accuracy", parent_acc, child_acc),
        ("  cross-entropy", parent_ce, child_ce),
    ]
    for label, left, right in rows:
        print(f"{label:<34}{left:>8}{right:>8}")
    return EXIT_INTERRUPTED if result.status == "stopped" else EXIT_OK


def add_clean(sub) -> None:
    clean = sub.add_parser(
        "clean",
        help="train a run again from scratch without (or relabelled at) its k "
        "lowest-margin training examples, as a new run linked to it",
    )
    clean.add_argument("run_id", type=run_id_arg, metavar="RUN_ID")
    how = clean.add_mutually_exclusive_group(required=True)
    how.add_argument("--drop", type=int, metavar="K", help="leave the k lowest out")
    how.add_argument(
        "--relabel",
        type=int,
        metavar="K",
        help="give the k lowest the class the run predicted at its best epoch",
    )
    clean.add_argument("--out", metavar="FILE", help="write the new run's result JSON here")
    clean.set_defaults(func=cmd_clean)
