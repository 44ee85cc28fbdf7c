"""The audit schema's Alembic revisions upgrade a database that holds rows, and downgrade."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib.resources import as_file, files
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from fraud_inference.audit.migrate import sqlalchemy_url, upgrade_schema

pytestmark = pytest.mark.services


@pytest.fixture
def empty_database(postgres_server: Any) -> Iterator[str]:
    """The DSN of a new, empty database on the test server (dropped afterwards)."""
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server.dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def migrate(dsn: str, direction: str, revision: str) -> None:
    with as_file(files("fraud_inference.audit.migrations").joinpath("alembic.ini")) as ini:
        config = Config(str(ini))
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn))
        getattr(command, direction)(config, revision)


def document_types(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'predictions' AND column_name IN ('input', 'features')"
        ).fetchall()
    return dict(rows)


def insert_prediction(dsn: str) -> None:
    with psycopg.connect(dsn) as connection:
        connection.execute(
            "INSERT INTO predictions (request_id, scored_at, route, input, features, "
            "fraud_probability, decision, model_name, model_version, latency_ms, "
            "features_degraded) VALUES ('r-1', now(), 'predict', %s, %s, 0.2, 'approve', "
            "'fraud-detector', '1', 0.3, false)",
            ('{"amount": 12.5}', '{"amount": 12.5, "hour": 3}'),
        )


def stored_documents(dsn: str) -> tuple[Any, Any]:
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT input->>'amount', features->>'hour' FROM predictions WHERE request_id = 'r-1'"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_upgrading_to_head_keeps_the_rows_and_stores_documents_as_json(
    empty_database: str,
) -> None:
    migrate(empty_database, "upgrade", "0001")
    insert_prediction(empty_database)
    assert document_types(empty_database) == {"input": "jsonb", "features": "jsonb"}

    upgrade_schema(empty_database)

    assert document_types(empty_database) == {"input": "json", "features": "json"}
    assert stored_documents(empty_database) == ("12.5", "3")


def test_downgrading_the_json_revision_restores_jsonb(empty_database: str) -> None:
    upgrade_schema(empty_database)
    insert_prediction(empty_database)

    migrate(empty_database, "downgrade", "0001")

    assert document_types(empty_database) == {"input": "jsonb", "features": "jsonb"}
    assert stored_documents(empty_database) == ("12.5", "3")


def test_one_feedback_per_transaction_keeps_the_newest_of_earlier_repeats(
    empty_database: str,
) -> None:
    migrate(empty_database, "upgrade", "0002")
    with psycopg.connect(empty_database) as connection:
        for label in (False, True):
            connection.execute(
                "INSERT INTO feedback (transaction_id, is_fraud, source, reported_at) "
                "VALUES ('tx-9', %s, 'chargeback', now())",
                (label,),
            )

    upgrade_schema(empty_database)

    with psycopg.connect(empty_database) as connection:
        labels = connection.execute("SELECT is_fraud FROM feedback").fetchall()
        with pytest.raises(psycopg.errors.UniqueViolation):
            connection.execute(
                "INSERT INTO feedback (transaction_id, is_fraud, source, reported_at) "
                "VALUES ('tx-9', true, 'chargeback', now())"
            )
    assert labels == [(True,)]
