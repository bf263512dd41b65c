"""Exports of stored runs: CSV/JSON metrics, the .keras model, a Keras script, TensorBoard.

Every function takes the RunStore and run ids, writes files, and returns the paths it
wrote; bad ids raise RunNotFoundError and paths that cannot be written raise
FitGapError, so the CLI and the window report both as one line.

- ``export_csv`` / ``export_json``: one file with the per-epoch metrics of all runs
  (in the CSV a run name that a spreadsheet would take for a formula starts with ``'``).
- ``export_model``: a copy of the run's stored ``.keras`` file.
- ``export_script``: the plain Keras program of the run (see ``keras_script``).
- ``export_report``: one self-contained HTML lab report of the runs (see ``report``).
- ``export_tensorboard``: event files, ``<dir>/<run>/train`` and ``/validation``,
  with the tags of Keras's TensorBoard callback (``epoch_loss``, ``epoch_accuracy``).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.lab_report import lab_sections
from fitgap_gui.core.export.report import render_report
from fitgap_gui.core.export.script import check_exportable, keras_script
from fitgap_gui.core.export.script_branch import BranchPlan
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.run.branching import saved_epoch
from fitgap_gui.core.store.runstore import RunStore, StoredRun
from fitgap_gui.core.textsafe import spreadsheet_cell

FORMATS = ("csv", "json", "script", "model", "tensorboard", "report")
#: Columns first in the CSV, in this order; any other logged metric follows, sorted.
LEADING_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


# -- paths ----------------------------------------------------------------------------------
def _output_file(path: str | Path, suffix: str | None = None) -> Path:
    """A file path that can be written; a missing or read-only folder is an error."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise FitGapError(f"{path} is a folder; give a file name for the output")
    if suffix and path.suffix.lower() != suffix:
        raise FitGapError(f"{path}: the file name must end in {suffix}")
    parent = path.parent
    if not parent.is_dir():
        raise FitGapError(f"cannot write {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise FitGapError(f"cannot write {path}: the folder {parent} is not writable")
    return path


def _output_folder(path: str | Path) -> Path:
    """A folder to write into, created if needed (its parent must exist)."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise FitGapError(f"{path} is a file; give a folder for this export")
    try:
        path.mkdir(exist_ok=True)
    except FileNotFoundError:
        raise FitGapError(
            f"cannot create {path}: the folder {path.parent} does not exist"
        ) from None
    except OSError as exc:
        raise FitGapError(f"cannot create {path} ({exc.strerror})") from None
    if not os.access(path, os.W_OK):
        raise FitGapError(f"cannot write into {path}: the folder is not writable")
    return path


def _write_text(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FitGapError(f"cannot write {path} ({exc.strerror or exc})") from None
    return path


def slug(text: str) -> str:
    """A file-name-safe form of a run name: 'dropout 0.5' -> 'dropout-0.5'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80]


def _per_run_paths(runs: list[StoredRun], path: str | Path, suffix: str) -> list[Path]:
    """One run: ``path`` is the file.  Several: ``path`` is a folder of run-<id> files."""
    if len(runs) == 1 and not Path(path).is_dir():
        return [_output_file(path, suffix)]
    folder = _output_folder(path)
    return [folder / f"run-{run.run_id}{suffix}" for run in runs]


# -- metrics -----------------------------------------------------------------------------------
def metric_columns(runs: list[StoredRun]) -> list[str]:
    names = {key for run in runs for key in run.history}
    lead = [m for m in LEADING_METRICS if m in names]
    return lead + sorted(names - set(lead))


def export_csv(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    """One CSV with a row per (run, epoch); a diverged metric is an empty cell."""
    runs = store.get_runs(run_ids)
    path = _output_file(path)
    columns = metric_columns(runs)
    try:
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["run_id", "run_name", "epoch", *columns, "seconds"])
            for run in runs:
                for epoch in store.epochs(run.run_id):
                    values = [epoch.metrics.get(c) for c in columns]
                    cells = ["" if v is None or not math.isfinite(v) else repr(v) for v in values]
                    # The name is the user's text: a spreadsheet must not run it as a formula.
                    name = spreadsheet_cell(run.name)
                    writer.writerow([run.run_id, name, epoch.epoch, *cells, epoch.seconds])
    except OSError as exc:
        raise FitGapError(f"cannot write {path} ({exc.strerror or exc})") from None
    return [path]


