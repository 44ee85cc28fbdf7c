"""The online path (Redis state + shared derivation) reproduces the offline features exactly."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_inference.online_state import Observation, OnlineState
from fraud_inference.schemas import Transaction
from fraud_inference.scoring import raw_fields
from fraud_training.features import (
    AGGREGATE_FIELDS,
    TRANSACTION_FEATURES,
    CustomerHistory,
    derive_features,
    raw_inputs,
    transaction_features,
)
from fraud_training.schema import TRANSACTION_FIELDS

pytestmark = pytest.mark.services

COUNT_FEATURES = ("n_prior_txns", "txn_count_1h", "txn_count_24h", "txn_count_7d")


def as_requests(frame: pd.DataFrame) -> list[Any]:
    """The frame's rows as the service receives them (validated request models)."""
    return [Transaction(**record) for record in frame[list(TRANSACTION_FIELDS)].to_dict("records")]


def replay(url: str, observations: list[Observation], chunk: int = 500) -> dict[str, np.ndarray]:
    """Send a stream through the Redis state in order, in pipelined chunks as batches do."""

    async def run() -> list[dict[str, np.ndarray]]:
        state = OnlineState(url, timeout_s=2.0, ttl_days=90)
        try:
            parts = []
            for start in range(0, len(observations), chunk):
                aggregates = await state.observe(observations[start : start + chunk])
                assert aggregates is not None, "Redis unavailable during the replay"
                parts.append(aggregates)
            return parts
        finally:
            await state.close()

    parts = asyncio.run(run())
    return {name: np.concatenate([part[name] for part in parts]) for name in AGGREGATE_FIELDS}


def fresh_customers(frame: pd.DataFrame) -> pd.DataFrame:
    """The same stream under customer ids no other test used (Redis is shared)."""
    prefix = uuid.uuid4().hex[:8]
    return frame.assign(customer_id=prefix + "-" + frame["customer_id"].astype(str))


def test_request_rows_give_the_offline_raw_inputs(transactions_frame: pd.DataFrame) -> None:
    online, _ = raw_fields(as_requests(transactions_frame))
    offline = raw_inputs(transactions_frame)

    for name, values in offline.items():
        np.testing.assert_array_equal(online[name], values, err_msg=name)


def test_replayed_stream_gives_exactly_the_offline_features(
    transactions_frame: pd.DataFrame, redis_server: Any
) -> None:
    frame = fresh_customers(transactions_frame)
    assert len(frame) >= 5_000 and frame["timestamp"].is_monotonic_increasing
    raw, observations = raw_fields(as_requests(frame))

    online = derive_features(raw, replay(redis_server.url, observations))
    offline = transaction_features(frame)

    names = list(TRANSACTION_FEATURES)
    counts = [names.index(name) for name in COUNT_FEATURES]
    np.testing.assert_array_equal(online[:, counts], offline[:, counts])
    np.testing.assert_allclose(online, offline, rtol=0.0, atol=1e-9)


def test_redis_state_equals_the_in_memory_reference_with_out_of_order_times(
    redis_server: Any,
) -> None:
    customer = f"ooo-{uuid.uuid4().hex[:8]}"
    hour = 3_600_000
    stream = [
        (10 * hour, 1_000, "m1", "d1"),
        (10 * hour + 5, 250, "m2", "d1"),
        (9 * hour, 99, "m1", "d2"),  # arrives late: earlier than the previous one
        (40 * hour, 5_000, "m3", "d3"),
        (40 * hour + 8 * 24 * hour, 1, "m1", "d1"),  # beyond the 7-day window of all the rest
    ]
    reference = CustomerHistory()
    expected = []
    for ts, cents, merchant, device in stream:
        expected.append(reference.aggregates(ts, merchant, device))
        reference.add(ts, cents, merchant, device, 48.5, 2.25)
    observations = [
        Observation(customer, ts, cents, merchant, device, 48.5, 2.25)
        for ts, cents, merchant, device in stream
    ]

    got = replay(redis_server.url, observations, chunk=1)

    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")
