"""The operator's gate is the training package's gate with the FraudModel's policy."""

from __future__ import annotations

from fraud_operator.gate import policy, summary
from fraud_training.gate import GateCheck, GatePolicy, GateReport


def check(name: str, passed: bool, message: str) -> GateCheck:
    return GateCheck(name, passed, 0.0, "", message)


def test_spec_validation_becomes_the_gate_policy() -> None:
    spec = {"minRocAuc": 0.95, "minPrAuc": 0.7, "maxRegression": 0.01}
    assert policy(spec) == GatePolicy(min_roc_auc=0.95, min_pr_auc=0.7, max_regression=0.01)


def test_missing_fields_take_the_gate_defaults() -> None:
    assert policy({}) == GatePolicy()


def test_a_failed_check_names_the_spec_field_to_change() -> None:
    report = GateReport(
        "m",
        2,
        (
            check("probabilities_valid", True, "all finite"),
            check("min_pr_auc", False, "PR-AUC 0.3000 < 0.5"),
        ),
    )
    assert summary(report) == "PR-AUC 0.3000 < 0.5 (validation.minPrAuc)"


def test_a_passed_report_lists_every_check() -> None:
    report = GateReport("m", 1, (check("min_roc_auc", True, "ROC-AUC 0.99 >= 0.9"),))
    assert summary(report) == "ROC-AUC 0.99 >= 0.9"
