"""A cell's brief beyond its description (`constraints`, `success_criteria`) and the
sources of its last assembled prompt (`prompt`), as JSON.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("constraints", sa.JSON, nullable=True))
        batch.add_column(sa.Column("success_criteria", sa.JSON, nullable=True))
        batch.add_column(sa.Column("prompt", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("prompt")
        batch.drop_column("success_criteria")
        batch.drop_column("constraints")
