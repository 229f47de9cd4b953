"""CellDiskStore: measurements kept per cell, the footprint's disk column written beside
the sampler's columns, the biggest cells, cloned bytes from include-copy rows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import insert, select

from hive.core.status import CellStatus
from hive.store.cell_disk import INCLUDE_COPY, CellDisk, CellDiskStore, cloned_from
from hive.store.cells import CellStore
from hive.store.database import Database
from hive.store.records import TimingEvent
from hive.store.tables import cell_footprints
from hive.store.timings import TimingStore
from tests.store.conftest import MakeCell

DISK = CellDisk(
    cell_id="a",
    apparent_bytes=5000,
    allocated_bytes=8192,
    cloned_bytes=4096,
    logs_bytes=100,
    files=3,
    complete=True,
    duration_ms=1.5,
    measured_at="2024-01-01T00:00:00.000Z",
)


async def test_a_measurement_is_kept_and_replaced(db: Database) -> None:
    store = CellDiskStore(db)
    assert await store.get("a") is None
    await store.save(DISK)
    assert await store.get("a") == DISK
    again = replace(DISK, allocated_bytes=20_000, complete=False, measured_at="2024-01-02")
    await store.save(again)
    assert await store.get("a") == again
    assert await store.measured() == {"a": "2024-01-02"}
    assert again.own_bytes == 20_000 - 4096 and again.added_bytes == 20_000 - 4096 + 100


async def test_the_footprint_gets_disk_added_and_keeps_the_samplers_columns(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    cell = make_cell("a", template_id="web")
    store = CellDiskStore(db)
    await store.save(DISK, footprint_of=cell)
    [row] = await db.all(select(cell_footprints))
    assert (row.workspace_id, row.template_id, row.disk_added_bytes) == (
        cell.workspace_id,
        "web",
        8192 - 4096 + 100,
    )
    assert row.peak_rss_bytes is None and row.cpu_samples == 0

    # The sampler's columns, as it writes them, survive the next disk measurement.
    await db.write(
        cell_footprints.update().values(peak_rss_bytes=50_000_000, cpu_sum=12.5, cpu_samples=5)
    )
    await store.save(replace(DISK, allocated_bytes=100_000), footprint_of=cell)
    [row] = await db.all(select(cell_footprints))
    assert row.disk_added_bytes == 100_000 - 4096 + 100
    assert (row.peak_rss_bytes, row.cpu_sum, row.cpu_samples) == (50_000_000, 12.5, 5)


async def test_a_footprint_the_sampler_made_first_gets_the_disk_column(
    db: Database, make_cell: MakeCell
) -> None:
    cell = make_cell("a")
    stamp = "2024-01-01T00:00:00.000Z"
    await db.write(
        insert(cell_footprints).values(
            cell_id="a",
            workspace_id=cell.workspace_id,
            template_id="basic",
            peak_rss_bytes=7,
            services=2,
            ports=1,
            created_at=stamp,
            updated_at=stamp,
        )
    )
    await CellDiskStore(db).save(DISK, footprint_of=cell)
    [row] = await db.all(select(cell_footprints))
    assert (row.peak_rss_bytes, row.services, row.ports, row.created_at) == (7, 2, 1, stamp)
    assert row.disk_added_bytes == DISK.added_bytes


async def test_the_biggest_cells_by_what_removing_them_frees(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    store = CellDiskStore(db)
    for cell_id, allocated, cloned in (("a", 10_000, 0), ("b", 90_000, 85_000), ("c", 50_000, 0)):
        await cells.insert(make_cell(cell_id, name=f"cell {cell_id}"))
        await store.save(
            replace(DISK, cell_id=cell_id, allocated_bytes=allocated, cloned_bytes=cloned)
        )
    await store.save(replace(DISK, cell_id="gone", allocated_bytes=10**9))  # no cell
    await cells.insert(make_cell("d", status=CellStatus.DELETING))
    await store.save(replace(DISK, cell_id="d", allocated_bytes=10**9))

    biggest = await store.biggest(limit=2)
    assert [(b.id, b.name, b.own_bytes) for b in biggest] == [
        ("c", "cell c", 50_000),
        ("a", "cell a", 10_000),
    ]
    assert await store.prune() == 1
    assert await store.get("gone") is None and await store.get("d") is not None


def _copy_row(cell_id: str, status: str, metadata: dict[str, Any]) -> TimingEvent:
    return TimingEvent(
        cell_id=cell_id,
        cell_name="x",
        workspace_id="w",
        template_id="basic",
        workflow="create",
        run_id="r",
        step=INCLUDE_COPY,
        status=status,
        started_at="2024-01-01T00:00:00.000Z",
        duration_ms=1.0,
        attempt=1,
        metadata=metadata,
    )


async def test_cloned_bytes_come_from_the_latest_successful_include_copy(db: Database) -> None:
    timings, store = TimingStore(db), CellDiskStore(db)
    assert await store.cloned_bytes("a") == 0
    await timings.add(_copy_row("a", "ok", {"reflinkedBytes": 1000}))
    await timings.add(_copy_row("a", "ok", {"reflinkedBytes": 3000}))  # a retry's copy
    await timings.add(_copy_row("a", "error", {"reflinkedBytes": 9999}))
    await timings.add(_copy_row("b", "ok", {"reflinkedBytes": 7}))
    assert await store.cloned_bytes("a") == 3000


@pytest.mark.parametrize(
    ("metadata", "cloned"),
    [
        (None, 0),
        ({}, 0),
        ({"reflinkedBytes": 123, "bytes": 500}, 123),
        # Before reflinkedBytes: known only when every file was cloned.
        ({"files": 4, "reflinked": 4, "fallback": 0, "bytes": 500}, 500),
        ({"files": 4, "reflinked": 3, "fallback": 1, "bytes": 500}, 0),
        ({"files": 0, "reflinked": 0, "bytes": 0}, 0),
        ({"reflinkedBytes": "many"}, 0),
    ],
)
def test_cloned_from_metadata(metadata: dict[str, Any] | None, cloned: int) -> None:
    assert cloned_from(metadata) == cloned
