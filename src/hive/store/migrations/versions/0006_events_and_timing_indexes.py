"""The event log behind live streams, and indexes for timing analytics.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        # AUTOINCREMENT: ids strictly increase and are never reused (they are SSE ids).
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("cell_id", sa.String, nullable=True),
        sa.Column("workspace_id", sa.String, nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_cell", "events", ["cell_id", "id"])
    op.create_index("ix_events_workspace", "events", ["workspace_id", "id"])
    op.create_index("ix_timing_created", "cell_timing_events", ["created_at"])
    op.create_index("ix_timing_template_step", "cell_timing_events", ["template_id", "step"])


def downgrade() -> None:
    op.drop_index("ix_timing_template_step", "cell_timing_events")
    op.drop_index("ix_timing_created", "cell_timing_events")
    op.drop_index("ix_events_workspace", "events")
    op.drop_index("ix_events_cell", "events")
    op.drop_table("events")
