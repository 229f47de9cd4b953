"""TimingStore: add rows, query them with filters, newest N in ascending order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hive.store.database import Database
from hive.store.records import TimingEvent
from hive.store.timings import TimingFilter, TimingStore

BASE = TimingEvent(
    cell_id="c1",
    cell_name="Cell one",
    workspace_id="w1",
    template_id="basic",
    workflow="create",
    run_id="r1",
    step="create_worktree",
    status="ok",
    started_at="2024-01-01T00:00:00.000Z",
    duration_ms=12.5,
    attempt=1,
)


@pytest.fixture
async def timings(db: Database) -> TimingStore:
    store = TimingStore(db)
    for event in [
        BASE,
        replace(BASE, step="run_setup", status="error", error="boom", metadata={"n": 1}),
        replace(BASE, cell_id="c2", template_id="full", run_id="r2"),
        replace(BASE, workflow="delete", run_id="r3", step="stop_services"),
        replace(BASE, cell_id="c3", workspace_id="w2", run_id="r4"),
    ]:
        await store.add(event)
    return store


def keys(events: list[TimingEvent]) -> list[tuple[str, str]]:
    return [(e.run_id, e.step) for e in events]


async def test_add_returns_stored_row(db: Database) -> None:
    store = TimingStore(db)
    added = await store.add(replace(BASE, metadata={"files": 3}))
    assert added.id is not None
    assert added.created_at
    [stored] = await store.query(TimingFilter())
    assert stored == added
    assert stored.metadata == {"files": 3}
    assert stored.error is None


async def test_query_all_oldest_first(timings: TimingStore) -> None:
    events = await timings.query(TimingFilter())
    assert keys(events) == [
        ("r1", "create_worktree"),
        ("r1", "run_setup"),
        ("r2", "create_worktree"),
        ("r3", "stop_services"),
        ("r4", "create_worktree"),
    ]
    ids = [e.id or 0 for e in events]
    assert ids == sorted(ids)
    assert events[1].error == "boom"
    assert events[1].metadata == {"n": 1}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (TimingFilter(cell_id="c1"), ["r1", "r1", "r3"]),
        (TimingFilter(template_id="full"), ["r2"]),
        (TimingFilter(workflow="delete"), ["r3"]),
        (TimingFilter(workspace_id="w2"), ["r4"]),
        (TimingFilter(status="error"), ["r1"]),
        (TimingFilter(run_ids=("r2", "r4")), ["r2", "r4"]),
        (TimingFilter(run_ids=()), []),
        (TimingFilter(cell_id="c1", workflow="create"), ["r1", "r1"]),
        (TimingFilter(cell_id="nobody"), []),
    ],
)
async def test_filters(timings: TimingStore, where: TimingFilter, expected: list[str]) -> None:
    assert [e.run_id for e in await timings.query(where)] == expected


async def test_limit_gives_newest_in_ascending_order(timings: TimingStore) -> None:
    events = await timings.query(TimingFilter(limit=2))
    assert keys(events) == [("r3", "stop_services"), ("r4", "create_worktree")]
    limited = await timings.query(TimingFilter(cell_id="c1", limit=2))
    assert keys(limited) == [("r1", "run_setup"), ("r3", "stop_services")]
    assert len(await timings.query(TimingFilter(limit=100))) == 5
