"""Background writer of the audit trail: batches from memory to PostgreSQL, via disk when down.

The request path calls :meth:`AuditWriter.submit` with rows already encoded as COPY text lines;
it only appends them to an in-memory queue. A background task drains the queue in batches, each
one ``COPY`` of the concatenated lines (one statement in autocommit: atomic, two round trips).

The writer works as a group commit with a short linger: the first row queued wakes it, it waits
``linger_s`` (default 2 ms) for company, then writes everything queued in one ``COPY``; rows
arriving while a batch is in flight make the next one. Batches grow with the load, rows wait in
memory for milliseconds, and PostgreSQL gets its work in small, even pieces.

Why the linger: each ``COPY`` costs about 100 us of event-loop CPU in psycopg (uvloop, one-row
batch) whatever its size. Without a linger, one connection sending V2 requests back to back
made one ``COPY`` per request or two, and the server did 2,500-3,800 req/s; with 2 ms,
4,300-5,300 req/s, against 4,400-6,200 with no audit trail at all (2 cores shared with
PostgreSQL and the load generator). Long lingers are worse again: at 0.2 s each ``COPY`` is a
15 ms burst of PostgreSQL work on one of the two cores, and p99 went to 2.0-2.2 ms.

Spooled segments are replayed through a temporary
staging table and ``INSERT … ON CONFLICT DO NOTHING``, so a batch whose commit succeeded but
whose acknowledgement was lost is not stored twice.

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
from pathlib import Path

import psycopg
from psycopg import pq
from sqlalchemy.exc import SQLAlchemyError

from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.records import PREDICTION_COLUMNS
from fraud_inference.audit.spool import AuditSpool
from fraud_inference.metrics import ServiceMetrics

log = logging.getLogger(__name__)

_COLUMNS = ", ".join(PREDICTION_COLUMNS)
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS predictions_staging "
    "(LIKE predictions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY predictions ({_COLUMNS}) FROM STDIN"
_COPY_STAGING = f"COPY predictions_staging ({_COLUMNS}) FROM STDIN"
_MERGE = (
    f"INSERT INTO predictions ({_COLUMNS}) SELECT {_COLUMNS} FROM predictions_staging "
    "ON CONFLICT (request_id) DO NOTHING"
)
CONNECT_TIMEOUT_S = 2


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
        linger_s: float = 0.002,
        retry_s: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self._schema = schema
        self._spool = spool
        self._metrics = metrics
        self._queue_rows = queue_rows
        self._batch_rows = batch_rows
        self._linger_s = linger_s
        self._retry_s = retry_s
        self._queue: deque[bytes] = deque()
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._connection: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._update_backlog()

    @property
    def backlog(self) -> int:
        """Rows not yet in the database: queued or being written, plus spooled on disk."""
        return len(self._queue) + self._in_flight + self._spool.rows

    def submit(self, lines: Iterable[bytes]) -> None:
        """Queue COPY lines for writing; never waits for the database."""
        self._queue.extend(lines)
        if len(self._queue) > self._queue_rows:
            self._spill_queue()
        self._update_backlog()
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
        if self._mid_statement():
            # Cancelled inside a COPY: that batch is back in the queue, the connection is not.
            await self._disconnect()
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
        # Also woken every retry_s without traffic: a spool left by an outage is replayed.
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._retry_s)
            if self._wake.is_set() and self._linger_s and len(self._queue) < self._batch_rows:
                # The first row waits a moment for company: one COPY for the rows of the
                # next linger_s, not one per request.
                await asyncio.sleep(self._linger_s)
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
        """Write the spool, then the rows queued so far, in batches; raise on a database failure."""
        if not self._queue and not self._spool.rows:
            return
        connection = await self._connect()
        while (oldest := self._spool.oldest()) is not None:
            segment, data, count = oldest
            try:
                await self._replay(connection, data, count)
            except psycopg.DataError as error:
                self._set_aside(segment, count, error)
                continue
            self._spool.remove(segment)
            self._update_backlog()
        # Only what is queued now: rows arriving during the round trips wait for the next
        # flush, so a steady stream makes one COPY per interval, not one per few requests.
        pending = len(self._queue)
        while pending > 0 and self._queue:
            count = min(self._batch_rows, pending, len(self._queue))
            pending -= count
            # The batch leaves the queue while it is written, so a spill to disk meanwhile
            # cannot take it too; a failed write puts it back in front for the spool.
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight = count
            try:
                async with connection.cursor() as cursor, cursor.copy(_COPY) as copy:
                    await copy.write(b"".join(batch))
            except BaseException:
                self._queue.extendleft(reversed(batch))
                raise
            finally:
                self._in_flight = 0
            self._metrics.audit_rows_written.inc(count)
            self._update_backlog()

    async def _replay(self, connection: psycopg.AsyncConnection, data: bytes, count: int) -> None:
        """Write spooled lines, skipping rows a lost acknowledgement had already committed."""
        async with connection.transaction(), connection.cursor() as cursor:
            await cursor.execute(_STAGING)
            async with cursor.copy(_COPY_STAGING) as copy:
                await copy.write(data)
            await cursor.execute(_MERGE)
        self._metrics.audit_rows_written.inc(count)

    def _set_aside(self, segment: Path, count: int, error: psycopg.DataError) -> None:
        """A segment PostgreSQL rejects as data would block the trail forever: keep it on disk
        for a person to look at, count its rows as dropped, and go on with the rest."""
        kept = self._spool.set_aside(segment)
        log.error("audit rows rejected by PostgreSQL (%s); %d rows kept in %s", error, count, kept)
        self._metrics.audit_rows_dropped.inc(count)
        self._update_backlog()

    async def _connect(self) -> psycopg.AsyncConnection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        await self._schema.ensure()
        # Autocommit: one COPY is atomic on its own, so a batch costs two round trips, not four.
        self._connection = await psycopg.AsyncConnection.connect(
            self._database_url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
        )
        log.info("audit database connected; backlog %d rows", self.backlog)
        return self._connection

    def _mid_statement(self) -> bool:
        """Whether the connection was left inside a statement (a flush cancelled mid-COPY)."""
        connection = self._connection
        return (
            connection is not None
            and not connection.closed
            and connection.pgconn.transaction_status != pq.TransactionStatus.IDLE
        )

    async def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await self._connection.close()
        self._connection = None

    def _spill_queue(self) -> None:
        """Move every queued line to the disk spool (or count it dropped if the spool is full)."""
        if not self._queue:
            return
        lines = list(self._queue)
        if not self._spool.append(lines):
            log.error(
                "audit spool full (%d bytes); dropping %d rows", self._spool.max_bytes, len(lines)
            )
            self._metrics.audit_rows_dropped.inc(len(lines))
        self._queue.clear()
        self._update_backlog()

    def _update_backlog(self) -> None:
        self._metrics.audit_backlog.set(self.backlog)
