"""A cell's disk: its worktree's apparent and allocated bytes, the cloned share, its logs."""

from __future__ import annotations

from fastapi import APIRouter

from hive.api.deps import Runtime
from hive.api.disk_schemas import CellDiskOut, DiskOut

router = APIRouter(prefix="/api/cells", tags=["cells"])


@router.get("/{cell_id}/disk")
async def get_disk(cell_id: str, runtime: Runtime) -> CellDiskOut:
    """The last measurement (after provisioning settles, then hourly); `disk` is null
    until the first."""
    cell = await runtime.stores.cells.get(cell_id)
    disk = await runtime.stores.disk.get(cell.id)
    return CellDiskOut(cell_id=cell.id, disk=DiskOut.of(disk) if disk else None)
