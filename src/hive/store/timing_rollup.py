"""The summary from the aggregates triggers keep (migration 0007), not from every row.

A histogram per group (template and step; template and workflow for runs) holds the
exact count of values in each duration bucket. The k-th smallest value (nearest rank,
as in timing_summary.py) lies in the bucket where the running count first reaches k;
only that bucket's values are then read, in order, through an index on (group,
value), and the one at rank k inside it is the answer. So the figures are exact (the
same as over all rows), and a summary reads a few thousand rows however many there
are. Run totals are sums kept as rows arrive, so they can differ from a fresh sum in
the last bit of a float.

The aggregates are over all rows: only filters that are part of their groups
(templateId; workflow for runs) are answered here (`covers`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import TextClause, text

from hive.store.database import Database
from hive.store.timing_filter import TimingFilter


@dataclass(frozen=True)
class _Histogram:
    buckets: str
    """The table of bucket counts per group."""
    group: tuple[str, str]
    values: str
    """The table whose `value` column the buckets count, indexed on (group, value)."""
    value: str
    extra: str = ""
    """More aggregates of the bucket rows, each `, expression AS name`."""


_STEPS = _Histogram(
    "timing_step_buckets",
    ("template_id", "step"),
    "cell_timing_events",
    "duration_ms",
    ", max(max_ms) AS max_ms, min(first_id) AS first_id",
)
_RUNS = _Histogram("timing_run_buckets", ("template_id", "workflow"), "timing_runs", "total_ms")


def covers(where: TimingFilter, groups: frozenset[str]) -> bool:
    """Whether `where` sets nothing but fields that group the aggregates."""
    return all(getattr(where, f.name) is None for f in fields(where) if f.name not in groups)


STEP_GROUPS = frozenset({"template_id"})
RUN_GROUPS = frozenset({"template_id", "workflow"})


def _statement(h: _Histogram, where: dict[str, str], order: str) -> TextClause:
    g1, g2 = h.group
    filters = " AND ".join(f"{column} = :{column}" for column in where) or "1"
    # Identifiers come from this module only; the filter's values are bound.
    sql = f"""
WITH b AS (
    SELECT {g1}, {g2}, bucket, count, failed,
        sum(count) OVER (PARTITION BY {g1}, {g2} ORDER BY bucket ROWS UNBOUNDED PRECEDING)
            AS upto
    FROM {h.buckets} WHERE {filters}
),
g AS (
    SELECT {g1}, {g2}, sum(count) AS n, sum(failed) AS failed{h.extra}
    FROM {h.buckets} WHERE {filters} GROUP BY {g1}, {g2} HAVING sum(count) > 0
),
ranks AS (
    SELECT g.{g1}, g.{g2}, p.column1 AS percent, (g.n * p.column1 + 99) / 100 AS k
    FROM g, (VALUES (50), (90)) AS p
),
picked AS (
    SELECT r.{g1}, r.{g2}, r.percent, r.k - (b.upto - b.count) AS inside,
        coalesce(lo.lo, -9e999) AS lo, coalesce(hi.lo, 9e999) AS hi
    FROM ranks AS r
    JOIN b ON b.{g1} = r.{g1} AND b.{g2} = r.{g2} AND b.upto - b.count < r.k AND r.k <= b.upto
    LEFT JOIN timing_duration_buckets AS lo ON lo.bucket = b.bucket
    LEFT JOIN timing_duration_buckets AS hi ON hi.bucket = b.bucket + 1
),
valued AS MATERIALIZED (  -- each value read once, not once per CASE below
    SELECT picked.*, (
        SELECT v FROM (
            SELECT {h.value} AS v, row_number() OVER (ORDER BY {h.value}) AS rn
            FROM {h.values} AS x
            WHERE x.{g1} = picked.{g1} AND x.{g2} = picked.{g2}
                AND x.{h.value} >= picked.lo AND x.{h.value} < picked.hi
        ) WHERE rn = picked.inside
    ) AS v
    FROM picked
)
SELECT g.*,
    max(CASE WHEN valued.percent = 50 THEN valued.v END) AS p50,
    max(CASE WHEN valued.percent = 90 THEN valued.v END) AS p90
FROM g JOIN valued ON valued.{g1} = g.{g1} AND valued.{g2} = g.{g2}
GROUP BY g.{g1}, g.{g2}
ORDER BY {order}
"""
    return text(sql).bindparams(**where)


def _bound(where: TimingFilter, groups: frozenset[str]) -> dict[str, str]:
    return {
        name: getattr(where, name) for name in sorted(groups) if getattr(where, name) is not None
    }


async def step_rows(db: Database, where: TimingFilter) -> list[Any]:
    """Per template and step: n, failed, p50, p90, max_ms; steps in the order they
    first happened."""
    statement = _statement(_STEPS, _bound(where, STEP_GROUPS), "g.template_id, g.first_id")
    return await db.all(statement)


async def run_rows(db: Database, where: TimingFilter) -> list[Any]:
    """Per template and workflow: n (runs), failed, p50, p90 of run totals."""
    statement = _statement(_RUNS, _bound(where, RUN_GROUPS), "g.template_id, g.workflow")
    return await db.all(statement)
