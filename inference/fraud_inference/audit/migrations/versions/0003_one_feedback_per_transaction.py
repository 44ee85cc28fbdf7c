"""Feedback: one outcome per transaction, enforced by a unique index.

``POST /feedback`` is idempotent per transaction id: a repeated label is acknowledged, not
stored twice, so a retried chargeback feed cannot double-count an outcome in the live metrics.
Rows stored before this revision may repeat a transaction; the newest of each is kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM feedback f USING feedback newer "
        "WHERE newer.transaction_id = f.transaction_id AND newer.feedback_id > f.feedback_id"
    )
    op.drop_index("ix_feedback_transaction_id", table_name="feedback")
    op.create_index("ux_feedback_transaction_id", "feedback", ["transaction_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_feedback_transaction_id", table_name="feedback")
    op.create_index("ix_feedback_transaction_id", "feedback", ["transaction_id"])
