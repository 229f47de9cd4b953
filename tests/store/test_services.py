"""ServiceStore: a service's status moves only as the transition table allows, in one
conditional write; other fields never touch the status."""

from __future__ import annotations

import asyncio

import pytest

from hive.core.errors import TransitionError
from hive.core.status import ServiceStatus
from hive.store.database import Database
from hive.store.services import ServiceStore

S = ServiceStatus
CELL = "cell1"


@pytest.fixture
def services(db: Database) -> ServiceStore:
    return ServiceStore(db)


async def test_a_refused_move_to_a_first_status_is_a_refusal(services: ServiceStore) -> None:
    # `stopped` may be a first status (an upsert); from `ready` it is refused.
    await services.transition(CELL, "web", S.STARTING, pid=42)
    await services.transition(CELL, "web", S.READY)
    with pytest.raises(TransitionError, match="from 'ready' to 'stopped'"):
        await services.transition(CELL, "web", S.STOPPED, pid=None)
    record = await services.get(CELL, "web")
    assert record is not None and (record.status, record.pid) == (S.READY, 42)


async def test_a_first_record_starts_as_the_table_allows(services: ServiceStore) -> None:
    with pytest.raises(TransitionError, match="from 'no record' to 'ready'"):
        await services.transition(CELL, "web", S.READY)
    assert await services.get(CELL, "web") is None
    record = await services.transition(CELL, "web", S.STARTING, pid=42, port=7000)
    assert (record.status, record.pid, record.port, record.restarts) == (S.STARTING, 42, 7000, 0)


async def test_a_refused_move_changes_nothing(services: ServiceStore) -> None:
    await services.transition(CELL, "web", S.STARTING, pid=42)
    await services.transition(CELL, "web", S.READY)
    with pytest.raises(TransitionError) as caught:
        await services.transition(CELL, "web", S.COMPLETED, pid=None)
    assert caught.value.hint is not None and "crashed" in caught.value.hint
    record = await services.get(CELL, "web")
    assert record is not None and (record.status, record.pid) == (S.READY, 42)


async def test_of_two_racing_moves_from_one_status_one_wins(services: ServiceStore) -> None:
    await services.transition(CELL, "web", S.STARTING, pid=42)
    # From starting, ready and completed are both allowed, and neither follows the other.
    results = await asyncio.gather(
        services.transition(CELL, "web", S.READY),
        services.transition(CELL, "web", S.COMPLETED),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, TransitionError)]
    assert len(won) == 1 and len(lost) == 1
    final = await services.get(CELL, "web")
    assert final is not None and final.status == won[0].status


async def test_save_updates_fields_never_the_status(services: ServiceStore) -> None:
    assert await services.save(CELL, "web", pid=1) is None  # no row: nothing to update
    await services.transition(CELL, "web", S.STARTING, pid=42)
    saved = await services.save(CELL, "web", pid=43, exit_code=None, restarts=2)
    assert saved is not None and (saved.status, saved.pid, saved.restarts) == (S.STARTING, 43, 2)
    with pytest.raises(ValueError, match="status moves by transition"):
        await services.save(CELL, "web", status="ready")


async def test_queries(services: ServiceStore) -> None:
    await services.transition(CELL, "web", S.STARTING, pid=42)
    await services.transition(CELL, "db", S.STARTING, pid=43)
    await services.transition(CELL, "db", S.BACKOFF, pid=None)
    await services.transition("other", "job", S.ERROR)
    assert [r.name for r in await services.for_cell(CELL)] == ["db", "web"]
    assert [r.name for r in await services.with_process()] == ["web"]
    assert [r.name for r in await services.in_status(S.BACKOFF)] == ["db"]
    await services.delete_cell(CELL)
    assert await services.for_cell(CELL) == []
    assert [r.name for r in await services.for_cell("other")] == ["job"]
