"""The synthetic generator: deterministic, the requested fraud, realistic patterns, not a toy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from fraud_training.errors import DataError
from fraud_training.features import TRANSACTION_FEATURES, transaction_features
from fraud_training.generator import (
    PATTERN_NAMES,
    GeneratorConfig,
    generate_transactions,
    write_transactions,
)
from fraud_training.generator.patterns import PATTERNS
from fraud_training.generator.patterns.terminal_compromise import NAME as TERMINAL_COMPROMISE
from fraud_training.schema import CATEGORIES, LABEL, LEGIT_PATTERN, PATTERN, TRANSACTION_FIELDS
from sklearn.metrics import average_precision_score, roc_auc_score


@pytest.fixture(scope="module")
def stream() -> pd.DataFrame:
    """100k rows at 2 % fraud: the size the non-toy property is specified on."""
    return generate_transactions(GeneratorConfig(rows=100_000, fraud_rate=0.02, seed=7))


@pytest.fixture(scope="module")
def features(stream: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(transaction_features(stream), columns=TRANSACTION_FEATURES)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_same_seed_writes_a_byte_identical_file(tmp_path, suffix):
    config = GeneratorConfig(rows=5_000, seed=11)
    first = write_transactions(generate_transactions(config), tmp_path / f"a{suffix}")
    second = write_transactions(generate_transactions(config), tmp_path / f"b{suffix}")
    assert first.read_bytes() == second.read_bytes()


def test_different_seeds_give_different_streams():
    one = generate_transactions(GeneratorConfig(rows=5_000, seed=1))
    two = generate_transactions(GeneratorConfig(rows=5_000, seed=2))
    assert not one["amount"].equals(two["amount"])


@pytest.mark.parametrize("fraud_rate", [0.001, 0.02, 0.05])
def test_realised_fraud_rate_is_within_a_fifth_of_the_requested_one(fraud_rate):
    frame = generate_transactions(GeneratorConfig(rows=100_000, fraud_rate=fraud_rate, seed=3))
    assert len(frame) == 100_000
    assert frame[LABEL].mean() == pytest.approx(fraud_rate, rel=0.2)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"fraud_rate": 0.0009}, "fraud_rate"),
        ({"fraud_rate": 0.06}, "fraud_rate"),
        ({"rows": 10}, "rows"),
        ({"days": 3}, "days"),
        ({"customers": 10}, "customers"),
    ],
)
def test_settings_out_of_range_are_rejected_naming_the_field(settings, field):
    with pytest.raises(DataError, match=field):
        GeneratorConfig(**{"rows": 10_000, **settings})


def test_columns_are_the_transaction_schema_plus_label_and_pattern(stream):
    assert list(stream.columns) == [*TRANSACTION_FIELDS, LABEL, PATTERN]


def test_every_pattern_is_present(stream):
    assert set(stream[PATTERN]) == set(PATTERN_NAMES)


def test_label_is_set_exactly_on_pattern_rows(stream):
    assert (stream[LABEL] == 1).equals(stream[PATTERN] != LEGIT_PATTERN)


def test_rows_are_sorted_by_time_with_sequential_ids(stream):
    assert stream["timestamp"].is_monotonic_increasing
    assert stream["transaction_id"].is_unique
    assert stream["transaction_id"].is_monotonic_increasing
    assert stream["transaction_id"].iloc[0] == "tx00000"


def test_timestamps_lie_within_the_configured_period():
    config = GeneratorConfig(rows=5_000, seed=4, days=14, start=pd.Timestamp("2025-06-01").date())
    frame = generate_transactions(config)
    assert frame["timestamp"].min() >= pd.Timestamp("2025-06-01", tz="UTC")
    assert frame["timestamp"].max() < pd.Timestamp("2025-06-15", tz="UTC")


def test_amounts_are_positive_and_whole_cents(stream):
    cents = stream["amount"] * 100
    assert (stream["amount"] > 0).all()
    assert np.allclose(cents, cents.round())


def test_customer_count_follows_the_setting():
    frame = generate_transactions(GeneratorConfig(rows=10_000, customers=300, seed=5))
    assert frame["customer_id"].nunique() == 300


def test_channel_follows_the_merchant_and_devices_the_channel(stream):
    per_merchant = stream.groupby("merchant_id")["channel"].nunique()
    online = stream["channel"] == "online"
    assert (per_merchant == 1).all()
    assert stream.loc[online, "device_id"].str.startswith("d").all()
    assert stream.loc[~online, "device_id"].str.startswith("t").all()


def test_every_fraud_victim_has_honest_history_before_the_fraud(stream):
    legit = stream[stream[LABEL] == 0]
    first_legit = legit.groupby("customer_id")["timestamp"].min()
    fraud = stream[stream[LABEL] == 1]
    assert (fraud["timestamp"] > fraud["customer_id"].map(first_legit)).all()


def test_card_testing_is_tiny_online_app_purchases_then_a_large_one(stream):
    rows = stream[stream[PATTERN] == "card_testing"]
    tests = rows[rows["amount"] <= 5.0]
    cash_outs = rows[rows["amount"] > 5.0]
    assert (rows["channel"] == "online").all()
    assert set(tests["merchant_category"]) <= {"digital_goods", "gaming"}
    assert len(tests) > 3 * len(cash_outs)
    assert cash_outs["amount"].median() > 100.0


def test_lost_stolen_is_in_store_near_home_at_resale_categories(stream, features):
    rows = stream[PATTERN] == "lost_stolen"
    assert (stream.loc[rows, "channel"] == "in_store").all()
    assert set(stream.loc[rows, "merchant_category"]) <= {"electronics", "jewelry", "retail"}
    assert features.loc[rows, "dist_home_km"].max() < 60.0


def test_account_takeover_comes_from_devices_the_victim_never_used(stream):
    takeover = stream[stream[PATTERN] == "account_takeover"]
    earlier_legit = stream[(stream[LABEL] == 0)]
    used = set(zip(earlier_legit["customer_id"], earlier_legit["device_id"], strict=True))
    pairs = zip(takeover["customer_id"], takeover["device_id"], strict=True)
    assert not any(pair in used for pair in pairs)
    assert (takeover["channel"] == "online").all()


def test_merchant_compromise_victims_shopped_at_one_merchant_days_before(stream):
    """Cards are exposed at a breached merchant and used one to seven days later: most victims
    visited, in that lead time, a shop that at least two other victims also visited in theirs
    (for randomly chosen customers it is about a third)."""
    first_fraud = (
        stream[stream[PATTERN] == "merchant_compromise"].groupby("customer_id")["timestamp"].min()
    )
    legit = stream[(stream[LABEL] == 0) & (stream["channel"] == "in_store")]
    lead = legit["customer_id"].map(first_fraud) - legit["timestamp"]
    visits = legit[(lead >= pd.Timedelta(days=1)) & (lead <= pd.Timedelta(days=7))]
    victims_per_merchant = visits.groupby("merchant_id")["customer_id"].nunique()
    shared = victims_per_merchant[victims_per_merchant >= 3].index
    grouped = visits.loc[visits["merchant_id"].isin(shared), "customer_id"].nunique()
    assert grouped >= 0.8 * len(first_fraud)


def test_terminal_compromise_charges_cards_again_where_they_paid_earlier_in_the_compromise(
    stream,
):
    """Each charge is at an in-store terminal where the same card paid honestly at most four
    weeks before, with an amount like the honest ones there: nothing in the card's view is new."""
    frauds = stream[stream[PATTERN] == TERMINAL_COMPROMISE]
    assert len(frauds) > 100
    assert (frauds["channel"] == "in_store").all()
    honest = stream[stream[LABEL] == 0]
    pairs = frauds.merge(honest, on=["customer_id", "merchant_id"], suffixes=("", "_visit"))
    lead = pairs["timestamp"] - pairs["timestamp_visit"]
    earlier = pairs[(lead > pd.Timedelta(0)) & (lead <= pd.Timedelta(days=28))]
    assert earlier["transaction_id"].nunique() == len(frauds)
    at_terminals = honest[honest["merchant_id"].isin(frauds["merchant_id"])]
    assert frauds["amount"].median() == pytest.approx(at_terminals["amount"].median(), rel=0.3)


