"""StepHistoryStore: recent successful runs of a template and a cell's current run."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

from hive.core.status import CellStatus
from hive.store.database import Database
from hive.store.records import CellRecord, TimingEvent
from hive.store.step_history import RunRow, StepHistoryStore, _statement
from hive.store.timings import TimingStore
from tests.store.conftest import MakeCell

STEPS = ("create_worktree", "allocate_ports", "run_setup", "ensure_services", "mark_ready")

ROW = TimingEvent(
    cell_id="old",
    cell_name="old",
    workspace_id="w",
    template_id="basic",
    workflow="create",
    run_id="r",
    step="create_worktree",
    status="ok",
    started_at="2024-01-01T00:00:00.000Z",
    duration_ms=1.0,
    attempt=1,
)


async def add_run(
    store: TimingStore,
    cell_id: str,
    run_id: str,
    steps: tuple[str, ...] = STEPS,
    failed_at: str | None = None,
) -> None:
    for index, step in enumerate(steps):
        await store.add(
            replace(ROW, cell_id=cell_id, run_id=run_id, step=step, duration_ms=index + 1.0)
        )
        await store.add(replace(ROW, cell_id=cell_id, run_id=run_id, step=f"{step}:part"))
    if failed_at is not None:
        await store.add(
            replace(ROW, cell_id=cell_id, run_id=run_id, step=failed_at, status="error")
        )


def spawning(make_cell: MakeCell, workspace_id: str) -> CellRecord:
    return make_cell("now", workspace_id=workspace_id, status=CellStatus.SPAWNING, run_id="current")


async def test_successful_runs_of_the_template_in_the_workspace(
    db: Database, make_cell: MakeCell
) -> None:
    cell = spawning(make_cell, "w")
    store = TimingStore(db)
    await add_run(store, "a", "ok1")
    await add_run(store, "b", "failed", STEPS[:2], failed_at="run_setup")
    await add_run(store, "c", "other-template-run")
    await add_run(store, "d", "other-workspace-run")
    await db.write(
        text("UPDATE cell_timing_events SET template_id='full' WHERE run_id='other-template-run'"),
        text("UPDATE cell_timing_events SET workspace_id='w2' WHERE run_id='other-workspace-run'"),
    )
    await add_run(store, "now", "current", STEPS[:2])
    await store.add(replace(ROW, cell_id="now", run_id="earlier-attempt", step="run_setup"))

    rows = await StepHistoryStore(db).for_cell(cell, STEPS, runs=20)

    # Top-level steps of the one successful run; sub-steps are inside their step's time.
    assert sorted((s.run_id, s.step, s.duration_ms) for s in rows.history) == sorted(
        ("ok1", step, index + 1.0) for index, step in enumerate(STEPS)
    )
    # The current run: every row, sub-steps too; nothing of another run of the cell.
    assert sorted(r.step for r in rows.current) == sorted(
        ["create_worktree", "create_worktree:part", "allocate_ports", "allocate_ports:part"]
    )
    assert all(isinstance(r, RunRow) for r in rows.current)


async def test_only_the_most_recent_runs(db: Database, make_cell: MakeCell) -> None:
    store = TimingStore(db)
    for n in range(5):
        await add_run(store, f"cell{n}", f"run{n}")
    rows = await StepHistoryStore(db).for_cell(spawning(make_cell, "w"), STEPS, runs=3)
    assert {s.run_id for s in rows.history} == {"run2", "run3", "run4"}
    assert rows.current == []


async def test_the_query_uses_the_indexes(db: Database, make_cell: MakeCell) -> None:
    """The detail read must not scan the table: its plan searches by index only."""
    statement = _statement(spawning(make_cell, "w"), STEPS, 20)
    compiled = statement.compile(compile_kwargs={"literal_binds": True})
    plan = await db.all(text(f"EXPLAIN QUERY PLAN {compiled}"))
    details = [row.detail for row in plan]
    assert not any(d.startswith("SCAN cell_timing_events") for d in details), details
    assert any("ix_timing_template_step" in d for d in details), details
    assert any("ix_timing_cell" in d for d in details), details
