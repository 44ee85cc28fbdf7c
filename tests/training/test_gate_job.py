"""The gate Job: one decision per version, recorded like ``fraudctl validate`` records it, and an
exit code that tells the Job controller whether retrying can help."""

from __future__ import annotations

import pytest
from fraud_training import version_tags
from fraud_training.gate_job import BAD_INPUT, DECIDED, REGISTRY_DOWN, main
from fraud_training.tracking import TrackingTarget
from fraud_training.train import TrainingResult
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME


def gate_job(tracking_uri: str, version: int, model: str = MODEL_NAME, **policy: float) -> int:
    thresholds = {"min_roc_auc": 0.5, "min_pr_auc": 0.1, "max_regression": 1.0, **policy}
    argv = ["--model", model, "--version", str(version), "--tracking-uri", tracking_uri]
    for name, value in thresholds.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    return main(argv)


@pytest.fixture
def undecided(no_aliases: None, client: MlflowClient, good_version: TrainingResult) -> MlflowClient:
    """Version 1 without any gate record, whatever earlier tests wrote."""
    for key in (version_tags.GATE, version_tags.GATE_MESSAGE):
        if key in client.get_model_version(MODEL_NAME, "1").tags:
            client.delete_model_version_tag(MODEL_NAME, "1", key)
    return client


def test_the_job_records_a_passing_decision_with_its_message(
    undecided: MlflowClient, local_tracking: TrackingTarget
) -> None:
    assert gate_job(local_tracking.tracking_uri, 1) == DECIDED

    tags = undecided.get_model_version(MODEL_NAME, "1").tags
    assert tags[version_tags.GATE] == version_tags.GATE_PASSED
    assert "ROC-AUC" in tags[version_tags.GATE_MESSAGE]


def test_a_failed_check_names_the_field_that_sets_it(
    undecided: MlflowClient, local_tracking: TrackingTarget
) -> None:
    assert gate_job(local_tracking.tracking_uri, 1, min_pr_auc=0.999) == DECIDED

    tags = undecided.get_model_version(MODEL_NAME, "1").tags
    assert tags[version_tags.GATE] == version_tags.GATE_FAILED
    assert "validation.minPrAuc" in tags[version_tags.GATE_MESSAGE]


def test_a_retried_job_keeps_the_first_decision(
    undecided: MlflowClient, local_tracking: TrackingTarget
) -> None:
    gate_job(local_tracking.tracking_uri, 1, min_pr_auc=0.999)

    assert gate_job(local_tracking.tracking_uri, 1) == DECIDED
    assert undecided.get_model_version(MODEL_NAME, "1").tags[version_tags.GATE] == "failed"


def test_a_version_that_does_not_exist_is_bad_input(
    no_aliases: None, local_tracking: TrackingTarget
) -> None:
    assert gate_job(local_tracking.tracking_uri, 99) == BAD_INPUT


def test_a_version_without_a_hold_out_is_recorded_as_failed_with_the_reason(
    client: MlflowClient, local_tracking: TrackingTarget
) -> None:
    name = "fraud-test-no-holdout"
    experiment = client.create_experiment("gate-job-no-holdout")
    run = client.create_run(experiment)
    client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)

    assert gate_job(local_tracking.tracking_uri, int(version.version), model=name) == DECIDED

    tags = client.get_model_version(name, version.version).tags
    assert tags[version_tags.GATE] == version_tags.GATE_FAILED
    assert "cannot score" in tags[version_tags.GATE_MESSAGE]


def test_an_unreachable_registry_exits_1_so_the_job_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")

    assert gate_job("http://127.0.0.1:9", 1) == REGISTRY_DOWN
