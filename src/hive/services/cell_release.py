"""Giving back what a cell holds at run time: its processes first, then (never before)
its ports. Used when a create fails and when a cell is deleted."""

from __future__ import annotations

from hive.core.errors import StepError
from hive.ports.allocator import PortAllocator
from hive.services.backend import ProcessBackend
from hive.services.leftovers import still_running
from hive.services.supervisor import Supervisor
from hive.store.services import ServiceStore


async def stop_and_release(supervisor: Supervisor, allocator: PortAllocator, cell_id: str) -> None:
    """Stop the cell's services, then release its port leases."""
    await supervisor.stop_cell(cell_id)
    await allocator.release_cell(cell_id)


async def release_if_stopped(
    services: ServiceStore, backend: ProcessBackend, allocator: PortAllocator, cell_id: str
) -> int:
    """Release the cell's leases, unless a service of it still runs (its port is never
    handed out while it may be in use); how many were released."""
    for record in await services.for_cell(cell_id):
        if await still_running(backend, record):
            raise StepError(
                f"service '{record.name}' (pid {record.pid}) is still running: its port "
                f"{record.port} stays leased",
                hint=f"stop process group {record.pid} by hand; the lease goes with the "
                "next delete or server start",
            )
    return await allocator.release_cell(cell_id)
