"""The alert rules: valid for promtool, unit-tested firing and silent, tied to what they watch."""

from __future__ import annotations

import re

import pytest
import yaml
from fraud_operator.naming import retrain_cronjob_name, training_job_name
from promtool import REPO, RULES_FILE, RULES_TESTS, alerting_rules, promtool, recording_rules

DOCS = REPO / "docs" / "observability.md"


def alert_tests() -> list[dict[str, object]]:
    """Every alert_rule_test case of the promtool test file."""
    tests = yaml.safe_load(RULES_TESTS.read_text())["tests"]
    return [case for test in tests for case in test.get("alert_rule_test", [])]


def test_rules_file_passes_promtool_check() -> None:
    result = promtool("check", "rules", str(RULES_FILE))

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = promtool("test", "rules", RULES_TESTS.name, cwd=RULES_TESTS.parent)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("alert", [rule["alert"] for rule in alerting_rules()])
def test_every_alert_has_a_firing_and_a_silent_unit_test(alert: str) -> None:
    cases = [case for case in alert_tests() if case["alertname"] == alert]

    assert [case for case in cases if case["exp_alerts"]], f"{alert}: no test where it fires"
    assert [case for case in cases if not case["exp_alerts"]], (
        f"{alert}: no test where it is silent"
    )


@pytest.mark.parametrize("alert", alerting_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_has_a_severity_a_summary_and_a_description(alert: dict) -> None:
    assert alert["labels"]["severity"] in {"warning", "critical"}
    assert {"summary", "description"} <= set(alert["annotations"])


def test_recording_rules_follow_the_level_metric_operation_convention() -> None:
    names = {rule["record"] for rule in recording_rules()}

    assert names
    assert [name for name in names if not re.fullmatch(r"\w+:fraudops_\w+:\w+", name)] == []


def test_training_job_alert_matches_the_names_the_operator_gives_its_jobs() -> None:
    (rule,) = [rule for rule in alerting_rules() if rule["alert"] == "FraudOpsTrainingJobFailed"]
    pattern = re.search(r'job_name=~"([^"]+)"', rule["expr"]).group(1)
    cronjob_child = f"{retrain_cronjob_name('fraud-detector')}-29412345"

    matches = [
        bool(re.fullmatch(pattern, name))
        for name in (training_job_name("fraud-detector", 3), cronjob_child, "nightly-backup")
    ]

    assert matches == [True, True, False]


def test_every_alert_is_in_the_documentation_table() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), flags=re.MULTILINE))

    assert documented == {rule["alert"] for rule in alerting_rules()}
