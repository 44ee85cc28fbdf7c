"""The training run as the Job executes it: splits, the summary it writes, and refusing bad
input before anything reaches MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fraud_training.algorithms import learner_of
from fraud_training.config import TrainingConfig, parse_hyperparameters
from fraud_training.errors import DataError, FraudOpsError
from fraud_training.features import FEATURE_SETS, timestamp_ms
from fraud_training.loaders import load_dataset
from fraud_training.schema import LABEL
from fraud_training.tracking import TrackingTarget
from fraud_training.train import fit_and_score, run_training
from mlflow.tracking import MlflowClient
from training_setup import FAST_XGBOOST, MODEL_NAME


@pytest.fixture(scope="module")
def dataset_arrays(transactions_file: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = load_dataset(transactions_file).frame
    features = FEATURE_SETS["transactions"].build(frame)
    return features, frame[LABEL].to_numpy(), timestamp_ms(frame["timestamp"])


def test_time_split_scores_only_rows_after_the_training_period(
    transactions_file: Path, dataset_arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    features, labels, ts = dataset_arrays
    config = TrainingConfig(data=transactions_file, hyperparameters=FAST_XGBOOST)
    fitted = fit_and_score(config, features, labels, ts)
    assert ts[fitted.train_rows].max() < ts[fitted.test_rows].min()
    assert len(fitted.test_scores) == len(fitted.test_rows)
    assert "roc_auc_fold_std" not in fitted.fold_metrics


def test_thresholds_come_from_validation_rows_between_training_and_test(
    transactions_file: Path, dataset_arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    features, labels, ts = dataset_arrays
    config = TrainingConfig(data=transactions_file, hyperparameters=FAST_XGBOOST)
    fitted = fit_and_score(config, features, labels, ts)
    validation = fitted.validation_rows
    assert validation is not None and fitted.validation_scores is not None
    assert len(validation) == pytest.approx(0.1 * len(labels), abs=5)
    assert ts[validation].max() < ts[fitted.test_rows].min()
    assert set(validation.tolist()) <= set(fitted.train_rows.tolist())  # refit on them
    assert fitted.fold_metrics["validation_rows"] == len(validation)


def test_label_delay_keeps_the_latest_labels_out_of_the_final_model(
    transactions_file: Path, dataset_arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    features, labels, ts = dataset_arrays
    config = TrainingConfig(
        data=transactions_file, hyperparameters=FAST_XGBOOST, label_delay_days=3
    )
    fitted = fit_and_score(config, features, labels, ts)
    assert ts[fitted.train_rows].max() < ts[fitted.test_rows].min() - 3 * 86_400_000
    assert fitted.fold_metrics["gap_rows"] > 0


def test_boosting_early_stops_on_a_validation_period_with_enough_frauds() -> None:
    rng = np.random.default_rng(3)
    rows = 10_000  # 250 validation frauds: enough to early-stop on
    labels = (rng.random(rows) < 0.25).astype(np.int64)
    features = rng.normal(size=(rows, 4)) + labels[:, None] * 0.8
    ts = np.arange(rows, dtype=np.int64) * 60_000
    config = TrainingConfig(
        data=Path("unused"), hyperparameters={"n_estimators": 2_000, "max_depth": 2}
    )
    fitted = fit_and_score(config, features, labels, ts)
    rounds = fitted.fold_metrics["boosting_rounds"]
    assert 1 <= rounds < 2_000
    assert learner_of(fitted.estimator).n_estimators == rounds


def test_kfold_scores_every_row_out_of_fold_and_reports_the_spread(
    transactions_file: Path, dataset_arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    features, labels, ts = dataset_arrays
    config = TrainingConfig(
        data=transactions_file, split="kfold", folds=3, hyperparameters=FAST_XGBOOST
    )
    fitted = fit_and_score(config, features, labels, ts)
    assert len(fitted.test_rows) == len(labels)
    assert np.all((fitted.test_scores >= 0) & (fitted.test_scores <= 1))
    assert set(fitted.fold_metrics) == {"roc_auc_fold_std", "pr_auc_fold_std"}
    # Out-of-fold scores differ from the refit model's own (in-sample) scores.
    in_sample = fitted.estimator.predict_proba(features)[:, 1]
    assert not np.allclose(in_sample, fitted.test_scores)


def test_summary_json_names_the_run_and_version(
    good_version: object, transactions_file: Path, local_tracking: TrackingTarget, tmp_path: Path
) -> None:
    summary = tmp_path / "out" / "summary.json"
    result = run_training(
        TrainingConfig(
            data=transactions_file,
            model_name="fraud-summary",
            tracking_uri=local_tracking.tracking_uri,
            hyperparameters={"n_estimators": 5},
            summary_out=summary,
        )
    )
    written = json.loads(summary.read_text())
    assert (written["run_id"], written["version"]) == (result.run_id, 1)
    assert written["model_uri"] == "models:/fraud-summary/1"
    assert written["metrics"]["pr_auc"] == result.metrics["pr_auc"]
    assert written["thresholds"]["review"] == result.thresholds.review


def test_bad_data_fails_before_any_run_or_version(
    good_version: object,
    weak_version: object,
    local_tracking: TrackingTarget,
    client: MlflowClient,
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "transaction_id,customer_id,timestamp,amount,is_fraud\n"
        "t1,c1,2026-01-01T00:00:00Z,-5.00,0\n"
        "t2,c1,not-a-time,10.00,1\n"
    )
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    runs_before = len(client.search_runs(experiments))
    config = TrainingConfig(
        data=bad, model_name=MODEL_NAME, tracking_uri=local_tracking.tracking_uri
    )
    with pytest.raises(DataError, match="amount"):
        run_training(config)
    assert len(client.search_runs(experiments)) == runs_before
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithm": "svm"}, "--algorithm: 'svm' is not one of"),
        ({"split": "random"}, "--split: 'random' is not one of time, kfold"),
        ({"test_fraction": 1.0}, "--test-fraction: must be strictly between 0 and 1"),
        ({"folds": 1}, "--folds: need at least 2"),
        ({"review_fee": -1.0}, "--review-fee: must be >= 0"),
        ({"hyperparameters": {"depth": 3}}, "'depth' is not a parameter"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict, message: str) -> None:
    with pytest.raises(FraudOpsError, match=message):
        TrainingConfig(data=Path("unused.csv"), **options)


def test_hyperparameter_values_are_parsed_as_json_or_kept_as_text() -> None:
    parsed = parse_hyperparameters(["max_depth=4", "eta=0.1", "verbose=true", "policy=lossguide"])
    assert parsed == {"max_depth": 4, "eta": 0.1, "verbose": True, "policy": "lossguide"}


def test_a_hyperparameter_without_a_value_is_refused() -> None:
    with pytest.raises(FraudOpsError, match="--param: expected key=value, got 'max_depth'"):
        parse_hyperparameters(["max_depth"])
