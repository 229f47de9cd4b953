"""Start-up recovery of creates: a cell a stopped server left `spawning` resumes from
its checkpoint as a new run on its own; one whose resumes keep being cut short is left
in `error`, explained, after three."""

from __future__ import annotations

from typing import Any

import psutil

from hive.core.status import CellStatus
from hive.provisioning.engine.runner import MAX_RESUMES
from hive.store.records import CellRecord

from ..conftest import Hive
from .conftest import FaultyHive

AFTER_WORKTREE = ["create_worktree", "allocate_ports"]


async def _left_spawning(hive: Hive, **fields: Any) -> CellRecord:
    """A ready cell put back to where a killed server would have left it in run_setup."""
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    # Its run checkpoints and announces after `ready`: let it end first.
    await hive.wait(cell.id, lambda _cell: not hive.runtime.runner.is_running(cell.id))
    return await hive.runtime.stores.cells.transition(
        cell.id, CellStatus.SPAWNING, completed_steps=AFTER_WORKTREE, **fields
    )


def _alive(pid: int | None) -> bool:
    """Running, not a zombie (a service spawned by this very process awaits its reaping)."""
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_an_interrupted_create_resumes_as_a_new_run_from_its_checkpoint(
    faulty_hive: FaultyHive,
) -> None:
    hive = await faulty_hive({})
    left = await _left_spawning(hive, run_id="killedrun")
    web_before = await hive.runtime.stores.services.get(left.id, "web")
    assert web_before is not None and _alive(web_before.pid)

    hive = await faulty_hive({})  # the restart
    cell = await hive.settle(left.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    assert cell.attempt == left.attempt + 1
    [resumed_run] = {row.run_id for row in await hive.steps(cell.id)} - {
        row.run_id for row in await hive.steps(left.id) if row.workflow == "create"
    }
    rows = [row for row in await hive.steps(cell.id, resumed_run) if ":" not in row.step]
    # The worktree is checkpointed and there: not made again.
    assert [row.step for row in rows] == [
        "allocate_ports", "run_setup", "ensure_services", "assemble_prompt",
        "ensure_agent_session", "mark_ready",
    ]  # fmt: skip
    assert {row.workflow for row in rows} == {"retry"}
    assert all((row.metadata or {}).get("resumedAfterRestart") == 1 for row in rows)
    # Its services were stopped with the interrupted run and started by this one.
    web = await hive.runtime.stores.services.get(cell.id, "web")
    assert web is not None and web.status == "ready" and _alive(web.pid)
    assert web.pid != web_before.pid and not _alive(web_before.pid)
    [lease] = await hive.runtime.stores.leases.for_cell(cell.id)
    assert lease.port == web.port


async def test_a_resume_cut_short_again_counts_towards_the_cap(faulty_hive: FaultyHive) -> None:
    hive = await faulty_hive({})
    left = await _left_spawning(
        hive, run_id="resumed", resume_run_id="resumed", resume_streak=MAX_RESUMES - 1
    )
    hive = await faulty_hive({})
    cell = await hive.settle(left.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    assert cell.resume_streak == MAX_RESUMES


async def test_a_new_run_since_the_last_resume_starts_the_count_again(
    faulty_hive: FaultyHive,
) -> None:
    hive = await faulty_hive({})
    # A retry by hand (a new run id) after three resumes in a row.
    left = await _left_spawning(
        hive, run_id="byhand", resume_run_id="resumed", resume_streak=MAX_RESUMES
    )
    hive = await faulty_hive({})
    cell = await hive.settle(left.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    assert cell.resume_streak == 1


async def test_after_three_resumes_cut_short_the_cell_is_left_in_error(
    faulty_hive: FaultyHive,
) -> None:
    hive = await faulty_hive({})
    left = await _left_spawning(
        hive, run_id="resumed", resume_run_id="resumed", resume_streak=MAX_RESUMES
    )
    web_before = await hive.runtime.stores.services.get(left.id, "web")
    assert web_before is not None

    hive = await faulty_hive({})
    cell = await hive.settle(left.id)
    assert cell.status == CellStatus.ERROR
    failure = cell.last_setup_error
    assert failure is not None and failure.step == "run_setup"
    assert "4 times in a row" in failure.message
    assert "no longer resumed automatically" in failure.message
    assert "hive retry ID" in (failure.hint or "")
    assert cell.attempt == left.attempt, "no new run was started"
    # Compensated like any failed run: nothing running, no port held.
    assert not _alive(web_before.pid)
    assert await hive.runtime.stores.leases.for_cell(cell.id) == []
