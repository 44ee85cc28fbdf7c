"""The CRD's ``data.uri`` rules and the training Job's parser agree on what an ``s3://`` URI is,
so a URI the API server lets through is never refused by the Job as malformed instead.

The API server's own verdicts (the CEL rules evaluated for real) are in
test_crd_rejects_bad_objects.py; this checks the pattern offline, with Python's ``re`` standing in
for CEL's RE2 (the pattern uses only what both read alike)."""

from __future__ import annotations

import re

import pytest
from crd_defaults import openapi_schema
from fraud_training.object_store import parse_object_uri

DATA = openapi_schema()["properties"]["spec"]["properties"]["data"]
URI_RULES = [rule["rule"] for rule in DATA["properties"]["uri"]["x-kubernetes-validations"]]
PATTERN = re.compile(
    next(m.group(1) for r in URI_RULES if (m := re.search(r"self\.matches\('(.+)'\)", r)))
)
ACCEPTED = [
    "s3://training-data/cards/transactions.csv",
    "s3://abc/x.parquet",
    "s3://fraudops.data-2026/a/b/c/creditcard.csv.gz",
]
REFUSED = ["s3://data", "s3://data/", "s3://data/cards/", "s3://Data/x.csv", "s3://ab/x.csv"]


@pytest.mark.parametrize("uri", ACCEPTED)
def test_a_uri_the_crd_accepts_names_a_bucket_and_key_for_the_job(uri: str) -> None:
    assert PATTERN.match(uri)
    location = parse_object_uri(uri)
    assert location.uri == uri


@pytest.mark.parametrize("uri", REFUSED)
def test_the_crd_refuses_an_s3_uri_without_a_bucket_and_an_object_key(uri: str) -> None:
    assert not PATTERN.match(uri)


def test_the_s3_settings_are_the_ones_the_builder_passes_on() -> None:
    assert set(DATA["properties"]["s3"]["properties"]) == {
        "endpoint",
        "region",
        "credentialsSecret",
    }
