"""The online path (Redis state + shared derivation) reproduces the offline features exactly."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_inference.online_redis import OnlineRedis
from fraud_inference.online_state import REPLY_FIELDS, Observation, OnlineState, reply_fields
from fraud_inference.schemas import Transaction
from fraud_inference.scoring import raw_fields
from fraud_training.features import (
    ENTITY_HISTORIES,
    TRANSACTION_BASE_FEATURES,
    TRANSACTION_FEATURES,
    CustomerHistory,
    EntityHistory,
    EntityState,
    builtin_histories,
    derive_features,
    raw_inputs,
    transaction_features,
    user_entity,
)
from fraud_training.schema import TRANSACTION_FIELDS

pytestmark = pytest.mark.services

COUNT_FEATURES = ("n_prior_txns", "txn_count_1h", "txn_count_24h", "txn_count_7d")
MERCHANT_COUNT_FEATURES = (
    *(f"merchant_txn_count_{w}" for w in ("1h", "24h", "7d", "30d")),
    "card_merchant_txn_count_24h",
    "card_merchant_txn_count_30d",
)


def as_requests(frame: pd.DataFrame) -> list[Any]:
    """The frame's rows as the service receives them (validated request models)."""
    return [Transaction(**record) for record in frame[list(TRANSACTION_FIELDS)].to_dict("records")]


def replay(
    url: str,
    observations: list[Observation],
    chunk: int = 500,
    namespace: str = "parity",
    entities: tuple[EntityHistory, ...] = ENTITY_HISTORIES,
) -> dict[str, np.ndarray]:
    """Send a stream through the Redis state in order, in pipelined chunks as batches do."""

    async def run() -> list[dict[str, np.ndarray]]:
        state = OnlineState(OnlineRedis(url, 2.0), 90, namespace, entities)
        try:
            parts = []
            for start in range(0, len(observations), chunk):
                aggregates = await state.observe(observations[start : start + chunk])
                assert aggregates is not None, "Redis unavailable during the replay"
                parts.append(aggregates)
            return parts
        finally:
            await state.redis.close()

    parts = asyncio.run(run())
    return {name: np.concatenate([part[name] for part in parts]) for name in reply_fields(entities)}


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

    # a namespace of its own: merchant state is shared by every customer of the stream
    namespace = f"parity-{uuid.uuid4().hex[:8]}"
    online = derive_features(raw, replay(redis_server.url, observations, namespace=namespace))
    offline = transaction_features(frame)

    names = list(TRANSACTION_FEATURES)
    counts = [names.index(name) for name in (*COUNT_FEATURES, *MERCHANT_COUNT_FEATURES)]
    assert offline[:, names.index("merchant_txn_count_30d")].max() > 1
    assert offline[:, names.index("card_merchant_txn_count_30d")].max() > 1
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
        Observation(
            customer,
            f"t{i}",
            ts,
            cents,
            merchant,
            device,
            48.5,
            2.25,
            (customer, customer, customer),
        )
        for i, (ts, cents, merchant, device) in enumerate(stream)
    ]

    got = replay(redis_server.url, observations, chunk=1)

    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")


def test_redis_windows_equal_the_reference_when_late_arrivals_come_and_age_out(
    redis_server: Any,
) -> None:
    """Windows are read from running sums while arrivals are in time order and summed entry by
    entry after a late one; both must give the reference's values, also once it aged out."""
    customer = f"late-{uuid.uuid4().hex[:8]}"
    rng = np.random.default_rng(7)
    minute = 60_000
    times = np.cumsum(rng.integers(1, 6 * 60, 400) * minute)  # about a week and a half
    late = rng.random(400) < 0.1
    times[late] -= rng.integers(1, 3 * 24 * 60, late.sum()) * minute
    reference = CustomerHistory()
    expected = []
    observations = []
    for i, ts in enumerate(times.tolist()):
        cents = int(rng.integers(1, 50_000))
        expected.append(reference.aggregates(ts, "m", "d"))
        reference.add(ts, cents, "m", "d", 48.5, 2.25)
        observations.append(
            Observation(customer, f"t{i}", ts, cents, "m", "d", 48.5, 2.25, (None, None, None))
        )

    got = replay(redis_server.url, observations, chunk=1)

    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")


