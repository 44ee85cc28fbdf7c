"""A training Job that cannot read its s3:// data (exit code 3, one line naming the URI and the
store's error) becomes TrainingSucceeded=False with reason StorageError, against the in-memory
fakes of the cluster and the registry."""

from __future__ import annotations

from fakes import Scenario
from fraud_operator.builders.common import STORAGE_ERROR_EXIT_CODE, USER_ERROR_EXIT_CODE
from fraud_operator.observed import FAILED, STORAGE_ERROR, training_run
from fraud_training.errors import FraudOpsError
from fraud_training.object_store import StorageError

URI = "s3://training-data/cards/transactions.csv"
S3_SPEC = {"data": {"uri": URI, "s3": {"endpoint": "http://object-store:8333"}}}
DENIED = f"error: {URI}: the secret key is wrong (SignatureDoesNotMatch: signature mismatch)"
JOB_LOG = f"[train] loading and validating {URI}\n{DENIED}\n"


def test_the_operator_and_the_job_agree_on_the_exit_codes() -> None:
    assert StorageError.exit_code == STORAGE_ERROR_EXIT_CODE
    assert FraudOpsError.exit_code == USER_ERROR_EXIT_CODE


def test_a_storage_failure_without_a_champion_is_failed_with_reason_storage_error() -> None:
    scenario = Scenario(S3_SPEC)
    scenario.reconcile()

    scenario.cluster.fail_with_exit(scenario.training_job(), STORAGE_ERROR_EXIT_CODE, JOB_LOG)
    status = scenario.reconcile()

    assert scenario.condition("TrainingSucceeded") == ("False", STORAGE_ERROR)
    assert status["phase"] == "Failed"
    assert URI in status["message"]
    assert "the secret key is wrong (SignatureDoesNotMatch" in status["message"]


def test_a_storage_failure_is_not_retried_by_the_operator() -> None:
    scenario = Scenario(S3_SPEC)
    scenario.reconcile()
    scenario.cluster.fail_with_exit(scenario.training_job(), STORAGE_ERROR_EXIT_CODE, JOB_LOG)

    scenario.reconcile()
    scenario.reconcile()

    assert len(scenario.cluster.jobs("training")) == 1


def test_a_storage_failure_while_a_champion_serves_keeps_serving_and_names_the_reason() -> None:
    scenario = Scenario(S3_SPEC)
    scenario.trained()
    scenario.edit(data={**S3_SPEC["data"], "uri": f"{URI}.gz"})
    scenario.reconcile()

    scenario.cluster.fail_with_exit(scenario.training_job(), STORAGE_ERROR_EXIT_CODE, JOB_LOG)
    status = scenario.reconcile()

    assert scenario.condition("TrainingSucceeded") == ("False", STORAGE_ERROR)
    assert status["phase"] == "Ready"
    assert f"latest training failed: {STORAGE_ERROR}" in status["message"]


def test_bad_input_keeps_the_job_controllers_reason() -> None:
    scenario = Scenario(S3_SPEC)
    scenario.reconcile()
    log = "error: data.uri: amount: must be >= 0\n"

    scenario.cluster.fail_with_exit(scenario.training_job(), USER_ERROR_EXIT_CODE, log)
    scenario.reconcile()

    assert scenario.condition("TrainingSucceeded") == ("False", "PodFailurePolicy")


def test_the_storage_message_is_the_jobs_error_line_without_the_progress_before_it() -> None:
    job = {
        "metadata": {"name": "cards-train-abc"},
        "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "X"}]},
    }
    terminated = {"exitCode": STORAGE_ERROR_EXIT_CODE, "message": JOB_LOG}
    pod = {
        "status": {"containerStatuses": [{"name": "train", "state": {"terminated": terminated}}]}
    }

    run = training_run(job, [pod])

    assert (run.state, run.reason) == (FAILED, STORAGE_ERROR)
    assert run.message == f"Job cards-train-abc: storage error: {DENIED.removeprefix('error: ')}"
