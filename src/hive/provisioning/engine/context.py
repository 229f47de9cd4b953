"""What one workflow run knows: whose run it is, its timing rows, its cancellation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from hive.config.schema import Template
from hive.core.errors import ConfigError
from hive.core.failures import describe_error
from hive.core.steps import Workflow
from hive.provisioning.engine.faults import Faults
from hive.store.clock import now_iso
from hive.store.records import CellRecord, TimingEvent, WorkspaceRecord
from hive.store.timings import TimingStore


@dataclass(frozen=True)
class StepTiming:
    """A step measured before its run had a context (the create request's own steps)."""

    step: str
    started_at: str
    duration_ms: float
    metadata: dict[str, Any]


@dataclass
class Cancellation:
    """Set when someone asks the run to stop (a delete, a server shutdown)."""

    reason: str | None = None
    """Why the run is asked to stop; None while nobody has asked."""


@dataclass
class RunContext:
    """One run: its identity (cell, workflow, run id, attempt), its timing rows and its
    cancellation. `cell` is refreshed by steps that change the record. Steps get the
    collaborators they use from their own constructors, never from here."""

    workflow: Workflow
    run_id: str
    attempt: int
    cell: CellRecord
    workspace: WorkspaceRecord
    template: Template | None
    """The cell's template as the config has it now; None when it is no longer usable."""
    timings: TimingStore
    cancellation: Cancellation = field(default_factory=Cancellation)
    current_step: str | None = None
    failed_part: str | None = None
    """The first timed block (often a sub-step) an error went through: the innermost,
    which names the failure's kind best (`ensure_services:ready:web`)."""
    outcome: dict[str, Any] = field(default_factory=dict)
    """What the run decided that its caller reports (a kept branch, warnings)."""
    faults: Faults = field(default_factory=Faults)
    """The fault-injection seam; empty unless `HIVE_FAULTS` names steps."""
    resumed: int = 0
    """Which resume in a row after a server restart this run is; 0 when it is not one."""

    def require_template(self) -> Template:
        if self.template is None:
            raise ConfigError(
                f"template '{self.cell.template_id}' is no longer usable in the workspace config",
                path=f"templates.{self.cell.template_id}",
                hint="restore the template in hive.config.json (GET /api/templates shows its "
                "errors), then retry the cell",
            )
        return self.template

    @asynccontextmanager
    async def timed(
        self, step: str, *, announce: bool = False, inject: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        """Time the block and persist one timing row, ok or error; yields its metadata.

        With `announce` (steps and long sub-steps), a `timing` event with phase "begin"
        tells live views the step is running before it ends. `inject`: a fault planned
        for `step` strikes here (the engine strikes top-level steps inside their timeout).
        """
        metadata: dict[str, Any] = {}
        started_at = now_iso()
        if announce:
            await self.timings.began(self._row(step, started_at, 0.0, None, status="running"))
        began = time.perf_counter()
        try:
            if inject:
                await self.faults.strike(step)
            yield metadata
        except BaseException as exc:
            elapsed = (time.perf_counter() - began) * 1000
            if self.failed_part is None:
                self.failed_part = step
            await asyncio.shield(
                self.record(step, started_at, elapsed, metadata, error=describe_error(exc))
            )
            raise
        # A part that failed inside this block was handled (a try that was tried again).
        self.failed_part = None
        await self.record(step, started_at, (time.perf_counter() - began) * 1000, metadata)

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
        status = "ok" if error is None else "error"
        await self.timings.add(self._row(step, started_at, duration_ms, metadata, status, error))

    def _row(
        self,
        step: str,
        started_at: str,
        duration_ms: float,
        metadata: dict[str, Any] | None,
        status: str,
        error: str | None = None,
    ) -> TimingEvent:
        return TimingEvent(
            cell_id=self.cell.id,
            cell_name=self.cell.name,
            workspace_id=self.cell.workspace_id,
            template_id=self.cell.template_id,
            workflow=str(self.workflow),
            run_id=self.run_id,
            step=step,
            status=status,
            started_at=started_at,
            duration_ms=round(duration_ms, 3),
            attempt=self.attempt,
            error=error,
            metadata=metadata or None,
        )
