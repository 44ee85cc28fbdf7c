"""Prometheus metrics: the names, labels and values the dashboards and alerts rely on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_text import sample

pytestmark = pytest.mark.services


def test_requests_are_counted_and_timed_by_route_template(
    client: TestClient, make_transaction: Any
) -> None:
    client.post("/predict", json=make_transaction())
    client.post("/predict", json=make_transaction(amount=-1))
    client.get("/v2/models/unknown")

    text = client.get("/metrics").text

    assert sample(text, "fraudops_http_requests_total", route="/predict", status="200") == 1
    assert sample(text, "fraudops_http_requests_total", route="/predict", status="422") == 1
    assert (
        sample(text, "fraudops_http_requests_total", route="/v2/models/{name}", status="404") == 1
    )
    assert sample(text, "fraudops_http_request_duration_seconds_count", route="/predict") == 2
    assert (
        sample(text, "fraudops_http_request_duration_seconds_bucket", route="/predict", le="+Inf")
        == 2
    )


def test_unmatched_paths_share_one_label(client: TestClient) -> None:
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")

    text = client.get("/metrics").text

    assert sample(text, "fraudops_http_requests_total", route="unmatched", status="404") == 2


def test_predictions_are_counted_by_decision_and_scores_histogrammed(
    client: TestClient, make_transaction: Any
) -> None:
    decision = client.post("/predict", json=make_transaction()).json()["decision"]

    text = client.get("/metrics").text

    assert sample(text, "fraudops_predictions_total", decision=decision) == 1
    assert sample(text, "fraudops_fraud_score_count") == 1


def test_model_info_names_the_served_model(client: TestClient) -> None:
    text = client.get("/metrics").text

    assert (
        sample(text, "fraudops_model_info", name="fraud-v1", version="local", algorithm="xgboost")
        == 1
    )
    assert sample(text, "fraudops_model_loads_total", outcome="success") == 1


def test_audit_and_degraded_feature_metrics_are_exported(client: TestClient) -> None:
    text = client.get("/metrics").text

    assert sample(text, "fraudops_audit_backlog_rows") >= 0
    assert sample(text, "fraudops_audit_rows_dropped_total") == 0
    assert sample(text, "fraudops_features_degraded_total") == 0
