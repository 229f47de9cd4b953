"""What one workflow run knows, and the `timed` block every step and sub-step runs in."""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from hive.config.schema import Template
from hive.core.errors import HiveError, StepError
from hive.core.steps import Workflow
from hive.ports.allocator import PortAllocator
from hive.services.identity import process_start_time
from hive.services.shell import ProcessTracker
from hive.services.supervisor import Supervisor
from hive.settings import Settings
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.store.leases import LeaseStore
from hive.store.processes import ProcessStore
from hive.store.records import CellRecord, TimingEvent, WorkspaceRecord
from hive.store.services import ServiceStore
from hive.store.timings import TimingStore
from hive.store.workspaces import WorkspaceStore
from hive.workspace.copy_process import CopyWorkerPool


@dataclass(frozen=True)
class Stores:
    workspaces: WorkspaceStore
    cells: CellStore
    timings: TimingStore
    processes: ProcessStore
    leases: LeaseStore
    services: ServiceStore


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, HiveError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class StepTiming:
    """A step measured before its run had a context (the create request's own steps)."""

    step: str
    started_at: str
    duration_ms: float
    metadata: dict[str, Any]


class ActiveRuns(Protocol):
    async def cancel(self, cell_id: str) -> bool:
        """Stop the cell's running workflow, if any; True when one was stopped."""
        ...


@dataclass
class RunContext:
    """State of one run; `cell` is refreshed by steps that change the record."""

    settings: Settings
    stores: Stores
    workflow: Workflow
    run_id: str
    attempt: int
    cell: CellRecord
    workspace: WorkspaceRecord
    template: Template | None
    runs: ActiveRuns
    supervisor: Supervisor
    allocator: PortAllocator
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    copy_workers: CopyWorkerPool | None = None
    current_step: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    """What the run decided that its caller reports (a kept branch, warnings)."""

    @asynccontextmanager
    async def timed(self, step: str) -> AsyncIterator[dict[str, Any]]:
        """Time the block and persist one timing row, ok or error; yields its metadata."""
        metadata: dict[str, Any] = {}
        started_at = now_iso()
        began = time.perf_counter()
        try:
            yield metadata
        except BaseException as exc:
            elapsed = (time.perf_counter() - began) * 1000
            await asyncio.shield(
                self.record(step, started_at, elapsed, metadata, error=describe_error(exc))
            )
            raise
        await self.record(step, started_at, (time.perf_counter() - began) * 1000, metadata)

    @asynccontextmanager
    async def track_process(self, pid: int, kind: str, command: str) -> AsyncIterator[None]:
        """Keep the process group on record while it may be alive (see `Runner.recover`)."""
        started = await asyncio.to_thread(process_start_time, pid)
        if started is None:  # already gone: nothing could be orphaned
            yield
            return
        record_id = await self.stores.processes.add(self.cell.id, kind, pid, started, command)
        try:
            yield
        finally:
            await asyncio.shield(self.stores.processes.remove(record_id))

    def trackers(self, kind: str) -> Callable[[str], ProcessTracker]:
        """Per command of `kind`, the `track` that keeps its process group on record."""
        return lambda command: functools.partial(self.track_process, kind=kind, command=command)

    async def report_progress(self, step: str, **counts: int) -> None:
        """Save where a long step is, so a progress view can move (best-effort)."""
        progress = {"step": step, **counts, "at": now_iso()}
        self.cell = await self.stores.cells.update(self.cell.id, progress=progress)

    async def record(
        self,
        step: str,
        started_at: str,
        duration_ms: float,
        metadata: dict[str, Any] | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """Persist one timing row for `step` of this run."""
        await self.stores.timings.add(
            TimingEvent(
                cell_id=self.cell.id,
                cell_name=self.cell.name,
                workspace_id=self.cell.workspace_id,
                template_id=self.cell.template_id,
                workflow=str(self.workflow),
                run_id=self.run_id,
                step=step,
                status="ok" if error is None else "error",
                started_at=started_at,
                duration_ms=round(duration_ms, 3),
                attempt=self.attempt,
                error=error,
                metadata=metadata or None,
            )
        )


def require_template(ctx: RunContext) -> Template:
    if ctx.template is None:
        raise StepError(
            f"template '{ctx.cell.template_id}' is no longer usable in the workspace config",
            hint="restore the template in hive.config.json (GET /api/templates shows its "
            "errors), then retry the cell",
        )
    return ctx.template
