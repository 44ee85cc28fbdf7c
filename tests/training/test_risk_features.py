"""The label-aware risk features offline: delayed fraud rates per entity and the compromised-card
flag, checked against their definition row by row, for leakage and for bad configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fraud_training.errors import FraudOpsError
from fraud_training.risk_features import (
    CARD_FEATURE,
    DAY_MS,
    MERCHANT,
    RiskEntity,
    RiskFeatures,
    risk_entities,
)

HOUR_MS = 3_600_000
START = pd.Timestamp("2026-01-01", tz="UTC")


def frame_of(rows: list[tuple[float, str, str]]) -> pd.DataFrame:
    """Transactions from (hours after START, merchant, card)."""
    return pd.DataFrame(
        {
            "transaction_id": [f"t{i}" for i in range(len(rows))],
            "timestamp": [START + pd.Timedelta(hours=h) for h, _, _ in rows],
            "merchant_id": [m for _, m, _ in rows],
            "customer_id": [c for _, _, c in rows],
        }
    )


def random_stream(n: int = 3_000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """A stream over 60 days with ties in time, few merchants and cards, 8 % fraud."""
    rng = np.random.default_rng(seed)
    hours = np.sort(rng.integers(0, 60 * 24, n)).astype(float)  # whole hours: many ties
    frame = frame_of([(h, f"m{rng.integers(0, 15)}", f"c{rng.integers(0, 200)}") for h in hours])
    return frame, (rng.random(n) < 0.08).astype(np.int64)


def brute_force(spec: RiskFeatures, frame: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """The definition, row by row: what the vectorised build must equal."""
    ts = (frame["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    ts = ts.to_numpy(np.int64)
    out = np.zeros((len(frame), len(spec.feature_names)))
    keys = {
        e.name: frame[list(e.columns)].astype(str).agg("|".join, axis=1).to_numpy()
        for e in spec.entities
    }
    cards = frame["customer_id"].to_numpy()
    for i in range(len(frame)):
        columns = []
        upper = ts[i] - spec.label_delay_ms
        for entity in spec.entities:
            same = keys[entity.name] == keys[entity.name][i]
            rates, counts = [], []
            for _, width in spec.windows_ms:
                inside = same & (ts <= upper) & (ts > upper - width)
                n, f = inside.sum(), labels[inside].sum()
                rates.append((f + spec.smoothing * spec.prior) / (n + spec.smoothing))
                counts.append(n)
            columns += rates + counts
        columns.append(float(((cards == cards[i]) & (labels == 1) & (ts <= upper)).any()))
        out[i] = columns
    return out


def test_vectorised_build_equals_the_definition_row_by_row() -> None:
    frame, labels = random_stream(600)
    spec = RiskFeatures.configured(3, ("1d", "7d"), 5.0).fitted(labels)
    np.testing.assert_allclose(spec.build(frame, labels), brute_force(spec, frame, labels))


def test_a_composite_entity_is_keyed_by_all_its_columns() -> None:
    frame, labels = random_stream(400, seed=3)
    pair = RiskEntity("card_merchant", ("customer_id", "merchant_id"))
    spec = RiskFeatures.configured(2, ("7d",), 1.0, (MERCHANT, pair)).fitted(labels)
    np.testing.assert_allclose(spec.build(frame, labels), brute_force(spec, frame, labels))


def test_a_row_never_sees_its_own_label() -> None:
    frame, labels = random_stream()
    spec = RiskFeatures.configured().fitted(labels)
    before = spec.build(frame, labels)
    for i in (0, 700, 2_999):
        flipped = labels.copy()
        flipped[i] = 1 - flipped[i]
        np.testing.assert_array_equal(spec.build(frame, flipped)[i], before[i])


def test_labels_younger_than_the_delay_do_not_count() -> None:
    frame, labels = random_stream()
    spec = RiskFeatures.configured(7).fitted(labels)
    before = spec.build(frame, labels)
    ts = frame["timestamp"]
    cutoff = ts.iloc[2_000] - pd.Timedelta(days=7)
    # change every label of the last 7 days before row 2000: row 2000 must not move
    young = ((ts > cutoff) & (ts <= ts.iloc[2_000])).to_numpy()
    changed = np.where(young, 1 - labels, labels)
    np.testing.assert_array_equal(spec.build(frame, changed)[2_000], before[2_000])


def test_later_rows_and_labels_do_not_change_earlier_rows() -> None:
    frame, labels = random_stream()
    spec = RiskFeatures.configured().fitted(labels)
    full = spec.build(frame, labels)
    np.testing.assert_array_equal(spec.build(frame.iloc[:1_500], labels[:1_500]), full[:1_500])


def test_a_label_counts_exactly_once_its_transaction_is_delay_old() -> None:
    frame = frame_of([(0, "m", "a"), (7 * 24 - 1, "m", "b"), (7 * 24, "m", "c")])
    labels = np.array([1, 0, 0])
    spec = RiskFeatures.configured(7, ("1d",), 0.0).fitted(np.array([0, 1]))
    risk = spec.build(frame, labels)
    names = spec.feature_names
    assert risk[:, names.index("merchant_delayed_txn_count_1d")].tolist() == [0, 0, 1]
    assert risk[:, names.index("merchant_risk_1d")].tolist() == [0.5, 0.5, 1.0]


def test_smoothing_pulls_a_small_merchant_toward_the_prior() -> None:
    frame = frame_of([(0, "m", "a"), (200, "m", "b")])
    labels = np.array([1, 0])
    spec = RiskFeatures.configured(7, ("30d",), 4.0).fitted(np.array([0, 0, 0, 1]))
    risk = spec.build(frame, labels)
    # one fraud in one transaction, four pseudo-transactions at 25 %: (1 + 1) / (1 + 4)
    assert risk[1, spec.feature_names.index("merchant_risk_30d")] == pytest.approx(0.4)
    assert risk[0, spec.feature_names.index("merchant_risk_30d")] == pytest.approx(0.25)


def test_the_card_is_compromised_once_a_fraud_of_its_own_is_delay_old() -> None:
    frame = frame_of([(0, "m1", "a"), (24, "m2", "a"), (8 * 24, "m3", "a"), (8 * 24, "m3", "b")])
    labels = np.array([0, 1, 0, 0])
    spec = RiskFeatures.configured(7).fitted(labels)
    flag = spec.build(frame, labels)[:, spec.feature_names.index(CARD_FEATURE)]
    assert flag.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_the_definition_reads_back_from_its_description() -> None:
    spec = RiskFeatures.configured(2.5, ("12h", "3d"), 2.0).fitted(np.array([0, 1, 0, 0]))
    assert RiskFeatures.from_description(spec.describe()) == spec


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"label_delay_days": 0}, "--risk-label-delay-days"),
        ({"label_delay_days": -1}, "--risk-label-delay-days"),
        ({"label_delay_days": float("nan")}, "--risk-label-delay-days"),
        ({"label_delay_days": 400}, "--risk-label-delay-days"),
        ({"windows": ("7x",)}, "--risk-window"),
        ({"windows": ("0d",)}, "--risk-window"),
        ({"windows": ("1.5d",)}, "--risk-window"),
        ({"windows": ()}, "--risk-window"),
        ({"windows": ("7d", "7d")}, "--risk-window"),
        ({"smoothing": -1}, "--risk-smoothing"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_option(
    arguments: dict[str, object], named: str
) -> None:
    with pytest.raises(FraudOpsError, match=f"^{named}: "):
        RiskFeatures.configured(**arguments)  # type: ignore[arg-type]


def test_rates_of_a_large_stream_are_finite_and_near_its_fraud_rate() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    frame = pd.DataFrame(
        {
            "timestamp": START + pd.to_timedelta(np.sort(rng.integers(0, 90 * DAY_MS, n)), "ms"),
            "merchant_id": rng.integers(0, 5_000, n).astype(str),
            "customer_id": rng.integers(0, 50_000, n).astype(str),
        }
    )
    labels = (rng.random(n) < 0.01).astype(np.int64)
    spec = RiskFeatures.configured().fitted(labels)
    risk = spec.build(frame, labels)
    assert risk.shape == (n, len(spec.feature_names))
    assert np.isfinite(risk).all()
    assert 0 < risk[:, 0].mean() < 0.05


def test_a_named_risk_entity_gets_its_own_rates_after_the_merchants() -> None:
    spec = RiskFeatures.configured(entities=risk_entities(["device_id"]), windows=("7d",))
    assert spec.feature_names == (
        "merchant_risk_7d",
        "merchant_delayed_txn_count_7d",
        "device_id_risk_7d",
        "device_id_delayed_txn_count_7d",
        CARD_FEATURE,
    )


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["merchant_id"], "merchant_id: the merchant is a risk entity already"),
        (["customer_id"], "customer_id: cannot be a risk entity"),
        (["is_fraud"], "is_fraud: cannot be a risk entity"),
        (["device_id", "device_id"], "given more than once: device_id"),
        ([" "], "must not be empty"),
    ],
)
def test_a_column_that_cannot_be_a_risk_entity_is_refused_by_name(
    columns: list[str], message: str
) -> None:
    with pytest.raises(FraudOpsError, match=f"^--risk-entity.*{message}"):
        risk_entities(columns)
