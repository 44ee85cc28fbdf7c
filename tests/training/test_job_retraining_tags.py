"""The training Job tags a retrained version with why it was retrained, on a real MLflow server."""

from __future__ import annotations

import pytest
from fraud_training import version_tags
from fraud_training.job import run_job
from fraud_training.tracking import tracking_target
from localservices.mlflow_server import MlflowServer
from training_setup import FAST_XGBOOST

pytestmark = pytest.mark.services


def spec(model_name: str, tracking_uri: str) -> dict:
    return {
        "fraudModel": {"namespace": "risk", "name": "cards", "generation": 1},
        "data": {"synthetic": {"rows": 3000, "seed": 3}},
        "training": {"hyperparameters": FAST_XGBOOST},
        "registry": {"modelName": model_name, "trackingUri": tracking_uri},
    }


def test_a_retraining_tags_its_version_with_the_reason(mlflow_server: MlflowServer) -> None:
    uri = mlflow_server.tracking_uri
    environ = {"FRAUDOPS_RETRAINING_REASON": "Drift"}

    result = run_job(spec("cards-retrained", uri), "cards-retrain-drift-1", environ)

    tags = tracking_target(uri).client().get_model_version("cards-retrained", result.version).tags
    assert tags[version_tags.RETRAINING_REASON] == "Drift"
    assert tags[version_tags.JOB] == "cards-retrain-drift-1"


def test_a_training_for_a_spec_carries_no_retraining_reason(mlflow_server: MlflowServer) -> None:
    uri = mlflow_server.tracking_uri

    result = run_job(spec("cards-first", uri), "cards-train-abc", {})

    tags = tracking_target(uri).client().get_model_version("cards-first", result.version).tags
    assert version_tags.RETRAINING_REASON not in tags
