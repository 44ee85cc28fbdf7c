"""pytest plugin: session-scoped real PostgreSQL and Redis, started once and stopped at the end.

Tests that take a service away (outage tests) must restart it before they finish, so the next
test finds it running.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localservices.postgres import PostgresServer, started_postgres
from localservices.redis_server import RedisServer, started_redis


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL with an empty database: ``.dsn``, ``.stop``, ``.start``."""
    server = started_postgres()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A running Redis without persistence; ``.url``, ``.stop()``, ``.start()``."""
    server = started_redis()
    yield server
    server.close()
