"""What cells cost: one cell's CPU, memory and disk, and every cell's, sortable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hive.api.deps import Runtime
from hive.api.resource_schemas import CellResourcesOut, ResourceListOut
from hive.resources.reports import ResourceSort

router = APIRouter(tags=["resources"])


@router.get("/api/cells/{cell_id}/resources")
async def cell_resources(cell_id: str, runtime: Runtime) -> CellResourcesOut:
    """Now, the averages over 1 m, 5 m, 15 m and 1 h, and the peak: of the whole cell,
    each service, the agent and setup; every process; the disk as last measured."""
    return CellResourcesOut.of_cell(await runtime.resources.cell(cell_id))


@router.get("/api/resources")
async def list_resources(
    runtime: Runtime,
    workspace_id: str | None = Query(default=None, alias="workspaceId", min_length=1),
    sort: Annotated[
        ResourceSort, Query(description="`cpu`, `memory`, `disk` (biggest first) or `name`")
    ] = ResourceSort.NAME,
) -> ResourceListOut:
    """Every cell (of the workspace), one row each: now, its footprint, disk, agent."""
    rows = await runtime.resources.rows(workspace_id, sort)
    latest = runtime.sampler.latest
    return ResourceListOut.of(
        rows,
        sort=sort,
        sampled_at=latest.at if latest else None,
        interval_s=runtime.sampler.interval_s,
    )
