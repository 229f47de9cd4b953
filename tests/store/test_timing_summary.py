"""TimingStore statistics and pages, on rows with known durations in a real SQLite."""

from __future__ import annotations

from dataclasses import replace

from hive.store.database import Database
from hive.store.records import TimingEvent
from hive.store.timings import TimingFilter, TimingStore

BASE = TimingEvent(
    cell_id="c1",
    cell_name="one",
    workspace_id="w1",
    template_id="web",
    workflow="create",
    run_id="r0",
    step="run_setup",
    status="ok",
    started_at="2026-01-01T00:00:00.000Z",
    duration_ms=1.0,
    attempt=1,
)


async def fill(store: TimingStore) -> None:
    # web/run_setup: 1..10 ms, the 10 ms one failed. Nearest rank: p50 = 5th = 5,
    # p90 = 9th = 9. Each in its own run, with a 100 ms create_worktree beside it and a
    # sub-step that counts for the step table but not for run totals.
    for n in range(1, 11):
        run = replace(BASE, run_id=f"r{n}")
        await store.add(replace(run, duration_ms=float(n), status="error" if n == 10 else "ok"))
        await store.add(replace(run, step="create_worktree", duration_ms=100.0))
        await store.add(replace(run, step="run_setup:1", duration_ms=1000.0))
    await store.add(replace(BASE, template_id="api", run_id="a1", duration_ms=7.0))
    await store.add(replace(BASE, workflow="delete", run_id="d1", step="stop_services"))


async def test_step_stats_nearest_rank(db: Database) -> None:
    store = TimingStore(db)
    await fill(store)
    stats = {(s.template_id, s.step): s for s in await store.step_stats(TimingFilter())}
    setup = stats["web", "run_setup"]
    assert (setup.count, setup.p50_ms, setup.p90_ms, setup.max_ms) == (10, 5.0, 9.0, 10.0)
    assert setup.failure_rate == 0.1
    assert stats["web", "create_worktree"].p90_ms == 100.0
    assert stats["web", "run_setup:1"].count == 10
    single = stats["api", "run_setup"]
    assert (single.count, single.p50_ms, single.p90_ms, single.max_ms) == (1, 7.0, 7.0, 7.0)
    web = [s.step for s in await store.step_stats(TimingFilter()) if s.template_id == "web"]
    assert web == ["run_setup", "create_worktree", "run_setup:1", "stop_services"]


async def test_run_stats_total_top_level_steps(db: Database) -> None:
    store = TimingStore(db)
    await fill(store)
    stats = {(r.template_id, r.workflow): r for r in await store.run_stats(TimingFilter())}
    runs = stats["web", "create"]
    # Totals are 101..110 ms (sub-steps left out): p50 = 105, p90 = 109; one failed.
    assert (runs.count, runs.p50_ms, runs.p90_ms, runs.failure_rate) == (10, 105.0, 109.0, 0.1)
    assert stats["api", "create"].count == 1
    assert stats["web", "delete"].p50_ms == 1.0


async def test_stats_follow_the_filter(db: Database) -> None:
    store = TimingStore(db)
    await fill(store)
    only_api = await store.step_stats(TimingFilter(template_id="api"))
    assert [(s.template_id, s.step) for s in only_api] == [("api", "run_setup")]
    assert await store.step_stats(TimingFilter(since="2999-01-01T00:00:00.000Z")) == []
    assert await store.run_stats(TimingFilter(until="2000-01-01T00:00:00.000Z")) == []


async def test_pages_walk_back_from_the_newest(db: Database) -> None:
    store = TimingStore(db)
    added = [await store.add(replace(BASE, run_id=f"r{n}")) for n in range(5)]
    ids = [event.id for event in added]
    first = await store.page(TimingFilter(), 2)
    assert [e.id for e in first.rows] == ids[3:]
    second = await store.page(TimingFilter(before_id=first.next_before_id), 2)
    assert [e.id for e in second.rows] == ids[1:3]
    last = await store.page(TimingFilter(before_id=second.next_before_id), 2)
    assert [e.id for e in last.rows] == ids[:1]
    assert last.next_before_id is None


async def test_since_and_until_bound_the_recorded_time(db: Database) -> None:
    store = TimingStore(db)
    added = await store.add(BASE)
    assert added.created_at is not None
    assert await store.query(TimingFilter(since=added.created_at)) == [added]
    assert await store.query(TimingFilter(until=added.created_at)) == []
