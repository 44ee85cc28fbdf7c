"""Entity histories: each aggregate by hand, bucket edges, distinct counts, missing keys, and the
vectorised batch equal to replaying the in-memory reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fraud_training.entity_history import (
    DAY_MS,
    HOUR_MS,
    MIN_BUCKETS,
    MINUTE_MS,
    ColumnCodes,
    EntityHistory,
    EntityState,
    Window,
    bucket_ms,
)

HOURLY = EntityHistory("shop", ("shop",), (("1h", HOUR_MS),), distinct=("card",))
T = 100 * DAY_MS  # a day boundary, so bucket edges are round numbers


def batch(spec: EntityHistory, rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """Aggregates of ``rows`` (shop, card, ts_ms, cents), given in time order."""
    frame = pd.DataFrame(rows, columns=["shop", "card", "ts", "cents"])
    out = spec.aggregates(
        spec.key_codes(ColumnCodes(frame)),
        frame["ts"].to_numpy(np.int64),
        frame["cents"].to_numpy(np.int64),
        np.arange(len(frame)),
        spec.member_codes(ColumnCodes(frame)),
    )
    return pd.DataFrame(out)


def features(spec: EntityHistory, rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    agg = batch(spec, rows)
    ts = np.array([r[2] for r in rows], dtype=np.int64)
    amount = np.array([r[3] for r in rows], dtype=np.float64) / 100.0
    return pd.DataFrame(np.column_stack(spec.derive(ts, amount, agg)), columns=spec.feature_names)


def test_bucket_sizes_grow_with_the_window() -> None:
    assert [bucket_ms(w) for w in (HOUR_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS)] == [
        2 * MINUTE_MS,
        30 * MINUTE_MS,
        4 * HOUR_MS,
        DAY_MS,
    ]
    for width in (HOUR_MS, 90 * MINUTE_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS, 12_345):
        window = Window.of("w", width)
        assert window.buckets >= MIN_BUCKETS and window.width_ms <= width


def test_window_starts_at_the_first_of_its_buckets() -> None:
    window = Window.of("1h", HOUR_MS)  # 30 buckets of 2 minutes
    assert window.lower_ms(T + 61 * MINUTE_MS) == T + 2 * MINUTE_MS


def test_a_transaction_exactly_at_the_window_start_counts_and_one_ms_earlier_does_not() -> None:
    now = T + HOUR_MS  # its window starts at T + 2 min
    rows = [
        ("s", "c1", T + 2 * MINUTE_MS - 1, 100),
        ("s", "c2", T + 2 * MINUTE_MS, 200),
        ("s", "c3", now, 300),
    ]
    agg = batch(HOURLY, rows)
    assert agg["shop:count_1h"].tolist() == [0, 1, 1]
    assert agg["shop:sum_cents_1h"].iloc[2] == 200
    assert agg["shop:distinct_card_1h"].iloc[2] == 1


def test_count_sum_mean_std_and_max_of_earlier_transactions() -> None:
    rows = [("s", "c1", T, 1_000), ("s", "c2", T + 1, 3_000), ("s", "c1", T + 2, 500)]
    got = features(HOURLY, rows).iloc[2]
    assert got["shop_txn_count_1h"] == 2
    assert got["shop_amount_sum_1h"] == 40.0
    assert got["shop_amount_mean_1h"] == 20.0
    assert got["shop_amount_std_1h"] == pytest.approx(10.0)  # population std of 10 and 30
    assert got["shop_amount_max_1h"] == 30.0
    assert got["shop_amount_zscore_1h"] == pytest.approx((5.0 - 20.0) / 10.0)


def test_std_and_zscore_are_zero_with_fewer_than_two_earlier_transactions() -> None:
    got = features(HOURLY, [("s", "c1", T, 1_000), ("s", "c1", T + 1, 9_000)]).iloc[1]
    assert got["shop_amount_std_1h"] == 0.0
    assert got["shop_amount_zscore_1h"] == 0.0
    assert got["shop_amount_max_1h"] == 10.0


def test_distinct_counts_each_card_once_and_not_the_current_one() -> None:
    rows = [
        ("s", "c1", T, 1),
        ("s", "c1", T + 1, 1),
        ("s", "c2", T + 2, 1),
        ("s", "c3", T + 3, 1),
        ("other", "c4", T + 4, 1),
    ]
    assert batch(HOURLY, rows)["shop:distinct_card_1h"].tolist() == [0, 1, 1, 2, 0]


def test_a_card_seen_again_inside_the_window_keeps_counting() -> None:
    rows = [
        ("s", "c1", T, 1),
        ("s", "c1", T + 50 * MINUTE_MS, 1),  # c1 again: its last-seen time moves
        ("s", "c2", T + 90 * MINUTE_MS, 1),  # window from T + 32 min: c1 (T + 50 min) is in
        ("s", "c2", T + 130 * MINUTE_MS, 1),  # window from T + 72 min: only c2
    ]
    assert batch(HOURLY, rows)["shop:distinct_card_1h"].tolist() == [0, 1, 1, 1]


def test_rows_without_a_key_have_no_history_and_add_none() -> None:
    spec = EntityHistory("ip", ("ip",), (("1h", HOUR_MS),))
    frame = pd.DataFrame({"ip": ["a", None, "a", None]})
    agg = spec.aggregates(
        spec.key_codes(ColumnCodes(frame)),
        T + np.arange(4, dtype=np.int64),
        np.full(4, 100, dtype=np.int64),
        np.arange(4),
    )
    assert agg["ip:n_prior"].tolist() == [0, 0, 1, 0]


def test_stats_select_the_features_not_the_aggregates() -> None:
    spec = EntityHistory("shop", ("shop",), (("1h", HOUR_MS),), stats=("max", "zscore"))
    assert spec.feature_names == ("shop_amount_max_1h", "shop_amount_zscore_1h")
    assert len(spec.aggregate_fields) == len(HOURLY.aggregate_fields) - 1  # no distinct column


def test_an_unknown_statistic_is_refused() -> None:
    with pytest.raises(ValueError, match="median"):
        EntityHistory("shop", ("shop",), stats=("median",))


def test_the_definition_round_trips_through_its_description() -> None:
    assert EntityHistory.from_description(HOURLY.describe()) == HOURLY


def test_batch_equals_replaying_the_reference_with_ties_edges_and_busy_entities() -> None:
    rng = np.random.default_rng(5)
    n = 3_000
    spec = EntityHistory(
        "shop", ("shop",), (("1h", HOUR_MS), ("24h", DAY_MS), ("3d", 3 * DAY_MS)), ("card",)
    )
    ts = np.sort(T + rng.integers(0, 6 * DAY_MS, n) // MINUTE_MS * MINUTE_MS)  # ties, edges
    rows = [
        (f"s{rng.zipf(1.5) % 7}", f"c{rng.integers(0, 40)}", int(t), int(rng.integers(0, 10**6)))
        for t in ts
    ]
    got = batch(spec, rows)
    states: dict[str, EntityState] = {}
    for i, (shop, card, t, cents) in enumerate(rows):
        state = states.setdefault(shop, EntityState(spec))
        for name, value in state.aggregates(t).items():
            np.testing.assert_equal(got[name].iloc[i], value, err_msg=f"row {i} {name}")
        state.add(t, cents, {"card": card})


def test_composite_keys_with_the_separator_in_a_value_stay_apart() -> None:
    spec = EntityHistory("pair", ("a", "b"), (("1h", HOUR_MS),))
    frame = pd.DataFrame({"a": ["x|y", "x", "x|y"], "b": ["z", "y|z", "z"]})
    agg = spec.aggregates(
        spec.key_codes(ColumnCodes(frame)),
        T + np.arange(3, dtype=np.int64),
        np.full(3, 100, dtype=np.int64),
        np.arange(3),
    )
    assert agg["pair:n_prior"].tolist() == [0, 0, 1]
    assert spec.key_of(["x|y", "z"]) != spec.key_of(["x", "y|z"])


def test_key_codes_compare_values_as_the_online_state_does_as_text() -> None:
    spec = EntityHistory("bin", ("bin",), (("1h", HOUR_MS),))
    frame = pd.DataFrame({"bin": pd.Series([411111, "411111", None, "522222"], dtype=object)})
    codes = spec.key_codes(ColumnCodes(frame))
    assert codes[0] == codes[1]
    assert codes[2] == -1
    assert codes[3] not in (codes[0], -1)
