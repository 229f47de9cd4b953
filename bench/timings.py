"""Benchmark: the timing summary (`summary=1`) on a million synthetic timing rows.

The rows are written straight into a Hive database (cells of several templates, each
create run with its steps and sub-steps, some retries and deletes, spread over 30
days) at revision 0006, before the summary's aggregates exist; the migration that adds
them then fills them from the rows, as on a user's machine. (Through the triggers, a
million single inserts take about 90 s instead of 12 s; the tests hold triggers and
migration to the same figures.) Then, interleaved A B A B … with medians, because this
machine's speed drifts between runs:

  A  `SELECT COUNT(*) FROM cell_timing_events`: the baseline, the cheapest question
     SQLite can answer about every row
  B  the whole summary as `GET /api/cells/timings/global?summary=1` computes it:
     TimingStore.step_stats then run_stats, through Hive's Database (reader threads),
     from the aggregates
  C  the same summary for the last day only (`since=1d`), read from its rows
  D  the whole summary read from every row (what B did before the aggregates)

Printed: each median in ms and B/A, C/A, D/A. The target for B is < 100 ms.

Run: `.venv/bin/python bench/timings.py [--rows N] [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hive.core.time_bounds import stored_form
from hive.store import timing_summary
from hive.store.database import Database, migrate, open_database
from hive.store.tables import cell_timing_events
from hive.store.timings import TimingFilter, TimingStore

TEMPLATES = ("web", "api", "worker", "docs", "mobile")
CREATE_STEPS = (
    ("create_request_received", 1),
    ("create_cell_record", 2),
    ("create_worktree:base_commit", 5),
    ("create_worktree:git_add", 40),
    ("create_worktree:include_copy", 60),
    ("create_worktree:place_included", 3),
    ("create_worktree", 110),
    ("allocate_ports:cell_files", 2),
    ("allocate_ports", 4),
    ("run_setup:1", 900),
    ("run_setup:2", 300),
    ("run_setup", 1200),
    ("ensure_services:start:db", 20),
    ("ensure_services:ready:db", 700),
    ("ensure_services:start:api", 30),
    ("ensure_services:ready:api", 400),
    ("ensure_services", 1150),
    ("mark_ready", 2),
)
DELETE_STEPS = (
    ("cancel_provisioning", 1),
    ("close_agent_session", 1),
    ("stop_services", 50),
    ("release_ports", 1),
    ("snapshot_work", 40),
    ("remove_workspace", 80),
    ("delete_branch", 10),
    ("delete_cell_record", 1),
)
COLUMNS = (
    "cell_id, cell_name, workspace_id, template_id, workflow, run_id, step, status, "
    "started_at, duration_ms, attempt, error, metadata, created_at"
)


def synthetic_rows(count: int, now: datetime, rnd: random.Random) -> Iterator[tuple[Any, ...]]:
    workspace = uuid.uuid4().hex
    made = 0
    while made < count:
        cell, template = uuid.uuid4().hex, rnd.choice(TEMPLATES)
        at = now - timedelta(seconds=rnd.uniform(0, 30 * 86400))
        runs = [("create", CREATE_STEPS, 1)]
        if rnd.random() < 0.1:
            runs.append(("retry", CREATE_STEPS[9:], 2))
        if rnd.random() < 0.5:
            runs.append(("delete", DELETE_STEPS, 1))
        for workflow, steps, attempt in runs:
            run = uuid.uuid4().hex
            for step, typical in steps:
                took = typical * rnd.lognormvariate(0, 0.5)
                failed = rnd.random() < 0.01
                stamp = stored_form(at)
                yield (
                    cell, f"cell {made}", workspace, template, workflow, run, step,
                    "error" if failed else "ok", stamp, round(took, 3), attempt,
                    "boom" if failed else None, None, stamp,
                )  # fmt: skip
                at += timedelta(milliseconds=took)
                made += 1
                if made >= count:
                    return


def fill(path: Path, count: int, now: datetime) -> None:
    migrate(path, "0006")
    with sqlite3.connect(path) as conn:
        marks = ", ".join("?" * 14)
        conn.executemany(
            f"INSERT INTO cell_timing_events ({COLUMNS}) VALUES ({marks})",
            synthetic_rows(count, now, random.Random(7)),
        )
    migrate(path)
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await work()
    return (time.perf_counter() - began) * 1000


async def measure(
    db: Database, rounds: int, now: datetime, *, from_rows: bool = True
) -> dict[str, list[float]]:
    """Medians' samples of A, B, C and (with `from_rows`) D, interleaved."""
    store = TimingStore(db)
    day = TimingFilter(since=stored_form(now - timedelta(days=1)))

    async def baseline() -> object:
        return await db.first(select(func.count()).select_from(cell_timing_events))

    async def summary(where: TimingFilter) -> object:
        return await store.step_stats(where), await store.run_stats(where)

    async def whole_from_rows() -> object:
        everything = TimingFilter()
        return (
            await timing_summary.step_stats_from_rows(db, everything),
            await timing_summary.run_stats_from_rows(db, everything),
        )

    runs: dict[str, list[float]] = {"A": [], "B": [], "C": [], "D": []}
    await whole_from_rows()  # warm the page cache for every side alike
    for n in range(rounds):
        runs["A"].append(await timed(baseline))
        runs["B"].append(await timed(lambda: summary(TimingFilter())))
        runs["A"].append(await timed(baseline))
        runs["C"].append(await timed(lambda: summary(day)))
        if from_rows and n < 3:  # seconds each: three are enough for a median
            runs["A"].append(await timed(baseline))
            runs["D"].append(await timed(whole_from_rows))
    return runs


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="hive-bench-timings-") as tmp:
        path = Path(tmp) / "hive.db"
        began = time.perf_counter()
        await asyncio.to_thread(fill, path, args.rows, now)
        print(f"{args.rows:,} synthetic rows written in {time.perf_counter() - began:.1f} s")
        db = await open_database(path)
        try:
            runs = await measure(db, args.rounds, now)
        finally:
            await db.close()
    a, b, c, d = (statistics.median(runs[key]) for key in "ABCD")
    print(f"A  SELECT COUNT(*) baseline     median {a:8.1f} ms")
    print(
        f"B  summary, all rows            median {b:8.1f} ms  B/A {b / a:6.1f}x  (target < 100 ms)"
    )
    print(f"C  summary, since=1d            median {c:8.1f} ms  C/A {c / a:6.1f}x")
    print(f"D  summary from every row       median {d:8.1f} ms  D/A {d / a:6.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