def test_redis_merchant_state_equals_the_in_memory_reference_with_out_of_order_times(
    redis_server: Any,
) -> None:
    merchant = f"m-{uuid.uuid4().hex[:8]}"
    hour = 3_600_000
    stream = [  # (customer, ts, cents): several cards at one terminal
        ("c1", 10 * hour, 1_000),
        ("c2", 10 * hour + 5, 250),
        ("c3", 9 * hour, 99),  # arrives late: earlier than the previous one
        ("c1", 40 * hour, 5_000),
        ("c4", 40 * hour + 8 * 24 * hour, 7),  # beyond the 7-day window of all the rest
        ("c5", 40 * hour + 31 * 24 * hour, 1),  # beyond the 30-day window
    ]
    spec = ENTITY_HISTORIES[0]
    reference = EntityState(spec)
    expected = []
    for _, ts, cents in stream:
        expected.append(reference.aggregates(ts))
        reference.add(ts, cents)
    prefix = uuid.uuid4().hex[:8]
    observations = [
        Observation(f"{prefix}-{c}", f"t{i}", ts, cents, merchant, "d1", 48.5, 2.25, (merchant,))
        for i, (c, ts, cents) in enumerate(stream)
    ]

    got = replay(
        redis_server.url, observations, chunk=1, namespace=f"ooo-{prefix}", entities=(spec,)
    )

    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")


def test_redis_merchant_windows_equal_the_reference_over_a_long_stream_with_late_arrivals(
    redis_server: Any,
) -> None:
    """Window totals are kept as running sums, buckets dropped as the window moves and the
    maximum re-read when its bucket leaves; late arrivals (some older than whole windows) put
    buckets out of order. Every aggregate must still be the reference's."""
    merchant = f"busy-{uuid.uuid4().hex[:8]}"
    spec = ENTITY_HISTORIES[0]
    rng = np.random.default_rng(11)
    minute = 60_000
    times = np.cumsum(rng.integers(1, 90, 1_500) * minute)  # about six weeks
    late = rng.random(1_500) < 0.1
    times[late] -= rng.integers(1, 4 * 24 * 60, late.sum()) * minute
    amounts = rng.lognormal(8, 1.5, 1_500).astype(np.int64) + 1
    reference = EntityState(spec)
    expected = []
    for ts, cents in zip(times.tolist(), amounts.tolist(), strict=True):
        expected.append(reference.aggregates(ts))
        reference.add(ts, cents)
    prefix = uuid.uuid4().hex[:8]
    observations = [
        Observation(f"{prefix}-c", f"t{i}", ts, cents, merchant, "d1", 0.0, 0.0, (merchant,))
        for i, (ts, cents) in enumerate(zip(times.tolist(), amounts.tolist(), strict=True))
    ]

    got = replay(
        redis_server.url, observations, chunk=50, namespace=f"long-{prefix}", entities=(spec,)
    )

    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")


def test_replaying_a_transaction_id_returns_its_first_reply_and_changes_nothing(
    redis_server: Any,
) -> None:
    customer = f"replay-{uuid.uuid4().hex[:8]}"
    hour = 3_600_000
    first = Observation(
        customer, "t1", 10 * hour, 1_000, "m1", "d1", 48.5, 2.25, (customer, customer, customer)
    )
    second = Observation(
        customer, "t2", 11 * hour, 500, "m2", "d1", 48.5, 2.25, (customer, customer, customer)
    )
    retried = [first, second, first, second]  # a client retrying both requests
    once = replay(
        redis_server.url,
        [
            first,
            second,
            Observation(
                customer, "t3", 12 * hour, 1, "m1", "d1", 0.0, 0.0, (customer, customer, customer)
            ),
        ],
        chunk=1,
        namespace="once",
    )
    got = replay(
        redis_server.url,
        [
            *retried,
            Observation(
                customer, "t3", 12 * hour, 1, "m1", "d1", 0.0, 0.0, (customer, customer, customer)
            ),
        ],
        chunk=1,
    )

    for name in REPLY_FIELDS:
        np.testing.assert_equal(got[name][2:4], got[name][0:2], err_msg=f"replay {name}")
        np.testing.assert_equal(got[name][4], once[name][2], err_msg=f"after replays {name}")


def test_two_models_keep_separate_state_for_the_same_customer(redis_server: Any) -> None:
    customer = f"models-{uuid.uuid4().hex[:8]}"
    row = Observation(
        customer, "t1", 3_600_000, 1_000, "m1", "d1", 48.5, 2.25, (customer, customer, customer)
    )
    later = Observation(
        customer, "t2", 7_200_000, 1_000, "m1", "d1", 48.5, 2.25, (customer, customer, customer)
    )

    replay(redis_server.url, [row], namespace="model-a")
    other_model = replay(redis_server.url, [later], namespace="model-b")

    assert other_model["n_prior"][0] == 0.0


