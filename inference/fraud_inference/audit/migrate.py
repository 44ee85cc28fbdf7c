"""Create or upgrade the audit schema with Alembic (no hand-written DDL at start-up)."""

from __future__ import annotations

import asyncio
import threading
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config

#: Key of the PostgreSQL advisory lock that serialises migrations across replicas.
MIGRATION_LOCK_ID = 7_240_311
#: Alembic's ``context`` and ``op`` are process-wide proxies: one migration at a time per process.
_ALEMBIC_LOCK = threading.Lock()


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of a ``postgresql://`` libpq URL."""
    scheme, rest = database_url.split("://", 1)
    if scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"DATABASE_URL: expected postgresql://, got {scheme}://")
    return f"postgresql+psycopg://{rest}"


def upgrade_schema(database_url: str) -> None:
    """Run every pending revision (blocking; call it from a worker thread in async code)."""
    with as_file(files("fraud_inference.audit.migrations").joinpath("alembic.ini")) as ini:
        config = Config(str(ini))
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
        with _ALEMBIC_LOCK:
            command.upgrade(config, "head")


class SchemaGate:
    """Runs the migrations once per process, the first time a writer needs the tables.

    Not at import or start-up: the service must start (and spool) while the database is down.
    """

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._done = False
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Upgrade the schema to head unless this process already did."""
        async with self._lock:
            if not self._done:
                await asyncio.to_thread(upgrade_schema, self._database_url)
                self._done = True
