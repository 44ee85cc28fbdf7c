"""Drift against a reference profile: PSI bands, the chi-square test, the corrected verdict."""

from __future__ import annotations

import numpy as np
import pytest
from fraud_training.monitoring.drift import (
    MIN_COLUMN_ROWS,
    DriftBands,
    bin_counts,
    chi_square_homogeneity,
    column_drift,
    population_stability,
)
from fraud_training.profile import feature_profile
from scipy.stats import chi2_contingency

RNG = np.random.default_rng(11)
REFERENCE = {
    "amount": feature_profile(RNG.lognormal(3.0, 1.0, 50_000)),
    "hour": feature_profile(RNG.integers(0, 24, 50_000).astype(float)),
    "is_online": feature_profile((RNG.random(50_000) < 0.3).astype(float)),
}


def window(rows: int, seed: int, **overrides: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {
        "amount": rng.lognormal(3.0, 1.0, rows),
        "hour": rng.integers(0, 24, rows).astype(float),
        "is_online": (rng.random(rows) < 0.3).astype(float),
    }
    return {**values, **overrides}


def test_psi_of_two_known_distributions() -> None:
    psi = population_stability(np.array([[50.0, 50.0]]), np.array([[25.0, 75.0]]))

    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi[0] == pytest.approx(expected)


def test_chi_square_is_the_contingency_test_of_the_two_count_rows() -> None:
    reference = np.array([[120.0, 300.0, 80.0, 0.0]])
    observed = np.array([[30.0, 50.0, 40.0, 0.0]])

    statistic, p_value = chi_square_homogeneity(reference, observed)

    expected = chi2_contingency(np.array([[120, 300, 80], [30, 50, 40]]), correction=False)
    assert statistic[0] == pytest.approx(expected.statistic)
    assert p_value[0] == pytest.approx(expected.pvalue)


def test_values_outside_the_training_range_fall_in_the_edge_bins() -> None:
    counts = bin_counts(np.array([-5.0, 0.0, 1.5, 2.0, 99.0, np.nan]), np.array([0.0, 1.0, 2.0]))

    assert counts.tolist() == [2, 1, 2]


def test_the_same_distribution_does_not_drift() -> None:
    result = column_drift(window(20_000, seed=1), REFERENCE)

    assert result.drifted == []
    assert all(column.band == "stable" for column in result.columns)


def test_a_planted_shift_drifts_only_the_shifted_columns() -> None:
    rng = np.random.default_rng(2)
    shifted = window(20_000, seed=2, amount=rng.lognormal(3.8, 1.0, 20_000))

    result = column_drift(shifted, REFERENCE)

    assert result.drifted == ["amount"]
    assert result.column("amount").band == "major"
    assert result.column("amount").window_mean > result.column("amount").reference_mean
    assert result.score == result.column("amount").psi


def test_a_binary_column_drifts_when_its_rate_moves() -> None:
    rng = np.random.default_rng(3)
    shifted = window(20_000, seed=3, is_online=(rng.random(20_000) < 0.7).astype(float))

    assert column_drift(shifted, REFERENCE).drifted == ["is_online"]


def test_a_significant_but_tiny_shift_in_a_large_window_is_not_drift() -> None:
    rng = np.random.default_rng(4)
    nudged = window(400_000, seed=4, amount=rng.lognormal(3.06, 1.0, 400_000))

    amount = column_drift(nudged, REFERENCE).column("amount")

    assert amount.q_value < 0.05
    assert amount.band == "stable"
    assert not amount.drifted


def test_the_bands_decide_what_counts_as_major() -> None:
    rng = np.random.default_rng(5)
    shifted = window(20_000, seed=5, amount=rng.lognormal(3.3, 1.0, 20_000))

    default = column_drift(shifted, REFERENCE).column("amount")
    strict = column_drift(shifted, REFERENCE, DriftBands(moderate=0.02, major=0.05))

    assert not default.drifted
    assert strict.drifted == ["amount"]


def test_columns_missing_on_either_side_are_skipped_with_the_reason() -> None:
    values = {**window(5_000, seed=6), "new_feature": np.ones(5_000)}
    del values["hour"]

    result = column_drift(values, REFERENCE)

    assert result.skipped == {
        "new_feature": "not in the reference profile",
        "hour": "no values in the window",
    }
    assert {column.name for column in result.columns} == {"amount", "is_online"}


def test_a_column_with_too_few_values_gets_no_verdict() -> None:
    sparse = window(5_000, seed=7)
    sparse["amount"] = np.full(5_000, np.nan)
    sparse["amount"][: MIN_COLUMN_ROWS - 1] = 10.0

    result = column_drift(sparse, REFERENCE)

    assert "amount" in result.skipped
    assert "amount" not in {column.name for column in result.columns}


def test_bands_out_of_order_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="psi bands"):
        DriftBands(moderate=0.3, major=0.2)
