"""The CRD's column mapping is the training code's: the same field names, and the same extras as
``fraudctl``'s --feature, --entity and --timestamp-unit."""

from __future__ import annotations

from crd_defaults import openapi_schema
from fraud_training.loaders import MAPPABLE_FIELDS, ColumnMapping
from fraud_training.timestamps import EPOCH_UNITS

MAPPING = openapi_schema()["properties"]["spec"]["properties"]["data"]["properties"][
    "columnMapping"
]
EXTRAS = ("features", "entities", "timestampUnit")


def test_the_crd_maps_exactly_the_fields_the_loader_knows() -> None:
    fields = [name for name in MAPPING["properties"] if name not in EXTRAS]
    assert fields == list(MAPPABLE_FIELDS)


def test_the_crd_offers_the_epoch_units_the_loader_reads() -> None:
    assert MAPPING["properties"]["timestampUnit"]["enum"] == list(EPOCH_UNITS)


def test_a_mapping_in_the_crd_shape_reads_as_the_cli_would_give_it() -> None:
    spec = {"amount": "AMT", "features": ["C1"], "entities": ["ip"], "timestampUnit": "ms"}
    assert ColumnMapping.from_spec(spec) == ColumnMapping.from_pairs(
        ["amount=AMT"], "ms", ["C1"], ["ip"]
    )
