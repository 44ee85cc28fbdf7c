"""The CRD's history and risk windows default to what ``fraudctl train`` defaults to, so a
FraudModel that leaves them out trains the model the documentation describes."""

from __future__ import annotations

import pytest
from crd_defaults import openapi_schema
from fraud_training.choices import (
    DEFAULT_ENTITY_WINDOWS,
    DEFAULT_PAIR_WINDOWS,
    DEFAULT_RISK_WINDOWS,
)

TRAINING = openapi_schema()["properties"]["spec"]["properties"]["training"]["properties"]


@pytest.mark.parametrize(
    ("field", "default"),
    [("entityWindows", DEFAULT_ENTITY_WINDOWS), ("pairWindows", DEFAULT_PAIR_WINDOWS)],
)
def test_the_crd_defaults_a_history_window_list_as_the_cli_does(field, default) -> None:
    assert tuple(TRAINING[field]["default"]) == default


def test_the_crd_defaults_the_risk_windows_as_the_cli_does() -> None:
    risk = TRAINING["riskFeatures"]["properties"]["windows"]
    assert tuple(risk["default"]) == DEFAULT_RISK_WINDOWS
