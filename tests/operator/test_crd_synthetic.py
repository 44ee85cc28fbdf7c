"""The CRD's ``data.synthetic`` accepts what the generator accepts: the same bounds, so a value the
API server lets through never fails in the training Job instead."""

from __future__ import annotations

import pytest
from crd_defaults import openapi_schema
from fraud_training.generator.config import (
    MAX_DAYS,
    MAX_FRAUD_RATE,
    MIN_DAYS,
    MIN_FRAUD_RATE,
    MIN_ROWS,
    GeneratorConfig,
)

SYNTHETIC = openapi_schema()["properties"]["spec"]["properties"]["data"]["properties"]["synthetic"][
    "properties"
]


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("days", MIN_DAYS, MAX_DAYS), ("fraudRate", MIN_FRAUD_RATE, MAX_FRAUD_RATE)],
)
def test_the_crd_bounds_a_synthetic_field_as_the_generator_does(field, low, high) -> None:
    assert (SYNTHETIC[field]["minimum"], SYNTHETIC[field]["maximum"]) == (low, high)


def test_the_crd_asks_at_least_the_generators_fewest_rows() -> None:
    assert SYNTHETIC["rows"]["minimum"] == MIN_ROWS


def test_the_crd_defaults_make_a_valid_generator_config() -> None:
    GeneratorConfig(
        rows=SYNTHETIC["rows"]["default"],
        fraud_rate=SYNTHETIC["fraudRate"]["default"],
        days=SYNTHETIC["days"]["default"],
        seed=SYNTHETIC["seed"]["default"],
    )
