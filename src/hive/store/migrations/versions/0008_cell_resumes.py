"""What start-up recovery needs to stop a crash loop: the run a restarted server last
resumed on its own (`resume_run_id`) and how many such resumes in a row were
interrupted again (`resume_streak`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("resume_run_id", sa.String, nullable=True))
        batch.add_column(sa.Column("resume_streak", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("resume_streak")
        batch.drop_column("resume_run_id")