def test_terminal_compromise_charges_at_the_terminals_busy_moments(stream):
    """Each charge falls within ten minutes of another card's honest payment at the terminal, so
    its time of day is one of the shop's own."""
    frauds = stream[stream[PATTERN] == TERMINAL_COMPROMISE]
    honest = stream[stream[LABEL] == 0]
    pairs = frauds.merge(honest, on="merchant_id", suffixes=("", "_other"))
    pairs = pairs[pairs["customer_id"] != pairs["customer_id_other"]]
    close = (pairs["timestamp"] - pairs["timestamp_other"]).abs() <= pd.Timedelta(minutes=10)
    assert pairs.loc[close, "transaction_id"].nunique() == len(frauds)


def test_terminal_compromise_lifts_the_terminals_volume_against_its_own_past(stream, features):
    """What gives it away is on the merchant's side: the terminal's last day is busier than its
    30-day daily mean, more than for honest in-store rows."""
    in_store = (stream["channel"] == "in_store").to_numpy()
    ratio = features["merchant_txn_count_24h"] / (features["merchant_txn_count_30d"] / 30 + 1)
    recharge = (stream[PATTERN] == TERMINAL_COMPROMISE).to_numpy()
    honest = in_store & (stream[LABEL] == 0).to_numpy()
    assert ratio[recharge].median() > 1.2 * ratio[honest].median()


