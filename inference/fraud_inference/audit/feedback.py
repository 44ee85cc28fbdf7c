"""Confirmed outcomes (chargebacks, cleared alerts) written straight to the ``feedback`` table.

Unlike predictions, feedback is written on the request path: the caller needs to know the label
was stored, and the volume is small. A database outage gives the caller a retryable error.

A label must belong to an audited prediction (the live metrics join the two), and a transaction
has one outcome: the same label again is acknowledged without a second row (idempotent), a
different one is refused rather than silently rewriting history. The prediction the label
belongs to (the newest one of that transaction id) comes back with the stored row, so the
caller can count it by the model version and decision that were served.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.writer import CONNECT_TIMEOUT_S

_PREDICTION = (
    "SELECT model_name, model_version, decision, scored_at FROM predictions "
    "WHERE transaction_id = %s ORDER BY scored_at DESC LIMIT 1"
)
_INSERT = (
    "INSERT INTO feedback (transaction_id, is_fraud, source, reported_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (transaction_id) DO NOTHING RETURNING feedback_id"
)
_EXISTING = "SELECT feedback_id, is_fraud, reported_at FROM feedback WHERE transaction_id = %s"


class AuditUnavailable(Exception):
    """The audit database cannot be reached right now; the caller may retry."""


class UnknownTransaction(Exception):
    """No audited prediction carries this transaction id."""

    def __init__(self, transaction_id: str) -> None:
        super().__init__(
            f"transaction_id: no audited prediction for {transaction_id!r} (a prediction "
            "reaches the audit trail within seconds of being scored)"
        )


class ConflictingLabel(Exception):
    """The transaction already has the opposite outcome."""

    def __init__(self, transaction_id: str, stored: bool) -> None:
        super().__init__(
            f"is_fraud: transaction {transaction_id!r} already has the outcome "
            f"is_fraud={str(stored).lower()}; a transaction has one outcome"
        )


@dataclass(frozen=True)
class ServedPrediction:
    """What was served for the transaction a label belongs to."""

    model_name: str
    model_version: str
    decision: str
    scored_at: datetime


@dataclass(frozen=True)
class StoredFeedback:
    """A label as stored: ``created`` is False when it repeated one already stored."""

    feedback_id: int
    transaction_id: str
    is_fraud: bool
    reported_at: datetime
    created: bool
    prediction: ServedPrediction

    @property
    def label_lag_seconds(self) -> float:
        """Time from the prediction to the outcome (0 if reported before it was scored)."""
        return max((self.reported_at - self.prediction.scored_at).total_seconds(), 0.0)


class FeedbackStore:
    """Stores feedback rows over one connection, reconnecting after a failure."""

    def __init__(self, database_url: str, schema: SchemaGate) -> None:
        self._database_url = database_url
        self._schema = schema
        self._connection: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def record(
        self, transaction_id: str, is_fraud: bool, source: str, reported_at: datetime | None
    ) -> StoredFeedback:
        """Store one outcome (or find the same one stored before) and return it."""
        when = reported_at or datetime.now(UTC)
        async with self._lock:
            try:
                connection = await self._connect()
                async with connection.transaction():
                    served = await _one(connection, _PREDICTION, (transaction_id,))
                    if served is None:
                        raise UnknownTransaction(transaction_id)
                    inserted = await _one(
                        connection, _INSERT, (transaction_id, is_fraud, source, when)
                    )
                    existing = (
                        None
                        if inserted is not None
                        else await _one(connection, _EXISTING, (transaction_id,))
                    )
            except (psycopg.Error, SQLAlchemyError, OSError) as error:
                await self.close()
                raise AuditUnavailable(f"audit database unavailable: {error}") from None
        prediction = ServedPrediction(*served)
        if inserted is not None:
            return StoredFeedback(
                int(inserted[0]), transaction_id, is_fraud, when, True, prediction
            )
        feedback_id, stored_label, stored_when = existing  # type: ignore[misc]  # row exists
        if bool(stored_label) != is_fraud:
            raise ConflictingLabel(transaction_id, bool(stored_label))
        return StoredFeedback(
            int(feedback_id), transaction_id, is_fraud, stored_when, False, prediction
        )

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


async def _one(
    connection: psycopg.AsyncConnection, query: str, params: tuple[object, ...]
) -> tuple | None:
    cursor = await connection.execute(query, params)
    return await cursor.fetchone()
