"""Alembic environment: online migrations only, serialised across replicas by an advisory lock.

Several replicas of the service start at once and each runs ``upgrade head``; the PostgreSQL
advisory lock makes the second one wait and then find nothing to do.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

from fraud_inference.audit.migrate import MIGRATION_LOCK_ID, sqlalchemy_url

config = context.config
url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(os.environ["DATABASE_URL"])

engine = create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
with engine.connect() as connection:
    connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    try:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
engine.dispose()
