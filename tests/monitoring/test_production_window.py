"""The recent labelled production window as training rows in the transaction schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pytest
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.monitoring.production_window import (
    labelled_production_window,
    with_production_window,
)
from fraud_training.schema import LABEL, TRANSACTION_FIELDS
from monitoring_data import NOW

pytestmark = pytest.mark.services


def test_labelled_predictions_become_validated_training_rows(
    audit_database: str, fill_audit: Callable[..., list[str]]
) -> None:
    ids = fill_audit(1000, labelled=250)

    frame = labelled_production_window(audit_database, NOW - timedelta(hours=1), NOW)

    assert list(frame.columns[: len(TRANSACTION_FIELDS)]) == list(TRANSACTION_FIELDS)
    assert len(frame) == 250
    assert set(frame["transaction_id"]) == set(ids[:250])
    assert frame[LABEL].dtype == "int64"
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["timestamp"].is_monotonic_increasing
    assert (frame["merchant_category"] == "retail").all()  # absent fields get the defaults


def test_an_empty_window_is_an_empty_frame_with_the_schema_columns(audit_database: str) -> None:
    frame = labelled_production_window(audit_database, NOW - timedelta(hours=1), NOW)

    assert frame.empty
    assert list(frame.columns) == [*TRANSACTION_FIELDS, LABEL]


def test_production_rows_replace_configured_rows_of_the_same_transaction() -> None:
    configured = generate_transactions(GeneratorConfig(rows=1000, seed=3))
    production = configured.iloc[:10].assign(**{LABEL: 1 - configured[LABEL].iloc[:10]})
    extra = configured.iloc[:5].assign(transaction_id=[f"prod-{i}" for i in range(5)])

    combined = with_production_window(configured, pd.concat([production, extra]))

    assert len(combined) == 1005
    relabelled = combined.set_index("transaction_id").loc[production["transaction_id"], LABEL]
    assert relabelled.tolist() == production[LABEL].tolist()
