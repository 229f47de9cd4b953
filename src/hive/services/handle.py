"""What the supervisor knows about one running service process of this server."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from hive.core.status import ServiceStatus
from hive.services.plan import ServicePlan


@dataclass
class ServiceHandle:
    cell_id: str
    plan: ServicePlan | None
    """None for a process adopted after a restart (its plan is rebuilt on demand)."""
    worktree: Path
    pid: int
    child: bool
    """Spawned by this server (its exit code can be read); False when adopted."""
    log_start: int
    stopping: bool = False
    restarts: int = 0
    monitor: asyncio.Task[None] | None = None
    exit_code: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    recorded: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the start is saved, so an instant exit is not overwritten by it."""

    def alive(self) -> bool:
        if self.done.is_set():
            return False
        if self.child:
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def after_stop(current: str, wanted: ServiceStatus) -> str:
    """A finished oneshot stays `completed`; stopping it changes nothing."""
    return current if current == ServiceStatus.COMPLETED else wanted
