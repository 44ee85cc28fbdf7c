"""The test helper that applies the CRD's defaults behaves as the API server's defaulting does."""

from __future__ import annotations

from crd_defaults import fraud_model, openapi_schema


def test_defaults_reach_into_objects_that_were_themselves_defaulted() -> None:
    spec = fraud_model({"data": {"synthetic": {}}})["spec"]

    split_schema = openapi_schema()["properties"]["spec"]["properties"]["training"]["properties"][
        "split"
    ]["properties"]
    assert spec["training"]["split"] == {
        name: field["default"] for name, field in split_schema.items()
    }


def test_given_values_are_kept() -> None:
    given = {"data": {"synthetic": {"rows": 5000}}, "serving": {"maxReplicas": 8}}

    spec = fraud_model(given)["spec"]

    assert spec["data"]["synthetic"]["rows"] == 5000
    assert spec["serving"]["maxReplicas"] == 8


def test_optional_objects_without_a_default_stay_absent() -> None:
    spec = fraud_model({"data": {"uri": "s3://data/tx.parquet"}})["spec"]

    assert "synthetic" not in spec["data"]
    assert "retraining" not in spec
