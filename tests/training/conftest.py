"""Fixtures of the training tests: a small generated data set, a throw-away local MLflow store
and two registered versions (a good model and a deliberately weak one) trained once per session.

Every MLflow run costs seconds, so the registry, gate and tracking tests share these versions;
tests that move aliases start from :func:`no_aliases`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fraud_training.choices import ALIASES
from fraud_training.config import TrainingConfig
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.tracking import TrackingTarget, local_store
from fraud_training.train import TrainingResult, run_training
from mlflow.tracking import MlflowClient
from training_setup import FAST_XGBOOST, MODEL_NAME, WEAK_XGBOOST


@pytest.fixture(scope="session")
def transactions_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 generated transactions with 4 % fraud, as Parquet: 160 frauds in the test period,
    enough for the small XGBoost of these tests to clear the default gate with a margin."""
    frame = generate_transactions(GeneratorConfig(rows=20_000, fraud_rate=0.04, seed=7))
    return write_transactions(frame, tmp_path_factory.mktemp("data") / "transactions.parquet")


@pytest.fixture(scope="session")
def local_tracking(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    """A SQLite tracking store with its artifact folder, in a temp folder."""
    return local_store(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture(scope="session")
def good_version(transactions_file: Path, local_tracking: TrackingTarget) -> TrainingResult:
    """Version 1 of ``fraud-test``: a small XGBoost that separates the classes well."""
    return run_training(
        TrainingConfig(
            data=transactions_file,
            model_name=MODEL_NAME,
            tracking_uri=local_tracking.tracking_uri,
            hyperparameters=FAST_XGBOOST,
        )
    )


@pytest.fixture(scope="session")
def weak_version(
    good_version: TrainingResult, transactions_file: Path, local_tracking: TrackingTarget
) -> TrainingResult:
    """Version 2 of ``fraud-test``: a single stump, clearly worse than version 1."""
    return run_training(
        TrainingConfig(
            data=transactions_file,
            model_name=MODEL_NAME,
            tracking_uri=local_tracking.tracking_uri,
            hyperparameters=WEAK_XGBOOST,
        )
    )


@pytest.fixture
def client(local_tracking: TrackingTarget) -> MlflowClient:
    return local_tracking.client()


@pytest.fixture
def no_aliases(
    client: MlflowClient, good_version: TrainingResult, weak_version: TrainingResult
) -> None:
    """Both versions registered and no alias set, whatever earlier tests promoted."""
    for alias in client.get_registered_model(MODEL_NAME).aliases:
        if alias in ALIASES:
            client.delete_registered_model_alias(MODEL_NAME, alias)
