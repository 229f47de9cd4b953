"""Table definitions. The schema itself is created and evolved by Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String, primary_key=True),
    Column("path", String, nullable=False, unique=True),
    Column("label", String, nullable=False),
    Column("created_at", String, nullable=False),
)

cells = Table(
    "cells",
    metadata,
    Column("id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name", String, nullable=False),
    Column("description", Text, nullable=True),
    Column("template_id", String, nullable=False),
    Column("status", String, nullable=False),
    Column("worktree_path", String, nullable=False),
    Column("branch_name", String, nullable=False),
    Column("base_ref", String, nullable=True),
    Column("base_commit", String, nullable=True),
    Column("last_setup_error", JSON, nullable=True),
    # Where a running step is: {step, done, total, bytes, at}; kept after it ends.
    Column("progress", JSON, nullable=True),
    # Steps of the create workflow already done: a retry resumes after them.
    Column("completed_steps", JSON, nullable=False),
    Column("run_id", String, nullable=True),
    Column("attempt", Integer, nullable=False),
    # The run start-up recovery last resumed, and how many resumes in a row were cut
    # short again: a cell that keeps killing the server stops being resumed.
    Column("resume_run_id", String, nullable=True),
    Column("resume_streak", Integer, nullable=False, server_default="0"),
    # The brief beyond the description, and the last assembled prompt's sources.
    Column("constraints", JSON, nullable=True),
    Column("success_criteria", JSON, nullable=True),
    Column("prompt", JSON, nullable=True),
    # The agent as it stands ({type, sessionId, status, model, mode, ...}) and what the
    # create request chose for it ({providerId, modelId, startMode}).
    Column("agent", JSON, nullable=True),
    Column("agent_request", JSON, nullable=True),
    # The template options chosen at creation, defaults filled in: {name: value}.
    Column("options", JSON, nullable=True),
    Column("created_at", String, nullable=False),
    Column("updated_at", String, nullable=False),
)

# No foreign key to cells on purpose: timing history outlives deleted cells.
cell_timing_events = Table(
    "cell_timing_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cell_id", String, nullable=False),
    Column("cell_name", String, nullable=False),
    Column("workspace_id", String, nullable=False),
    Column("template_id", String, nullable=False),
    Column("workflow", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("step", String, nullable=False),
    Column("status", String, nullable=False),
    Column("started_at", String, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("metadata", JSON, nullable=True),
    Column("created_at", String, nullable=False),
    Index("ix_timing_cell", "cell_id", "id"),
    Index("ix_timing_template", "template_id", "id"),
    Index("ix_timing_created", "created_at"),
    Index("ix_timing_template_step", "template_id", "step"),
    Index("ix_timing_step_duration", "template_id", "step", "duration_ms"),
)

# Aggregates of cell_timing_events that the summary reads instead of a million rows.
# Triggers (migration 0007) keep them in each row's own transaction; see
# store/timing_rollup.py for how percentiles come out exact.
timing_duration_buckets = Table(
    "timing_duration_buckets",
    metadata,
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    # From `lo` (ms) up to the next bucket's; bucket 0 is everything below bucket 1.
    Column("lo", Float, nullable=False, unique=True),
)

timing_step_buckets = Table(
    "timing_step_buckets",
    metadata,
    Column("template_id", String, primary_key=True),
    Column("step", String, primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("max_ms", Float, nullable=False),
    Column("first_id", Integer, nullable=False),
)

timing_runs = Table(
    "timing_runs",
    metadata,
    Column("template_id", String, primary_key=True),
    Column("workflow", String, primary_key=True),
    Column("run_id", String, primary_key=True),
    # The sum of its top-level steps; failed when one of those failed.
    Column("total_ms", Float, nullable=False),
    Column("failed", Integer, nullable=False),
    Index("ix_timing_runs_total", "template_id", "workflow", "total_ms"),
)

timing_run_buckets = Table(
    "timing_run_buckets",
    metadata,
    Column("template_id", String, primary_key=True),
    Column("workflow", String, primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

# What live streams send: every change worth watching, persisted before it is
# published, so a reconnect replays from here after its Last-Event-ID. The id is the SSE
# id; AUTOINCREMENT keeps ids strictly increasing and never reused.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),
    Column("cell_id", String, nullable=True),
    Column("workspace_id", String, nullable=True),
    Column("data", JSON, nullable=False),
    Column("created_at", String, nullable=False),
    Index("ix_events_cell", "cell_id", "id"),
    Index("ix_events_workspace", "workspace_id", "id"),
    sqlite_autoincrement=True,
)

# Process groups Hive started for a cell and has not yet seen end. A restarted server
# stops the ones still alive (pid and start time must both match: pids are reused).
cell_processes = Table(
    "cell_processes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cell_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_started", Float, nullable=False),
    Column("command", Text, nullable=False),
    Column("created_at", String, nullable=False),
)

# One row per leased port: the primary key makes a port impossible to lease twice, even
# for two cells provisioning at the same moment; rows outlive server restarts.
port_leases = Table(
    "port_leases",
    metadata,
    Column("port", Integer, primary_key=True, autoincrement=False),
    Column("cell_id", String, nullable=False, index=True),
    Column("service", String, nullable=False),
    Column("created_at", String, nullable=False),
)

# The services of each cell as the supervisor last knew them; pid + process start time
# let a restarted server re-adopt a service that is still running (and never a stranger).
cell_services = Table(
    "cell_services",
    metadata,
    Column("cell_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("port", Integer, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("process_started", Float, nullable=True),
    Column("started_at", String, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("restarts", Integer, nullable=False),
    Column("last_error", JSON, nullable=True),
    Column("updated_at", String, nullable=False),
)

# Agent servers Hive runs for all cells (one row: the OpenCode server), with what it
# takes to adopt a running one after a restart (pid + start time, its port) and to
# report it (restarts, last error).
agent_servers = Table(
    "agent_servers",
    metadata,
    Column("name", String, primary_key=True),
    Column("pid", Integer, nullable=True),
    Column("process_started", Float, nullable=True),
    Column("port", Integer, nullable=True),
    Column("restarts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("started_at", String, nullable=True),
    Column("updated_at", String, nullable=False),
)

# CPU and memory of a cell's processes, one row per sample and scope: `cell` (all of
# them), `service:<name>`, `agent`, `setup`. Raw rows are kept 24 h.
resource_samples = Table(
    "resource_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cell_id", String, nullable=False),
    Column("scope", String, nullable=False),
    Column("at", Float, nullable=False),  # Unix time
    Column("cpu_percent", Float, nullable=False),
    Column("rss_bytes", Integer, nullable=False),
    Column("processes", Integer, nullable=False),
    Index("ix_resource_samples_cell", "cell_id", "at"),
    Index("ix_resource_samples_at", "at"),
    sqlite_autoincrement=True,
)

# One-minute rollups of the samples (kept 30 days): count, mean and peak.
resource_rollups = Table(
    "resource_rollups",
    metadata,
    Column("cell_id", String, primary_key=True),
    Column("scope", String, primary_key=True),
    Column("minute", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("cpu_mean", Float, nullable=False),
    Column("cpu_peak", Float, nullable=False),
    Column("rss_mean", Float, nullable=False),
    Column("rss_peak", Integer, nullable=False),
    Index("ix_resource_rollups_minute", "minute"),
)

# A cell's disk as last measured: what its worktree adds (apparent and allocated), the
# share cloned copy-on-write, its logs; `complete` is false when the walk ran out of time.
cell_disk = Table(
    "cell_disk",
    metadata,
    Column("cell_id", String, primary_key=True),
    Column("apparent_bytes", Integer, nullable=False),
    Column("allocated_bytes", Integer, nullable=False),
    Column("cloned_bytes", Integer, nullable=False),
    Column("logs_bytes", Integer, nullable=False),
    Column("files", Integer, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("measured_at", String, nullable=False),
)

# What each cell cost, kept after it is deleted: the history templates' estimates are
# made from (peak memory, mean CPU as a running sum, disk added, services and ports).
cell_footprints = Table(
    "cell_footprints",
    metadata,
    Column("cell_id", String, primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("template_id", String, nullable=False),
    Column("peak_rss_bytes", Integer, nullable=True),
    Column("cpu_sum", Float, nullable=False, server_default="0"),
    Column("cpu_samples", Integer, nullable=False, server_default="0"),
    Column("disk_added_bytes", Integer, nullable=True),
    Column("services", Integer, nullable=False, server_default="0"),
    Column("ports", Integer, nullable=False, server_default="0"),
    Column("created_at", String, nullable=False),
    Column("updated_at", String, nullable=False),
    Index("ix_cell_footprints_template", "workspace_id", "template_id"),
)
