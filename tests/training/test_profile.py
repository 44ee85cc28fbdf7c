"""The reference profile: plain JSON, decile bins that hold every training row."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fraud_training.profile import QUANTILE_LEVELS, feature_profile, reference_profile


def test_decile_bins_hold_every_row_in_about_equal_shares() -> None:
    values = np.random.default_rng(0).lognormal(size=10_000)
    profile = feature_profile(values)
    counts = profile["counts"]
    assert sum(counts) == 10_000 == profile["rows"][0]
    assert len(counts) == len(profile["bin_edges"]) == 11
    assert all(999 <= count <= 1_000 for count in counts[:10])
    assert counts[10] == 1  # the last bin starts at the training maximum


def test_quantiles_are_reported_at_their_levels() -> None:
    profile = feature_profile(np.arange(101, dtype=float))
    assert profile["quantile_levels"] == list(QUANTILE_LEVELS)
    assert profile["quantiles"][QUANTILE_LEVELS.index(0.5)] == 50.0
    assert profile["quantiles"][-1] == 100.0


def test_a_binary_feature_gets_two_bins() -> None:
    profile = feature_profile(np.array([0.0] * 90 + [1.0] * 10))
    assert profile["bin_edges"] == [0.0, 1.0]
    assert profile["counts"] == [90.0, 10.0]


def test_count_features_keep_their_own_values_as_edges() -> None:
    profile = feature_profile(np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 15 + [7.0] * 5))
    assert profile["bin_edges"] == [0.0, 1.0, 2.0, 7.0]
    assert profile["counts"] == [50.0, 30.0, 15.0, 5.0]


def test_a_constant_feature_gets_one_bin() -> None:
    profile = feature_profile(np.full(50, 3.0))
    assert profile["bin_edges"] == [3.0]
    assert profile["counts"] == [50.0]


def test_profile_of_a_matrix_is_keyed_by_feature_and_survives_json() -> None:
    matrix = np.column_stack([np.arange(20.0), np.ones(20)])
    profile = reference_profile(matrix, ["amount", "is_online"])
    assert json.loads(json.dumps(profile)) == profile
    assert set(profile) == {"amount", "is_online"}


def test_profile_refuses_a_matrix_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="expected a matrix with 3 columns"):
        reference_profile(np.zeros((4, 2)), ["a", "b", "c"])
