"""The audit writer batches per flush and never loses a batch that is being written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.records import AuditRecord
from fraud_inference.audit.spool import AuditSpool
from fraud_inference.audit.writer import AuditWriter
from fraud_inference.metrics import ServiceMetrics

pytestmark = pytest.mark.services

FEATURE_NAMES = ("amount", "hour")


def lines(prefix: str, count: int) -> list[bytes]:
    """``count`` audit lines whose request ids start with ``prefix``."""
    return [
        AuditRecord(
            request_id=f"{prefix}-{i}",
            scored_at=datetime.now(UTC),
            route="v2",
            transaction=None,
            features=np.array([12.5, 3.0]),
            feature_names=FEATURE_NAMES,
            fraud_probability=0.01,
            decision="approve",
            model_name="fraud-detector",
            model_version="1",
            latency_ms=0.2,
            features_degraded=False,
        ).copy_line()
        for i in range(count)
    ]


def count_of(dsn: str, prefix: str, aggregate: str = "count(*)") -> int:
    """``aggregate`` over the stored rows whose request ids start with ``prefix``."""
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            f"SELECT {aggregate} FROM predictions WHERE request_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()
    return row[0] if row else 0


def stored(dsn: str, prefix: str) -> int:
    return count_of(dsn, prefix)


def transactions_holding(dsn: str, prefix: str) -> int:
    """How many transactions wrote the rows of ``prefix`` (one COPY is one transaction)."""
    return count_of(dsn, prefix, "count(DISTINCT xmin::text)")


async def stored_within(dsn: str, prefix: str, expected: int, timeout_s: float = 15.0) -> int:
    """The rows of ``prefix`` stored once ``expected`` are there, or when ``timeout_s`` ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (count := stored(dsn, prefix)) < expected and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return count


def new_writer(dsn: str, spool: Path, **options: float) -> AuditWriter:
    """A writer with a small queue bound (100 rows); ``options`` (``retry_s``, ``linger_s``)
    override the writer's defaults."""
    return AuditWriter(
        dsn,
        SchemaGate(dsn),
        AuditSpool(spool, 10_000_000),
        ServiceMetrics(),
        queue_rows=100,
        batch_rows=1_000,
        **options,
    )


def with_writer(dsn: str, spool: Path, scenario: Callable[[AuditWriter], Awaitable[None]]) -> None:
    """Run ``scenario`` with a connected writer whose background task is not running (the
    scenario drives the flushes), then close the writer."""

    async def run() -> None:
        writer = new_writer(dsn, spool)
        await writer._connect()
        try:
            await scenario(writer)
        finally:
            await writer.close()

    asyncio.run(run())


def test_a_flush_writes_the_rows_queued_when_it_began(postgres_server: Any, tmp_path: Path) -> None:
    prefix = uuid.uuid4().hex

    async def scenario(writer: AuditWriter) -> None:
        writer.submit(lines(prefix, 30))
        flush = asyncio.create_task(writer._flush())
        await asyncio.sleep(0)  # the flush is now waiting on PostgreSQL
        writer.submit(lines(prefix + "-late", 10))
        await flush
        assert stored(postgres_server.dsn, prefix) == 30
        assert writer.backlog == 10

    with_writer(postgres_server.dsn, tmp_path, scenario)


def test_a_spill_during_a_write_leaves_the_batch_in_flight_to_the_database(
    postgres_server: Any, tmp_path: Path
) -> None:
    prefix, late = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario(writer: AuditWriter) -> None:
        writer.submit(lines(prefix, 50))
        flush = asyncio.create_task(writer._flush())
        await asyncio.sleep(0)
        writer.submit(lines(late, 120))  # over queue_rows: spilled to disk at once
        await flush
        assert stored(postgres_server.dsn, prefix) == 50
        assert writer.backlog == 120
        await writer._flush()  # replays the spool
        assert stored(postgres_server.dsn, late) == 120
        assert writer.backlog == 0

    with_writer(postgres_server.dsn, tmp_path, scenario)


def test_a_failed_write_puts_the_batch_back_in_order(postgres_server: Any, tmp_path: Path) -> None:
    batch = lines(uuid.uuid4().hex, 5)

    async def scenario(writer: AuditWriter) -> None:
        writer.submit(batch)
        connection = await writer._connect()
        with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):
            await writer._flush()
        assert list(writer._queue) == batch
        assert writer.backlog == 5

    with_writer(postgres_server.dsn, tmp_path, scenario)


def test_a_queued_row_is_written_without_waiting_for_a_period(
    postgres_server: Any, tmp_path: Path
) -> None:
    prefix = uuid.uuid4().hex
    dsn = postgres_server.dsn

    async def scenario() -> None:
        # retry_s is the writer's only other wake-up: the row must not wait for it.
        writer = new_writer(dsn, tmp_path, retry_s=600.0)
        writer.start()
        try:
            writer.submit(lines(prefix, 1))
            assert await stored_within(dsn, prefix, 1) == 1
        finally:
            await writer.close()

    asyncio.run(scenario())


def test_rows_queued_within_the_linger_share_one_copy(postgres_server: Any, tmp_path: Path) -> None:
    prefix = uuid.uuid4().hex
    dsn = postgres_server.dsn

    async def scenario() -> None:
        writer = new_writer(dsn, tmp_path, linger_s=0.5)
        await writer._connect()
        writer.start()
        try:
            for i in range(3):
                writer.submit(lines(f"{prefix}-{i}", 1))
                await asyncio.sleep(0.02)
            await stored_within(dsn, prefix, 3)
        finally:
            await writer.close()
        assert stored(dsn, prefix) == 3
        assert transactions_holding(dsn, prefix) == 1

    asyncio.run(scenario())


def test_a_write_cancelled_mid_statement_is_written_at_close_on_a_new_connection(
    postgres_server: Any, tmp_path: Path
) -> None:
    prefix = uuid.uuid4().hex

    async def scenario(writer: AuditWriter) -> None:
        writer.submit(lines(prefix, 5))
        await writer._connect()
        flush = asyncio.create_task(writer._flush())
        await asyncio.sleep(0)  # the COPY is sent, its acknowledgement not yet read
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flush
        assert writer.backlog == 5
        await writer.close()
        assert stored(postgres_server.dsn, prefix) == 5
        assert writer.backlog == 0

    with_writer(postgres_server.dsn, tmp_path, scenario)
