"""ProcessStore: the setup process groups on record while they run, in a real SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hive.store.database import Database, open_database
from hive.store.processes import ProcessRecord, ProcessStore


@pytest.fixture
def processes(db: Database) -> ProcessStore:
    return ProcessStore(db)


async def test_add_returns_the_id_the_record_is_listed_under(processes: ProcessStore) -> None:
    assert await processes.list() == []
    record_id = await processes.add("c1", "setup", 4242, 1_700_000_000.25, "npm ci")
    assert await processes.list() == [
        ProcessRecord(
            id=record_id,
            cell_id="c1",
            kind="setup",
            pid=4242,
            process_started=1_700_000_000.25,
            command="npm ci",
        )
    ]


async def test_every_add_gets_its_own_id_and_the_list_is_in_the_order_of_adding(
    processes: ProcessStore,
) -> None:
    # Neither cell ids nor pids sort like the order of adding: the list follows the adds.
    added = [
        await processes.add("zeta", "setup", 300, 3.0, "third pid, first added"),
        await processes.add("alpha", "service-setup", 100, 1.0, "first pid, second added"),
        await processes.add("zeta", "setup", 200, 2.0, "last added"),
    ]
    assert len(set(added)) == 3
    assert added == sorted(added)
    listed = await processes.list()
    assert [r.id for r in listed] == added
    assert [r.command for r in listed] == [
        "third pid, first added",
        "first pid, second added",
        "last added",
    ]


async def test_list_by_cell_keeps_only_that_cells_records_in_order(
    processes: ProcessStore,
) -> None:
    first = await processes.add("a", "setup", 10, 1.0, "one")
    await processes.add("b", "setup", 11, 1.0, "other cell")
    second = await processes.add("a", "setup", 12, 1.0, "two")
    assert [r.id for r in await processes.list("a")] == [first, second]
    assert [r.command for r in await processes.list("b")] == ["other cell"]
    assert await processes.list("unknown") == []
    assert len(await processes.list()) == 3


async def test_remove_takes_away_that_record_only(processes: ProcessStore) -> None:
    keep = await processes.add("a", "setup", 10, 1.0, "keep")
    gone = await processes.add("a", "setup", 11, 1.0, "gone")
    other = await processes.add("b", "setup", 12, 1.0, "other cell")
    await processes.remove(gone)
    assert [r.id for r in await processes.list()] == [keep, other]
    await processes.remove(gone)  # removing twice is harmless
    await processes.remove(10_000)  # and so is an id never given
    assert [r.id for r in await processes.list()] == [keep, other]
    await processes.remove(keep)
    assert await processes.list("a") == []
    assert [r.id for r in await processes.list("b")] == [other]


async def test_fields_round_trip_exactly(processes: ProcessStore) -> None:
    # A process start time has sub-second digits; a command can be any shell text.
    started = 1_712_345_678.123456
    command = "echo 'ünï code' \"quoted\" && printf 'a\\nb'\nsecond line; exit 3"
    record_id = await processes.add("cell-ä", "service-setup:web", 2**22, started, command)
    [record] = await processes.list("cell-ä")
    assert record == ProcessRecord(
        record_id, "cell-ä", "service-setup:web", 2**22, started, command
    )


async def test_concurrent_adds_get_distinct_ids(processes: ProcessStore) -> None:
    ids = await asyncio.gather(
        *(processes.add(f"c{i % 3}", "setup", 1000 + i, float(i), f"cmd {i}") for i in range(20))
    )
    assert len(set(ids)) == 20
    listed = await processes.list()
    assert sorted(ids) == [r.id for r in listed]
    assert {r.id: r.pid for r in listed} == {ids[i]: 1000 + i for i in range(20)}


async def test_records_outlive_the_database_being_closed_and_reopened(
    db: Database, processes: ProcessStore, db_path: Path
) -> None:
    """What a killed server leaves on record is what the next one finds (Runner.recover)."""
    record_id = await processes.add("c1", "setup", 77, 5.5, "sleep 300")
    await db.close()
    reopened = await open_database(db_path)
    try:
        assert await ProcessStore(reopened).list() == [
            ProcessRecord(record_id, "c1", "setup", 77, 5.5, "sleep 300")
        ]
    finally:
        await reopened.close()
