"""The delete steps on real cells: the branch is kept while it has new commits,
uncommitted work is kept, ports stay leased while a service still runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from hive.core.errors import StepError
from hive.core.status import CellStatus
from hive.core.steps import Step
from hive.provisioning.engine.context import RunContext
from hive.services.backend import OsProcessBackend
from hive.services.cell_release import release_if_stopped
from tests.support.repos import git

from ..conftest import MakeHive

WEB = {"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}}


async def test_a_branch_with_new_commits_is_kept_and_uncommitted_work_reported(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive(setup=[])
    cell = await hive.settle((await hive.create("worked on")).id)
    (cell.worktree_path / "feature.txt").write_text("work\n")
    git(cell.worktree_path, "add", "feature.txt")
    git(cell.worktree_path, "commit", "-qm", "feature")
    (cell.worktree_path / "draft.txt").write_text("unsaved\n")
    deletion = await hive.runtime.cells.delete(cell.id)
    assert deletion.branch is not None
    assert (deletion.branch.deleted, deletion.branch.commits_beyond_base) == (False, 1)
    assert deletion.branch.reason is not None and "git branch -D" in deletion.branch.reason
    assert deletion.snapshot is not None and deletion.snapshot.snapshot.added == ("draft.txt",)
    assert git(hive.repo, "branch", "--list", cell.branch_name)
    assert not cell.worktree_path.exists()
    assert await hive.runtime.stores.cells.find(cell.id) is None


async def test_a_branch_without_new_commits_is_deleted(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=[])
    cell = await hive.settle((await hive.create()).id)
    deletion = await hive.runtime.cells.delete(cell.id)
    assert deletion.branch is not None and deletion.branch.deleted
    assert deletion.warnings == []
    assert not git(hive.repo, "branch", "--list", cell.branch_name)


async def test_ports_stay_leased_while_a_service_of_the_cell_runs(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=[], services=WEB)
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    stores = hive.runtime.stores
    allocator = hive.runtime.services._environments._allocator
    with pytest.raises(StepError, match="still running: its port"):
        await release_if_stopped(stores.services, OsProcessBackend(), allocator, cell.id)
    assert [lease.service for lease in await stores.leases.for_cell(cell.id)] == ["web"]
    await hive.runtime.supervisor.stop_cell(cell.id)
    released = await release_if_stopped(stores.services, OsProcessBackend(), allocator, cell.id)
    assert released == 1


async def test_deleting_a_cell_mid_create_cancels_the_run(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=["touch started; exec sleep 300"])
    cell = await hive.create("interrupted")
    await hive.wait(cell.id, lambda c: (c.worktree_path / "started").exists())
    deletion = await hive.runtime.cells.delete(cell.id)
    assert deletion.id == cell.id
    rows = await hive.steps(cell.id)
    stop = next(row for row in rows if row.step == "cancel_provisioning")
    assert stop.metadata is not None and stop.metadata["cancelledRun"] is True
    assert await hive.runtime.stores.processes.list(cell.id) == []


async def test_a_hung_cleanup_step_is_timed_out_and_the_cell_still_goes(
    make_hive: MakeHive,
) -> None:
    # No fault-injection seam yet: the workflow (data) gets a step that never ends.
    hive = await make_hive(setup=[])
    cell = await hive.settle((await hive.create()).id)
    runner = hive.runtime.runner

    async def hang(_ctx: RunContext, _metadata: dict[str, Any]) -> None:
        await asyncio.sleep(3600)

    steps = tuple(
        replace(spec, run=hang, timeout_s=0.2) if spec.step == Step.STOP_SERVICES else spec
        for spec in runner._delete.steps
    )
    runner._delete = replace(runner._delete, steps=steps)
    deletion = await asyncio.wait_for(hive.runtime.cells.delete(cell.id), 30)
    assert any("stop_services" in w and "within 0.2s" in w for w in deletion.warnings)
    assert await hive.runtime.stores.cells.find(cell.id) is None
    assert not cell.worktree_path.exists()
