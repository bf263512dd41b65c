"""Lab records: what one lab experiment found, kept beside the run store as JSON.

A record is one file, ``<store folder>/lab/<kind>-<n>.json``: ``{"kind", "created",
"settings", "result", "data", "study"}``.  ``result`` is the experiment's JSON as the
CLI writes it with ``--out``; ``data`` the sizes the plots need (``n_train``,
``n_classes``, ``input_dim``); ``study`` what is kept apart from every run's history
(the double-descent test-error curves, labelled; the range test's nothing).  The runs
themselves are ordinary rows of the run store, so ``rebuild`` recomputes ``result``
from them (``core.experiments.lab_results``); the report does so.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fitgap_gui.core.experiments.lab_results import (
    dense_params,
    double_descent_payload,
    level_for_noise,
    randomization_payload,
)
from fitgap_gui.core.store.runstore import RunStore

KINDS = ("randomization", "double-descent", "lr-range")
_NAME = re.compile(r"^(randomization|double-descent|lr-range)-(\d+)\.json$")


def lab_folder(store: RunStore) -> Path:
    return store.home / "lab"


def save_record(
    store: RunStore,
    kind: str,
    settings: dict[str, Any],
    result: dict[str, Any],
    data: dict[str, Any],
    study: dict[str, Any] | None = None,
) -> Path:
    """Write a new record and return its path (numbered after the newest one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown lab experiment {kind!r}")
    folder = lab_folder(store)
    folder.mkdir(exist_ok=True)
    numbers = [int(m.group(2)) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    path = folder / f"{kind}-{max(numbers, default=0) + 1}.json"
    record = {
        "kind": kind,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings": settings,
        "result": result,
        "data": data,
        "study": study,
    }
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def read_records(store: RunStore) -> list[dict[str, Any]]:
    """Every readable record, oldest first (a file that is not a record is skipped)."""
    folder = lab_folder(store)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if not match:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("kind") in KINDS:
            record["path"] = str(path)
            found.append((match.group(1), int(match.group(2)), record))
    return [record for _kind, _n, record in sorted(found, key=lambda f: (f[2]["created"], f[1]))]


def record_run_ids(record: dict[str, Any]) -> list[int]:
    """The store's run ids a record was built from (none for a range test)."""
    result = record.get("result") or {}
    ids = [i for level in result.get("levels", []) for i in level.get("run_ids", [])]
    ids += [w["run_id"] for w in result.get("widths", []) if w.get("run_id") is not None]
    ids += list(record.get("settings", {}).get("permutation_run_ids", []))
    return ids


def rebuild(record: dict[str, Any], store: RunStore) -> dict[str, Any]:
    """The record's ``result`` recomputed from the stored runs it names.

    Randomization: each run's level from its stored ``data.label_noise``
    (``level_for_noise``); double descent: each run's width from its config.  A
    range test is not a stored run: its ``result`` is returned as recorded.
    """
    kind, data = record["kind"], record.get("data") or {}
    if kind == "lr-range":
        return record["result"]
    if kind == "randomization":
        ids = [i for lv in record["result"]["levels"] for i in lv["run_ids"]]
        rows = [
            {
                "level": level_for_noise(run.config.data.label_noise, data["n_classes"]),
                "run_id": run.run_id,
                "history": run.history,
                "test": run.test,
            }
            for run in store.get_runs(ids)
        ]
        null_ids = record.get("settings", {}).get("permutation_run_ids", [])
        null = [run.test["accuracy"] for run in store.get_runs(null_ids) if run.test]
        return randomization_payload(rows, null or None)
    ids = [w["run_id"] for w in record["result"]["widths"]]
    rows = []
    for run in store.get_runs(ids):
        width = run.config.model.hidden_units[0]
        params = dense_params(data["input_dim"], width, data["n_classes"])
        rows.append(
            {
                "width": width,
                "params": params,
                "run_id": run.run_id,
                "history": run.history,
                "test": run.test,
            }
        )
    return double_descent_payload(rows)
