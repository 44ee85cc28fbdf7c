"""The operator's metrics: gauges derived from the FraudModels observed, counters of the
transitions a reconcile makes, and the exporter that serves them.

Reconciles run through :meth:`OperatorMetrics.measured` against the in-memory fakes, as the kopf
handlers run them; each test reads the samples from a registry of its own.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from crd_defaults import fraud_model
from fakes import Scenario
from fraud_operator.main import observed
from fraud_operator.metrics import (
    METRICS,
    OperatorMetrics,
    phase_counts,
    phases,
    seen,
    serve,
    transitions,
)
from fraud_operator.registry import RegistryUnavailable
from prometheus_client import CollectorRegistry

MINIMAL = {"data": {"synthetic": {"rows": 20_000}}}
FM = {"fraudmodel_namespace": "risk", "fraudmodel": "cards"}


def fresh() -> OperatorMetrics:
    return OperatorMetrics(CollectorRegistry())


def sample(metrics: OperatorMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def stored(name: str, phase: str | None, uid: str, namespace: str = "risk", **status: object):
    body = fraud_model(MINIMAL, name=name, namespace=namespace, uid=uid)
    body["status"] = {**({"phase": phase} if phase else {}), **status}
    return body


# FraudModels by phase


def test_phase_counts_count_each_phase_and_show_the_other_phases_as_zero() -> None:
    objects = [
        seen(stored("a", "Ready", "1")),
        seen(stored("b", "Ready", "2")),
        seen(stored("c", "Training", "3")),
    ]

    counts = phase_counts(objects)

    assert counts[("risk", "Ready")] == 2
    assert counts[("risk", "Training")] == 1
    assert {p for (_, p), n in counts.items() if n == 0} == set(phases()) - {"Ready", "Training"}


def test_the_phases_are_the_crds_phase_enum() -> None:
    assert phases() == (
        "Pending",
        "Training",
        "Validating",
        "Promoting",
        "Deploying",
        "Ready",
        "Degraded",
        "Failed",
    )


def test_a_restarted_operator_reports_phases_from_the_objects_it_lists_without_a_reconcile() -> (
    None
):
    metrics = fresh()

    for body in (stored("a", "Ready", "1"), stored("b", "Failed", "2", namespace="cards")):
        metrics.observe(body)

    assert (
        sample(metrics, "fraudops_operator_fraudmodels", fraudmodel_namespace="risk", phase="Ready")
        == 1
    )
    assert (
        sample(
            metrics, "fraudops_operator_fraudmodels", fraudmodel_namespace="cards", phase="Failed"
        )
        == 1
    )
    assert (
        sample(
            metrics,
            "fraudops_operator_fraudmodel_phase",
            fraudmodel_namespace="risk",
            fraudmodel="a",
            phase="Ready",
        )
        == 1
    )


def test_an_object_seen_again_in_another_phase_moves_rather_than_counting_twice() -> None:
    metrics = fresh()

    metrics.observe(stored("a", "Training", "1"))
    metrics.observe(stored("a", "Ready", "1"))

    assert (
        sample(
            metrics, "fraudops_operator_fraudmodels", fraudmodel_namespace="risk", phase="Training"
        )
        == 0
    )
    assert (
        sample(metrics, "fraudops_operator_fraudmodels", fraudmodel_namespace="risk", phase="Ready")
        == 1
    )


def test_a_deleted_fraud_model_leaves_the_gauges_and_its_counters() -> None:
    metrics = fresh()
    body = stored("cards", "Ready", "1")
    metrics.observe(body)

    metrics.forget(body)

    assert (
        sample(metrics, "fraudops_operator_fraudmodels", fraudmodel_namespace="risk", phase="Ready")
        is None
    )
    assert sample(metrics, "fraudops_operator_promotions_total", **FM) is None


# status.monitoring and the retraining policy


def test_monitoring_fields_become_gauges_and_absent_or_null_fields_give_no_sample() -> None:
    metrics = fresh()
    monitoring = {"driftScore": 0.31, "livePrecision": None, "labelledRows": 640}

    metrics.observe(stored("cards", "Ready", "1", monitoring=monitoring))

    assert sample(metrics, "fraudops_monitoring_drift_score", **FM) == 0.31
    assert sample(metrics, "fraudops_monitoring_labelled_rows", **FM) == 640
    assert sample(metrics, "fraudops_monitoring_live_precision", **FM) is None
    assert sample(metrics, "fraudops_monitoring_live_recall", **FM) is None


def test_a_fraud_model_without_monitoring_status_exports_no_monitoring_sample() -> None:
    metrics = fresh()

    metrics.observe(stored("cards", "Training", "1"))

    assert sample(metrics, "fraudops_monitoring_drift_score", **FM) is None


def test_the_retraining_policy_is_exported_beside_the_monitoring_gauges() -> None:
    metrics = fresh()
    body = stored("cards", "Ready", "1")
    body["spec"]["retraining"] = {
        "drift": {"psiThreshold": 0.2},
        "performance": {"minPrecision": 0.85, "minLabelledRows": 500},
    }

    metrics.observe(body)

    assert sample(metrics, "fraudops_monitoring_drift_threshold", **FM) == 0.2
    assert sample(metrics, "fraudops_monitoring_min_precision", **FM) == 0.85
    assert sample(metrics, "fraudops_monitoring_min_labelled_rows", **FM) == 500


# Counters of transitions, through real reconciles


def test_a_fraud_models_counters_start_at_zero_when_it_is_first_seen() -> None:
    metrics = fresh()

    metrics.observe(stored("cards", "Pending", "1"))

    assert sample(metrics, "fraudops_operator_gate_decisions_total", **FM, outcome="failed") == 0
    assert sample(metrics, "fraudops_operator_training_jobs_total", **FM, outcome="failed") == 0


def test_a_trained_and_promoted_model_counts_one_training_one_gate_pass_one_promotion() -> None:
    metrics, scenario = fresh(), Scenario(MINIMAL)
    scenario.measured(metrics)
    job = scenario.training_job()
    scenario.cluster.finish(job)
    version = scenario.registry.register(job)
    scenario.measured(metrics)
    scenario.registry.decide(version, True)
    for _ in range(4):
        scenario.measured(metrics)

    assert scenario.status["phase"] == "Ready"
    assert sample(metrics, "fraudops_operator_training_jobs_total", **FM, outcome="succeeded") == 1
    assert sample(metrics, "fraudops_operator_gate_decisions_total", **FM, outcome="passed") == 1
    assert sample(metrics, "fraudops_operator_promotions_total", **FM) == 1
    assert sample(metrics, "fraudops_operator_rollbacks_total", **FM) == 0
    assert sample(metrics, "fraudops_operator_reconciles_total") == 6
    assert sample(metrics, "fraudops_operator_reconcile_duration_seconds_count") == 6


def test_a_failed_training_job_is_counted_once_however_often_it_is_seen() -> None:
    metrics, scenario = fresh(), Scenario(MINIMAL)
    scenario.measured(metrics)
    scenario.cluster.finish(scenario.training_job(), succeeded=False)

    for _ in range(3):
        scenario.measured(metrics)

    assert sample(metrics, "fraudops_operator_training_jobs_total", **FM, outcome="failed") == 1
    assert sample(metrics, "fraudops_operator_training_jobs_total", **FM, outcome="succeeded") == 0


def test_a_candidate_rejected_by_the_gate_counts_a_failed_gate_decision() -> None:
    metrics, scenario = fresh(), Scenario(MINIMAL)
    scenario.measured(metrics)
    job = scenario.training_job()
    scenario.cluster.finish(job)
    version = scenario.registry.register(job)
    scenario.measured(metrics)
    scenario.registry.decide(version, False)

    scenario.measured(metrics)
    scenario.measured(metrics)

    assert sample(metrics, "fraudops_operator_gate_decisions_total", **FM, outcome="failed") == 1
    assert sample(metrics, "fraudops_operator_gate_decisions_total", **FM, outcome="passed") == 0


def test_a_gate_job_that_fails_without_a_decision_counts_a_gate_error() -> None:
    metrics, scenario = fresh(), Scenario(MINIMAL)
    version = scenario.trained(gate=None)
    scenario.cluster.finish(f"cards-gate-v{version}", succeeded=False)

    scenario.measured(metrics)

    assert sample(metrics, "fraudops_operator_gate_decisions_total", **FM, outcome="error") == 1


def test_a_pin_to_an_older_version_counts_a_rollback() -> None:
    metrics, scenario = fresh(), Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    scenario.trained()
    serving = {**scenario.fm["spec"]["serving"], "version": int(first)}
    scenario.edit(serving=serving)

    scenario.measured(metrics)

    assert scenario.status["championVersion"] == first
    assert sample(metrics, "fraudops_operator_rollbacks_total", **FM) == 1
    assert sample(metrics, "fraudops_operator_promotions_total", **FM) == 0


def test_transitions_count_nothing_when_the_status_does_not_move() -> None:
    status = {
        "trainingJob": "cards-train-1",
        "championVersion": "2",
        "candidateVersion": "2",
        "conditions": [
            {"type": "TrainingSucceeded", "status": "True", "reason": "JobComplete"},
            {"type": "Validated", "status": "True", "reason": "GatePassed"},
        ],
    }

    assert transitions(status, dict(status)) == []
    assert transitions(status, {"phase": "Ready"}) == []


def test_an_invalid_spec_is_no_training_job_outcome() -> None:
    new = {
        "conditions": [{"type": "TrainingSucceeded", "status": "False", "reason": "InvalidSpec"}]
    }

    assert transitions({}, new) == []


# Reconcile errors and the exporter


def test_a_reconcile_that_raises_counts_an_error_by_its_kind_and_raises_it_unchanged() -> None:
    metrics = fresh()

    async def unavailable() -> dict:
        raise RegistryUnavailable("connection refused")

    with pytest.raises(RegistryUnavailable):
        asyncio.run(metrics.measured(stored("cards", "Ready", "1"), unavailable))

    assert (
        sample(metrics, "fraudops_operator_reconcile_errors_total", reason="RegistryUnavailable")
        == 1
    )
    assert sample(metrics, "fraudops_operator_reconcile_errors_total", reason="ClusterBusy") == 0
    assert sample(metrics, "fraudops_operator_reconciles_total") == 1
    assert sample(metrics, "fraudops_operator_reconcile_duration_seconds_count") == 1


def test_the_exporter_serves_the_metrics_in_prometheus_text_format() -> None:
    metrics = fresh()
    metrics.observe(stored("cards", "Ready", "1", monitoring={"driftScore": 0.05}))

    server = serve(metrics, 0, "127.0.0.1")
    try:
        text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10).text
    finally:
        server.shutdown()

    assert 'fraudops_operator_fraudmodels{fraudmodel_namespace="risk",phase="Ready"} 1.0' in text
    assert 'fraudops_monitoring_drift_score{fraudmodel="cards",fraudmodel_namespace="risk"}' in text
    assert "fraudops_operator_reconcile_duration_seconds_bucket" in text


def test_the_watch_handler_feeds_the_operators_gauges_and_a_deletion_empties_them() -> None:
    body = stored("watched", "Deploying", "watch-uid", namespace="watch-test")
    labels = {"fraudmodel_namespace": "watch-test", "phase": "Deploying"}

    observed(event={"type": None, "object": body}, body=body)
    listed = METRICS.registry.get_sample_value("fraudops_operator_fraudmodels", labels)
    observed(event={"type": "DELETED", "object": body}, body=body)

    assert listed == 1
    assert METRICS.registry.get_sample_value("fraudops_operator_fraudmodels", labels) is None
