"""The validation gate on registered versions: minimums, valid probabilities, and no regression
against the champion re-scored on the candidate's own hold-out."""

from __future__ import annotations

import numpy as np
from fraud_training.choices import CHAMPION
from fraud_training.gate import (
    GatePolicy,
    metric_checks,
    probability_check,
    record_gate_result,
    validate_version,
)
from fraud_training.registry import promote
from fraud_training.train import TrainingResult
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME

#: Only the comparison with the champion can fail under this policy.
NO_MINIMUMS = GatePolicy(min_roc_auc=0.0, min_pr_auc=0.0, max_regression=0.02)


def failed(report: object) -> list[str]:
    return [check.name for check in report.checks if not check.passed]


def test_a_good_version_passes_when_there_is_no_champion(
    no_aliases: None, client: MlflowClient
) -> None:
    report = validate_version(client, MODEL_NAME, 1)
    assert report.passed
    assert report.checks[-1].message == "no champion yet: nothing to beat"


def test_a_version_much_worse_than_the_champion_is_refused(
    no_aliases: None, client: MlflowClient
) -> None:
    promote(client, MODEL_NAME, 1, CHAMPION)
    report = validate_version(client, MODEL_NAME, 2, NO_MINIMUMS)
    assert failed(report) == ["no_regression_vs_champion"]
    assert report.checks[-1].observed < -0.02
    assert "champion v1" in report.checks[-1].message


def test_a_version_better_than_the_champion_passes(no_aliases: None, client: MlflowClient) -> None:
    promote(client, MODEL_NAME, 2, CHAMPION)
    report = validate_version(client, MODEL_NAME, 1, NO_MINIMUMS)
    assert report.passed
    assert report.checks[-1].observed > 0


def test_the_champion_compared_with_itself_passes(no_aliases: None, client: MlflowClient) -> None:
    promote(client, MODEL_NAME, 1, CHAMPION)
    report = validate_version(client, MODEL_NAME, 1)
    assert report.passed
    assert report.checks[-1].message == "version 1 is the champion itself"


def test_minimum_pr_auc_is_measured_on_the_logged_hold_out(
    no_aliases: None, client: MlflowClient, good_version: TrainingResult
) -> None:
    report = validate_version(client, MODEL_NAME, 1, GatePolicy(min_pr_auc=0.999))
    assert failed(report) == ["min_pr_auc"]
    pr_check = next(check for check in report.checks if check.name == "min_pr_auc")
    assert pr_check.observed == good_version.metrics["pr_auc"]


def test_probability_check_counts_nan_and_out_of_range_scores() -> None:
    check = probability_check(np.array([0.1, np.nan, 1.2, -0.1, 1.0]))
    assert not check.passed
    assert check.observed == 3


def test_metric_checks_fail_on_non_finite_scores() -> None:
    checks = metric_checks(np.array([0, 1]), np.array([0.1, np.inf]), GatePolicy())
    assert [check.passed for check in checks] == [False, False]


def test_the_outcome_is_recorded_on_the_version(no_aliases: None, client: MlflowClient) -> None:
    record_gate_result(client, validate_version(client, MODEL_NAME, 2, GatePolicy(min_pr_auc=1.0)))
    assert client.get_model_version(MODEL_NAME, "2").tags["gate"] == "failed"
