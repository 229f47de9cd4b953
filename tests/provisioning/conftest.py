"""A real runtime (SQLite, git, processes) driven without HTTP, for the rooms of
provisioning: the engine, the steps and the request-facing services."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hive.core.status import CellStatus
from hive.provisioning.requests.cells import CreateCellRequest
from hive.provisioning.requests.workspaces import register_workspace
from hive.runtime import HiveRuntime
from hive.settings import Settings
from hive.store.records import CellRecord, TimingEvent
from hive.store.timings import TimingFilter
from tests.conftest import stop_leftover_services
from tests.support.ports import worker_port_range
from tests.support.repos import basic_template, make_repo

SETTLED = frozenset({CellStatus.READY, CellStatus.ERROR})


class Hive:
    def __init__(self, runtime: HiveRuntime, workspace_id: str, repo: Path) -> None:
        self.runtime, self.workspace_id, self.repo = runtime, workspace_id, repo

    async def create(self, name: str = "cell", **fields: Any) -> CellRecord:
        request = CreateCellRequest(self.workspace_id, "basic", name, **fields)
        return (await self.runtime.cells.create(request)).cell

    async def settle(self, cell_id: str, timeout: float = 60) -> CellRecord:
        # A create's last checkpoint (and mark_ready's timing row) lands just after the
        # ready status: settled is once that is there too.
        return await self.wait(
            cell_id,
            lambda cell: (
                cell.status in SETTLED
                and (cell.status != CellStatus.READY or "mark_ready" in cell.completed_steps)
            ),
            timeout,
        )

    async def wait(
        self, cell_id: str, done: Callable[[CellRecord], bool], timeout: float = 60
    ) -> CellRecord:
        deadline = time.monotonic() + timeout
        while not done(cell := await self.runtime.stores.cells.get(cell_id, include_hidden=True)):
            assert time.monotonic() < deadline, f"cell never got there: {cell}"
            await asyncio.sleep(0.02)
        return cell

    async def steps(self, cell_id: str, run_id: str | None = None) -> list[TimingEvent]:
        rows = await self.runtime.stores.timings.query(TimingFilter(cell_id=cell_id))
        return [row for row in rows if run_id is None or row.run_id == run_id]


MakeHive = Callable[..., Awaitable[Hive]]


@pytest.fixture
async def make_hive(tmp_path: Path) -> AsyncIterator[MakeHive]:
    started: list[HiveRuntime] = []
    settings = Settings(
        hive_home=tmp_path / "home", port=0, setup_timeout_s=30, kill_grace_s=1,
        service_start_grace_s=0.2, port_range=worker_port_range(),
    )  # fmt: skip

    async def make(**template: Any) -> Hive:
        repo = make_repo(tmp_path / "repo", {"basic": basic_template(**template)})
        runtime = await HiveRuntime.start(settings)
        started.append(runtime)
        workspace, _ = await register_workspace(runtime.stores.workspaces, repo)
        return Hive(runtime, workspace.id, repo)

    yield make
    for runtime in started:
        await runtime.close()
    stop_leftover_services(settings.database_path)
