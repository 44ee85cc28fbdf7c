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
