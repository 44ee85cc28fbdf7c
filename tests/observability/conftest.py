"""Fixtures of the observability tests: a real scoring process under a bounded burst of load and
the operator's real exporter told a FraudModel's story (operator_story.py), both scraped by
Debian's Prometheus evaluating the chart's rules file.

The service is started the way the serving tests start it (tests/inference/live_service.py),
against the harness's real Redis and PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fraud_training.algorithms import build_estimator
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.features import transaction_features
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.schema import LABEL
from localservices.ports import wait_until
from localservices.prometheus_server import PrometheusServer, started_prometheus

# The serving tests' launcher, one definition of how a service process is started and stopped.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from live_service import launch
from observed_service import ADMIN_TOKEN, ObservedService
from operator_story import OPERATOR_JOB, OperatorStory
from promtool import RULES_FILE
from traffic import burst, report_outcomes

SCRAPE_JOB = "fraud-scoring"
#: Long enough for several 1 s scrapes and rule evaluations; FRAUDOPS_LOAD_SECONDS lengthens it
#: (e.g. to draw the README's picture from a few minutes of data).
LOAD_SECONDS = 5.0
LEGIT_FEEDBACK = 60
#: A burst longer than this is paced in a swell (for the picture, not for the test).
WAVE_AFTER_S = 30.0
SCRAPE_TIMEOUT_S = 60.0


def scraped(prometheus: PrometheusServer, expr: str, expected: float) -> bool:
    """Whether ``expr`` evaluates to ``expected`` in Prometheus now."""
    result = prometheus.query(expr)
    return bool(result) and float(result[0]["value"][1]) == expected


@pytest.fixture(scope="session")
def stream() -> pd.DataFrame:
    """A generated transaction stream (2% fraud) in the shared schema."""
    return generate_transactions(GeneratorConfig(rows=3_000, seed=11))


@pytest.fixture(scope="session")
def observed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small XGBoost bundle trained the way the training package trains one."""
    training = generate_transactions(GeneratorConfig(rows=3_000, seed=12))
    labels = training[LABEL].to_numpy()
    estimator = build_estimator(
        "xgboost", labels, hyperparameters={"n_estimators": 30, "max_depth": 4, "n_jobs": 1}
    )
    estimator.fit(transaction_features(training), labels)
    bundle = ModelBundle(
        feature_set="transactions",
        algorithm="xgboost",
        estimator=estimator,
        thresholds=Thresholds(review=0.2, decline=0.6),
        metrics={"roc_auc": 0.95},
    )
    return bundle.save(tmp_path_factory.mktemp("observability") / "fraud-observed")


@pytest.fixture(scope="module")
def observed(
    tmp_path_factory: pytest.TempPathFactory,
    observed_model: Path,
    stream: pd.DataFrame,
    redis_server: Any,
    postgres_server: Any,
) -> Iterator[ObservedService]:
    """The scoring process scraped every second while it takes a burst of requests and
    feedback; both are stopped (and Prometheus's folder deleted) afterwards."""
    seconds = float(os.environ.get("FRAUDOPS_LOAD_SECONDS", LOAD_SECONDS))
    service = launch(
        tmp_path_factory.mktemp("observed-service"),
        MODEL_URI=str(observed_model),
        REDIS_URL=redis_server.url,
        DATABASE_URL=postgres_server.dsn,
        ADMIN_TOKEN=ADMIN_TOKEN,
        LOG_LEVEL="warning",
    )
    prometheus = None
    story = OperatorStory()
    try:
        service.wait_until("/readyz", 200)
        prometheus = started_prometheus(
            {SCRAPE_JOB: [service.url.removeprefix("http://")], OPERATOR_JOB: [story.address]},
            [RULES_FILE],
        )
        # Rates need a sample from before the burst and one from after it; on a busy machine
        # a scrape can time out, so both are waited for rather than assumed.
        for job in (SCRAPE_JOB, OPERATOR_JOB):
            wait_until(
                lambda job=job: bool(prometheus.query(f'up{{job="{job}"}} == 1')),
                SCRAPE_TIMEOUT_S,
                f"a first scrape of {job}",
            )
        started_at = time.time()
        traffic = burst(service.url, stream, seconds, wave=seconds > WAVE_AFTER_S)
        feedback_rows = report_outcomes(service.url, traffic, LEGIT_FEEDBACK, ADMIN_TOKEN)
        told = story.tell()
        wait_until(
            lambda: scraped(prometheus, "sum(fraudops_predictions_total)", len(traffic.outcomes)),
            SCRAPE_TIMEOUT_S,
            "a scrape of every scored transaction",
        )
        wait_until(
            lambda: scraped(prometheus, "sum(fraudops_operator_reconciles_total)", told.reconciles),
            SCRAPE_TIMEOUT_S,
            "a scrape of every reconcile the operator was told",
        )
        yield ObservedService(
            service, prometheus, traffic, feedback_rows, started_at, time.time(), story, told
        )
    finally:
        if prometheus is not None:
            prometheus.close()
        story.close()
        service.stop()