@pytest.mark.parametrize(
    ("behaviour", "rows"),
    [
        ("travel far from home", lambda f, x: x["dist_home_km"] > 500),
        ("abroad at foreign merchants", lambda f, x: x["is_foreign"] == 1),
        ("a new device online", lambda f, x: (x["is_new_device"] == 1) & (x["is_online"] == 1)),
        ("bursts of tiny app purchases", lambda f, x: (x["txn_count_1h"] >= 3) & (f["amount"] < 5)),
        ("purchases far above their usual", lambda f, x: x["amount_to_mean"] > 4),
        ("shopping between midnight and 5 am UTC", lambda f, x: x["hour_of_day"] < 5),
    ],
)
def test_honest_customers_also_do_what_fraud_looks_like(stream, features, behaviour, rows):
    legit = (stream[LABEL] == 0).to_numpy()
    assert rows(stream, features)[legit].mean() > 0.002, behaviour


def test_no_single_feature_separates_fraud_but_all_together_do(stream, features):
    """The non-toy property: PR-AUC of any one column alone stays far below a full model's."""
    labels = stream[LABEL].to_numpy()
    columns = {
        **{name: features[name].to_numpy() for name in TRANSACTION_FEATURES},
        **{
            name: stream[name].to_numpy()
            for name in ("amount", "lat", "lon", "home_lat", "home_lon")
        },
    }
    single = {
        name: max(average_precision_score(labels, v), average_precision_score(labels, -v))
        for name, v in columns.items()
    }
    cut = int(len(stream) * 0.7)  # the stream is sorted by time: train on the past
    model = xgb.XGBClassifier(n_estimators=200, max_depth=6, tree_method="hist", n_jobs=2)
    model.fit(features.to_numpy()[:cut], labels[:cut])
    full = average_precision_score(
        labels[cut:], model.predict_proba(features.to_numpy()[cut:])[:, 1]
    )
    best = max(single, key=single.get)
    assert 0.6 <= full <= 0.98
    assert single[best] <= 0.6 * full, f"{best} alone reaches PR-AUC {single[best]:.3f}"


def terminal_compromise_auc(stream: pd.DataFrame, features: pd.DataFrame) -> float:
    """ROC-AUC of terminal-compromise charges against honest rows in the latest 30 %, of an
    XGBoost trained on the earlier 70 % with the given features."""
    labels = stream[LABEL].to_numpy()
    cut = int(len(stream) * 0.7)
    model = xgb.XGBClassifier(n_estimators=200, max_depth=6, tree_method="hist", n_jobs=2)
    model.fit(features.to_numpy()[:cut], labels[:cut])
    scores = model.predict_proba(features.to_numpy()[cut:])[:, 1]
    pattern = stream[PATTERN].to_numpy()[cut:]
    judged = (pattern == TERMINAL_COMPROMISE) | (labels[cut:] == 0)
    return roc_auc_score(labels[cut:][judged], scores[judged])


def test_terminal_compromise_needs_the_merchant_side_history(stream, features):
    """The ablation the generator exists for: without the merchant's own history the charges of
    a compromised terminal rank far lower among honest rows than with it."""
    merchant_side = [name for name in features.columns if name.startswith("merchant_")]
    assert merchant_side
    with_merchant = terminal_compromise_auc(stream, features)
    without = terminal_compromise_auc(stream, features.drop(columns=merchant_side))
    assert with_merchant >= without + 0.04, (with_merchant, without)


def test_one_pattern_per_registered_generator_with_shares_summing_to_one():
    assert [p.name for p in PATTERNS] == list(PATTERN_NAMES[1:])
    assert sum(p.share for p in PATTERNS) == pytest.approx(1.0)


def test_merchant_categories_are_the_schema_categories(stream):
    assert set(stream["merchant_category"]) <= set(CATEGORIES)


def test_writing_to_an_unknown_extension_is_refused_and_leaves_nothing(tmp_path):
    frame = generate_transactions(GeneratorConfig(rows=1_000, seed=1))
    with pytest.raises(DataError, match=r"\.csv or \.parquet"):
        write_transactions(frame, tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []
