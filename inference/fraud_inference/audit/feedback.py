"""Confirmed outcomes (chargebacks, cleared alerts) written straight to the ``feedback`` table.

Unlike predictions, feedback is written on the request path: the caller needs to know the label
was stored, and the volume is small. A database outage gives the caller a retryable error.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.writer import CONNECT_TIMEOUT_S

_INSERT = (
    "INSERT INTO feedback (transaction_id, is_fraud, source, reported_at) "
    "VALUES (%s, %s, %s, %s) RETURNING feedback_id"
)


class AuditUnavailable(Exception):
    """The audit database cannot be reached right now; the caller may retry."""


class FeedbackStore:
    """Inserts feedback rows over one connection, reconnecting after a failure."""

    def __init__(self, database_url: str, schema: SchemaGate) -> None:
        self._database_url = database_url
        self._schema = schema
        self._connection: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def record(
        self, transaction_id: str, is_fraud: bool, source: str, reported_at: datetime | None
    ) -> int:
        """Store one outcome and return its id."""
        when = reported_at or datetime.now(UTC)
        async with self._lock:
            try:
                connection = await self._connect()
                async with connection.transaction():
                    cursor = await connection.execute(
                        _INSERT, (transaction_id, is_fraud, source, when)
                    )
                    row = await cursor.fetchone()
            except (psycopg.Error, SQLAlchemyError, OSError) as error:
                await self.close()
                raise AuditUnavailable(f"audit database unavailable: {error}") from None
        return int(row[0])  # type: ignore[index]  # INSERT … RETURNING yields one row

    async def close(self) -> None:
        """Close the connection if open."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close()
            except (psycopg.Error, OSError):
                return

    async def _connect(self) -> psycopg.AsyncConnection:
        if self._connection is None or self._connection.closed:
            await self._schema.ensure()
            self._connection = await psycopg.AsyncConnection.connect(
                self._database_url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
            )
        return self._connection
