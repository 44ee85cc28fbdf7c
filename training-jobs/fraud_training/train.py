"""One training run, end to end: what the in-cluster training Job and ``fraudctl train`` execute.

load + validate → features → split → fit → evaluate on the hold-out → bundle → log to MLflow and
register a new version. Everything that can be wrong with the input (data, options,
hyperparameters) fails before the MLflow run starts, so bad input never leaves a run or a
registered version behind.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from fraud_training.algorithms import build_estimator, learner_of
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.config import TrainingConfig
from fraud_training.evaluation import CostModel, evaluate
from fraud_training.features import FEATURE_SETS, timestamp_ms
from fraud_training.holdout import HoldOut
from fraud_training.loaders import Dataset, load_dataset
from fraud_training.plots import evaluation_plots
from fraud_training.profile import feature_profile, reference_profile
from fraud_training.schema import LABEL
from fraud_training.splits import Split, stratified_kfold, time_holdout
from fraud_training.tracking import log_training_run, mlflow_errors, tracking_target

#: Rows of the hold-out used to measure feature importance; contributions of a random forest
#: cost a tree walk per row, and a few thousand rows rank features as well as all of them.
IMPORTANCE_ROWS = 2000

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class TrainingResult:
    """What a run produced and where it is: the JSON summary the Job writes is this object."""

    run_id: str
    experiment_id: str
    model_name: str
    version: int
    model_uri: str
    tracking_uri: str
    algorithm: str
    feature_set: str
    split: str
    train_rows: int
    test_rows: int
    thresholds: Thresholds
    metrics: dict[str, float]
    lineage: dict[str, Any]
    fit_seconds: float

    def to_json(self) -> str:
        """The result as indented JSON."""
        return json.dumps(asdict(self), indent=2, default=str)


@dataclass(frozen=True)
class FittedModel:
    """A fitted estimator, the rows it was judged on and the scores it gave them."""

    estimator: Any
    train_rows: np.ndarray
    test_rows: np.ndarray
    test_scores: np.ndarray
    fold_metrics: dict[str, float]
    fit_seconds: float


def run_training(
    config: TrainingConfig, progress: ProgressCallback | None = None
) -> TrainingResult:
    """Train, evaluate, log and register one model as ``config`` says."""
    step = progress or (lambda _message: None)
    step(f"loading and validating {config.data}")
    dataset = load_dataset(config.data, data_format=config.data_format, mapping=config.mapping)
    step(f"building {dataset.feature_set} features for {len(dataset.frame):,} rows")
    feature_set = FEATURE_SETS[dataset.feature_set]
    features = feature_set.build(dataset.frame)
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    amounts = dataset.frame["amount"].to_numpy(np.float64)
    step(f"fitting {config.algorithm} ({config.split} split)")
    fitted = fit_and_score(config, features, labels, timestamp_ms(dataset.frame["timestamp"]))
    step("evaluating on the hold-out and choosing thresholds")
    test = fitted.test_rows
    evaluation = evaluate(
        labels[test],
        fitted.test_scores,
        amounts[test],
        CostModel(review_fee=config.review_fee),
        decline_precision=config.decline_precision,
    )
    metrics = {**evaluation.metrics, **fitted.fold_metrics, "fit_seconds": fitted.fit_seconds}
    lineage = dataset_lineage(dataset, labels)
    bundle = ModelBundle(
        feature_set=dataset.feature_set,
        algorithm=config.algorithm,
        estimator=fitted.estimator,
        thresholds=evaluation.thresholds,
        metrics=metrics,
        reference_profile=reference_profile(features[fitted.train_rows], feature_set.names),
        score_profile=feature_profile(fitted.test_scores),
        params=learner_params(fitted.estimator),
        lineage=lineage,
    )
    holdout = HoldOut(
        feature_names=feature_set.names,
        features=features[test],
        labels=labels[test],
        amounts=amounts[test],
        scores=fitted.test_scores,
    )
    target = tracking_target(config.tracking_uri)
    step(f"logging the run to {target.tracking_uri} and registering {config.model_name}")
    with (
        mlflow_errors(target.tracking_uri),
        tempfile.TemporaryDirectory(prefix="fraudops-plots-") as scratch,
    ):
        plots = evaluation_plots(
            holdout.labels,
            holdout.scores,
            evaluation.thresholds.review,
            feature_set.names,
            feature_importance(bundle, holdout.features),
            Path(scratch),
        )
        registered = log_training_run(
            target,
            config.experiment,
            config.model_name,
            bundle,
            holdout,
            {**config.run_params(), "feature_set": dataset.feature_set, **_prefixed(bundle.params)},
            plots,
        )
    result = TrainingResult(
        run_id=registered.run_id,
        experiment_id=registered.experiment_id,
        model_name=registered.model_name,
        version=registered.version,
        model_uri=registered.model_uri,
        tracking_uri=target.tracking_uri,
        algorithm=config.algorithm,
        feature_set=dataset.feature_set,
        split=config.split,
        train_rows=len(fitted.train_rows),
        test_rows=len(test),
        thresholds=evaluation.thresholds,
        metrics=metrics,
        lineage=lineage,
        fit_seconds=fitted.fit_seconds,
    )
    if config.summary_out is not None:
        config.summary_out.parent.mkdir(parents=True, exist_ok=True)
        config.summary_out.write_text(result.to_json())
    return result


def fit_and_score(
    config: TrainingConfig, features: np.ndarray, labels: np.ndarray, timestamps_ms: np.ndarray
) -> FittedModel:
    """Fit the final model and score rows it did not train on.

    With the time split the model trains on the past and is scored on the future. With K-fold,
    every row is scored by the fold model that did not see it (out-of-fold scores), and the
    final model is then refit on all rows; the fold spread is reported as ``*_fold_std``.
    """
    started = time.perf_counter()
    if config.split == "time":
        split = time_holdout(timestamps_ms, labels, config.test_fraction)
        estimator = _fit(config, features, labels, split.train)
        scores = estimator.predict_proba(features[split.test])[:, 1]
        return FittedModel(
            estimator, split.train, split.test, scores, {}, time.perf_counter() - started
        )
    folds = stratified_kfold(labels, config.folds, config.seed)
    scores = np.empty(len(labels), dtype=np.float64)
    for fold in folds:
        model = _fit(config, features, labels, fold.train)
        scores[fold.test] = model.predict_proba(features[fold.test])[:, 1]
    everything = np.arange(len(labels))
    estimator = _fit(config, features, labels, everything)
    return FittedModel(
        estimator,
        everything,
        everything,
        scores,
        fold_spread(folds, labels, scores),
        time.perf_counter() - started,
    )


def fold_spread(folds: list[Split], labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Standard deviation of ROC-AUC and PR-AUC across folds: how much one hold-out can vary."""
    per_fold = np.array(
        [
            (
                roc_auc_score(labels[f.test], scores[f.test]),
                average_precision_score(labels[f.test], scores[f.test]),
            )
            for f in folds
        ]
    )
    return {
        "roc_auc_fold_std": float(per_fold[:, 0].std()),
        "pr_auc_fold_std": float(per_fold[:, 1].std()),
    }


