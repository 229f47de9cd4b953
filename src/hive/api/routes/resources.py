"""What cells cost: one cell's CPU, memory and disk, every cell's (sortable, and minute
by minute), and the room left where cells live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hive.api.deps import Runtime
from hive.api.resource_schemas import (
    CellResourcesOut,
    FreeSpaceOut,
    ResourceHistoryOut,
    ResourceListOut,
)
from hive.core.errors import HiveError
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


@router.get("/api/resources/history")
async def resource_history(
    runtime: Runtime,
    workspace_id: str | None = Query(default=None, alias="workspaceId", min_length=1),
    minutes: Annotated[
        int, Query(ge=1, le=24 * 60, description="How far back, in minutes (default: an hour).")
    ] = 60,
) -> ResourceHistoryOut:
    """Every cell (of the workspace): its CPU and memory minute by minute, oldest first
    (means and peaks of the minute's samples), for sparklines."""
    window_s = minutes * 60.0
    return ResourceHistoryOut.of(await runtime.resources.history(workspace_id, window_s), window_s)


@router.get("/api/disk/free")
async def free_space(runtime: Runtime) -> FreeSpaceOut:
    """Free and total bytes of the file system that holds the cells root, and whether a
    create would warn (`low`) or be refused there."""
    root = runtime.space.root
    try:
        space = await runtime.space.read()
    except OSError as exc:
        raise HiveError(
            f"could not read the free space of {root}: {exc.strerror or exc}",
            hint="check that the cells root (HIVE_WORKTREES_ROOT) is readable",
        ) from None
    return FreeSpaceOut.of(space, root)
