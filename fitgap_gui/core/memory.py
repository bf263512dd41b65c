"""How much memory FitGap may use, and what to say when it runs out anyway.

``memory_budget()`` is the least of the memory the system has available
(``MemAvailable``), the process's cgroup limit, its address-space limit
(``RLIMIT_AS``) and the 4 GiB file limit of the readers.  The readers check an
archive's expanded size against it before expanding anything; ``model.memory``
checks a run's model against it before TensorFlow builds a layer.
``OutOfMemoryError`` is the one-line error when memory runs out anyway.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from fitgap_gui.core.errors import FitGapError

#: Bytes; replaces the measured budget (tests, or a user who knows better).
BUDGET_ENV = "FITGAP_MEMORY_BUDGET"
#: A cgroup limit at or above this means "no limit" (v1 writes 2**63 rounded to pages).
_UNLIMITED = 2**60
FLOAT_BYTES = 4
#: Larger files are refused rather than read into memory (a safety net, not a format rule).
MAX_FILE_BYTES = 4 * 1024**3


class OutOfMemoryError(FitGapError):
    """Memory ran out during training (TensorFlow's ResourceExhaustedError, MemoryError)."""


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


def mem_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 < value < _UNLIMITED else None


def cgroup_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The tightest memory limit of this process's cgroup and its parents (v2 or v1)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "":  # cgroup v2: memory.max along the path
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):  # cgroup v1
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        here = base / rel.lstrip("/")
        while True:
            limit = _read_limit(here / name)
            if limit is not None:
                limits.append(limit)
            if here == base or base not in here.parents:
                break
            here = here.parent
    return min(limits) if limits else None


def _rlimit_as() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft in (resource.RLIM_INFINITY, -1) or soft >= _UNLIMITED else soft


def memory_budget() -> int:
    """Bytes FitGap may use: the least of the system's limits, never over 4 GiB.

    ``FITGAP_MEMORY_BUDGET`` (bytes) replaces the measurement.
    """
    forced = os.environ.get(BUDGET_ENV)
    if forced:
        try:
            return max(0, int(float(forced)))
        except ValueError:
            pass  # a typo in the variable must not disable the check
    found = [mem_available(), cgroup_limit(), _rlimit_as(), MAX_FILE_BYTES]
    return min(v for v in found if v is not None)


# -- running out anyway ---------------------------------------------------------------------
def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, TensorFlow's ResourceExhaustedError, or XLA's RESOURCE_EXHAUSTED."""
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    if name == "ResourceExhaustedError":
        return True
    return name == "XlaRuntimeError" and "RESOURCE_EXHAUSTED" in str(exc)


def out_of_memory_error(exc: BaseException, epochs_done: int) -> OutOfMemoryError:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return OutOfMemoryError(
        f"training ran out of memory after {epochs_done} complete "
        f"epoch{'' if epochs_done == 1 else 's'} ({detail}); "
        "reduce model.hidden_units, data.image_size or training.batch_size"
    )