def _fit(config: TrainingConfig, features: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> Any:
    estimator = build_estimator(
        config.algorithm, labels[rows], config.imbalance, config.hyperparameters, config.seed
    )
    return estimator.fit(features[rows], labels[rows])


def feature_importance(bundle: ModelBundle, features: np.ndarray) -> np.ndarray:
    """Mean absolute contribution of each feature over (evenly spaced) hold-out rows."""
    rows = np.linspace(0, len(features) - 1, min(IMPORTANCE_ROWS, len(features))).astype(int)
    return np.abs(bundle.contributions(features[rows])).mean(axis=0)


def learner_params(estimator: Any) -> dict[str, Any]:
    """The learner's effective hyperparameters (defaults, weighting, overrides) that are set."""
    params = learner_of(estimator).get_params()
    return {key: value for key, value in sorted(params.items()) if value is not None}


def dataset_lineage(dataset: Dataset, labels: np.ndarray) -> dict[str, Any]:
    """Which data trained the model: file hash, size, fraud count and where it was read."""
    return {
        "sha256": dataset.sha256,
        "rows": len(labels),
        "frauds": int(labels.sum()),
        "source": dataset.source,
        "feature_set": dataset.feature_set,
    }


def _prefixed(params: dict[str, Any]) -> dict[str, Any]:
    return {f"model.{key}": value for key, value in params.items()}
