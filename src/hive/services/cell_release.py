"""Giving back what a cell holds at run time: its processes first, then (never before)
its ports. Used when a create fails and when a cell is deleted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from hive.core.errors import StepError
from hive.core.failures import RollbackStep, describe_error
from hive.core.steps import Step
from hive.ports.allocator import PortAllocator
from hive.services.backend import ProcessBackend
from hive.services.leftovers import still_running
from hive.services.supervisor import Supervisor
from hive.store.services import ServiceStore

log = logging.getLogger(__name__)

# A service's stop command may take 15 s, its group a grace period after it.
STOP_TIMEOUT_S = 45.0
RELEASE_TIMEOUT_S = 10.0


async def stop_and_release(
    supervisor: Supervisor, allocator: PortAllocator, cell_id: str
) -> tuple[RollbackStep, ...]:
    """Stop the cell's services, then release its port leases; what was undone and how.

    Each undo is best-effort with a timeout. The ports go only after the services are
    known stopped: a port is never handed out while its process may still hold it.
    """
    stopped = await _undo(Step.STOP_SERVICES, supervisor.stop_cell(cell_id), STOP_TIMEOUT_S)
    if stopped.status != "ok":
        skipped = "skipped: services may still run; a retry or delete of the cell frees them"
        return stopped, RollbackStep(str(Step.RELEASE_PORTS), skipped)
    released = await _undo(Step.RELEASE_PORTS, allocator.release_cell(cell_id), RELEASE_TIMEOUT_S)
    return stopped, released


async def _undo(step: Step, work: Awaitable[object], timeout_s: float) -> RollbackStep:
    try:
        async with asyncio.timeout(timeout_s):
            await work
    except TimeoutError:
        status = f"failed: did not finish within {timeout_s:g}s"
    except Exception as exc:
        status = f"failed: {describe_error(exc)}"
    else:
        return RollbackStep(str(step), "ok")
    log.warning("undoing a failed run: %s %s", step, status)
    return RollbackStep(str(step), status)


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
