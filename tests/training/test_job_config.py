"""The training Job reads the FraudModel's split block into the training configuration."""

from __future__ import annotations

from pathlib import Path

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
