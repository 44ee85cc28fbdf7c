"""Audit trail: the predictions table and the feedback (confirmed outcomes) table.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("request_id", sa.Text, primary_key=True, comment="One id per scored row."),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.Text, nullable=False, comment="predict, batch or v2."),
        sa.Column("transaction_id", sa.Text),
        sa.Column("customer_id", sa.Text),
        sa.Column("input", JSONB, comment="The raw transaction as received (null for V2)."),
        sa.Column("features", JSONB, nullable=False, comment="Feature name to value."),
        sa.Column("fraud_probability", sa.Float, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("features_degraded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_predictions_transaction_id", "predictions", ["transaction_id"])
    op.create_index("ix_predictions_scored_at", "predictions", ["scored_at"])
    op.create_table(
        "feedback",
        sa.Column("feedback_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("transaction_id", sa.Text, nullable=False),
        sa.Column("is_fraud", sa.Boolean, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_index("ix_feedback_transaction_id", "feedback", ["transaction_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("predictions")
