"""DiskMeter over a real database and real files: which cells a pass measures, what a
measurement holds, the footprint only for cells at rest in good health, and the
background task measuring a cell the bus says settled."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import select

from hive.core.status import CellStatus
from hive.events.bus import EventBus
from hive.maintenance.disk_meter import DiskMeter
from hive.store.cell_disk import INCLUDE_COPY, CellDiskStore
from hive.store.cells import CellStore
from hive.store.database import Database, open_database
from hive.store.events import EventLog
from hive.store.records import CellRecord, TimingEvent
from hive.store.tables import cell_footprints
from hive.store.timings import TimingStore
from hive.store.workspaces import WorkspaceStore
from tests.support.records import cell_record

MB = 1 << 20


@dataclass
class Parts:
    db: Database
    cells: CellStore
    disks: CellDiskStore
    bus: EventBus
    base: CellRecord
    logs: Path

    def meter(self, interval_s: float = 3600.0) -> DiskMeter:
        return DiskMeter(
            cells=self.cells,
            disks=self.disks,
            bus=self.bus,
            logs_root=self.logs,
            interval_s=interval_s,
            budget_s=10,
        )

    async def cell(self, cell_id: str, status: CellStatus, size: int = 0) -> CellRecord:
        worktree = self.base.worktree_path.parent / cell_id
        worktree.mkdir(parents=True)
        (worktree / ".git").write_text("gitdir: elsewhere\n")
        (worktree / "data.bin").write_bytes(os.urandom(size))
        cell = replace(self.base, id=cell_id, status=status, worktree_path=worktree)
        await self.cells.insert(cell)
        return cell


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    db = await open_database(tmp_path / "hive.db")
    bus = EventBus()
    cells = CellStore(db, EventLog(db, bus.publish))
    workspace = await WorkspaceStore(db).register(tmp_path / "repo")
    base = cell_record(
        workspace.id, tmp_path / "cells", template_id="web", status=CellStatus.READY, run_id=None
    )
    yield Parts(db, cells, CellDiskStore(db), bus, base, tmp_path / "logs")
    await db.close()


async def test_a_measurement_holds_the_worktree_its_logs_and_the_cloned_share(
    parts: Parts,
) -> None:
    cell = await parts.cell("a", CellStatus.READY, size=MB)
    (parts.logs / "a").mkdir(parents=True)
    (parts.logs / "a" / "setup.log").write_bytes(b"l" * 10_000)
    await TimingStore(parts.db).add(
        TimingEvent(
            cell_id="a",
            cell_name="cell",
            workspace_id=cell.workspace_id,
            template_id="web",
            workflow="create",
            run_id="r",
            step=INCLUDE_COPY,
            status="ok",
            started_at="2024-01-01T00:00:00.000Z",
            duration_ms=1.0,
            attempt=1,
            metadata={"reflinkedBytes": 300_000},
        )
    )
    disk = await parts.meter().measure(cell)
    assert disk.files == 1, "data.bin; the worktree's .git file is not the cell's"
    assert MB <= disk.apparent_bytes < MB + 64 * 1024
    assert disk.allocated_bytes >= MB
    assert disk.cloned_bytes == 300_000
    assert disk.logs_bytes >= 10_000 and disk.complete
    assert await parts.disks.get("a") == disk
    [footprint] = await parts.db.all(select(cell_footprints))
    assert footprint.disk_added_bytes == disk.allocated_bytes - 300_000 + disk.logs_bytes


async def apparent(parts: Parts, cell_id: str) -> int:
    disk = await parts.disks.get(cell_id)
    assert disk is not None
    return disk.apparent_bytes


def grow(cell: CellRecord, size: int = 5000) -> None:
    with (cell.worktree_path / "data.bin").open("ab") as data:
        data.write(b"g" * size)


async def test_a_pass_measures_what_is_due_and_a_failed_cell_stays_out_of_history(
    parts: Parts,
) -> None:
    ready = await parts.cell("ready", CellStatus.READY)
    failed = await parts.cell("failed", CellStatus.ERROR)
    await parts.cell("making", CellStatus.SPAWNING)
    meter = parts.meter(interval_s=3600)

    next_due = await meter.run_pass(settled=set())
    assert set(await parts.disks.measured()) == {"ready", "failed"}, "not one being made"
    assert 3500 < next_due <= 3600
    prints = await parts.db.all(select(cell_footprints.c.cell_id))
    assert [row.cell_id for row in prints] == ["ready"]

    before = {cell_id: await apparent(parts, cell_id) for cell_id in ("ready", "failed")}
    grow(ready)
    grow(failed)
    await meter.run_pass(settled=set())
    assert await apparent(parts, "ready") == before["ready"], "nothing due: not measured"
    # The bus says a cell settled: it is measured again, the other not.
    await meter.run_pass(settled={"failed"})
    assert await apparent(parts, "failed") == before["failed"] + 5000
    assert await apparent(parts, "ready") == before["ready"]


async def test_without_the_bus_a_ready_cell_changed_since_its_measurement_is_due(
    parts: Parts,
) -> None:
    cell = await parts.cell("ready", CellStatus.READY)
    meter = parts.meter()
    await meter.run_pass(settled=None)
    first = await apparent(parts, "ready")
    grow(cell)
    await meter.run_pass(settled=None)
    assert await apparent(parts, "ready") == first, "unchanged since: not measured again"
    await parts.cells.update("ready", description="touched")  # e.g. a retry reached ready
    await meter.run_pass(settled=None)
    assert await apparent(parts, "ready") == first + 5000


async def test_an_old_measurement_is_due_and_a_deleted_cells_is_forgotten(
    parts: Parts,
) -> None:
    cell = await parts.cell("a", CellStatus.ARCHIVED, size=1000)
    meter = parts.meter(interval_s=0.2)
    await meter.run_pass(settled=set())
    first = await parts.disks.get("a")
    assert first is not None
    (cell.worktree_path / "more.bin").write_bytes(os.urandom(MB))
    deadline = time.monotonic() + 10
    while (now := await parts.disks.get("a")) == first:
        assert time.monotonic() < deadline
        await asyncio.sleep(await meter.run_pass(settled=set()))
    assert now is not None and now.allocated_bytes >= first.allocated_bytes + MB

    await parts.cells.transition("a", CellStatus.DELETING)
    await parts.cells.delete("a")
    await meter.run_pass(settled=set())
    assert await parts.disks.get("a") is None


async def test_the_task_measures_a_cell_once_its_run_settles(parts: Parts) -> None:
    cell = await parts.cell("a", CellStatus.SPAWNING, size=1000)
    meter = parts.meter()
    meter.start()
    try:
        await parts.cells.transition("a", CellStatus.READY)
        await parts.cells.announce("a")  # the run's last word: settled
        deadline = time.monotonic() + 10
        while (disk := await parts.disks.get("a")) is None:
            assert time.monotonic() < deadline, "never measured"
            await asyncio.sleep(0.02)
        assert disk.apparent_bytes >= 1000
        first = disk.apparent_bytes
        # A retry that reaches ready again: measured again, long before the hour.
        grow(cell)
        await parts.cells.announce("a")
        while await apparent(parts, "a") == first:
            assert time.monotonic() < deadline, "never measured again"
            await asyncio.sleep(0.02)
        assert await apparent(parts, "a") == first + 5000
    finally:
        await meter.aclose()
