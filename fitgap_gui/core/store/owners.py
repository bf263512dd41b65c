"""Which process owns a running run: its pid and start time, and whether it still lives.

``create_run`` records the owner; every store open marks the runs of owners that are
gone as ``interrupted`` (docs/ARCHITECTURE.md, "Store": Ownership).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_start_token(pid: int) -> str | None:
    """Boot id and start time of process ``pid`` (Linux), or None where unknown.

    A pid alone is not an identity: after a crash and a reboot, or simply much later,
    another program may hold the same number.  Boot id + start tick is unique.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"  # field 22 of the whole line: start time in ticks


def here() -> str:
    """Where a run that trains in this process runs: host name and pid."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def owner_alive(pid: int | None, started: str | None) -> bool:
    """Whether the process that created a run is still that same process."""
    if not pid:
        return False
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, but someone else's
        except OSError:
            return False
    if started is None:
        return True  # recorded where start times are unknown: trust the pid
    return process_start_token(pid) == started