def export_json(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    """One JSON file: ``{"runs": [run result JSON with history, name and dates, ...]}``."""
    runs = store.get_runs(run_ids)
    path = _output_file(path)
    doc = {"runs": [run.to_dict() for run in runs]}
    return [_write_text(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")]


# -- model and script ------------------------------------------------------------------------
def export_model(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    """Copies of the runs' trained models (best weights when early stopping restored them)."""
    runs = store.get_runs(run_ids)
    for run in runs:
        if run.kind == "callback":
            raise FitGapError(
                f"run {run.run_id} was trained by your own script (FitGapCallback): FitGap "
                "keeps no model for it; save it there with model.save"
            )
        if not run.has_model:
            raise FitGapError(f"run {run.run_id} has no saved model (status {run.status})")
    targets = _per_run_paths(runs, path, ".keras")
    for run, target in zip(runs, targets, strict=True):
        assert run.model_file is not None  # has_model checked it above
        try:
            shutil.copyfile(run.model_file, target)
        except OSError as exc:
            raise FitGapError(f"cannot write {target} ({exc.strerror or exc})") from None
    return targets


def script_for_run(run: StoredRun, store: RunStore | None = None) -> str:
    """The plain Keras program of a stored run (see ``keras_script``).

    A branched run's program, given the ``store`` that holds its parent, trains the
    parent's first epochs and then the branch (``keras_script_branch``); without the
    store it trains the run's config from scratch and says so at its top.
    """

    if run.kind == "callback":
        raise FitGapError(
            f"run {run.run_id} was trained by your own script (FitGapCallback): FitGap did not "
            "build its model, so it has no Keras script to export; CSV, JSON, TensorBoard "
            "and report exports work"
        )
    if run.parent_run_id is not None and run.branch_epoch is None:  # core/run/cleaning.py
        raise FitGapError(
            f"run {run.run_id} trained on run {run.parent_run_id}'s data with its lowest-margin "
            "examples dropped or relabelled, which a Keras script cannot repeat yet; CSV, "
            "JSON, model, TensorBoard and report exports work"
        )
    check_exportable(run.config)  # before loading data the script could not use anyway
    # Load the data once here: it proves the file is still there, and tells the rank.
    dataset = load_dataset(run.config.data, run.config.training.seed)
    epochs = None
    note = None
    if run.status in ("stopped", "interrupted", "diverged", "branched") and run.epochs_run:
        epochs = run.epochs_run
        note = (
            f"The run was {run.status} after {run.epochs_run} of "
            f"{run.config.training.epochs} epochs, so this program trains {epochs}."
        )
        if run.status == "diverged":  # FitGap ends a diverged epoch early; Keras does not
            note += "\nIts loss became NaN, so the last epoch's numbers may differ."
    plan = None
    if run.parent_run_id is not None:
        plan, branched = _branch_plan(run, store)
        note = f"{note}\n{branched}" if note else branched
    return keras_script(
        run.config,
        input_shape=dataset.input_shape,
        image_shape=dataset.image_shape,
        epochs=epochs,
        title=f"FitGap run {run.run_id} ({run.name})",
        note=note,
        branch=plan,
    )


def _branch_plan(run: StoredRun, store: RunStore | None) -> tuple[BranchPlan | None, str]:
    """How ``run`` branched (None when its parent is not at hand), and what to say of it."""

    k, parent_id = run.branch_epoch or 0, run.parent_run_id
    said = f"This run branched from run {parent_id} at epoch {k}: it went on from that run's"
    parent = None
    if store is not None and k > 0 and parent_id is not None:
        try:
            parent = store.get_run(parent_id)
        except FitGapError:
            parent = None
    if parent is None or parent.kind != "fitgap":
        return None, (
            f"{said} weights with its own levers. That run is not in the store, so this "
            "program trains this run's config from scratch and does NOT reproduce the "
            "branch; its numbers match only where the two setups agree."
        )
    said += (
        " state with its own levers. This program trains that run's config for "
        f"{k} epochs, then branches the same way (weights, optimizer state, dropout random "
        "states, callback counters) and trains on."
    )
    carry_optimizer, carry_seeds = True, True
    if parent.status != "branched":  # continued from a stored model, not from a pause
        carry_seeds = False
        _epoch, carry_optimizer = saved_epoch(parent)
        if not carry_optimizer:
            said += (
                f" Run {parent_id}'s saved optimizer state was a later epoch's, so the branch "
                "starts a fresh optimizer, as FitGap did."
            )
        elif parent.status == "stopped" and "while paused" not in (parent.message or ""):
            said += (
                f" Run {parent_id} was stopped during epoch {k + 1}: the weights FitGap "
                "continued from held part of that epoch, so numbers after the branch differ."
            )
    if parent.parent_run_id is not None:
        said += (
            f" Run {parent_id} was itself a branch (of run {parent.parent_run_id}); only one "
            f"level is written out: its first {k} epochs are trained from scratch with its "
            "config, so they match it only where the two setups agree."
        )
    plan = BranchPlan(parent.config, k, parent_id, carry_optimizer, carry_seeds)
    return plan, said


def export_script(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    runs = store.get_runs(run_ids)
    texts = [script_for_run(run, store) for run in runs]  # refuse before writing anything
    targets = _per_run_paths(runs, path, ".py")
    return [_write_text(t, text) for t, text in zip(targets, texts, strict=True)]


# -- TensorBoard -------------------------------------------------------------------------------
def _tensorboard_names(runs: list[StoredRun]) -> list[str]:
    names: list[str] = []
    for run in runs:
        name = slug(run.name) or f"run-{run.run_id}"
        names.append(name if name not in names else f"{name}-{run.run_id}")
    return names


def _write_events(folder: Path, points: list[tuple[float, int, dict[str, float]]]) -> None:
    """One event file of scalar summaries: (wall time, step, {tag: value}) per point."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events.out.tfevents.*"):
        old.unlink()  # a re-export replaces this run's events rather than doubling them
    writer = EventFileWriter(str(folder))
    try:
        for wall_time, step, scalars in points:
            values = [Summary.Value(tag=tag, simple_value=v) for tag, v in scalars.items()]
            writer.add_event(Event(wall_time=wall_time, step=step, summary=Summary(value=values)))
    finally:
        writer.close()


def export_tensorboard(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    """Event files per run: ``<dir>/<run>/train`` and ``<dir>/<run>/validation``.

    Tags and steps follow Keras's TensorBoard callback (``epoch_loss`` at step
    epoch - 1), so these runs sit next to ones logged by Keras itself.  Wall times
    are the run's own: its start plus the seconds of each epoch.
    """
    runs = store.get_runs(run_ids)
    logdir = _output_folder(path)
    written = []
    for run, name in zip(runs, _tensorboard_names(runs), strict=True):
        try:
            clock = datetime.fromisoformat(run.created).timestamp()
        except ValueError:
            clock = time.time()
        train, validation = [], []
        for epoch in store.epochs(run.run_id):
            clock += epoch.seconds
            step = epoch.epoch - 1
            t_tags, v_tags = {}, {}
            for key, value in epoch.metrics.items():
                if key.startswith("val_"):
                    v_tags["epoch_" + key[4:]] = value
                else:
                    t_tags["epoch_" + key] = value
            train.append((clock, step, t_tags))
            validation.append((clock, step, v_tags))
        try:
            _write_events(logdir / name / "train", train)
            _write_events(logdir / name / "validation", validation)
        except OSError as exc:
            raise FitGapError(
                f"cannot write into {logdir / name} ({exc.strerror or exc})"
            ) from None
        written.append(logdir / name)
    return written


def export_report(store: RunStore, run_ids: list[int], path: str | Path) -> list[Path]:
    """One self-contained HTML lab report of the runs (``report.render_report``)."""
    runs = store.get_runs(run_ids)
    path = _output_file(path, ".html")

    def examples_of(run_id: int) -> ExampleDynamics | None:
        blob = store.example_dynamics(run_id)
        return ExampleDynamics.from_bytes(blob) if blob is not None else None

    lab = lab_sections(store, runs)
    report = render_report(runs, script_of=script_for_run, examples_of=examples_of, lab=lab)
    return [_write_text(path, report)]


EXPORTERS: dict[str, Callable[[RunStore, list[int], str | Path], list[Path]]] = {
    "csv": export_csv,
    "json": export_json,
    "script": export_script,
    "model": export_model,
    "tensorboard": export_tensorboard,
    "report": export_report,
}


def export_runs(store: RunStore, fmt: str, run_ids: list[int], path: str | Path) -> list[Path]:
    """Export ``run_ids`` in format ``fmt`` (one of FORMATS); returns the paths written."""
    if fmt not in EXPORTERS:
        raise FitGapError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    if not run_ids:
        raise FitGapError("give at least one run id to export")
    return EXPORTERS[fmt](store, list(run_ids), path)
