"""What cells cost: CPU and memory samples of every process of a cell (raw for 24 h,
one-minute rollups for 30 days), each cell's disk as last measured, and per cell a
footprint that outlives it, for the estimates templates show before creation.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cell_id", sa.String, nullable=False),
        sa.Column("scope", sa.String, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("cpu_percent", sa.Float, nullable=False),
        sa.Column("rss_bytes", sa.Integer, nullable=False),
        sa.Column("processes", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_resource_samples_cell", "resource_samples", ["cell_id", "at"])
    op.create_index("ix_resource_samples_at", "resource_samples", ["at"])
    op.create_table(
        "resource_rollups",
        sa.Column("cell_id", sa.String, primary_key=True),
        sa.Column("scope", sa.String, primary_key=True),
        sa.Column("minute", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("cpu_mean", sa.Float, nullable=False),
        sa.Column("cpu_peak", sa.Float, nullable=False),
        sa.Column("rss_mean", sa.Float, nullable=False),
        sa.Column("rss_peak", sa.Integer, nullable=False),
    )
    op.create_index("ix_resource_rollups_minute", "resource_rollups", ["minute"])
    op.create_table(
        "cell_disk",
        sa.Column("cell_id", sa.String, primary_key=True),
        sa.Column("apparent_bytes", sa.Integer, nullable=False),
        sa.Column("allocated_bytes", sa.Integer, nullable=False),
        sa.Column("cloned_bytes", sa.Integer, nullable=False),
        sa.Column("logs_bytes", sa.Integer, nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("measured_at", sa.String, nullable=False),
    )
    op.create_table(
        "cell_footprints",
        sa.Column("cell_id", sa.String, primary_key=True),
        sa.Column("workspace_id", sa.String, nullable=False),
        sa.Column("template_id", sa.String, nullable=False),
        sa.Column("peak_rss_bytes", sa.Integer, nullable=True),
        sa.Column("cpu_sum", sa.Float, nullable=False, server_default="0"),
        sa.Column("cpu_samples", sa.Integer, nullable=False, server_default="0"),
        sa.Column("disk_added_bytes", sa.Integer, nullable=True),
        sa.Column("services", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ports", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_index(
        "ix_cell_footprints_template", "cell_footprints", ["workspace_id", "template_id"]
    )


def downgrade() -> None:
    op.drop_table("cell_footprints")
    op.drop_table("cell_disk")
    op.drop_table("resource_rollups")
    op.drop_table("resource_samples")
