"""The ``fitgap`` command: the same engine as the window, without Qt.

``fitgap`` alone opens the window; ``fitgap train`` runs one configuration and
records it in the run store.  Exit codes: 0 done, 2 bad input (one ``error:`` line on
stderr, no traceback), 1 anything unexpected, 130 stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from fitgap_gui import __version__, desktop
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset, load_datasets
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments import plans as experiments
from fitgap_gui.core.experiments import tables
from fitgap_gui.core.experiments.executors import make_executor
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.summary import lever_summary, run_row, runs_table
from fitgap_gui.core.run.branching import branch_config, saved_epoch, state_from_stored
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.repair import check_store, recover_store
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable
from fitgap_gui.core.userfiles import os_error_text

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``error:`` line, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {printable(message)} (see '{self.prog} --help')\n")


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def source_for_path(path: str) -> str:
    """The data source a file path implies: .npz, .csv, or a folder of images."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    try:
        is_dir = p.is_dir()
    except OSError as exc:  # a name too long for the file system
        raise FitGapError(os_error_text(p, exc)) from None
    if is_dir:
        return "images"
    raise FitGapError(
        f"{path}: cannot tell the data type; use a .npz file, a .csv file or an image folder"
    )


def load_config(args: argparse.Namespace) -> RunConfig:
    """The --config file (or the defaults) with --data, --epochs and --seed applied."""
    config = RunConfig.load(args.config) if args.config else RunConfig()
    changes: dict[str, Any] = {}
    if getattr(args, "data", None):
        source = config.data.source if config.data.source in ("npz", "csv", "images") else None
        changes["data.source"] = source or source_for_path(args.data)
        changes["data.path"] = args.data
    if getattr(args, "epochs", None) is not None:
        changes["training.epochs"] = args.epochs
    if getattr(args, "seed", None) is not None:
        changes["training.seed"] = args.seed
    return config.replace(changes) if changes else config


