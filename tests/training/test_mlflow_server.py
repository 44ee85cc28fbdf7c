"""Training, registry and gate against a real ``mlflow server`` on loopback (artifacts served
over HTTP), as in a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from fraud_training.choices import CHAMPION
from fraud_training.config import TrainingConfig
from fraud_training.gate import validate_version
from fraud_training.registry import download_bundle, promote
from fraud_training.tracking import tracking_target
from fraud_training.train import run_training
from localservices.mlflow_server import MlflowServer
from training_setup import FAST_XGBOOST

pytestmark = pytest.mark.services


def test_training_against_the_server_registers_a_servable_version(
    mlflow_server: MlflowServer, transactions_file: Path
) -> None:
    result = run_training(
        TrainingConfig(
            data=transactions_file,
            model_name="fraud-served",
            tracking_uri=mlflow_server.tracking_uri,
            hyperparameters=FAST_XGBOOST,
        )
    )
    client = tracking_target(mlflow_server.tracking_uri).client()
    assert result.version == 1
    assert client.get_model_version("fraud-served", "1").run_id == result.run_id

    promote(client, "fraud-served", 1, CHAMPION)
    loaded = download_bundle("models:/fraud-served@champion", mlflow_server.tracking_uri)
    assert (loaded.version, loaded.run_id) == (1, result.run_id)
    assert validate_version(client, "fraud-served", 1).passed
    # The server stored the artifacts, not this process's working directory.
    assert list((mlflow_server.root / "artifacts").rglob("bundle.pkl"))
