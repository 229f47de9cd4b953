"""Per-template timing statistics, computed by SQLite in one statement each.

Percentiles are nearest-rank: the p-th percentile of n durations is the k-th smallest,
k = ceil(p * n / 100), so it is always a duration that was measured. Ranks come from
ROW_NUMBER() over each group ordered by duration; ceil is integer arithmetic
((p * n + 99) / 100, SQLite dividing integers exactly as floor).

Over all rows, or one template's (one workflow's, for runs), the figures come from the
aggregates triggers keep (timing_rollup.py), with the same results; any other filter
reads the matching rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, case, cast, func, literal_column, select

from hive.store import timing_rollup
from hive.store.database import Database
from hive.store.tables import cell_timing_events as t
from hive.store.timing_filter import TimingFilter, conditions


@dataclass(frozen=True)
class StepStats:
    template_id: str
    step: str
    count: int
    p50_ms: float
    p90_ms: float
    max_ms: float
    failure_rate: float


@dataclass(frozen=True)
class RunStats:
    """Runs of one workflow of a template; a run's total is the sum of its top-level
    steps (sub-steps are inside them), failed when one of those failed."""

    template_id: str
    workflow: str
    count: int
    p50_ms: float
    p90_ms: float
    failure_rate: float


def _rank(n: Any, percent: int) -> Any:
    return (n * percent + 99) // 100


def _unindexed(column: Any) -> Any:
    """`column || ''`: the same text, but no index can order it. Without this SQLite
    walks ix_timing_template_step to group rows, fetching every row by rowid in index
    order (random reads), several times slower than one scan and a sort. Filters keep
    their indexes (a `since` still uses ix_timing_created). A literal, not a bound
    parameter: windows written alike share one sort only when their text is equal."""
    return column.concat(literal_column("''"))


def _step_stats(where: TimingFilter) -> Any:
    group = (_unindexed(t.c.template_id), t.c.step)
    # Every window has the same partition and order, so SQLite sorts the rows once;
    # the counts take the whole partition as their frame.
    ordered: dict[str, Any] = {"partition_by": group, "order_by": t.c.duration_ms}
    whole: dict[str, Any] = {**ordered, "rows": (None, None)}
    r = (
        select(
            t.c.template_id,
            t.c.step,
            t.c.duration_ms,
            func.row_number().over(**ordered).label("rn"),
            func.count().over(**whole).label("n"),
            func.sum(case((t.c.status == "error", 1), else_=0)).over(**whole).label("failed"),
        )
        .where(*conditions(where))
        .subquery()
    )
    p50, p90 = _rank(r.c.n, 50), _rank(r.c.n, 90)
    stats = (
        select(
            r.c.template_id,
            r.c.step,
            func.max(r.c.n).label("n_rows"),
            func.max(case((r.c.rn == p50, r.c.duration_ms))).label("p50"),
            func.max(case((r.c.rn == p90, r.c.duration_ms))).label("p90"),
            func.max(r.c.duration_ms).label("max"),
            func.max(cast(r.c.failed, Float) / r.c.n).label("failures"),
        )
        # Only the rows the figures read go on to the grouping: three per step.
        .where((r.c.rn == p50) | (r.c.rn == p90) | (r.c.rn == r.c.n))
        .group_by(r.c.template_id, r.c.step)
        .subquery()
    )
    # Steps in the order they first happened (the workflow's own order). Over all rows
    # the index on (template_id, step) answers it without reading the table; under a
    # filter, walking that index would fetch every row to test it, so the filter's own
    # index picks the rows and they are sorted instead.
    terms = conditions(where)
    first = (
        select(t.c.template_id, t.c.step, func.min(t.c.id).label("first_id"))
        .where(*terms)
        .group_by(_unindexed(t.c.template_id) if terms else t.c.template_id, t.c.step)
        .subquery()
    )
    return (
        select(stats)
        .join(first, (first.c.template_id == stats.c.template_id) & (first.c.step == stats.c.step))
        .order_by(stats.c.template_id, first.c.first_id)
    )


def _run_stats(where: TimingFilter) -> Any:
    top_level = t.c.step.not_like("%:%")
    runs = (
        select(
            t.c.template_id,
            t.c.workflow,
            func.sum(case((top_level, t.c.duration_ms), else_=0.0)).label("total"),
            func.max(case((top_level & (t.c.status == "error"), 1), else_=0)).label("failed"),
        )
        .where(*conditions(where))
        .group_by(_unindexed(t.c.template_id), t.c.workflow, t.c.run_id)
        .subquery()
    )
    ranked = select(
        runs,
        func.row_number()
        .over(partition_by=(runs.c.template_id, runs.c.workflow), order_by=runs.c.total)
        .label("rn"),
        func.count().over(partition_by=(runs.c.template_id, runs.c.workflow)).label("n"),
    ).subquery()
    return (
        select(
            ranked.c.template_id,
            ranked.c.workflow,
            func.max(ranked.c.n).label("n_rows"),
            func.max(case((ranked.c.rn == _rank(ranked.c.n, 50), ranked.c.total))).label("p50"),
            func.max(case((ranked.c.rn == _rank(ranked.c.n, 90), ranked.c.total))).label("p90"),
            func.avg(cast(ranked.c.failed, Float)).label("failures"),
        )
        .group_by(ranked.c.template_id, ranked.c.workflow)
        .order_by(ranked.c.template_id, ranked.c.workflow)
    )


async def step_stats(db: Database, where: TimingFilter) -> list[StepStats]:
    if timing_rollup.covers(where, timing_rollup.STEP_GROUPS):
        return [
            StepStats(r.template_id, r.step, r.n, r.p50, r.p90, r.max_ms, _rate(r.failed, r.n))
            for r in await timing_rollup.step_rows(db, where)
        ]
    return await step_stats_from_rows(db, where)


async def run_stats(db: Database, where: TimingFilter) -> list[RunStats]:
    if timing_rollup.covers(where, timing_rollup.RUN_GROUPS):
        return [
            RunStats(r.template_id, r.workflow, r.n, _ms(r.p50), _ms(r.p90), _rate(r.failed, r.n))
            for r in await timing_rollup.run_rows(db, where)
        ]
    return await run_stats_from_rows(db, where)


def _rate(failed: int, n: int) -> float:
    return round(failed / n, 4)


def _ms(total: float) -> float:
    """A run total to the nanosecond: sums of the same durations added in another order
    (kept as rows arrive, or summed afresh) differ only far below that."""
    return round(total, 6)


async def step_stats_from_rows(db: Database, where: TimingFilter) -> list[StepStats]:
    """`step_stats` read from the matching rows themselves, whatever the filter."""
    rows = await db.all(_step_stats(where))
    return [
        StepStats(r.template_id, r.step, r.n_rows, r.p50, r.p90, r.max, round(r.failures, 4))
        for r in rows
    ]


async def run_stats_from_rows(db: Database, where: TimingFilter) -> list[RunStats]:
    """`run_stats` read from the matching rows themselves, whatever the filter."""
    rows = await db.all(_run_stats(where))
    return [
        RunStats(r.template_id, r.workflow, r.n_rows, _ms(r.p50), _ms(r.p90), round(r.failures, 4))
        for r in rows
    ]
