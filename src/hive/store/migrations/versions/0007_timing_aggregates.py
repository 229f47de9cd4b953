"""Timing aggregates kept by triggers, so the summary reads thousands of rows, not millions.

- `timing_duration_buckets`: the duration histogram's buckets, each from its `lo`
  (ms) to the next one's; bucket 0 holds everything below the first `lo`.
- `timing_step_buckets`: per template, step and bucket, the exact count, failures,
  largest duration and first row id of the rows that fell in it.
- `timing_runs`: per template, workflow and run, the total of its top-level steps
  and whether one of them failed.
- `timing_run_buckets`: per template, workflow and bucket of run totals, the exact
  count and failures of the runs whose total is in it (a run moves between buckets
  as its rows arrive).
- `ix_timing_step_duration` and `ix_timing_runs_total`: a step's durations, a
  workflow's run totals in order, where a percentile is read once its bucket is known.
  (`ix_timing_template_step` stays: the ETA's query plans on the narrower index.)

Triggers keep the aggregates in the transaction of every row written, whoever writes
it (the store, a benchmark, a test). Timing rows are never updated or deleted (they
outlive cells), so an insert is all a trigger has to follow.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Eight buckets per doubling (each about 9 % wide), from 2^-10 ms up to about 17 hours.
_BUCKETS = [(b, 2.0 ** ((b - 81) / 8)) for b in range(1, 289)]

_BUCKET_OF = """COALESCE((SELECT bucket FROM timing_duration_buckets
    WHERE lo <= {duration} ORDER BY lo DESC LIMIT 1), 0)"""
_TOP_LEVEL = "{step} NOT LIKE '%:%'"

_TRIGGER = f"""
CREATE TRIGGER tr_timing_aggregates AFTER INSERT ON cell_timing_events
BEGIN
    INSERT INTO timing_step_buckets
        (template_id, step, bucket, count, failed, max_ms, first_id)
    VALUES (
        NEW.template_id, NEW.step, {_BUCKET_OF.format(duration="NEW.duration_ms")}, 1,
        NEW.status = 'error', NEW.duration_ms, NEW.id
    )
    ON CONFLICT DO UPDATE SET
        count = count + 1,
        failed = failed + excluded.failed,
        max_ms = max(max_ms, excluded.max_ms),
        first_id = min(first_id, excluded.first_id);
    INSERT INTO timing_runs
        (template_id, workflow, run_id, total_ms, failed)
    VALUES (
        NEW.template_id, NEW.workflow, NEW.run_id,
        CASE WHEN {_TOP_LEVEL.format(step="NEW.step")} THEN NEW.duration_ms ELSE 0.0 END,
        {_TOP_LEVEL.format(step="NEW.step")} AND NEW.status = 'error'
    )
    ON CONFLICT DO UPDATE SET
        total_ms = total_ms + excluded.total_ms,
        failed = max(failed, excluded.failed);
END
"""

# A run is counted in the bucket of its total; an upsert's update fires the second.
_RUN_TRIGGERS = (
    f"""
CREATE TRIGGER tr_timing_run_added AFTER INSERT ON timing_runs
BEGIN
    INSERT INTO timing_run_buckets (template_id, workflow, bucket, count, failed)
    VALUES (
        NEW.template_id, NEW.workflow, {_BUCKET_OF.format(duration="NEW.total_ms")}, 1, NEW.failed
    )
    ON CONFLICT DO UPDATE SET count = count + 1, failed = failed + excluded.failed;
END
""",
    f"""
CREATE TRIGGER tr_timing_run_changed AFTER UPDATE OF total_ms, failed ON timing_runs
BEGIN
    UPDATE timing_run_buckets SET count = count - 1, failed = failed - OLD.failed
    WHERE template_id = OLD.template_id AND workflow = OLD.workflow
        AND bucket = {_BUCKET_OF.format(duration="OLD.total_ms")};
    INSERT INTO timing_run_buckets (template_id, workflow, bucket, count, failed)
    VALUES (
        NEW.template_id, NEW.workflow, {_BUCKET_OF.format(duration="NEW.total_ms")}, 1, NEW.failed
    )
    ON CONFLICT DO UPDATE SET count = count + 1, failed = failed + excluded.failed;
END
""",
)

_BACKFILL_STEPS = f"""
INSERT INTO timing_step_buckets (template_id, step, bucket, count, failed, max_ms, first_id)
SELECT template_id, step, bucket, count(*), sum(status = 'error'), max(duration_ms), min(id)
FROM (SELECT *, {_BUCKET_OF.format(duration="duration_ms")} AS bucket FROM cell_timing_events)
GROUP BY template_id, step, bucket
"""

_BACKFILL_RUNS = f"""
INSERT INTO timing_runs (template_id, workflow, run_id, total_ms, failed)
SELECT template_id, workflow, run_id,
    total(CASE WHEN {_TOP_LEVEL.format(step="step")} THEN duration_ms ELSE 0.0 END),
    max({_TOP_LEVEL.format(step="step")} AND status = 'error')
FROM cell_timing_events
GROUP BY template_id, workflow, run_id
"""

_BACKFILL_RUN_BUCKETS = f"""
INSERT INTO timing_run_buckets (template_id, workflow, bucket, count, failed)
SELECT template_id, workflow, bucket, count(*), sum(failed)
FROM (SELECT *, {_BUCKET_OF.format(duration="total_ms")} AS bucket FROM timing_runs)
GROUP BY template_id, workflow, bucket
"""


def upgrade() -> None:
    buckets = op.create_table(
        "timing_duration_buckets",
        sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("lo", sa.Float, nullable=False, unique=True),
    )
    op.bulk_insert(buckets, [{"bucket": b, "lo": lo} for b, lo in _BUCKETS])
    op.create_table(
        "timing_step_buckets",
        sa.Column("template_id", sa.String, primary_key=True),
        sa.Column("step", sa.String, primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("max_ms", sa.Float, nullable=False),
        sa.Column("first_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "timing_runs",
        sa.Column("template_id", sa.String, primary_key=True),
        sa.Column("workflow", sa.String, primary_key=True),
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column("total_ms", sa.Float, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    op.create_index("ix_timing_runs_total", "timing_runs", ["template_id", "workflow", "total_ms"])
    op.create_table(
        "timing_run_buckets",
        sa.Column("template_id", sa.String, primary_key=True),
        sa.Column("workflow", sa.String, primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    for statement in (_BACKFILL_STEPS, _BACKFILL_RUNS, _BACKFILL_RUN_BUCKETS):
        op.execute(statement)
    for trigger in (_TRIGGER, *_RUN_TRIGGERS):
        op.execute(trigger)
    op.create_index(
        "ix_timing_step_duration", "cell_timing_events", ["template_id", "step", "duration_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_timing_step_duration", "cell_timing_events")
    for trigger in ("tr_timing_run_changed", "tr_timing_run_added", "tr_timing_aggregates"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("timing_run_buckets")
    op.drop_index("ix_timing_runs_total", "timing_runs")
    op.drop_table("timing_runs")
    op.drop_table("timing_step_buckets")
    op.drop_table("timing_duration_buckets")
