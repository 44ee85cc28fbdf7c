"""The operator's gate reads a version's logged metrics against spec.validation."""

from __future__ import annotations

from fraud_operator.gate import judge
from fraud_operator.registry import VersionInfo

POLICY = {"minRocAuc": 0.9, "minPrAuc": 0.5, "maxRegression": 0.02}


def candidate(**metrics: float) -> VersionInfo:
    return VersionInfo("2", "run", {"roc_auc": 0.95, "pr_auc": 0.7, **metrics}, {})


CHAMPION = VersionInfo("1", "run1", {"roc_auc": 0.95, "pr_auc": 0.7}, {})


def test_good_metrics_pass() -> None:
    passed, message = judge(candidate(), None, POLICY)
    assert passed
    assert "pass" in message


def test_low_roc_auc_fails_naming_the_field() -> None:
    passed, message = judge(candidate(roc_auc=0.8), None, POLICY)
    assert not passed
    assert "validation.minRocAuc" in message


def test_low_pr_auc_fails_naming_the_field() -> None:
    passed, message = judge(candidate(pr_auc=0.2), None, POLICY)
    assert not passed
    assert "validation.minPrAuc" in message


def test_missing_metrics_fail_rather_than_pass() -> None:
    passed, _ = judge(VersionInfo("2", "run", {}, {}), None, POLICY)
    assert not passed


def test_invalid_probabilities_fail() -> None:
    passed, message = judge(candidate(probabilities_valid=0.0), None, POLICY)
    assert not passed
    assert "probabilities" in message


def test_regression_beyond_the_margin_against_the_champion_fails() -> None:
    passed, message = judge(candidate(pr_auc=0.6, champion_pr_auc=0.7), CHAMPION, POLICY)
    assert not passed
    assert "validation.maxRegression" in message


def test_regression_within_the_margin_passes() -> None:
    passed, _ = judge(candidate(pr_auc=0.69, champion_pr_auc=0.7), CHAMPION, POLICY)
    assert passed
