"""Alerts carry their consequences (knock-on findings grouped under the cause) and, for per-case
money and stay, the case-mix adjusted view beside the raw one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("consequences", sa.Text, nullable=False, server_default="[]"))  # JSON list
        batch.add_column(sa.Column("adjusted", sa.Text, nullable=True))  # JSON object or NULL


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("adjusted")
        batch.drop_column("consequences")
