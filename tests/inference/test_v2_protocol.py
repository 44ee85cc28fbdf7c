"""V2 protocol details a client can get wrong: each is a 4xx with ``{"error": ...}``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fraud_training.features import TRANSACTION_FEATURES

pytestmark = pytest.mark.services

INFER = "/v2/models/fraud-detector/infer"
N = len(TRANSACTION_FEATURES)


def tensor(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "features",
        "shape": [1, N],
        "datatype": "FP64",
        "data": [0.0] * N,
        **overrides,
    }


def test_nested_data_is_accepted(client: TestClient) -> None:
    response = client.post(INFER, json={"inputs": [tensor(data=[[1.0] * N])]})

    assert response.status_code == 200
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    assert outputs["fraud_probability"]["shape"] == [1]
    assert outputs["decision"]["datatype"] == "BYTES"


def test_only_the_requested_output_is_returned(client: TestClient) -> None:
    body = {"inputs": [tensor()], "outputs": [{"name": "decision"}]}

    outputs = client.post(INFER, json=body).json()["outputs"]

    assert [o["name"] for o in outputs] == ["decision"]


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.post(INFER, json={"id": "abc-1", "inputs": [tensor()]})

    assert response.json()["id"] == "abc-1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputs": []}, "inputs: must be a non-empty list"),
        ({"inputs": [tensor(name="x")]}, "unknown input 'x'"),
        ({"inputs": [tensor(datatype="BYTES")]}, "is not numeric"),
        ({"inputs": [tensor(data=[0.0] * (N - 1))]}, f"data has {N - 1} values"),
        ({"inputs": [tensor(data=["a"] * N)]}, "numbers only"),
        ({"inputs": [tensor(shape=[1, -N])]}, "non-negative integers"),
        ({"inputs": [tensor(shape=[0, N], data=[])]}, "at least one row"),
        ({"inputs": [tensor()], "outputs": [{"name": "score"}]}, "unknown output 'score'"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_malformed_requests_are_400_naming_the_problem(
    client: TestClient, body: Any, message: str
) -> None:
    response = client.post(INFER, json=body)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_too_many_rows_is_a_413(client: TestClient) -> None:
    body = {"inputs": [tensor(shape=[51, N], data=[0.0] * 51 * N)]}

    assert client.post(INFER, json=body).status_code == 413


def test_unknown_model_is_a_404(client: TestClient) -> None:
    assert client.get("/v2/models/other").status_code == 404
    response = client.post("/v2/models/other/infer", json={"inputs": [tensor()]})
    assert response.status_code == 404
    assert response.json() == {
        "error": "model 'other' not found; this server serves 'fraud-detector'"
    }


def test_unknown_version_is_a_404(client: TestClient) -> None:
    response = client.get("/v2/models/fraud-detector/versions/7")

    assert response.status_code == 404
    assert "version '7' not found" in response.json()["error"]
