"""Every algorithm and imbalance strategy trains on a small imbalanced frame, hyperparameters
reach the learner, and contributions explain each learner's own score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fraud_training.algorithms import ALGORITHMS, build_estimator, check_hyperparameters, learner_of
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.choices import IMBALANCE_STRATEGIES
from fraud_training.errors import FraudOpsError
from fraud_training.features import CREDITCARD_FEATURES
from scipy.special import logit

#: Small learners so that 12 fits take a few seconds.
SMALL: dict[str, dict[str, Any]] = {
    "xgboost": {"n_estimators": 20, "max_depth": 3},
    "lightgbm": {"n_estimators": 20},
    "random_forest": {"n_estimators": 10},
    "logistic_regression": {},
}


@pytest.fixture(scope="module")
def imbalanced() -> tuple[np.ndarray, np.ndarray]:
    """1,500 rows of the credit-card feature width, 4 % fraud, frauds shifted on a few columns."""
    rng = np.random.default_rng(0)
    labels = (rng.random(1_500) < 0.04).astype(np.int64)
    features = rng.normal(size=(1_500, len(CREDITCARD_FEATURES)))
    features[:, :3] += 2.0 * labels[:, None]
    return features, labels


@pytest.mark.parametrize("imbalance", IMBALANCE_STRATEGIES)
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_every_algorithm_fits_and_scores_probabilities(
    algorithm: str, imbalance: str, imbalanced: tuple[np.ndarray, np.ndarray]
) -> None:
    features, labels = imbalanced
    estimator = build_estimator(algorithm, labels, imbalance, SMALL[algorithm]).fit(
        features, labels
    )
    probability = estimator.predict_proba(features)[:, 1]
    assert probability.shape == (len(labels),)
    assert np.all((probability >= 0.0) & (probability <= 1.0))
    assert probability[labels == 1].mean() > probability[labels == 0].mean()


def test_xgboost_weights_frauds_by_the_legit_to_fraud_ratio() -> None:
    labels = np.array([0] * 95 + [1] * 5)
    assert learner_of(build_estimator("xgboost", labels)).scale_pos_weight == 19.0


def test_lightgbm_defaults_carry_an_l2_penalty() -> None:
    assert learner_of(build_estimator("lightgbm", np.array([0, 1]))).reg_lambda > 0


def test_logistic_regression_scales_its_inputs() -> None:
    estimator = build_estimator("logistic_regression", np.array([0, 1]))
    assert list(estimator.named_steps) == ["scale", "model"]


def test_smote_is_a_pipeline_step_only_with_the_smote_strategy() -> None:
    with_smote = build_estimator("random_forest", np.array([0] * 100 + [1] * 6), "smote")
    without = build_estimator("random_forest", np.array([0, 1]), "weights")
    assert list(with_smote.named_steps) == ["smote", "model"]
    assert list(without.named_steps) == ["model"]


def test_class_weights_are_dropped_without_the_weights_strategy() -> None:
    learner = learner_of(build_estimator("random_forest", np.array([0, 1]), "none"))
    assert learner.class_weight is None


def test_hyperparameters_override_defaults() -> None:
    estimator = build_estimator(
        "xgboost",
        np.array([0] * 100 + [1] * 8),
        "smote",
        {"max_depth": 3, "smote__k_neighbors": 2},
    )
    assert learner_of(estimator).max_depth == 3
    assert estimator.named_steps["smote"].k_neighbors == 2


def test_unknown_hyperparameter_is_refused_by_name() -> None:
    with pytest.raises(FraudOpsError, match="'max_dept' is not a parameter"):
        check_hyperparameters("xgboost", "weights", {"max_dept": 3})


def test_unknown_algorithm_lists_the_choices() -> None:
    with pytest.raises(FraudOpsError, match="choose one of xgboost, lightgbm"):
        build_estimator("svm", np.array([0, 1]))


def test_smote_needs_more_frauds_than_neighbours() -> None:
    with pytest.raises(FraudOpsError, match="needs more than 5 frauds in the training data, got 3"):
        build_estimator("xgboost", np.array([0] * 50 + [1] * 3), "smote")


def test_smote_refuses_a_target_ratio_the_data_already_exceeds() -> None:
    with pytest.raises(FraudOpsError, match="already has 10 frauds for 10 legit rows"):
        build_estimator("xgboost", np.array([0] * 10 + [1] * 10), "smote")


def fitted_bundle(algorithm: str, imbalanced: tuple[np.ndarray, np.ndarray]) -> ModelBundle:
    features, labels = imbalanced
    estimator = build_estimator(algorithm, labels, "weights", SMALL[algorithm])
    return ModelBundle(
        feature_set="creditcard",
        algorithm=algorithm,
        estimator=estimator.fit(features, labels),
        thresholds=Thresholds(review=0.5, decline=0.9),
    )


@pytest.mark.parametrize(
    ("algorithm", "units"),
    [
        ("xgboost", "log-odds"),
        ("lightgbm", "log-odds"),
        ("logistic_regression", "log-odds"),
        ("random_forest", "probability"),
    ],
)
def test_contributions_add_up_to_the_score_up_to_a_constant(
    algorithm: str, units: str, imbalanced: tuple[np.ndarray, np.ndarray]
) -> None:
    features = imbalanced[0][:300]
    bundle = fitted_bundle(algorithm, imbalanced)
    contributions = bundle.contributions(features)
    probability = bundle.predict_proba(features)
    score = logit(np.clip(probability, 1e-12, 1 - 1e-12)) if units == "log-odds" else probability
    bias = score - contributions.sum(axis=1)
    assert contributions.shape == features.shape
    assert np.ptp(bias[np.abs(score) < 20]) < 1e-4  # the same bias for every row


def test_top_features_are_ranked_by_absolute_contribution(
    imbalanced: tuple[np.ndarray, np.ndarray],
) -> None:
    features = imbalanced[0][:5]
    bundle = fitted_bundle("xgboost", imbalanced)
    contributions = bundle.contributions(features)
    top = bundle.top_features(features, k=3)
    assert [len(row) for row in top] == [3] * 5
    for i, row in enumerate(top):
        magnitudes = [abs(c.contribution) for c in row]
        assert magnitudes == sorted(magnitudes, reverse=True)
        assert magnitudes[0] == pytest.approx(np.abs(contributions[i]).max(), rel=1e-6)
        column = CREDITCARD_FEATURES.index(row[0].feature)
        assert row[0].value == features[i, column]
