"""Point-in-time features: hand-computed windows, no leakage from the future, and the offline
batch path equal to replaying the online :class:`CustomerHistory`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_training import features as feature_module
from fraud_training.features import (
    CREDITCARD_FEATURES,
    ENTITY_HISTORIES,
    NO_PREVIOUS_SECONDS,
    TRANSACTION_FEATURES,
    CustomerHistory,
    EntityState,
    creditcard_features,
    derive_features,
    haversine_km,
    raw_inputs,
    time_order,
    timestamp_ms,
    to_cents,
    transaction_features,
)
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.schema import CREDITCARD_PCA_COLUMNS

T0 = pd.Timestamp("2026-01-05T00:00:00Z")  # a Monday
KM_PER_DEGREE_AT_EQUATOR = 111.19


def txn(tid: str, customer: str, at: pd.Timedelta, amount: float, **fields: Any) -> dict:
    """One transaction at ``T0 + at`` with neutral defaults for the fields a test ignores."""
    row = {
        "transaction_id": tid,
        "customer_id": customer,
        "timestamp": T0 + at,
        "amount": amount,
        "merchant_id": "m1",
        "merchant_category": "grocery",
        "merchant_country": "DE",
        "channel": "in_store",
        "device_id": "d1",
        "lat": 0.0,
        "lon": 0.0,
        "home_lat": 0.0,
        "home_lon": 0.0,
        "home_country": "DE",
    }
    return {**row, **fields}


H = pd.Timedelta(hours=1)
#: Customer a's history, with customer b interleaved (b must never count for a).
STREAM = pd.DataFrame(
    [
        txn("a1", "a", 0 * H, 10.00),
        txn("b1", "b", 0.25 * H, 999.00),
        txn("a2", "a", 0.5 * H, 20.00, merchant_id="m2", lon=1.0),
        txn("a3", "a", 2 * H, 5.50, device_id="d2", lon=1.0),
        txn("a4", "a", 25 * H, 100.00, merchant_id="m3"),
        txn("a5", "a", 8 * 24 * H, 1.00),
    ]
)


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    """The stream's features, one row per transaction id."""
    matrix = transaction_features(STREAM)
    return pd.DataFrame(matrix, columns=TRANSACTION_FEATURES, index=STREAM["transaction_id"])


def test_first_transaction_has_no_history(features: pd.DataFrame) -> None:
    first = features.loc["a1"]
    assert first["is_first_txn"] == 1
    assert first["n_prior_txns"] == 0
    assert first["seconds_since_prev"] == NO_PREVIOUS_SECONDS
    assert first["dist_prev_km"] == 0
    assert first["txn_count_7d"] == 0
    assert first["amount_to_mean"] == 1.0  # no history: its own amount is the mean


def test_one_hour_window_counts_the_earlier_transaction_of_the_same_customer(
    features: pd.DataFrame,
) -> None:
    second = features.loc["a2"]
    assert second["txn_count_1h"] == 1  # a1; b1 is another customer
    assert second["amount_sum_1h"] == 10.00
    assert second["seconds_since_prev"] == 1800


def test_distance_and_speed_from_the_previous_transaction(features: pd.DataFrame) -> None:
    second = features.loc["a2"]
    assert second["dist_prev_km"] == pytest.approx(KM_PER_DEGREE_AT_EQUATOR, rel=1e-3)
    assert second["speed_from_prev_kmh"] == pytest.approx(2 * KM_PER_DEGREE_AT_EQUATOR, rel=1e-3)
    assert second["dist_home_km"] == pytest.approx(KM_PER_DEGREE_AT_EQUATOR, rel=1e-3)


def test_24h_and_7d_windows_sum_earlier_amounts(features: pd.DataFrame) -> None:
    third = features.loc["a3"]  # at 2 h: a1 (0 h) and a2 (0.5 h) are older than 1 h
    assert (third["txn_count_1h"], third["amount_sum_1h"]) == (0, 0)
    assert (third["txn_count_24h"], third["amount_sum_24h"]) == (2, 30.00)
    assert (third["txn_count_7d"], third["amount_sum_7d"]) == (2, 30.00)
    assert third["amount_to_mean"] == pytest.approx(5.50 / 15.00)


def test_24h_window_drops_transactions_older_than_a_day(features: pd.DataFrame) -> None:
    fourth = features.loc["a4"]  # at 25 h: only a3 (2 h) is within 24 h
    assert (fourth["txn_count_24h"], fourth["amount_sum_24h"]) == (1, 5.50)
    assert (fourth["txn_count_7d"], fourth["amount_sum_7d"]) == (3, 35.50)
    assert fourth["amount_to_24h_sum"] == pytest.approx(100.00 / 105.50)


def test_7d_window_drops_transactions_older_than_a_week(features: pd.DataFrame) -> None:
    fifth = features.loc["a5"]  # at 8 days: only a4 (25 h) is within 7 days
    assert (fifth["txn_count_7d"], fifth["amount_sum_7d"]) == (1, 100.00)
    assert fifth["txn_count_24h"] == 0
    assert fifth["n_prior_txns"] == 4


def test_new_merchant_and_new_device_flags(features: pd.DataFrame) -> None:
    assert features.loc["a2", "is_new_merchant"] == 1  # m2 first seen
    assert features.loc["a3", "is_new_merchant"] == 0  # m1 seen at a1
    assert features.loc["a3", "is_new_device"] == 1  # d2 first seen
    assert features.loc["a4", "is_new_device"] == 0


