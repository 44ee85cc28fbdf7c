"""The recent labelled production window, as training data, for retraining on what was served.

Every audited prediction of a raw transaction keeps the transaction as received (the ``input``
document, already validated by the scoring API against the same schema); joined with its
confirmed outcome it is a training row in the transaction schema. A transaction scored more than
once counts once (its newest prediction). V2 predictions carry feature tensors, not
transactions, and are left out. The frame goes through the same validation as every loaded
data set, so retraining cannot be fed what training would refuse.
"""

from __future__ import annotations

import io
from datetime import datetime

import orjson
import pandas as pd
import psycopg
from psycopg import sql

from fraud_training.errors import FraudOpsError
from fraud_training.loaders import fill_optional_defaults
from fraud_training.schema import LABEL, TRANSACTION_FIELDS
from fraud_training.validation import validate_frame

CONNECT_TIMEOUT_S = 10
SOURCE = "audit trail"

_QUERY = (
    "COPY (SELECT DISTINCT ON (p.transaction_id) p.input::text, b.is_fraud::int "
    "FROM predictions p JOIN feedback b ON b.transaction_id = p.transaction_id "
    "WHERE p.input IS NOT NULL AND p.scored_at >= %s AND p.scored_at < %s {model} "
    "ORDER BY p.transaction_id, p.scored_at DESC) TO STDOUT WITH (FORMAT csv)"
)


def labelled_production_window(
    database_url: str, start: datetime, end: datetime, model_name: str | None = None
) -> pd.DataFrame:
    """Transactions scored in ``[start, end)`` that have a confirmed outcome, as a validated
    frame of the transaction schema plus ``is_fraud`` (empty, with those columns, if none)."""
    model = sql.SQL("AND p.model_name = %s" if model_name else "")
    params = (start, end, model_name) if model_name else (start, end)
    buffer = io.BytesIO()
    try:
        with (
            psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_S) as connection,
            connection.cursor() as cursor,
            cursor.copy(sql.SQL(_QUERY).format(model=model), params) as copy,
        ):
            for chunk in copy:
                buffer.write(chunk)
    except psycopg.errors.UndefinedTable:
        raise FraudOpsError("database-url: no audit trail there (no predictions table)") from None
    except psycopg.OperationalError as error:
        raise FraudOpsError(f"database-url: cannot connect: {error}".strip()) from None
    if not buffer.getvalue():
        return pd.DataFrame(columns=[*TRANSACTION_FIELDS, LABEL])
    rows = pd.read_csv(io.BytesIO(buffer.getvalue()), header=None, names=["input", LABEL])
    raw = pd.DataFrame.from_records([orjson.loads(document) for document in rows["input"]])
    raw[LABEL] = rows[LABEL].to_numpy()
    frame = validate_frame(fill_optional_defaults(raw, SOURCE), "transactions", source=SOURCE)
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def with_production_window(configured: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """The configured training data plus the production window, in time order; a transaction in
    both keeps its production row (its label is the confirmed outcome)."""
    if production.empty:
        return configured
    combined = pd.concat(
        [configured[~configured["transaction_id"].isin(production["transaction_id"])], production],
        ignore_index=True,
    )
    return combined.sort_values("timestamp", kind="stable").reset_index(drop=True)
