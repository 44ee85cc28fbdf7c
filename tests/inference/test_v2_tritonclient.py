"""The KServe V2 protocol, spoken by an independent client: tritonclient's HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from fraud_training.bundle import ModelBundle
from fraud_training.features import TRANSACTION_FEATURES, transaction_features
from tritonclient.utils import InferenceServerException

pytestmark = pytest.mark.services

MODEL = "fraud-detector"


@pytest.fixture
def triton_client(start_service: Any, model_folder: Any, postgres_server: Any) -> Iterator[Any]:
    """tritonclient connected to a real service process."""
    service = start_service(MODEL_URI=str(model_folder), DATABASE_URL=postgres_server.dsn)
    service.wait_until("/readyz", 200)
    client = triton.InferenceServerClient(url=service.url.removeprefix("http://"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def feature_rows(transactions_frame: pd.DataFrame) -> np.ndarray:
    """Real feature rows of the generated stream."""
    return transaction_features(transactions_frame)[:64]


def infer(client: Any, rows: np.ndarray, binary: bool) -> Any:
    tensor = triton.InferInput("features", list(rows.shape), "FP64")
    tensor.set_data_from_numpy(rows, binary_data=binary)
    outputs = [
        triton.InferRequestedOutput("fraud_probability", binary_data=binary),
        triton.InferRequestedOutput("decision", binary_data=binary),
    ]
    return client.infer(MODEL, [tensor], outputs=outputs)


def test_server_and_model_are_live_and_ready(triton_client: Any) -> None:
    assert triton_client.is_server_live()
    assert triton_client.is_server_ready()
    assert triton_client.is_model_ready(MODEL)
    assert triton_client.get_server_metadata()["name"] == "fraudops"


def test_model_metadata_lists_inputs_and_outputs(triton_client: Any) -> None:
    metadata = triton_client.get_model_metadata(MODEL)

    assert metadata["inputs"][0]["name"] == "features"
    assert metadata["inputs"][0]["datatype"] == "FP64"
    assert metadata["inputs"][0]["shape"] == [-1, len(TRANSACTION_FEATURES)]
    assert [o["name"] for o in metadata["outputs"]] == ["fraud_probability", "decision"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary-tensors", "json-tensors"])
def test_infer_returns_the_bundle_probabilities_and_decisions(
    triton_client: Any, model_folder: Any, feature_rows: np.ndarray, binary: bool
) -> None:
    bundle = ModelBundle.load(model_folder)

    result = infer(triton_client, feature_rows, binary)

    probabilities = result.as_numpy("fraud_probability")
    np.testing.assert_allclose(probabilities, bundle.predict_proba(feature_rows), atol=1e-6)
    decisions = [d.decode() if isinstance(d, bytes) else d for d in result.as_numpy("decision")]
    assert decisions == list(bundle.thresholds.decide(probabilities))
    assert result.get_response()["model_version"] == "local"


def test_infer_with_the_served_version(triton_client: Any, feature_rows: np.ndarray) -> None:
    tensor = triton.InferInput("features", [1, len(TRANSACTION_FEATURES)], "FP64")
    tensor.set_data_from_numpy(feature_rows[:1])

    result = triton_client.infer(MODEL, [tensor], model_version="local")

    assert result.as_numpy("fraud_probability").shape == (1,)


def test_unknown_model_is_an_error_naming_it(triton_client: Any, feature_rows: np.ndarray) -> None:
    tensor = triton.InferInput("features", [1, len(TRANSACTION_FEATURES)], "FP64")
    tensor.set_data_from_numpy(feature_rows[:1])

    with pytest.raises(InferenceServerException, match="'no-such-model' not found"):
        triton_client.infer("no-such-model", [tensor])
    assert not triton_client.is_model_ready("no-such-model")


def test_wrong_feature_count_is_an_error_naming_the_shape(triton_client: Any) -> None:
    tensor = triton.InferInput("features", [1, 3], "FP64")
    tensor.set_data_from_numpy(np.zeros((1, 3)))

    with pytest.raises(
        InferenceServerException, match=rf"shape must be \[rows, {len(TRANSACTION_FEATURES)}\]"
    ):
        triton_client.infer(MODEL, [tensor])
