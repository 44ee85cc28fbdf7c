"""Fixtures of the monitoring tests: an audit database of their own on the harness's PostgreSQL,
filled with synthetic scored traffic whose features follow a known reference profile."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audittrail import fresh_audit_database, synthetic_traffic, write_feedback, write_predictions
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.monitoring.monitor import Reference
from fraud_training.profile import feature_profile
from monitoring_data import NOW, REFERENCE_ROWS, features


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The profiles a bundle trained on the unshifted features would carry."""
    rng = np.random.default_rng(99)
    return Reference(
        model="fraud-detector/1",
        features={name: feature_profile(v) for name, v in features(REFERENCE_ROWS, 99).items()},
        score=feature_profile(rng.beta(0.5, 8.0, REFERENCE_ROWS)),
    )


@pytest.fixture
def bundle_folder(tmp_path: Path, reference: Reference) -> Path:
    """A served bundle carrying the reference profiles (no estimator: a pass never scores)."""
    bundle = ModelBundle(
        feature_set="transactions",
        algorithm="xgboost",
        estimator=None,
        thresholds=Thresholds(review=0.2, decline=0.6),
        reference_profile=dict(reference.features),
        score_profile=dict(reference.score),
    )
    return bundle.save(tmp_path / "fraud-detector")


@pytest.fixture
def audit_database(postgres_server: Any) -> Iterator[str]:
    """An empty audit trail (own database, schema by the service's migrations)."""
    with fresh_audit_database(postgres_server.dsn) as dsn:
        yield dsn


@pytest.fixture
def fill_audit(audit_database: str) -> Callable[..., list[str]]:
    """Write ``rows`` predictions in the hour before NOW (optionally shifted) and label the first
    ``labelled`` of them (fraud when the score is high) and the first ``degraded`` as scored
    without online history; returns the transaction ids."""

    def fill(
        rows: int,
        *,
        labelled: int = 0,
        amount_shift: float = 0.0,
        seed: int = 1,
        prefix: str = "tx",
        model_version: str = "1",
        end: datetime = NOW,
        degraded: int = 0,
    ) -> list[str]:
        traffic = synthetic_traffic(
            features(rows, seed, amount_shift),
            end,
            timedelta(minutes=59),
            seed=seed,
            prefix=prefix,
            model_version=model_version,
        )
        if degraded:
            traffic = dataclasses.replace(traffic, degraded=np.arange(rows) < degraded)
        write_predictions(audit_database, traffic)
        if labelled:
            ids = list(traffic.transaction_ids[:labelled])
            frauds = traffic.probabilities[:labelled] >= 0.2
            write_feedback(audit_database, ids, frauds.tolist(), end + timedelta(hours=30))
        return list(traffic.transaction_ids)

    return fill
