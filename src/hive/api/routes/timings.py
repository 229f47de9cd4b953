"""Step timings per cell and across all cells (deleted ones included)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from hive.api.deps import Runtime
from hive.api.schemas import TimingOut, Timings
from hive.core.timings import summarize_runs
from hive.store.timings import TimingFilter

router = APIRouter(prefix="/api/cells", tags=["timings"])


@router.get("/timings/global")
async def global_timings(
    runtime: Runtime,
    cell_id: str | None = Query(default=None, alias="cellId"),
    template_id: str | None = Query(default=None, alias="templateId"),
    workflow: str | None = None,
    workspace_id: str | None = Query(default=None, alias="workspaceId"),
    status: Literal["ok", "error"] | None = None,
    limit: int = Query(default=500, ge=1, le=10_000),
) -> Timings:
    rows = await runtime.stores.timings.query(
        TimingFilter(
            cell_id=cell_id,
            template_id=template_id,
            workflow=workflow,
            workspace_id=workspace_id,
            status=status,
            limit=limit,
        )
    )
    # Runs are summarised from all their steps, not only the ones the limit kept.
    run_ids = tuple(dict.fromkeys(row.run_id for row in rows))
    run_rows = await runtime.stores.timings.query(TimingFilter(run_ids=run_ids))
    return Timings(steps=[TimingOut.of(r) for r in rows], runs=summarize_runs(run_rows))


@router.get("/{cell_id}/timings")
async def cell_timings(cell_id: str, runtime: Runtime) -> Timings:
    await runtime.stores.cells.get(cell_id)
    rows = await runtime.stores.timings.query(TimingFilter(cell_id=cell_id))
    return Timings(steps=[TimingOut.of(r) for r in rows], runs=summarize_runs(rows))
