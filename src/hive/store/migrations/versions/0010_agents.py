"""Agent sessions: a cell's agent as it stands (`agent`) and the model and mode its
create request chose (`agent_request`), as JSON; and the agent servers Hive runs (the
OpenCode server), so a restarted Hive adopts the one still running instead of starting
a second one beside it.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("agent", sa.JSON, nullable=True))
        batch.add_column(sa.Column("agent_request", sa.JSON, nullable=True))
    op.create_table(
        "agent_servers",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("process_started", sa.Float, nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("started_at", sa.String, nullable=True),
        sa.Column("updated_at", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_servers")
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("agent_request")
        batch.drop_column("agent")
