"""Port leases and the supervisor's record of each cell's services.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "port_leases",
        sa.Column("port", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cell_id", sa.String, nullable=False),
        sa.Column("service", sa.String, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("ix_port_leases_cell_id", "port_leases", ["cell_id"])
    op.create_table(
        "cell_services",
        sa.Column("cell_id", sa.String, primary_key=True),
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("process_started", sa.Float, nullable=True),
        sa.Column("started_at", sa.String, nullable=True),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("restarts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cell_services")
    op.drop_table("port_leases")