def test_calendar_features_are_utc(features: pd.DataFrame) -> None:
    assert features.loc["a3", "hour_of_day"] == 2
    assert features.loc["a1", "day_of_week"] == 0  # Monday
    assert features.loc["a4", "day_of_week"] == 1


def test_window_excludes_a_transaction_exactly_one_window_earlier() -> None:
    frame = pd.DataFrame([txn("x1", "x", 0 * H, 5.0), txn("x2", "x", 1 * H, 5.0)])
    counts = pd.DataFrame(transaction_features(frame), columns=TRANSACTION_FEATURES)
    assert counts.loc[1, "txn_count_1h"] == 0
    assert counts.loc[1, "txn_count_24h"] == 1


def test_zero_amount_without_recent_spend_gives_finite_features() -> None:
    frame = pd.DataFrame([txn("z1", "z", 0 * H, 0.0), txn("z2", "z", 30 * H, 0.0)])
    assert np.isfinite(transaction_features(frame)).all()


def test_features_do_not_depend_on_row_order() -> None:
    shuffled = STREAM.sample(frac=1.0, random_state=3)
    expected = pd.DataFrame(transaction_features(STREAM), index=STREAM["transaction_id"])
    actual = pd.DataFrame(transaction_features(shuffled), index=shuffled["transaction_id"])
    pd.testing.assert_frame_equal(actual.loc[expected.index], expected)


@pytest.fixture(scope="module")
def generated_stream() -> pd.DataFrame:
    return generate_transactions(GeneratorConfig(rows=4_000, fraud_rate=0.02, seed=11))


def test_appending_future_transactions_never_changes_past_features(
    generated_stream: pd.DataFrame,
) -> None:
    cut = generated_stream["timestamp"].quantile(0.6)
    past = generated_stream[generated_stream["timestamp"] < cut]
    before = transaction_features(past)
    after = transaction_features(generated_stream)[: len(past)]
    assert len(past) < len(generated_stream)
    np.testing.assert_array_equal(after, before)


def test_a_large_frame_derived_in_blocks_equals_one_derived_whole(
    generated_stream: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = transaction_features(generated_stream)
    monkeypatch.setattr(
        feature_module, "DERIVE_BLOCK_ROWS", 333
    )  # blocks of uneven rows, a short last
    in_blocks = transaction_features(generated_stream)
    assert len(generated_stream) % 333
    np.testing.assert_array_equal(in_blocks, whole)


def test_offline_features_equal_replaying_customer_and_entity_histories(
    generated_stream: pd.DataFrame,
) -> None:
    offline = transaction_features(generated_stream)
    raw = raw_inputs(generated_stream)
    cents = to_cents(generated_stream["amount"].to_numpy())
    ts = timestamp_ms(generated_stream["timestamp"])
    histories: dict[str, CustomerHistory] = {}
    entities: dict[tuple[str, str], EntityState] = {}
    online = np.empty_like(offline)
    for i in time_order(generated_stream):
        row = generated_stream.iloc[i]
        history = histories.setdefault(row["customer_id"], CustomerHistory())
        aggregates = history.aggregates(int(ts[i]), row["merchant_id"], row["device_id"])
        states = [
            entities.setdefault(
                (spec.name, spec.key_of([row[c] for c in spec.columns])), EntityState(spec)
            )
            for spec in ENTITY_HISTORIES
        ]
        for state in states:
            aggregates.update(state.aggregates(int(ts[i])))
        one_row_raw = {name: values[i : i + 1] for name, values in raw.items()}
        one_row_agg = {name: np.array([value]) for name, value in aggregates.items()}
        online[i] = derive_features(one_row_raw, one_row_agg)[0]
        history.add(
            int(ts[i]), int(cents[i]), row["merchant_id"], row["device_id"], row["lat"], row["lon"]
        )
        for state in states:
            state.add(int(ts[i]), int(cents[i]), {c: row[c] for c in state.spec.distinct})
    np.testing.assert_array_equal(online, offline)


def test_haversine_of_a_quarter_meridian() -> None:
    quarter = haversine_km(np.array([0.0]), np.array([0.0]), np.array([90.0]), np.array([0.0]))
    assert quarter[0] == pytest.approx(10_007.5, rel=1e-4)


def test_creditcard_features_are_the_pca_components_amount_and_hour() -> None:
    frame = pd.DataFrame(
        {
            **{name: [float(i), -float(i)] for i, name in enumerate(CREDITCARD_PCA_COLUMNS)},
            "amount": [0.0, 99.0],
            "timestamp": pd.to_datetime(["2013-09-01T00:00:00Z", "2013-09-01T13:30:00Z"]),
        }
    )
    matrix = pd.DataFrame(creditcard_features(frame), columns=CREDITCARD_FEATURES)
    assert matrix["V3"].tolist() == [2.0, -2.0]
    assert matrix["log_amount"].tolist() == [0.0, pytest.approx(np.log(100.0))]
    assert matrix["hour_of_day"].tolist() == [0.0, 13.0]


def test_time_order_breaks_ties_in_time_by_transaction_id() -> None:
    frame = pd.DataFrame(
        {
            "transaction_id": ["b", "z", "a", "c", "y"],
            "timestamp": pd.to_datetime([2, 1, 2, 3, 2], unit="s", utc=True),
        }
    )
    assert frame["transaction_id"].to_numpy()[time_order(frame)].tolist() == [
        "z",
        "a",
        "b",
        "y",
        "c",
    ]
