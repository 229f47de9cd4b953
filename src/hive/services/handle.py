"""What the supervisor knows about one service process of this server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from hive.services.plan import ServicePlan


@dataclass
class ServiceHandle:
    cell_id: str
    plan: ServicePlan
    """How it was started (for an adopted process: rebuilt from its template)."""
    worktree: Path
    pid: int
    child: bool
    """Spawned by this server (its exit code can be read); False when adopted."""
    log_start: int
    started: float
    """When it was spawned or adopted, on the supervisor's monotonic clock."""
    restarts: int = 0
    """Automatic restarts since its restart budget was last whole."""
    stopping: bool = False
    monitor: asyncio.Task[None] | None = None
    exit_code: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    recorded: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the start is saved, so an instant exit is not overwritten by it."""
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once whoever waits for its readiness has decided (ready, completed, failed);
    its exit is a crash for the watcher to handle only after that."""
    outcome: str | None = None
    """That decision: "ready", "completed", "failed", or "adopted" (decided by a server
    before this one)."""
    ready_at: float | None = None
    """When it became ready (supervisor's clock); None while it never was."""
    cleanup: asyncio.Task[None] | None = None
    """Ending what its exited leader left behind; a stop waits for it."""
    recovery: asyncio.Task[None] | None = None
    """The restart loop working for this handle while it waits out a pause."""

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.cell_id, self.plan.name)

    def alive(self) -> bool:
        """Its process has not been seen to exit (the watcher sets `done`)."""
        return not self.done.is_set()

    def settle(self, outcome: str, *, at: float | None = None) -> None:
        """Record the readiness decision; `at` is when it became ready."""
        self.outcome = outcome
        if outcome in ("ready", "adopted"):
            self.ready_at = at
        self.settled.set()

    def uptime(self, now: float) -> float:
        """How long it had been ready at `now`; 0 for one that never was."""
        return 0.0 if self.ready_at is None else max(now - self.ready_at, 0.0)
