"""``fitgap train``: one configuration (or its repeats, or a continuation), recorded."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fitgap_gui.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopOnCtrlC,
    add_label_flag,
    check_writable,
    format_epoch,
    load_config,
    quiet_tensorflow,
    repeats_arg,
    run_id_arg,
    write_out,
)
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments import tables
from fitgap_gui.core.experiments.plans import with_repeats
from fitgap_gui.core.run.branching import branch_config, saved_epoch, state_from_stored
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.core.textsafe import printable


def _rate_drop(previous: float | None, metrics: dict[str, float]) -> str | None:
    """ "learning rate 0.001 -> 0.0005" when this epoch's rate is lower than the last one's."""
    rate = metrics.get("learning_rate")
    if previous is None or rate is None or not rate < previous * (1 - 1e-6):
        return None
    return f"learning rate {previous:.3g} -> {rate:.3g}"


def cmd_train(args: argparse.Namespace) -> int:
    """Train one configuration; with ``--repeats N``, once per seed s, s+1, ... s+N-1."""
    quiet_tensorflow()

    if args.continue_run is not None:
        return _continue_run(args)
    config = load_config(args)
    if args.repeats < 1:
        raise FitGapError(f"--repeats must be 1 or more, not {args.repeats}")
    plan = with_repeats([(None, config)], args.repeats)  # a count no plan holds: exit 2
    # Bad data: exit 2 before TensorFlow.  The seed also draws the split, so each repeat
    # has its own, loaded when its turn comes.  A model too large for memory: exit 2
    # before a run is stored (``run_recorded`` checks each run before its row).
    if args.out:
        check_writable(Path(args.out))
    first = load_dataset(config.data, config.training.seed)
    store = RunStore()
    results = []
    for index, (_key, run_config) in enumerate(plan):
        dataset = first if index == 0 else load_dataset(run_config.data, run_config.training.seed)
        results.append(_train_one(args, run_config, dataset, store))
        results[-1].model = None  # the Keras model is large; keep none per repeat
        if results[-1].status == "stopped":
            break
    if args.out:
        payload = results[0].to_dict()
        if args.repeats > 1:
            payload = _repeats_payload(results)
        write_out(args.out, payload)
    if args.repeats > 1 and not args.jsonl and len(results) == args.repeats:
        (arm,) = _repeats_summary(results)
        print(f"over the {args.repeats} seeds (mean ± half the 95 % interval):")
        print(tables.summary_header([arm]))
        print(printable(tables.format_summary(arm)))
        print(tables.SUMMARY_KEY)
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
        ("--label", args.label is not None),
        ("--seed", args.seed is not None),
        ("--repeats", args.repeats != 1),
    ):
        if given:
            raise FitGapError(f"--continue keeps the run's data and seed; {flag} cannot be used")
    if args.epochs is not None and args.epochs < 1:
        raise FitGapError(f"--epochs must be 1 or more, not {args.epochs}")
    if args.out:
        check_writable(Path(args.out))
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
    _parent, state = state_from_stored(store, parent.run_id, dataset)  # before the child row
    if not args.jsonl:
        print(f"continuing run {parent.run_id} from epoch {epoch}", flush=True)
        if state.note:
            print(f"note: {printable(state.note)}", flush=True)
    result = _train_one(args, config, dataset, store, resume=state)
    if args.out:
        write_out(args.out, result.to_dict())
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
            print(format_epoch(metrics.epoch, config.training.epochs, metrics.metrics), flush=True)
            drop = _rate_drop(rates[-1] if rates else None, metrics.metrics)
            if announce and drop:
                print(f"  {drop}", flush=True)
        if metrics.metrics.get("learning_rate") is not None:
            rates.append(metrics.metrics["learning_rate"])

    with StopOnCtrlC() as stop:
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


def add_train(sub) -> None:
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
    add_label_flag(train)
    train.add_argument(
        "--continue",
        dest="continue_run",
        type=run_id_arg,
        metavar="RUN_ID",
        help="go on from a stored run's saved model as a new, linked run; --config may "
        "change dropout, L1/L2, weight decay, the learning rate and schedule, the batch "
        "size and early stopping",
    )
    train.add_argument(
        "--repeats",
        type=repeats_arg,
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
