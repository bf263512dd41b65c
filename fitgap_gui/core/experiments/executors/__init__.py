"""Executors: where the runs of an experiment plan train.

A plan is a list of ``PlanItem(config, label)``.  ``LocalExecutor(workers=N)`` trains it
in N worker processes on this machine (N=1, or a plan of one run: in this process, as
a single run always has); ``RayExecutor(address)`` as Ray tasks on a cluster.  Either
way epochs stream back, in the order they happen, to the calling process, which alone
writes the run store (see ``base.PlanRecorder``).  ``make_executor`` turns the user's
choice (``--workers``, ``--ray``) into one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.executors.base import (
    Executor,
    OnPlanEpoch,
    OnRunDone,
    OnRunStarted,
    PlanItem,
    RunFailedError,
    bytes_per_run,
    default_workers,
    plan_datasets,
    threads_per_worker,
)
from fitgap_gui.core.experiments.executors.local import LocalExecutor
from fitgap_gui.core.experiments.executors.rayexec import (
    INSTALL_HINT,
    RayExecutor,
    check_address,
    import_ray,
)

__all__ = [
    "INSTALL_HINT",
    "Executor",
    "LocalExecutor",
    "OnPlanEpoch",
    "OnRunDone",
    "OnRunStarted",
    "PlanItem",
    "RayExecutor",
    "RunFailedError",
    "bytes_per_run",
    "check_address",
    "default_workers",
    "make_executor",
    "plan_datasets",
    "plan_from_pairs",
    "threads_per_worker",
]


def make_executor(workers: int | None = 1, ray_address: str | None = None) -> Executor:
    """A RayExecutor when ``ray_address`` is given, else a LocalExecutor.

    ``workers=None`` lets the LocalExecutor choose N from the machine; Ray being
    chosen but not installed raises FitGapError with the install command; an empty
    address, or one nobody answers at, raises FitGapError naming it
    (``rayexec.check_address``).
    """
    if ray_address is not None:
        check_address(ray_address)  # before the data is loaded, and before Ray's retries
        import_ray()  # fail now, with the install hint, not after the data is loaded
        return RayExecutor(ray_address.strip())
    return LocalExecutor(workers=workers)


def plan_from_pairs(
    pairs: Iterable[tuple[Any, RunConfig]], name_prefix: str = ""
) -> list[PlanItem]:
    """``(key, config)`` pairs of ``core.experiments`` as plan items named prefix + key."""
    return [PlanItem(config, f"{name_prefix}{key}") for key, config in pairs]
