"""Validation: every problem found at once, each named by column, rule and offending rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from fraud_training.errors import DataError
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.schema import (
    CREDITCARD_PCA_COLUMNS,
    LABEL,
    PATTERN,
    REQUIRED_FIELDS,
    TRANSACTION_FIELDS,
)
from fraud_training.timestamps import TimestampFormat
from fraud_training.validation import (
    ALLOWED_VALUES,
    MAX_EXAMPLES,
    UNIQUE_COLUMNS,
    VALUE_RANGES,
    build_schema,
    validate_frame,
)


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    return generate_transactions(GeneratorConfig(rows=2_000, seed=21))


@pytest.fixture
def as_read(generated) -> pd.DataFrame:
    """The generated rows as a CSV reader returns them: text timestamps, object columns."""
    frame = generated.astype({name: object for name in ("amount", "lat", LABEL)})
    frame["timestamp"] = generated["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return frame


def problems(frame: pd.DataFrame, feature_set: str = "transactions", **options) -> str:
    with pytest.raises(DataError) as caught:
        validate_frame(frame, feature_set, source="upload.csv", **options)
    return str(caught.value)


def test_valid_data_comes_back_typed_in_schema_order(as_read, generated):
    typed = validate_frame(as_read, "transactions")
    assert list(typed.columns) == [*TRANSACTION_FIELDS, LABEL, PATTERN]
    assert typed["timestamp"].dtype == "datetime64[ns, UTC]"
    assert typed[LABEL].dtype == np.int64
    assert typed["amount"].dtype == np.float64
    pd.testing.assert_series_equal(typed["timestamp"], generated["timestamp"])


def test_validation_leaves_the_input_frame_untouched(as_read):
    before = as_read.copy()
    validate_frame(as_read, "transactions")
    pd.testing.assert_frame_equal(as_read, before)


@pytest.mark.parametrize(
    ("column", "bad_value", "rule"),
    [
        ("amount", -12.5, "must be >= 0"),
        ("amount", "12,50", "must be a number"),
        (LABEL, 2, "must be 0 or 1"),
        (LABEL, "yes", "must be a number"),
        ("channel", "phone", "must be one of online, in_store"),
        ("lat", 95.0, "must be between -90 and 90"),
        ("home_lon", -181.0, "must be between -180 and 180"),
        ("timestamp", "yesterday", "must be an ISO-8601 time"),
        ("customer_id", None, "must not be empty"),
        ("timestamp", None, "must not be empty"),
    ],
)
def test_a_bad_value_is_reported_with_column_rule_row_and_value(as_read, column, bad_value, rule):
    as_read.loc[7, column] = bad_value
    message = problems(as_read)
    line = next(line for line in message.splitlines() if line.startswith(f"  - {column}:"))
    assert rule in line
    assert "1 row," in line
    assert f"row 7: {'empty' if bad_value is None else ''}" in line
    if bad_value is not None:
        assert str(bad_value) in line


def test_merchant_categories_are_an_open_vocabulary(as_read):
    as_read.loc[7, "merchant_category"] = "casino"
    typed = validate_frame(as_read, "transactions")
    assert typed.loc[7, "merchant_category"] == "casino"


def test_duplicate_transaction_ids_are_reported_with_every_copy(as_read):
    as_read.loc[[3, 9], "transaction_id"] = "tx-dup"
    message = problems(as_read)
    assert "transaction_id: must be unique (duplicated) — 2 rows" in message
    assert "row 3: 'tx-dup', row 9: 'tx-dup'" in message


def test_a_missing_column_is_named_with_the_columns_present(as_read):
    message = problems(as_read.drop(columns=["amount"]))
    assert "amount: column is missing (the data has: transaction_id, customer_id," in message


def test_all_problems_are_reported_in_one_error(as_read):
    as_read.loc[1, "amount"] = -1.0
    as_read.loc[2, "channel"] = "fax"
    as_read.loc[4, "timestamp"] = "not a time"
    as_read.loc[[5, 6], "transaction_id"] = "same"
    message = problems(as_read.drop(columns=["device_id"]))
    assert "(5 problems;" in message
    for column in ("amount", "channel", "timestamp", "transaction_id", "device_id"):
        assert f"  - {column}:" in message


def test_offending_rows_are_counted_but_only_a_few_are_quoted(as_read):
    as_read.loc[10:29, "amount"] = -1.0
    line = next(line for line in problems(as_read).splitlines() if "amount" in line)
    assert "20 rows" in line
    assert len(re.findall(r"row \d+:", line)) == MAX_EXAMPLES
    assert "row 10: -1.0" in line


def test_epoch_numbers_need_their_unit(as_read, generated):
    as_read["timestamp"] = generated["timestamp"].astype("int64") // 10**9
    assert "epoch numbers need a unit" in problems(as_read)
    typed = validate_frame(as_read, "transactions", timestamp_format=TimestampFormat(unit="s"))
    assert typed["timestamp"].iloc[0] == generated["timestamp"].iloc[0].floor("s")


def test_times_with_offsets_are_converted_to_utc_and_plain_ones_taken_as_utc(as_read):
    as_read.loc[0, "timestamp"] = "2026-01-01T10:00:00+02:00"
    as_read.loc[1, "timestamp"] = "2026-01-01T08:00:00"
    typed = validate_frame(as_read, "transactions")
    assert typed["timestamp"].iloc[0] == pd.Timestamp("2026-01-01T08:00:00Z")
    assert typed["timestamp"].iloc[1] == pd.Timestamp("2026-01-01T08:00:00Z")


def test_numeric_ids_become_text(as_read):
    as_read["customer_id"] = np.arange(len(as_read)) % 50
    typed = validate_frame(as_read, "transactions")
    assert typed["customer_id"].iloc[7] == "7"


def test_the_label_is_only_required_for_training(as_read):
    assert "is_fraud: column is missing" in problems(as_read.drop(columns=[LABEL]))
    typed = validate_frame(as_read.drop(columns=[LABEL]), "transactions", require_label=False)
    assert LABEL not in typed.columns


def test_creditcard_data_needs_its_pca_components(generated):
    frame = generated[[*REQUIRED_FIELDS, LABEL]].copy()
    for name in CREDITCARD_PCA_COLUMNS[1:]:
        frame[name] = 0.5
    message = problems(frame, "creditcard")
    assert "V1: column is missing" in message
    frame["V1"] = 0.1
    assert list(validate_frame(frame, "creditcard").columns)[-1] == LABEL


def test_an_unknown_feature_set_is_refused(as_read):
    with pytest.raises(DataError, match="feature set: 'images' is not one of"):
        validate_frame(as_read, "images")


def test_an_empty_frame_is_refused(as_read):
    assert "has no rows" in problems(as_read.iloc[:0])


def test_the_schema_covers_every_transaction_column():
    schema = build_schema("transactions")
    assert set(TRANSACTION_FIELDS) | {LABEL} <= set(schema.columns)


def test_value_rules_only_name_schema_columns():
    ruled = {*ALLOWED_VALUES, *VALUE_RANGES, *UNIQUE_COLUMNS}
    assert ruled <= set(TRANSACTION_FIELDS)
