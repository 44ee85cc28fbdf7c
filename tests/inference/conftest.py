"""Fixtures of the scoring-service tests: a generated stream, real XGBoost bundles trained with
the training package, the service in process (TestClient) or as a real uvicorn process.

Every service fixture uses the real PostgreSQL and Redis of the harness
(``localservices.pytest_datastores``). Tests share those servers, so each one keys what it
checks by ids of its own (a fresh customer or transaction prefix).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from fraud_inference.api import create_app
from fraud_inference.settings import Settings
from fraud_training.algorithms import build_estimator
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.features import transaction_features
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.holdout import HoldOut
from fraud_training.registry import promote
from fraud_training.schema import LABEL
from fraud_training.tracking import log_training_run, tracking_target
from live_service import ServiceProcess, launch, wait_ready

STREAM_ROWS = 6_000
REGISTERED_MODEL = "fraud-serving-test"


def train_bundle(frame: pd.DataFrame, trees: int) -> ModelBundle:
    """A small XGBoost bundle built the way the training package builds one."""
    labels = frame[LABEL].to_numpy()
    estimator = build_estimator(
        "xgboost", labels, hyperparameters={"n_estimators": trees, "max_depth": 4, "n_jobs": 1}
    )
    estimator.fit(transaction_features(frame), labels)
    return ModelBundle(
        feature_set="transactions",
        algorithm="xgboost",
        estimator=estimator,
        thresholds=Thresholds(review=0.2, decline=0.6),
        metrics={"roc_auc": 0.95},
    )


@pytest.fixture(scope="session")
def transactions_frame() -> pd.DataFrame:
    """A generated transaction stream in the shared schema, sorted by time."""
    return generate_transactions(GeneratorConfig(rows=STREAM_ROWS, seed=7))


@pytest.fixture(scope="session")
def model_folder(
    tmp_path_factory: pytest.TempPathFactory, transactions_frame: pd.DataFrame
) -> Path:
    """A bundle folder (the model loaded by most tests); its name is the served model name."""
    return train_bundle(transactions_frame, trees=40).save(
        tmp_path_factory.mktemp("models") / "fraud-v1"
    )


@pytest.fixture(scope="session")
def other_model_folder(
    tmp_path_factory: pytest.TempPathFactory, transactions_frame: pd.DataFrame
) -> Path:
    """A second, different bundle to reload to."""
    return train_bundle(transactions_frame, trees=25).save(
        tmp_path_factory.mktemp("models") / "fraud-v2"
    )


@pytest.fixture(scope="session")
def registered_model(mlflow_server: Any, transactions_frame: pd.DataFrame) -> str:
    """Two versions of a model registered in the real MLflow server, champion on version 1."""
    target = tracking_target(mlflow_server.tracking_uri)
    features = transaction_features(transactions_frame)[:200]
    labels = transactions_frame[LABEL].to_numpy()[:200]
    amounts = transactions_frame["amount"].to_numpy()[:200]
    for trees in (40, 25):
        bundle = train_bundle(transactions_frame, trees)
        holdout = HoldOut(
            bundle.feature_names, features, labels, amounts, bundle.predict_proba(features)
        )
        log_training_run(
            target, "serving-tests", REGISTERED_MODEL, bundle, holdout, {"trees": trees}, []
        )
    promote(target.client(), REGISTERED_MODEL, 1)
    return REGISTERED_MODEL


@pytest.fixture
def make_transaction() -> Callable[..., dict[str, Any]]:
    """Valid raw transactions for a fresh customer; keyword arguments override fields."""
    customer = f"cust-{uuid.uuid4().hex[:12]}"
    counter = iter(range(1_000_000))

    def make(**overrides: Any) -> dict[str, Any]:
        n = next(counter)
        return {
            "transaction_id": f"{customer}-tx{n}",
            "customer_id": customer,
            "timestamp": f"2026-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "amount": 42.5 + n,
            "merchant_id": f"m{n % 3}",
            "merchant_category": "electronics",
            "merchant_country": "FR",
            "channel": "online",
            "device_id": "d1",
            "lat": 48.85,
            "lon": 2.35,
            "home_lat": 48.86,
            "home_lon": 2.34,
            "home_country": "FR",
            **overrides,
        }

    return make


@pytest.fixture
def service_settings(
    model_folder: Path, redis_server: Any, postgres_server: Any, tmp_path: Path
) -> Settings:
    """Settings of a complete service: model, Redis, PostgreSQL, admin token, spool."""
    return Settings(
        model_uri=str(model_folder),
        redis_url=redis_server.url,
        database_url=postgres_server.dsn,
        admin_token="test-admin-token",
        audit_spool_dir=tmp_path / "spool",
        max_batch_rows=50,
        log_level="warning",
    )


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    """The complete service in process, ready."""
    with TestClient(create_app(service_settings)) as test_client:
        wait_ready(test_client)
        yield test_client


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start real service processes (environment as keyword arguments); all stopped at the end."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        service = launch(tmp_path, **env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
