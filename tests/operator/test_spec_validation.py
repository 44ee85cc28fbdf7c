"""What the API server's schema cannot check ends in a clear sentence, not a retry loop."""

from __future__ import annotations

from fraud_operator.config import OperatorConfig
from fraud_operator.validation import spec_problem

CONFIG = OperatorConfig(
    tracking_uri="http://mlflow.fraudops-system.svc:5000",
    allowed_tracking_uris=("http://mlflow.risk.svc:5000",),
)


def test_a_usable_spec_has_no_problem() -> None:
    spec = {
        "retraining": {"schedule": "0 3 * * *"},
        "training": {"hyperparameters": {"max_depth": 6}},
    }
    assert spec_problem(spec, CONFIG) is None


def test_a_cron_the_regex_lets_through_but_croniter_rejects_is_named() -> None:
    problem = spec_problem({"retraining": {"schedule": "99 3 * * *"}}, CONFIG)
    assert problem is not None
    assert "retraining.schedule" in problem


def test_a_nested_hyperparameter_is_named() -> None:
    problem = spec_problem({"training": {"hyperparameters": {"max_depth": {"a": 1}}}}, CONFIG)
    assert problem == "training.hyperparameters.max_depth must be a number, string or boolean"


def test_a_tracking_uri_on_the_allow_list_is_accepted() -> None:
    assert (
        spec_problem({"registry": {"trackingUri": "http://mlflow.risk.svc:5000/"}}, CONFIG) is None
    )


def test_the_operators_own_tracking_uri_is_always_allowed() -> None:
    spec = {"registry": {"trackingUri": "http://mlflow.fraudops-system.svc:5000"}}
    assert spec_problem(spec, CONFIG) is None


def test_a_tracking_uri_off_the_allow_list_is_refused_naming_the_field() -> None:
    problem = spec_problem({"registry": {"trackingUri": "http://evil.example:5000"}}, CONFIG)
    assert problem is not None
    assert problem.startswith("registry.trackingUri 'http://evil.example:5000'")
    assert "FRAUDOPS_ALLOWED_TRACKING_URIS" in problem


def test_a_monitoring_cron_croniter_rejects_is_named() -> None:
    problem = spec_problem({"monitoring": {"schedule": "0 25 * * *"}}, CONFIG)
    assert problem is not None
    assert "monitoring.schedule" in problem
