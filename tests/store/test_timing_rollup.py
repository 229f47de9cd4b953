"""The summary from the trigger-kept aggregates agrees with one computed from the rows."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

from hive.store import timing_summary
from hive.store.cells import CellStore
from hive.store.database import Database, migrate, open_database
from hive.store.records import TimingEvent
from hive.store.timings import TimingFilter, TimingStore
from tests.store.conftest import MakeCell

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
STEPS = ("create_worktree", "create_worktree:git_add", "run_setup", "run_setup:1", "mark_ready")
# Bucket edges (2^k, each a bucket's lower bound), zero, below the first bucket, far
# above the last, repeats: each must land on the side of its edge that the reads expect.
EDGES = (0.0, 0.0001, 2.0**-10, 1.0, 1.0, 2.0, 2.0**0.125, 8.0, 1e9)


def events(rnd: random.Random, runs: int, cell_id: str = "c1") -> list[TimingEvent]:
    made = []
    for n in range(runs):
        run = replace(
            BASE,
            cell_id=cell_id,
            template_id=rnd.choice(("web", "api", "docs")),
            workflow=rnd.choice(("create", "retry", "delete")),
            run_id=f"{cell_id}-r{n}",
        )
        for step in rnd.sample(STEPS, rnd.randint(1, len(STEPS))):
            took = rnd.choice(EDGES) if rnd.random() < 0.3 else rnd.lognormvariate(3, 1.5)
            status = "error" if rnd.random() < 0.1 else "ok"
            made.append(replace(run, step=step, duration_ms=took, status=status))
    return made


FILTERS = (
    TimingFilter(),
    TimingFilter(template_id="web"),
    TimingFilter(template_id="api", workflow="retry"),
    TimingFilter(workflow="delete"),
    TimingFilter(template_id="nowhere"),
)


async def assert_agree(db: Database) -> None:
    for where in FILTERS:
        from_rows = await timing_summary.step_stats_from_rows(db, where)
        assert await timing_summary.step_stats(db, where) == from_rows, where
        runs = await timing_summary.run_stats_from_rows(db, where)
        assert await timing_summary.run_stats(db, where) == runs, where


async def test_aggregates_agree_with_the_rows(db: Database) -> None:
    store = TimingStore(db)
    for event in events(random.Random(3), 300):
        await store.add(event)
    summary = await timing_summary.step_stats(db, TimingFilter())
    assert {s.template_id for s in summary} == {"web", "api", "docs"}
    await assert_agree(db)


async def test_a_deleted_cells_rows_still_count(
    db: Database, cells: CellStore, make_cell: MakeCell
) -> None:
    store = TimingStore(db)
    rnd = random.Random(5)
    await cells.insert(make_cell("gone"))
    for event in events(rnd, 40, cell_id="gone"):
        await store.add(event)
    await cells.delete("gone")
    for event in events(rnd, 40, cell_id="kept"):
        await store.add(event)
    everything = await timing_summary.step_stats(db, TimingFilter())
    gone = await timing_summary.step_stats_from_rows(db, TimingFilter(cell_id="gone"))
    assert sum(s.count for s in gone) > 0
    assert sum(s.count for s in everything) == len(await store.query(TimingFilter()))
    await assert_agree(db)


async def test_the_migration_fills_the_aggregates_from_rows_already_there(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hive.db"
    migrate(path, "0006")  # the schema before the aggregates
    columns = "cell_id, cell_name, workspace_id, template_id, workflow, run_id, step, status"
    columns += ", started_at, duration_ms, attempt, created_at"
    with sqlite3.connect(path) as conn:
        conn.executemany(
            f"INSERT INTO cell_timing_events ({columns}) VALUES ({', '.join('?' * 12)})",
            [
                (e.cell_id, e.cell_name, e.workspace_id, e.template_id, e.workflow, e.run_id,
                 e.step, e.status, e.started_at, e.duration_ms, e.attempt, e.started_at)
                for e in events(random.Random(9), 100)
            ],
        )  # fmt: skip
    db = await open_database(path)
    try:
        assert await timing_summary.step_stats(db, TimingFilter()) != []
        await assert_agree(db)
        await TimingStore(db).add(replace(BASE, run_id="after", duration_ms=3.0))
        await assert_agree(db)
    finally:
        await db.close()
