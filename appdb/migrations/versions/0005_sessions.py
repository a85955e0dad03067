"""Server-side sessions: the cookie carries a random id, this table decides whether it is alive.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 of the cookie's session id
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosk_tokens.id"), nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Index("ix_sessions_user", "user_id", "revoked_at"),
        sa.Index("ix_sessions_kiosk", "kiosk_id"),
    )


def downgrade() -> None:
    op.drop_table("sessions")
