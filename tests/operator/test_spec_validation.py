"""What the API server's schema cannot check ends in a clear sentence, not a retry loop."""

from __future__ import annotations

from fraud_operator.validation import spec_problem


def test_a_usable_spec_has_no_problem() -> None:
    spec = {
        "retraining": {"schedule": "0 3 * * *"},
        "training": {"hyperparameters": {"max_depth": 6}},
    }
    assert spec_problem(spec) is None


def test_a_cron_the_regex_lets_through_but_croniter_rejects_is_named() -> None:
    problem = spec_problem({"retraining": {"schedule": "99 3 * * *"}})
    assert problem is not None
    assert "retraining.schedule" in problem


def test_a_nested_hyperparameter_is_named() -> None:
    problem = spec_problem({"training": {"hyperparameters": {"max_depth": {"a": 1}}}})
    assert problem == "training.hyperparameters.max_depth must be a number, string or boolean"
