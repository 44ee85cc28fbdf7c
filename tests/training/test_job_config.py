"""The training Job reads the FraudModel's split, risk-feature and column-mapping blocks into the
training configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from fraud_training.errors import FraudOpsError
from fraud_training.job import training_config

SPEC = {"data": {"uri": "file:///data/x.csv"}, "registry": {"modelName": "m"}}


def test_the_label_delay_of_the_split_block_reaches_the_training_config() -> None:
    spec = {**SPEC, "training": {"split": {"testFraction": 0.25, "labelDelayDays": 7}}}
    config = training_config(spec, Path("/data/x.csv"))
    assert (config.test_fraction, config.label_delay_days) == (0.25, 7.0)


def test_without_a_label_delay_there_is_no_gap() -> None:
    assert training_config(SPEC, Path("/data/x.csv")).label_delay_days == 0.0


def test_the_risk_features_block_reaches_the_training_config() -> None:
    risk = {"labelDelayDays": 14, "windows": ["12h", "3d"], "smoothing": 2}
    config = training_config({**SPEC, "training": {"riskFeatures": risk}}, Path("/data/x.csv"))
    definition = config.risk_definition()
    assert definition.label_delay_ms == 14 * 86_400_000
    assert [w for w, _ in definition.windows_ms] == ["12h", "3d"]
    assert definition.smoothing == 2.0


def test_the_risk_delay_and_the_split_gap_are_separate_settings() -> None:
    spec = {**SPEC, "training": {"split": {"labelDelayDays": 3}, "riskFeatures": {}}}
    config = training_config(spec, Path("/data/x.csv"))
    assert (config.label_delay_days, config.risk_label_delay_days) == (3.0, 7.0)


def test_the_risk_entities_follow_the_merchant() -> None:
    risk = {"entities": ["device_id", "email_domain"]}
    config = training_config({**SPEC, "training": {"riskFeatures": risk}}, Path("/data/x.csv"))
    names = [entity.name for entity in config.risk_definition().entities]
    assert names == ["merchant", "device_id", "email_domain"]


def test_a_risk_entity_that_cannot_be_one_is_refused_naming_the_field() -> None:
    risk = {"entities": ["customer_id"]}
    with pytest.raises(
        FraudOpsError, match=r"^spec\.training\.riskFeatures\.entities customer_id: "
    ):
        training_config({**SPEC, "training": {"riskFeatures": risk}}, Path("/data/x.csv"))


def test_the_column_mapping_block_carries_fields_features_entities_and_unit() -> None:
    mapping = {
        "amount": "AMT",
        "timestamp": "TransactionDT",
        "features": ["C1", "card4"],
        "entities": ["P_emaildomain"],
        "timestampUnit": "s",
    }
    spec = {**SPEC, "data": {"uri": "/data/x.csv", "format": "mapped", "columnMapping": mapping}}
    config = training_config(spec, Path("/data/x.csv"))
    assert config.mapping is not None
    assert config.mapping.columns == {"amount": "AMT", "timestamp": "TransactionDT"}
    assert config.mapping.features == ("C1", "card4")
    assert config.mapping.entities == ("P_emaildomain",)
    assert config.mapping.timestamp_unit == "s"


def test_the_entity_windows_reach_the_training_config() -> None:
    spec = {**SPEC, "training": {"entityWindows": ["6h", "3d"]}}
    assert training_config(spec, Path("/data/x.csv")).entity_windows_ms() == (
        ("6h", 21_600_000),
        ("3d", 259_200_000),
    )


def test_the_pair_windows_reach_the_training_config() -> None:
    spec = {**SPEC, "training": {"pairWindows": ["12h"]}}
    assert training_config(spec, Path("/data/x.csv")).pair_windows_ms() == (("12h", 43_200_000),)
