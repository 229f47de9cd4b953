"""The fault seam (`HIVE_FAULTS`) drives every step's failure path: each create step
and sub-step that fails leaves the cell in `error`, explained and compensated; a
delete step that fails or hangs is timed out and the cell is removed all the same."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from hive.core.faults import FaultAction
from hive.core.status import CellStatus

from .conftest import FaultyHive


def _alive_after(pid: int, timeout: float) -> bool:
    """Whether `pid` still runs after `timeout` (a child of ours is reaped by the wait)."""
    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return False
    except psutil.TimeoutExpired:
        return True
    return False


CREATE_FAULTS = [
    "create_worktree",
    "create_worktree:base_commit",
    "create_worktree:git_add",
    "create_worktree:include_copy",
    "create_worktree:place_included",
    "allocate_ports",
    "allocate_ports:cell_files",
    "run_setup",
    "run_setup:1",
    "ensure_services",
    "ensure_services:start:web",
    "ensure_services:ready:web",
    "assemble_prompt",
    "ensure_agent_session",
    "mark_ready",
]


async def test_the_faults_cover_every_create_step(faulty_hive: FaultyHive) -> None:
    hive = await faulty_hive({})
    assert {name.partition(":")[0] for name in CREATE_FAULTS} == set(
        hive.runtime.runner.create_steps
    )


@pytest.mark.parametrize("step", CREATE_FAULTS)
async def test_a_failing_create_step_leaves_the_cell_explained_and_compensated(
    faulty_hive: FaultyHive, step: str
) -> None:
    hive = await faulty_hive({step: FaultAction.FAIL})
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.ERROR
    failure = cell.last_setup_error
    assert failure is not None and failure.step == step.partition(":")[0]
    assert f"HIVE_FAULTS: {step}=fail" in failure.message
    assert await hive.runtime.stores.leases.for_cell(cell.id) == []
    web = await hive.runtime.stores.services.get(cell.id, "web")
    assert web is None or web.pid is None
    failed = [row.step for row in await hive.steps(cell.id) if row.status == "error"]
    assert step in failed


async def test_a_hanging_create_step_waits_until_cancelled(faulty_hive: FaultyHive) -> None:
    hive = await faulty_hive({"run_setup": FaultAction.HANG})
    cell = await hive.create()
    await hive.wait(cell.id, lambda c: "allocate_ports" in c.completed_steps)
    cancelled = await hive.runtime.cells.cancel(cell.id)
    assert cancelled.status == CellStatus.ERROR
    assert cancelled.last_setup_error is not None
    assert cancelled.last_setup_error.step == "run_setup"
    assert await hive.runtime.stores.leases.for_cell(cell.id) == []


@pytest.mark.parametrize("action", list(FaultAction))
async def test_a_best_effort_delete_step_that_fails_or_hangs_does_not_keep_the_cell(
    faulty_hive: FaultyHive, action: FaultAction
) -> None:
    # The delete workflow's own list, whatever its steps are called.
    probe = await faulty_hive({})
    best_effort = [str(spec.step) for spec in probe.runtime.runner.delete_steps if spec.best_effort]
    assert best_effort
    for step in best_effort:
        hive = await faulty_hive({step: action})
        cell = await hive.settle((await hive.create(f"cell-{step}")).id)
        assert cell.status == CellStatus.READY, cell.last_setup_error
        web = await hive.runtime.stores.services.get(cell.id, "web")
        assert web is not None and web.pid is not None
        deletion = await hive.runtime.cells.delete(cell.id)
        assert any(warning.startswith(f"{step}:") for warning in deletion.warnings), step
        assert await hive.runtime.stores.cells.find(cell.id) is None
        # Whatever step failed, nothing started for the cell outlives its record.
        assert not await asyncio.to_thread(_alive_after, web.pid, 10), step
        assert await hive.runtime.stores.leases.for_cell(cell.id) == []
        rows = [row for row in await hive.steps(cell.id) if row.workflow == "delete"]
        [row] = [row for row in rows if row.step == step]
        assert row.status == "error"
        if action is FaultAction.HANG:
            assert "did not finish within 0.5s" in (row.error or "")


@pytest.mark.parametrize("which", [0, -1], ids=["first", "last"])
async def test_a_failing_delete_step_that_is_not_best_effort_returns_the_cell_to_error(
    faulty_hive: FaultyHive, which: int
) -> None:
    probe = await faulty_hive({})
    strict = [spec for spec in probe.runtime.runner.delete_steps if not spec.best_effort]
    assert strict, "the delete has steps that must not fail"
    hive = await faulty_hive({str(strict[which].step): FaultAction.FAIL})
    cell = await hive.settle((await hive.create()).id)
    with pytest.raises(Exception, match="HIVE_FAULTS"):
        await hive.runtime.cells.delete(cell.id)
    again = await hive.runtime.stores.cells.get(cell.id)
    assert again.status == CellStatus.ERROR
