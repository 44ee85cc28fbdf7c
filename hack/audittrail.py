"""Fill an audit trail with scored traffic and labels, for monitoring tests and benchmarks.

Rows are written with ``COPY`` in the format of the scoring service's ``predictions`` and
``feedback`` tables (the schema comes from the service's own Alembic revisions), so the monitor
reads them exactly as it reads what a real service wrote. Feature columns are whatever the
caller passes: the monitor must not care which feature set produced them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import psycopg
from fraud_inference.audit.migrate import upgrade_schema
from fraud_inference.audit.records import PREDICTION_COLUMNS

COPY_CHUNK_ROWS = 50_000


@contextmanager
def fresh_audit_database(server_dsn: str) -> Iterator[str]:
    """A new database on ``server_dsn``'s server with the audit schema; dropped afterwards."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    dsn = server_dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_schema(dsn)
        yield dsn
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@dataclass(frozen=True)
class Traffic:
    """Scored rows to write: one entry per row in every array."""

    transaction_ids: Sequence[str]
    scored_at: Sequence[datetime]
    features: Mapping[str, np.ndarray]
    probabilities: np.ndarray
    decisions: Sequence[str]
    amounts: np.ndarray
    model_name: str = "fraud-detector"
    model_version: str = "1"
    latency_ms: float = 2.5
    #: Rows scored without online history (the service's ``features_degraded``); default none.
    degraded: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return len(self.transaction_ids)


def synthetic_traffic(
    features: Mapping[str, np.ndarray],
    end: datetime,
    span: timedelta,
    seed: int = 0,
    prefix: str = "tx",
    model_version: str = "1",
    thresholds: tuple[float, float] = (0.2, 0.6),
) -> Traffic:
    """Rows spread evenly over ``span`` before ``end``, scores drawn at random and decided at
    ``thresholds`` (review, decline) as the service would."""
    rows = len(next(iter(features.values())))
    rng = np.random.default_rng(seed)
    probabilities = rng.beta(0.5, 8.0, rows)
    decisions = np.where(
        probabilities >= thresholds[1],
        "decline",
        np.where(probabilities >= thresholds[0], "review", "approve"),
    )
    offsets = np.linspace(span.total_seconds(), 1.0, rows)
    return Traffic(
        transaction_ids=[f"{prefix}-{i}" for i in range(rows)],
        scored_at=[end - timedelta(seconds=float(s)) for s in offsets],
        features=features,
        probabilities=probabilities,
        decisions=decisions.tolist(),
        amounts=np.round(rng.lognormal(3.5, 1.0, rows), 2),
        model_version=model_version,
    )


def write_predictions(dsn: str, traffic: Traffic) -> None:
    """Append the rows to ``predictions``."""
    names = list(traffic.features)
    columns = np.column_stack([np.asarray(traffic.features[n], np.float64) for n in names])
    copy = f"COPY predictions ({', '.join(PREDICTION_COLUMNS)}) FROM STDIN"
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy(copy) as out:
            for start in range(0, traffic.rows, COPY_CHUNK_ROWS):
                stop = min(start + COPY_CHUNK_ROWS, traffic.rows)
                out.write(b"".join(_line(traffic, names, columns, i) for i in range(start, stop)))
        connection.commit()


def write_feedback(
    dsn: str, transaction_ids: Sequence[str], labels: Sequence[bool], reported_at: datetime
) -> None:
    """Append one outcome per transaction to ``feedback``."""
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY feedback (transaction_id, is_fraud, source, reported_at) FROM STDIN"
        ) as out:
            for transaction_id, label in zip(transaction_ids, labels, strict=True):
                out.write_row((transaction_id, bool(label), "chargeback", reported_at))
        connection.commit()


def _line(traffic: Traffic, names: list[str], columns: np.ndarray, i: int) -> bytes:
    transaction_id = traffic.transaction_ids[i]
    document = {
        "transaction_id": transaction_id,
        "customer_id": f"cust-{i % 997}",
        "timestamp": traffic.scored_at[i].astimezone(UTC).isoformat(),
        "amount": float(traffic.amounts[i]),
    }
    features = dict(zip(names, columns[i].tolist(), strict=True))
    fields = (
        f"{transaction_id}-r",
        traffic.scored_at[i].isoformat(),
        "predict",
        transaction_id,
        document["customer_id"],
        orjson.dumps(document).decode().replace("\\", "\\\\"),
        orjson.dumps(features).decode().replace("\\", "\\\\"),
        repr(float(traffic.probabilities[i])),
        traffic.decisions[i],
        traffic.model_name,
        traffic.model_version,
        repr(traffic.latency_ms),
        "t" if traffic.degraded is not None and traffic.degraded[i] else "f",
    )
    return ("\t".join(fields) + "\n").encode()
