"""What the API reads: a cell's figures by scope, its agent, every cell sorted."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from hive.core.errors import NotFoundError
from hive.core.status import CellStatus, ServiceStatus
from hive.resources.process_table import ProcessReading
from hive.resources.reports import (
    OPENCODE_NOTE,
    CellResourceRow,
    ResourceReports,
    ResourceSort,
    sort_rows,
)
from hive.resources.sampler import ResourceSampler
from hive.resources.usage import Usage
from hive.store.cell_disk import CellDisk
from hive.store.cells import CellStore
from hive.store.database import Database
from hive.store.records import CellRecord
from hive.store.resources import ResourceStore
from hive.store.services import ServiceStore
from hive.store.workspaces import WorkspaceStore
from tests.resources.test_sampler import Clock, FixedReader, reading
from tests.store.conftest import MakeCell

T0 = 1_700_000_040.0


def reports_over(db: Database, cells: CellStore, readings: list[ProcessReading]) -> tuple[
    ResourceReports, ResourceSampler
]:  # fmt: skip
    sampler = ResourceSampler(
        ResourceStore(db), interval_s=5, table=FixedReader(readings), clock=Clock(T0)
    )
    reports = ResourceReports(
        cells=cells, workspaces=WorkspaceStore(db), store=ResourceStore(db), sampler=sampler
    )
    return reports, sampler


async def test_a_cell_by_scope_with_its_services_agent_setup_and_disk(
    db: Database, cells: CellStore, make_cell: MakeCell, db_path: Path
) -> None:
    await cells.insert(
        make_cell("c1", status=CellStatus.READY, agent={"type": "command", "status": "working"})
    )
    services = ServiceStore(db)
    await services.transition("c1", "web", ServiceStatus.STARTING, pid=10, process_started=1.0)
    await services.transition("c1", "idle", ServiceStatus.STARTING, pid=20, process_started=2.0)
    reports, sampler = reports_over(
        db,
        cells,
        [
            reading(10, "service:web", 10.0, 100),
            reading(40, "agent", 2.0, 20),
            reading(50, "setup", 30.0, 300),
        ],
    )
    before = await reports.cell("c1")
    assert before.figures.now is None and before.sampled_at is None
    await sampler.sample()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(
            "INSERT INTO cell_disk VALUES ('c1', 1, 2, 0, 0, 1, 0, 1.0, '2026-01-01T00:00:00Z')"
        )
        conn.commit()
    report = await reports.cell("c1")
    assert report.sampled_at == T0 and report.interval_s == 5
    assert report.figures.now == Usage(42.0, 420, 3)
    assert report.figures.averages["1m"].samples == 1
    assert report.figures.peak is not None and report.figures.peak.rss_bytes == 420
    idle, web = report.services  # by name
    assert (web.name, web.status, web.figures.now) == ("web", "starting", Usage(10.0, 100, 1))
    assert (idle.name, idle.figures.now, idle.figures.peak) == ("idle", Usage(), None)
    assert report.agent.measured and report.agent.figures is not None
    assert report.agent.figures.now == Usage(2.0, 20, 1)
    assert report.setup is not None and report.setup.now == Usage(30.0, 300, 1)
    assert [p.pid for p in report.processes] == [40, 10, 50]  # by scope
    assert report.disk == CellDisk("c1", 1, 2, 0, 0, 1, False, 1.0, "2026-01-01T00:00:00Z")
    with pytest.raises(NotFoundError):
        await reports.cell("nope")


async def test_an_opencode_agent_is_said_to_have_no_process_of_its_own(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1", agent={"type": "opencode", "status": "idle"}))
    reports, sampler = reports_over(db, cells, [])
    await sampler.sample()
    agent = (await reports.cell("c1")).agent
    assert (agent.type, agent.status, agent.measured) == ("opencode", "idle", False)
    assert agent.note == OPENCODE_NOTE and agent.figures is None


async def test_rows_of_a_workspace_and_an_unknown_one(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    await cells.insert(make_cell("c1", name="beta"))
    await cells.insert(make_cell("c2", name="Alpha"))
    reports, sampler = reports_over(db, cells, [reading(1, "agent", 1.0, 10, cell="c1")])
    await sampler.sample()
    workspace = (await WorkspaceStore(db).list())[0].id
    rows = await reports.rows(workspace, ResourceSort.NAME)
    assert [row.cell.name for row in rows] == ["Alpha", "beta"]
    assert rows[0].now == Usage() and rows[1].now == Usage(1.0, 10, 1)
    with pytest.raises(NotFoundError):
        await reports.rows("nope")


def row(cell: CellRecord, name: str, cpu: float | None, rss: int, disk: int | None) -> (
    CellResourceRow
):  # fmt: skip
    return CellResourceRow(
        cell=replace(cell, id=name, name=name),
        now=Usage(cpu, rss, 1) if cpu is not None else None,
        services=(),
        footprint=None,
        disk=CellDisk(name, disk, disk, 0, 0, 0, True, 0.0, "") if disk is not None else None,
    )


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (ResourceSort.NAME, ["a", "b", "c", "d"]),
        (ResourceSort.CPU, ["c", "a", "b", "d"]),  # a and b tie: by name
        (ResourceSort.MEMORY, ["b", "a", "c", "d"]),
        (ResourceSort.DISK, ["d", "c", "a", "b"]),  # none last
    ],
)
def test_rows_sort_biggest_first_with_ties_and_missing_figures_last(
    make_cell: MakeCell, sort: ResourceSort, order: list[str]
) -> None:
    base = make_cell("x")
    rows = [
        row(base, "d", None, 0, 900),
        row(base, "b", 5.0, 300, None),
        row(base, "c", 50.0, 100, 100),
        row(base, "a", 5.0, 200, 10),
    ]
    assert [r.cell.name for r in sort_rows(rows, sort)] == order
