"""The scoring service loads and scores a bundle from its serving payload alone: in a fresh
interpreter where the training stack and pandas cannot be imported (as in the serving image),
it becomes ready, scores and explains, and none of those libraries is ever imported."""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fraud_inference.model_store import ModelStore
from fraud_inference.serving_bundle import ServingBundle
from fraud_training.bundle import ModelBundle
from fraud_training.bundle_layout import SERVING_FOLDER
from fraud_training.serving_payload import PayloadMismatch, write_serving_payload

#: What the serving image does not install: the learners, their helpers and pandas.
NOT_IN_THE_SERVING_IMAGE = (
    "sklearn",
    "imblearn",
    "xgboost",
    "lightgbm",
    "scipy",
    "pandas",
    "pyarrow",
    "onnx",
    "onnxmltools",
    "mlflow",
)

SERVE_IN_A_SERVING_IMAGE = """
import importlib.abc, json, sys, time
BLOCKED = set({blocked!r})

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from fastapi.testclient import TestClient
from fraud_inference.api import create_app
from fraud_inference.settings import Settings

settings = Settings(model_uri={folder!r}, tracking_uri={tracking_uri!r}, log_level="error")
out = {{}}
with TestClient(create_app(settings)) as client:
    for _ in range(300):
        ready = client.get("/readyz")
        if ready.status_code == 200 or "cannot load" in ready.text:
            break
        time.sleep(0.1)
    out["ready"] = ready.status_code
    out["readyz"] = ready.text
    if ready.status_code == 200:
        scored = client.post("/predict", json={transaction!r})
        out["predict"] = scored.status_code
        out["body"] = scored.json()
out["modules"] = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps(out))
"""


#: One raw transaction of a customer without history (no Redis here: a degraded score).
TRANSACTION = {
    "transaction_id": "no-stack-tx0",
    "customer_id": "no-stack-customer",
    "timestamp": "2026-03-01T10:00:00Z",
    "amount": 420.5,
    "merchant_id": "m1",
    "merchant_category": "electronics",
    "merchant_country": "FR",
    "channel": "online",
    "device_id": "d1",
    "lat": 48.85,
    "lon": 2.35,
    "home_lat": 48.86,
    "home_lon": 2.34,
    "home_country": "FR",
}


