"""TemplateHistoryStore: create runs that reached ready (totals of their top-level
steps), and footprints, per template of one workspace, the most recent first."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import insert, text

from hive.core.estimates import Footprint, RunTotal
from hive.store.database import Database
from hive.store.records import TimingEvent
from hive.store.tables import cell_footprints
from hive.store.template_history import TemplateHistoryStore, _runs
from hive.store.timings import TimingStore

ROW = TimingEvent(
    cell_id="a",
    cell_name="a",
    workspace_id="w",
    template_id="web",
    workflow="create",
    run_id="r",
    step="create_worktree",
    status="ok",
    started_at="2024-01-01T00:00:00.000Z",
    duration_ms=100.0,
    attempt=1,
)
STEPS = ("create_request_received", "create_worktree", "run_setup", "mark_ready")


async def add_run(db: Database, cell_id: str, *, last: str = "mark_ready", **fields: str) -> None:
    store = TimingStore(db)
    for step in STEPS[: STEPS.index(last) + 1]:
        status = "error" if step == last and last != "mark_ready" else "ok"
        row = replace(ROW, cell_id=cell_id, run_id=f"run-{cell_id}", step=step, status=status)
        await store.add(replace(row, **fields))
        await store.add(replace(row, step=f"{step}:part", duration_ms=5000.0, **fields))


async def test_runs_that_reached_ready_with_their_totals(db: Database) -> None:
    await add_run(db, "a")
    await add_run(db, "failed", last="run_setup")
    await add_run(db, "retried", workflow="retry")  # resumed: not a whole provisioning
    await add_run(db, "other-ws", workspace_id="w2")
    await add_run(db, "other-template", template_id="api")
    await add_run(db, "not-asked", template_id="gone")

    runs = await TemplateHistoryStore(db).runs("w", ["web", "api"], per_template=20)
    assert set(runs) == {"web", "api"}
    [run] = runs["web"]
    assert (run.cell_id, run.total_ms) == ("a", 400.0), "top-level steps only"
    assert isinstance(run, RunTotal) and run.at.startswith("20")
    assert [r.cell_id for r in runs["api"]] == ["other-template"]
    assert await TemplateHistoryStore(db).runs("w", [], per_template=20) == {}


async def test_only_the_most_recent_runs_per_template(db: Database) -> None:
    for n in range(5):
        await add_run(db, f"c{n}")
    runs = await TemplateHistoryStore(db).runs("w", ["web"], per_template=2)
    assert sorted(r.cell_id for r in runs["web"]) == ["c3", "c4"]


async def test_the_runs_query_reads_through_indexes(db: Database) -> None:
    compiled = _runs("w", ["web"], 20).compile(compile_kwargs={"literal_binds": True})
    plan = [row.detail for row in await db.all(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert not any(d.startswith("SCAN cell_timing_events") for d in plan), plan
    assert any("ix_timing_template_step" in d for d in plan), plan


async def test_footprints_per_template_most_recent_first_nulls_kept(db: Database) -> None:
    rows = [
        {"cell_id": "a", "template_id": "web", "updated_at": "2024-01-01", "peak_rss_bytes": 5},
        {"cell_id": "b", "template_id": "web", "updated_at": "2024-01-03", "cpu_sum": 9.0},
        {"cell_id": "c", "template_id": "web", "updated_at": "2024-01-02", "cpu_samples": 3},
        {"cell_id": "d", "template_id": "api", "updated_at": "2024-01-01"},
        {"cell_id": "e", "template_id": "web", "updated_at": "2024-01-09", "workspace_id": "w2"},
    ]
    for row in rows:
        await db.write(
            insert(cell_footprints).values({"workspace_id": "w", "created_at": "2024-01-01", **row})
        )
    found = await TemplateHistoryStore(db).footprints("w", per_template=2)
    assert sorted(found) == ["api", "web"]
    assert sorted(found["web"], key=lambda f: f.cell_id) == [
        Footprint("b", "2024-01-03", None, 9.0, 0, None),
        Footprint("c", "2024-01-02", None, 0.0, 3, None),
    ]
    assert found["api"] == [Footprint("d", "2024-01-01")]
