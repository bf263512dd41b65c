"""What a run recorded by ``FitGapCallback`` knows of its data, and how it is worded.

FitGap never sees a user's script's arrays by name: the callback records what Keras
shows it (the input shape, the number of classes the output layer scores, the training
and validation sample counts where ``fit`` was given arrays) and the script's file name.
That record is the run's ``script_data`` (store column and run JSON field, see
docs/ARCHITECTURE.md); every place that names a run's data (status bar, Runs table,
``fitgap runs show``, report, exports) words a callback run from it, never from the
config's built-in data source, which such a run never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The keys of ``script_data`` (each may be null where Keras did not show it).
SCRIPT_DATA_KEYS = ("script", "input_shape", "train_samples", "val_samples", "classes")


def script_data_words(info: Mapping[str, Any] | None) -> str:
    """ "bc.py's data: 341 training, 114 validation samples, input (30,), 2 classes"."""
    info = info or {}
    script = info.get("script") or "your script"
    parts: list[str] = []
    train, val = info.get("train_samples"), info.get("val_samples")
    if train is not None or val is not None:
        counts = []
        if train is not None:
            counts.append(f"{train:,} training")
        if val is not None:
            counts.append(f"{val:,} validation")
        parts.append(f"{', '.join(counts)} samples")
    shape = info.get("input_shape")
    if isinstance(shape, list):
        inner = ", ".join("?" if d is None else str(d) for d in shape)
        parts.append(f"input ({inner},)" if len(shape) == 1 else f"input ({inner})")
    classes = info.get("classes")
    if classes is not None:
        parts.append(f"{classes} classes")
    head = f"{script}'s data"
    return f"{head}: {', '.join(parts)}" if parts else f"{head} (not shown to FitGap)"


def script_name(info: Mapping[str, Any] | None) -> str:
    """The script's file name, or "your script" where none was known."""
    return str((info or {}).get("script") or "your script")