def serve_without_training_stack(
    model_uri: Path | str,
    tracking_uri: str | None = None,
    absent: tuple[str, ...] = NOT_IN_THE_SERVING_IMAGE,
) -> dict[str, Any]:
    """Start the service on ``model_uri`` where the ``absent`` libraries cannot be imported,
    score :data:`TRANSACTION` if it gets ready; what happened, and what was imported."""
    program = SERVE_IN_A_SERVING_IMAGE.format(
        blocked=absent, folder=str(model_uri), tracking_uri=tracking_uri, transaction=TRANSACTION
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def served_without_training_stack(model_folder: Path) -> dict[str, Any]:
    return serve_without_training_stack(model_folder)


def test_a_bundle_saved_now_carries_a_checked_serving_payload(model_folder: Path) -> None:
    manifest = json.loads((model_folder / SERVING_FOLDER / "serving.json").read_text())

    assert manifest["feature_names"] == list(ModelBundle.load(model_folder).feature_names)
    assert manifest["checked"]["probability_max_abs_difference"] <= 1e-5
    assert manifest["checked"]["contribution_max_abs_difference"] <= 1e-3


def test_the_service_is_ready_and_scores_without_the_training_stack(
    served_without_training_stack: dict[str, Any],
) -> None:
    assert served_without_training_stack["ready"] == 200
    assert served_without_training_stack["predict"] == 200
    prediction = served_without_training_stack["body"]
    assert 0.0 <= prediction["fraud_probability"] <= 1.0
    assert len(prediction["top_features"]) == 5


def test_scoring_imports_none_of_the_training_stack(
    served_without_training_stack: dict[str, Any],
) -> None:
    loaded = set(served_without_training_stack["modules"])

    assert "onnxruntime" in loaded
    assert not loaded & set(NOT_IN_THE_SERVING_IMAGE)


def test_the_payload_scores_as_the_estimator(model_folder: Path) -> None:
    bundle = ModelBundle.load(model_folder)
    store = ModelStore(None, "path", "auto")
    served = store._build(str(model_folder))
    rows = np.random.default_rng(3).normal(size=(64, len(bundle.feature_names))) * 50

    assert isinstance(served.bundle, ServingBundle)
    np.testing.assert_allclose(
        served.predictor.probability(rows), bundle.predict_proba(rows), atol=1e-5
    )


def test_a_bundle_without_payload_names_what_is_missing_where_the_stack_is_absent(
    model_folder: Path, tmp_path: Path
) -> None:
    old = shutil.copytree(model_folder, tmp_path / "old-bundle")
    shutil.rmtree(old / SERVING_FOLDER)

    served = serve_without_training_stack(old)

    assert served["ready"] == 503
    assert "serving/serving.json" in served["readyz"]
    assert "fraudops[all]" in served["readyz"]


def test_a_bundle_without_payload_is_served_from_its_estimator_where_the_stack_is_installed(
    model_folder: Path, tmp_path: Path
) -> None:
    old = shutil.copytree(model_folder, tmp_path / "old-bundle")
    shutil.rmtree(old / SERVING_FOLDER)

    served = ModelStore(None, "path", "auto")._build(str(old))

    assert isinstance(served.bundle, ModelBundle)
    assert served.predictor.kind == "onnxruntime"


def test_a_payload_that_disagrees_with_the_estimator_fails_the_save(
    model_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = ModelBundle.load(model_folder)
    monkeypatch.setattr(
        ModelBundle, "predict_proba", lambda self, features: np.full(len(features), 0.5)
    )

    with pytest.raises(PayloadMismatch, match="ONNX model differs from the estimator"):
        write_serving_payload(bundle, tmp_path / "bundle")
    assert not (tmp_path / "bundle" / SERVING_FOLDER).exists()


@pytest.mark.services
def test_a_registered_version_is_served_with_the_skinny_mlflow_client_alone(
    registered_model: str, mlflow_server: Any
) -> None:
    absent = tuple(name for name in NOT_IN_THE_SERVING_IMAGE if name != "mlflow")

    served = serve_without_training_stack(
        f"models:/{registered_model}@champion", mlflow_server.tracking_uri, absent
    )

    assert served["ready"] == 200, served["readyz"]
    assert served["predict"] == 200
    assert served["body"]["model_version"] == "1"
    assert not set(served["modules"]) & set(absent)


def test_no_service_module_imports_the_training_stack() -> None:
    import fraud_inference

    service_modules = [
        info.name
        for info in pkgutil.walk_packages(fraud_inference.__path__, "fraud_inference.")
        # fraudctl's `serve` command (typer) and Alembic's migration scripts run elsewhere.
        if info.name != "fraud_inference.serve_command" and ".migrations" not in info.name
    ]
    program = (
        "import importlib, json, sys\n"
        f"for name in {service_modules!r}: importlib.import_module(name)\n"
        "import fraud_inference.__main__\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )

    assert not set(json.loads(done.stdout)) & set(NOT_IN_THE_SERVING_IMAGE)


def test_request_values_encode_as_a_training_column_does_without_pandas() -> None:
    import pandas as pd
    from fraud_training.features import CATEGORICAL, NUMERIC, PassThroughFeature

    category = PassThroughFeature("segment", CATEGORICAL, ("retail", "b2b", "1.0"), (0.6, 0.3, 0.1))
    amount = PassThroughFeature("score", NUMERIC)
    values = ["b2b", None, "unseen", 1.0, "retail", float("nan")]
    numbers = [1.5, None, 3, float("nan")]

    np.testing.assert_array_equal(
        category.encode(values), category.encode(pd.Series(values, dtype=object))
    )
    np.testing.assert_array_equal(amount.encode(numbers), amount.encode(pd.Series(numbers)))
