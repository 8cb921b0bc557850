"""What the server needs from the model layer: the scheduler that owns one loaded model.

The server talks to generation only through the names here, all from
``localchain.models.scheduler`` (continuous batching: requests join the running batch between
decode steps) and ``localchain.errors``. Adapters are attached and detached between decode
steps, through the scheduler, so a running row never sees its adapter change.
"""

from __future__ import annotations

import os

from localchain.errors import QueueFullError
from localchain.models.scheduler import RequestHandle, Scheduler, SchedulerStats, get_scheduler


def attach_adapter(scheduler: Scheduler, name: str, path: str | os.PathLike[str]) -> None:
    """Attach a LoRA adapter to the scheduler's model between decode steps.

    Raises:
        AdapterError: The name is taken, the files are missing, or it fits another base.
    """
    scheduler.attach_adapter(name, path)


def detach_adapter(scheduler: Scheduler, name: str) -> None:
    """Detach an adapter between decode steps (requests using it then fail with AdapterError).

    Raises:
        AdapterError: No adapter by that name is attached.
    """
    scheduler.detach_adapter(name)


__all__ = [
    "QueueFullError",
    "RequestHandle",
    "Scheduler",
    "SchedulerStats",
    "attach_adapter",
    "detach_adapter",
    "get_scheduler",
]