def _format_epoch(epoch: int, total: int, metrics: dict[str, float]) -> str:
    parts = [f"epoch {epoch:>{len(str(total))}}/{total}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in metrics:
            parts.append(f"{key} {metrics[key]:.4f}")
    return "  ".join(parts)


def _rate_drop(previous: float | None, metrics: dict[str, float]) -> str | None:
    """ "learning rate 0.001 -> 0.0005" when this epoch's rate is lower than the last one's."""
    rate = metrics.get("learning_rate")
    if previous is None or rate is None or not rate < previous * (1 - 1e-6):
        return None
    return f"learning rate {previous:.3g} -> {rate:.3g}"


class _StopOnCtrlC:
    """While active, the first Ctrl+C asks for a clean stop; the second one aborts."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("stopping after this execution chunk (Ctrl+C again to abort)", file=sys.stderr)

    def __enter__(self) -> _StopOnCtrlC:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous)


def cmd_train(args: argparse.Namespace) -> int:
    """Train one configuration; with ``--repeats N``, once per seed s, s+1, ... s+N-1."""
    _quiet_tensorflow()

    if args.continue_run is not None:
        return _continue_run(args)
    config = load_config(args)
    if args.repeats < 1:
        raise FitGapError(f"--repeats must be 1 or more, not {args.repeats}")
    configs = [
        config.replace({"training.seed": config.training.seed + i}) for i in range(args.repeats)
    ]
    # Bad data: exit 2 before TensorFlow; the seed also draws the split, so each repeat
    # has its own.  A model too large for memory: exit 2 before a run is stored
    # (``run_recorded`` checks each run before its row: ``session.check_run``).
    datasets = [load_dataset(c.data, c.training.seed) for c in configs]
    if args.out:
        _check_writable(Path(args.out))
    store = RunStore()
    results = []
    for run_config, dataset in zip(configs, datasets, strict=True):
        results.append(_train_one(args, run_config, dataset, store))
        if results[-1].status == "stopped":
            break
    if args.out:
        payload = results[0].to_dict()
        if args.repeats > 1:
            payload = _repeats_payload(results)
        Path(args.out).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.repeats > 1 and not args.jsonl and len(results) == args.repeats:
        (arm,) = _repeats_summary(results)
        print(f"over the {args.repeats} seeds (mean ± half the 95 % interval):")
        print(tables.summary_header([arm]))
        print(printable(tables.format_summary(arm)))
    return EXIT_INTERRUPTED if results[-1].status == "stopped" else EXIT_OK


def _repeats_summary(results):
    """The one arm of a repeated train: mean and 95 % interval over its seeds."""

    seeds = [result.config.training.seed for result in results]
    rows = [tables.best_row(result) for result in results]
    return tables.summarize([(f"seeds {seeds[0]}-{seeds[-1]}", rows)])


def _repeats_payload(results) -> dict:
    """``--out`` of a repeated train: every run's result JSON, then the summary."""

    summary = tables.summary_payload(_repeats_summary(results))
    return {"runs": [result.to_dict() for result in results], "summary": summary}


def _continue_run(args: argparse.Namespace) -> int:
    """``--continue RUN_ID``: a child run from the stored run's saved model.

    The child keeps the run's data, model and seed; ``--config`` may change only the
    levers a branch may change; ``--epochs N`` trains N more epochs (by default up to
    the config's ``training.epochs``, when that is beyond the saved epoch).
    """

    for flag, given in (
        ("--data", args.data),
        ("--seed", args.seed is not None),
        ("--repeats", args.repeats != 1),
    ):
        if given:
            raise FitGapError(f"--continue keeps the run's data and seed; {flag} cannot be used")
    if args.epochs is not None and args.epochs < 1:
        raise FitGapError(f"--epochs must be 1 or more, not {args.epochs}")
    if args.out:
        _check_writable(Path(args.out))
    store = RunStore()
    parent = store.get_run(args.continue_run)  # an unknown id: one error line, before TF
    if not parent.has_model:
        raise FitGapError(f"run {parent.run_id} has no saved model to continue from")
    epoch, _same_optimizer = saved_epoch(parent)
    wanted = RunConfig.load(args.config) if args.config else parent.config
    total = epoch + args.epochs if args.epochs is not None else wanted.training.epochs
    if total <= epoch:
        raise FitGapError(
            f"run {parent.run_id} is saved at epoch {epoch} of {wanted.training.epochs}; "
            "give --epochs N to train N more"
        )
    config = branch_config(parent.config, wanted.replace({"training.epochs": total}))
    dataset = load_dataset(config.data, config.training.seed)
    _parent, state = state_from_stored(store, parent.run_id)
    if not args.jsonl:
        print(f"continuing run {parent.run_id} from epoch {epoch}", flush=True)
        if state.note:
            print(f"note: {printable(state.note)}", flush=True)
    result = _train_one(args, config, dataset, store, resume=state)
    if args.out:
        Path(args.out).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return EXIT_INTERRUPTED if result.status == "stopped" else EXIT_OK


def _train_one(args: argparse.Namespace, config, dataset, store, resume=None):
    """One recorded run with its epoch lines (or JSON lines) and its closing lines."""

    def on_started(run_id: int, ds) -> None:
        if not args.jsonl:
            print(f"run {run_id}: {printable(ds.summary())}", flush=True)
            print(f"run {run_id}: {printable(ds.test_line())}", flush=True)
            if resume is not None:
                print(
                    f"run {run_id}: branched from run {resume.parent_run_id} at epoch "
                    f"{resume.epoch}",
                    flush=True,
                )

    # Plateau and step schedules drop the rate now and then: each drop gets its own line
    # (a cosine schedule lowers it every epoch, so it is not announced).
    rates: list[float] = []
    announce = config.training.lr_schedule["kind"] in ("plateau", "step")

    def on_epoch(run_id: int, metrics) -> None:
        if args.jsonl:
            line = {"run_id": run_id, **metrics.to_dict()}
            print(json.dumps(line), flush=True)
        else:
            print(_format_epoch(metrics.epoch, config.training.epochs, metrics.metrics), flush=True)
            drop = _rate_drop(rates[-1] if rates else None, metrics.metrics)
            if announce and drop:
                print(f"  {drop}", flush=True)
        if metrics.metrics.get("learning_rate") is not None:
            rates.append(metrics.metrics["learning_rate"])

    with _StopOnCtrlC() as stop:
        result = run_recorded(
            config,
            store,
            dataset=dataset,
            on_started=on_started,
            on_epoch=on_epoch,
            should_stop=stop,
            resume=resume,
        )

    if not args.jsonl:
        best = f", best epoch {result.best_epoch}" if result.best_epoch else ""
        print(
            f"run {result.run_id}: {result.status} after {result.epochs_run} epochs{best}",
            flush=True,
        )
        if result.diagnosis:
            diagnosis = result.diagnosis.get("summary", result.diagnosis["verdict"])
            print(f"diagnosis: {printable(diagnosis)}")
    if result.message:  # a diverged run's hint; stderr keeps --jsonl's stdout pure JSON
        print(printable(result.message), file=sys.stderr)
    return result


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise FitGapError(f"{path} is a folder; give a file name for the output")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FitGapError(f"cannot write {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise FitGapError(f"cannot write {path}: the folder {parent} is not writable")


# -- runs and exports (the run store, no TensorFlow unless a script export needs data) --
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
    print(f"created {run.created}; levers: {printable(lever_summary(run.config))}")
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
        print(_format_epoch(epoch, max(n, 1), metrics) + mark)
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


def _add_store(sub) -> None:
    store = sub.add_parser("store", help="check the run store, or salvage a damaged one")
    actions = store.add_subparsers(dest="action", required=True, parser_class=_Parser)
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
    _quiet_tensorflow()

    for path in export_runs(RunStore(), args.format, args.run_ids, args.output):
        print(printable(path))
    return EXIT_OK


def _add_runs_and_export(sub) -> None:
    runs = sub.add_parser("runs", help="list, show, rename or delete the runs in the run store")
    actions = runs.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = actions.add_parser("list", help="a table of every run, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=cmd_runs_list)
    show = actions.add_parser("show", help="one run with its per-epoch history")
    show.add_argument("run_id", type=int, metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="print the run result JSON")
    show.set_defaults(func=cmd_runs_show)
    rename = actions.add_parser("rename", help="give a run another name")
    rename.add_argument("run_id", type=int, metavar="RUN_ID")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(func=cmd_runs_rename)
    delete = actions.add_parser("delete", help="delete a run, its epochs and its model")
    delete.add_argument("run_id", type=int, metavar="RUN_ID")
    delete.set_defaults(func=cmd_runs_delete)

    export = sub.add_parser(
        "export", help="write runs as CSV, JSON, Keras script, model, TensorBoard or a report"
    )
    export.add_argument(
        "format", choices=("csv", "json", "script", "model", "tensorboard", "report")
    )
    export.add_argument("run_ids", type=int, nargs="+", metavar="RUN_ID")
    export.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="the file to write (a folder for tensorboard, or for several scripts/models; "
        "an .html file for report)",
    )
    export.set_defaults(func=cmd_export)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Validation curve: recorded runs per value (and seed), one row per run, a summary."""
    _quiet_tensorflow()

    config = load_config(args)
    values = experiments.parse_values(args.values)
    planned = experiments.sweep_configs(config, args.param, values)  # bad value: exit 2 here
    experiments.with_repeats(planned, args.repeats)  # bad --repeats: exit 2 here
    if args.out:
        _check_writable(Path(args.out))
    executor = executor_from_args(args)  # Ray chosen but missing: exit 2 before the data
    loaded: dict = {}  # each data set is loaded once, here, and reused by the runs
    datasets = load_datasets(planned, loaded)  # bad data: exit 2 before training
    summary = printable(datasets[0].summary())
    print(
        f"sweep {args.param} over {len(planned)} values x {args.repeats} seeds: {summary}",
        flush=True,
    )
    print(tables.ROW_HEADER, flush=True)
    prefix = f"sweep {args.param}="
    rows, arms, stopped = _run_repeats(planned, args.repeats, prefix, executor, loaded)
    if not stopped:
        _print_summary(arms, f"the first value, {args.param}={planned[0][0]}")
    if args.out:
        tables.write_rows(args.out, rows, param=args.param, summary=arms)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def _run_repeats(planned, repeats: int, name_prefix: str, executor=None, loaded=None):
    """Run and record each planned config ``repeats`` times, one row printed per run.

    Returns ``(rows, arm summaries, stopped)``; Ctrl+C stops the running runs cleanly.
    ``executor`` (``executor_from_args``) says where the runs train; ``loaded`` is the
    data already loaded (``experiments.load_datasets``).
    """

    with _StopOnCtrlC() as stop:
        rows, arms = experiments.run_repeats(
            planned,
            RunStore(),
            repeats,
            name_prefix=name_prefix,
            on_run_done=lambda i, row, result: print(printable(tables.format_row(row)), flush=True),
            should_stop=stop,
            executor=executor,
            loaded=loaded,
        )
    return rows, arms, stop.requested or any(row.status == "stopped" for row in rows)


def _print_summary(arms, baseline: str) -> None:
    """The per-arm table over the repeats, then each paired verdict in words."""

    print(f"over the seeds (mean ± half the 95 % interval; versus {baseline}):")
    print(tables.summary_header(arms))
    for arm in arms:
        print(printable(tables.format_summary(arm)))
    for arm in arms:
        if arm.sentence():
            print(f"- {printable(arm.sentence())}")


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare remedies headless: the window's five arms, each over several seeds."""
    _quiet_tensorflow()

    config = load_config(args)
    planned = experiments.remedy_configs(config)
    experiments.with_repeats(planned, args.repeats)  # bad --repeats: exit 2 here
    if args.out:
        _check_writable(Path(args.out))
    executor = executor_from_args(args)  # Ray chosen but missing: exit 2 before the data
    loaded: dict = {}  # the arms share the data: loaded once per seed, here and below
    dataset = load_datasets(planned[:1], loaded)[0]  # bad data: exit 2 here
    print(f"compare remedies x {args.repeats} seeds: {printable(dataset.summary())}", flush=True)
    for reason in experiments.remedies(config)[1]:
        print(f"{reason}: the arm would be the baseline again", flush=True)
    print(tables.ROW_HEADER, flush=True)
    _rows, arms, stopped = _run_repeats(planned, args.repeats, "compare: ", executor, loaded)
    if not stopped:
        _print_summary(arms, "the baseline, seed by seed")
    if args.out:
        payload = tables.summary_payload(arms)
        Path(args.out).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def _add_compare(sub) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare remedies: baseline, + dropout, + L2, + early stopping, all three",
    )
    compare.add_argument("--config", metavar="FILE", help="the base RunConfig JSON file")
    compare.add_argument("--data", metavar="PATH", help="a data file or image folder")
    compare.add_argument(
        "--repeats",
        type=int,
        default=3,
        metavar="N",
        help="seeds per arm: training.seed, +1, ... (default 3)",
    )
    compare.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    compare.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    compare.add_argument("--out", metavar="FILE", help="write the summary JSON here")
    add_executor_flags(compare)
    compare.set_defaults(func=cmd_compare)


def _add_sweep(sub) -> None:
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
    sweep.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    sweep.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    sweep.add_argument(
        "--repeats", type=int, default=3, metavar="N", help="seeds per value (default 3)"
    )
    sweep.add_argument("--out", metavar="FILE", help="write the rows (.csv, else JSON)")
    add_executor_flags(sweep)
    sweep.set_defaults(func=cmd_sweep)


def _workers(text: str) -> int | None:
    """``--workers``: a whole number >= 1, or ``auto`` (as many as the machine carries)."""
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number or 'auto', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1 worker, got {value}")
    return value


def add_executor_flags(parser: argparse.ArgumentParser) -> None:
    """``--workers N|auto`` and ``--ray ADDRESS``: where an experiment's runs train."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="train N runs at once in worker processes on this machine (default auto: "
        "N = the smallest of the usable cores, the available memory divided by one run's "
        "need (its data, the model's estimate, and ~600 MiB for TensorFlow), and the "
        "number of runs; each worker gets cores/N TensorFlow threads); 1: one after "
        "another in this process",
    )
    where.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="train each run as a Ray task: 'auto', 'ray://HOST:10001', or 'local' "
        '(needs pip install -e ".[ray]")',
    )


def executor_from_args(args: argparse.Namespace):
    """The executor that ``--workers``/``--ray`` ask for (see ``add_executor_flags``)."""

    return make_executor(
        workers=getattr(args, "workers", None), ray_address=getattr(args, "ray", None)
    )


def cmd_install_desktop(args: argparse.Namespace) -> int:

    if args.uninstall:
        removed = desktop.uninstall()
        for path in removed:
            print(f"removed {printable(path)}")
        if not removed:
            print(f"no launcher installed in {printable(desktop.data_home())}")
        return EXIT_OK
    written = desktop.install()
    command = " ".join(desktop.launcher_command())
    print(f"installed {printable(written[0])} (starts: {printable(command)})")
    print(f"icons in {printable(desktop.data_home() / 'icons' / 'hicolor')}")
    return EXIT_OK


def _add_install_desktop(sub) -> None:
    install = sub.add_parser(
        "install-desktop", help="add FitGap to your application menu (this user only)"
    )
    install.add_argument(
        "--uninstall", action="store_true", help="remove the launcher and icons again"
    )
    install.set_defaults(func=cmd_install_desktop)


def cmd_gui(args: argparse.Namespace) -> int:
    from fitgap_gui.app import main as gui_main

    return gui_main([])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fitgap", description="See the train/validation gap and close it.")
    parser.add_argument("--version", action="version", version=f"FitGap {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train one configuration and record it in the run store")
    train.add_argument(
        "--config", metavar="FILE", help="a RunConfig JSON file (default: the defaults)"
    )
    train.add_argument(
        "--data", metavar="PATH", help="a data file or image folder (sets data.path)"
    )
    train.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="override training.epochs (with --continue: train N more epochs)",
    )
    train.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    train.add_argument(
        "--continue",
        dest="continue_run",
        type=int,
        metavar="RUN_ID",
        help="go on from a stored run's saved model as a new, linked run; --config may "
        "change dropout, L1/L2, weight decay, the learning rate and schedule, the batch "
        "size and early stopping",
    )
    train.add_argument(
        "--repeats",
        type=int,
        default=1,
        metavar="N",
        help="train N times, with seeds S, S+1, ... (the seed also draws the split), and "
        "print the mean and 95%% interval over them (default 1)",
    )
    train.add_argument(
        "--out",
        metavar="FILE",
        help='write the run result JSON here (with --repeats: {"runs": [...], "summary": ...})',
    )
    train.add_argument(
        "--jsonl", action="store_true", help="print one JSON line per finished epoch"
    )
    train.set_defaults(func=cmd_train)
    _add_runs_and_export(sub)
    _add_store(sub)
    _add_install_desktop(sub)
    _add_sweep(sub)
    _add_compare(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already reported
        return int(exc.code or 0)
    if args.command is None:
        return cmd_gui(args)
    try:
        return args.func(args)
    except FitGapError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(argv: list[str] | None = None) -> NoReturn:
    """The ``fitgap`` command: ``main``, then an exit that skips TensorFlow's teardown.

    After a command that trained, Python's ordinary exit finalizes every TensorFlow
    object and waits for its thread pools: 0.3-0.5 s of CPU and up to seconds of wall
    time for a process that is ending anyway (benchmarks/RESULTS.md, section 7b).
    By then everything is written: the store committed each epoch, ``--out`` files
    and saved models are closed.  So once output is flushed and logging shut down,
    ``os._exit`` ends the process.  The window, a command that never imported
    TensorFlow, and one that started Ray or worker processes (their clean-up runs at
    exit) exit the ordinary way.
    """
    code = main(argv)
    if _nothing_to_tear_down():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to keep
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _nothing_to_tear_down() -> bool:
    """TensorFlow ran here, and nothing whose clean-up ``os._exit`` would skip."""
    if "tensorflow" not in sys.modules or "PySide6" in sys.modules or "ray" in sys.modules:
        return False
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or not multiprocessing.active_children()


if __name__ == "__main__":  # pragma: no cover
    run()
