"""At start-up: services still running from before are watched again; the rest are
laid to rest, so the database never claims a process that is gone."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from hive.core.status import ServiceStatus
from hive.services.backend import ProcessBackend
from hive.services.handle import ServiceHandle
from hive.services.leftovers import end_recorded, end_unrecorded, still_running
from hive.services.plan import ServicePlan, orphan_plan
from hive.services.statuses import ServiceStatuses, service_error
from hive.store.services import ServiceRecord


async def adopt_services(
    statuses: ServiceStatuses,
    backend: ProcessBackend,
    *,
    grace_s: float,
    worktrees: Mapping[str, Path],
    plans: Mapping[tuple[str, str], ServicePlan],
    start_grace_s: float,
    watch: Callable[[ServiceRecord, Path, ServicePlan], None],
) -> dict[str, list[str]]:
    """`watch` every recorded service still running (pid and start time match) whose
    cell exists, with its plan from `plans` (an `orphan_plan` when its template no longer
    describes it); end and mark stopped the rest. Returns {"adopted": [...], "gone": [...]}.
    """
    outcome: dict[str, list[str]] = {"adopted": [], "gone": []}
    adopted: set[tuple[str, str]] = set()
    for record in await statuses.store.with_process():
        label = f"{record.cell_id[:8]}/{record.name}"
        running = await still_running(backend, record)
        if running and record.cell_id in worktrees and record.status != ServiceStatus.STOPPING:
            plan = plans.get((record.cell_id, record.name)) or orphan_plan(
                record.name, record.port, start_grace_s=start_grace_s
            )
            watch(record, worktrees[record.cell_id], plan)
            outcome["adopted"].append(label)
            adopted.add((record.cell_id, record.name))
            continue
        # Not running, its cell is gone and nothing owns it, or a stop was under way.
        await end_recorded(backend, record, running=running, grace=grace_s)
        await statuses.lay_to_rest(record, "not running when the Hive server started")
        outcome["gone"].append(label)
    # Then whatever carries a service's tag that no adopted record accounts for.
    outcome["gone"] += await end_unrecorded(backend, worktrees, adopted, grace=grace_s)
    for record in await statuses.store.in_status(ServiceStatus.BACKOFF):
        # Its restart was due when the server stopped: say that nothing will bring it back.
        await statuses.move(
            record.cell_id,
            record.name,
            ServiceStatus.ERROR,
            last_error=service_error(
                "a restart was due when the Hive server stopped; start it again "
                "(`hive restart CELL SERVICE`)"
            ),
        )
    return outcome


def adopted_handle(
    record: ServiceRecord, worktree: Path, plan: ServicePlan, *, now: float
) -> ServiceHandle:
    """The handle of a recorded process still running (`record.pid` is set). One that
    was ready counts as ready since its process started (for its restart budget); one
    still `starting` is left unsettled: its readiness is to be waited for again."""
    assert record.pid is not None  # adoption takes only records with a live pid
    handle = ServiceHandle(
        record.cell_id, plan, worktree, record.pid, False, 0, now, restarts=record.restarts
    )
    handle.recorded.set()
    if record.status != ServiceStatus.STARTING:
        age = time.time() - (record.process_started or time.time())
        handle.settle("adopted", at=now - max(age, 0.0))
    return handle
