"""Audit trail: store the input and feature documents as ``json``, not ``jsonb``.

The predictions table is written once per scored row and read rarely (an investigation, a
join with feedback). ``jsonb`` decomposes every document on the way in: a ``COPY`` of 20,000
V2 rows cost PostgreSQL 13.9 us per row with ``jsonb`` and 9.4 us with ``json``, CPU taken on
the same cores as the scoring service. ``json`` only validates and keeps the text; ``->``,
``->>`` and ``json_each`` work on it as before, and a query that wants ``jsonb`` operators
casts (``features::jsonb``). The upgrade rewrites the table under an exclusive lock; scoring
services keep serving meanwhile, their writers queue rows (spooling beyond the queue bound)
until it is done.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE predictions "
        "ALTER COLUMN input TYPE json USING input::json, "
        "ALTER COLUMN features TYPE json USING features::json"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE predictions "
        "ALTER COLUMN input TYPE jsonb USING input::jsonb, "
        "ALTER COLUMN features TYPE jsonb USING features::jsonb"
    )
