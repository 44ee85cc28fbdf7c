"""Background writer of the audit trail: batches from memory to PostgreSQL, via disk when down.

The request path calls :meth:`AuditWriter.submit`, which only appends to an in-memory queue. A
background task drains the queue in batches with ``COPY`` into a temporary staging table and one
``INSERT … ON CONFLICT DO NOTHING``, so a batch replayed after an ambiguous failure (committed,
but the acknowledgement lost) is not stored twice.

When PostgreSQL is unreachable the failed batch and everything queued behind it go to the
on-disk :class:`AuditSpool` (so a crash during an outage loses nothing either), the writer
retries the connection every ``retry_s``, and on recovery replays the spool oldest first before
the queue. The backlog (queued + spooled rows) is exported as a gauge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.records import PREDICTION_COLUMNS, AuditRecord, Row
from fraud_inference.audit.spool import AuditSpool
from fraud_inference.metrics import ServiceMetrics

log = logging.getLogger(__name__)

_COLUMNS = ", ".join(PREDICTION_COLUMNS)
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS predictions_staging "
    "(LIKE predictions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY predictions_staging ({_COLUMNS}) FROM STDIN"
_MERGE = (
    f"INSERT INTO predictions ({_COLUMNS}) SELECT {_COLUMNS} FROM predictions_staging "
    "ON CONFLICT (request_id) DO NOTHING"
)
CONNECT_TIMEOUT_S = 2
#: Rows encoded between two yields to the event loop (about 0.5 ms of work).
ROWS_PER_SLICE = 32


class AuditWriter:
    """Queue in memory, write in batches, spool to disk while the database is away."""

    def __init__(
        self,
        database_url: str,
        schema: SchemaGate,
        spool: AuditSpool,
        metrics: ServiceMetrics,
        *,
        queue_rows: int,
        batch_rows: int,
        flush_interval_s: float = 0.2,
        retry_s: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self._schema = schema
        self._spool = spool
        self._metrics = metrics
        self._queue_rows = queue_rows
        self._batch_rows = batch_rows
        self._flush_interval_s = flush_interval_s
        self._retry_s = retry_s
        self._queue: deque[AuditRecord] = deque()
        self._wake = asyncio.Event()
        self._connection: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._update_backlog()

    @property
    def backlog(self) -> int:
        """Rows not yet in the database: queued in memory plus spooled on disk."""
        return len(self._queue) + self._spool.rows

    @property
    def connected(self) -> bool:
        """Whether the last database operation succeeded."""
        return self._connection is not None

    def submit(self, records: Iterable[AuditRecord]) -> None:
        """Queue records for writing; never waits for the database."""
        self._queue.extend(records)
        if len(self._queue) > self._queue_rows:
            self._spill_queue()
        self._update_backlog()
        if len(self._queue) >= self._batch_rows:
            self._wake.set()

    def start(self) -> None:
        """Start the background task; it connects (and migrates the schema) right away."""
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def close(self, timeout_s: float = 10.0) -> None:
        """Stop the task, write what is queued (or spool it if the database is away)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self._flush(), timeout_s)
        except (TimeoutError, psycopg.Error, SQLAlchemyError, OSError):
            log.warning(
                "audit database unavailable at shutdown; spooling %d rows", len(self._queue)
            )
        self._spill_queue()
        if self._connection is not None:
            await self._connection.close()
        self._update_backlog()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_interval_s)
            self._wake.clear()
            try:
                await self._connect()
                await self._flush()
            except (psycopg.Error, SQLAlchemyError, OSError) as error:
                if self._connection is not None:
                    log.warning("audit database unavailable, spooling to disk: %s", error)
                await self._disconnect()
                self._spill_queue()
                await asyncio.sleep(self._retry_s)
            except Exception:
                log.exception("audit writer failed; spooling the queue and retrying")
                self._spill_queue()
                await asyncio.sleep(self._retry_s)

    async def _flush(self) -> None:
        """Write the spool, then the queue, in batches; raise on a database failure."""
        if not self._queue and not self._spool.rows:
            return
        connection = await self._connect()
        while (oldest := self._spool.oldest()) is not None:
            segment, rows = oldest
            await self._write(connection, rows, len(rows))
            self._spool.remove(segment)
            self._update_backlog()
        while self._queue:
            count = min(self._batch_rows, len(self._queue))
            batch = [self._queue[i] for i in range(count)]
            await self._write(connection, (record.row() for record in batch), count)
            for _ in range(count):
                self._queue.popleft()
            self._update_backlog()

    async def _write(
        self, connection: psycopg.AsyncConnection, rows: Iterable[Row], count: int
    ) -> None:
        """Copy ``count`` rows in one transaction, letting requests run every few rows: building
        and encoding a batch in one go would stall the event loop (and the latency tail)."""
        async with connection.transaction(), connection.cursor() as cursor:
            await cursor.execute(_STAGING)
            async with cursor.copy(_COPY) as copy:
                for position, row in enumerate(rows, 1):
                    await copy.write_row(row)
                    if position % ROWS_PER_SLICE == 0:
                        await asyncio.sleep(0)
            await cursor.execute(_MERGE)
        self._metrics.audit_rows_written.inc(count)

    async def _connect(self) -> psycopg.AsyncConnection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        await self._schema.ensure()
        self._connection = await psycopg.AsyncConnection.connect(
            self._database_url, connect_timeout=CONNECT_TIMEOUT_S
        )
        log.info("audit database connected; backlog %d rows", self.backlog)
        return self._connection

    async def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await self._connection.close()
        self._connection = None

    def _spill_queue(self) -> None:
        """Move every queued record to the disk spool (or count it dropped if the spool is full)."""
        if not self._queue:
            return
        rows = [record.row() for record in self._queue]
        if not self._spool.append(rows):
            log.error(
                "audit spool full (%d bytes); dropping %d rows", self._spool.max_bytes, len(rows)
            )
            self._metrics.audit_rows_dropped.inc(len(rows))
        self._queue.clear()
        self._update_backlog()

    def _update_backlog(self) -> None:
        self._metrics.audit_backlog.set(self.backlog)