def test_a_user_named_entity_replayed_through_redis_gives_exactly_the_offline_features(
    transactions_frame: pd.DataFrame, redis_server: Any
) -> None:
    frame = fresh_customers(transactions_frame).head(3_000)
    rng = np.random.default_rng(2)
    domains = np.array(["mail.example", "corp.example", "other.example", None], dtype=object)
    frame = frame.assign(email_domain=domains[rng.integers(0, 4, len(frame))])
    email = user_entity("email_domain")
    entities = (*ENTITY_HISTORIES, email)
    requests = [
        Transaction(**record)
        for record in frame[[*TRANSACTION_FIELDS, "email_domain"]].to_dict("records")
    ]
    raw, observations = raw_fields(requests, entities)

    namespace = f"user-entity-{uuid.uuid4().hex[:8]}"
    replayed = replay(redis_server.url, observations, namespace=namespace, entities=entities)
    online = derive_features(raw, replayed, (email,))
    offline = transaction_features(frame, (email,))

    names = [*TRANSACTION_FEATURES, *email.feature_names]
    assert offline[:, names.index("email_domain_distinct_customer_id_30d")].max() > 1
    np.testing.assert_allclose(online, offline, rtol=0.0, atol=1e-9)


def test_built_in_histories_over_configured_windows_through_redis_give_the_offline_features(
    transactions_frame: pd.DataFrame, redis_server: Any
) -> None:
    frame = fresh_customers(transactions_frame).head(3_000)
    builtin = builtin_histories((("6h", 21_600_000), ("3d", 259_200_000)), (("12h", 43_200_000),))
    raw, observations = raw_fields(as_requests(frame), builtin)

    namespace = f"windows-{uuid.uuid4().hex[:8]}"
    replayed = replay(redis_server.url, observations, namespace=namespace, entities=builtin)
    online = derive_features(raw, replayed, builtin=builtin)
    offline = transaction_features(frame, builtin=builtin)

    names = [*TRANSACTION_BASE_FEATURES, *(n for entity in builtin for n in entity.feature_names)]
    assert offline[:, names.index("merchant_txn_count_3d")].max() > 1
    assert "card_merchant_txn_count_12h" in names and "merchant_txn_count_30d" not in names
    np.testing.assert_allclose(online, offline, rtol=0.0, atol=1e-9)


def test_two_versions_with_other_merchant_windows_keep_apart_state_in_one_namespace(
    redis_server: Any,
) -> None:
    merchant = f"m-{uuid.uuid4().hex[:8]}"
    default = ENTITY_HISTORIES[:1]
    shorter = builtin_histories((("6h", 21_600_000),))[:1]

    def row(txn: str, ts_ms: int) -> Observation:
        return Observation(
            "c1", txn, ts_ms, 1_000, merchant, "d1", 0.0, 0.0, (merchant,), (("c1",),)
        )

    replay(redis_server.url, [row("t1", 3_600_000)], namespace="versions", entities=default)
    other = replay(redis_server.url, [row("t2", 7_200_000)], namespace="versions", entities=shorter)
    again = replay(redis_server.url, [row("t3", 7_200_001)], namespace="versions", entities=default)

    assert other["merchant:n_prior"][0] == 0.0
    assert again["merchant:n_prior"][0] == 1.0


def test_redis_distinct_counts_and_bucket_edges_equal_the_reference_out_of_order(
    redis_server: Any,
) -> None:
    card = f"card-{uuid.uuid4().hex[:8]}"
    spec = next(entity for entity in ENTITY_HISTORIES if entity.name == "card")
    minute = 60_000
    start = 1_000 * 86_400_000  # a day boundary: bucket edges are round
    stream = [  # (ts, cents, merchant)
        (start + 2 * minute, 1_000, "m1"),  # exactly where the 1 h window of rows 3-4 starts
        (start + 2 * minute - 1, 2_500, "m2"),  # late, and one ms before that start
        (start + 30 * minute, 99, "m5"),
        (start + 61 * minute, 70_000, "m3"),  # 1 h window: 2-minute buckets 1..30
        (start + 60 * minute + 1, 5, "m2"),  # late: earlier than the previous row
        (start + 40 * 86_400_000, 1, "m4"),  # beyond every window
    ]
    reference = EntityState(spec)
    expected = []
    for ts, cents, merchant in stream:
        expected.append(reference.aggregates(ts))
        reference.add(ts, cents, {"merchant_id": merchant})
    observations = [
        Observation(card, f"t{i}", ts, cents, merchant, "d1", 0.0, 0.0, (card,), ((merchant,),))
        for i, (ts, cents, merchant) in enumerate(stream)
    ]

    got = replay(
        redis_server.url, observations, chunk=1, namespace=f"edges-{card}", entities=(spec,)
    )

    assert [row["card:distinct_merchant_id_1h"] for row in expected] == [0, 1, 2, 2, 3, 0]
    for i, row in enumerate(expected):
        for name, value in row.items():
            np.testing.assert_equal(got[name][i], value, err_msg=f"row {i} {name}")
