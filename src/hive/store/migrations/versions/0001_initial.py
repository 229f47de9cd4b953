"""Initial schema: workspaces, cells, cell timing events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("path", sa.String, nullable=False, unique=True),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_table(
        "cells",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("workspace_id", sa.String, sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("template_id", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("worktree_path", sa.String, nullable=False),
        sa.Column("branch_name", sa.String, nullable=False),
        sa.Column("base_ref", sa.String, nullable=True),
        sa.Column("base_commit", sa.String, nullable=False),
        sa.Column("last_setup_error", sa.JSON, nullable=True),
        sa.Column("completed_steps", sa.JSON, nullable=False),
        sa.Column("run_id", sa.String, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_index("ix_cells_workspace_id", "cells", ["workspace_id"])
    op.create_table(
        "cell_timing_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cell_id", sa.String, nullable=False),
        sa.Column("cell_name", sa.String, nullable=False),
        sa.Column("workspace_id", sa.String, nullable=False),
        sa.Column("template_id", sa.String, nullable=False),
        sa.Column("workflow", sa.String, nullable=False),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("step", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("started_at", sa.String, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=True),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("ix_timing_cell", "cell_timing_events", ["cell_id", "id"])
    op.create_index("ix_timing_template", "cell_timing_events", ["template_id", "id"])


def downgrade() -> None:
    op.drop_table("cell_timing_events")
    op.drop_table("cells")
    op.drop_table("workspaces")
