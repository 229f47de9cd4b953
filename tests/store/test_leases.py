from __future__ import annotations

import asyncio

from hive.store.cells import CellStore
from hive.store.database import Database
from hive.store.leases import HIVE_OWNER, LeaseRecord, LeaseStore
from tests.store.conftest import MakeCell


async def test_acquire_leases_a_port_once(db: Database) -> None:
    leases = LeaseStore(db)
    assert await leases.acquire(7000, "a", "web")
    assert not await leases.acquire(7000, "b", "web")
    assert not await leases.acquire(7000, "a", "db")
    holder = await leases.holder(7000)
    assert isinstance(holder, LeaseRecord)
    assert (holder.port, holder.cell_id, holder.service) == (7000, "a", "web")


async def test_acquire_is_idempotent_for_the_same_cell_and_service(db: Database) -> None:
    leases = LeaseStore(db)
    assert await leases.acquire(7000, "a", "web")
    assert await leases.acquire(7000, "a", "web")
    assert await leases.for_cell("a") == [await leases.holder(7000)]


async def test_concurrent_acquires_of_one_port_have_one_winner(db: Database) -> None:
    leases = LeaseStore(db)
    won = await asyncio.gather(*(leases.acquire(7000, f"c{i}", "web") for i in range(20)))
    assert won.count(True) == 1


async def test_find_for_cell_and_leased_ports(db: Database) -> None:
    leases = LeaseStore(db)
    await leases.acquire(7001, "a", "web")
    await leases.acquire(7000, "a", "db")
    await leases.acquire(7002, "b", "web")
    found = await leases.find("a", "web")
    assert found is not None and found.port == 7001
    assert await leases.find("a", "cache") is None
    assert [lease.port for lease in await leases.for_cell("a")] == [7000, 7001]
    assert await leases.leased_ports() == {7000, 7001, 7002}
    assert await leases.holder(7003) is None


async def test_release_one_service_and_a_whole_cell(db: Database) -> None:
    leases = LeaseStore(db)
    await leases.acquire(7000, "a", "web")
    await leases.acquire(7001, "a", "db")
    await leases.acquire(7002, "b", "web")
    await leases.release("a", "web")
    assert await leases.leased_ports() == {7001, 7002}
    assert await leases.release_cell("a") == 1
    assert await leases.release_cell("a") == 0
    assert await leases.leased_ports() == {7002}
    assert await leases.acquire(7000, "b", "db")


async def test_release_orphans_keeps_leases_of_cells_and_hives_own(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    leases = LeaseStore(db)
    await cells.insert(make_cell("a"))
    await leases.acquire(7000, "a", "web")
    await leases.acquire(7001, "ghost", "web")
    await leases.acquire(7002, HIVE_OWNER, "opencode")
    assert await leases.release_orphans() == 1
    assert await leases.leased_ports() == {7000, 7002}
