"""A cell's base commit may be unknown until its worktree is made (no git in the request).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.alter_column("base_commit", existing_type=sa.String, nullable=True)


def downgrade() -> None:
    op.execute("UPDATE cells SET base_commit = '' WHERE base_commit IS NULL")
    with op.batch_alter_table("cells") as batch:
        batch.alter_column("base_commit", existing_type=sa.String, nullable=False)
