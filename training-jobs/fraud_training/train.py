"""One training run, end to end: what the in-cluster training Job and ``fraudctl train`` execute.

load + validate → features → split by time into train / validation / (label-delay gap) / test →
fit, early-stop and choose thresholds on validation → measure on test → bundle → log to MLflow and
register a new version. Everything that can be wrong with the input (data, options,
hyperparameters) fails before the MLflow run starts, so bad input never leaves a run or a
registered version behind.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from lightgbm import LGBMClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from xgboost import XGBClassifier

from fraud_training.algorithms import MODEL_STEP, build_estimator, learner_of
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.choices import DEFAULT_CARD_PRECISION_K
from fraud_training.config import TrainingConfig
from fraud_training.errors import DataError
from fraud_training.evaluation import CostModel, card_precision_at_k, choose_thresholds, evaluate
from fraud_training.features import (
    FEATURE_SETS,
    FeatureInputs,
    builtin_histories,
    model_feature_names,
    timestamp_ms,
)
from fraud_training.holdout import HoldOut, holdout_rows
from fraud_training.loaders import Dataset, load_dataset
from fraud_training.plots import evaluation_plots
from fraud_training.profile import feature_profile, reference_profile
from fraud_training.risk_features import RiskFeatures
from fraud_training.schema import LABEL
from fraud_training.splits import Split, stratified_kfold, time_holdout, time_split
from fraud_training.tracking import log_training_run, mlflow_errors, tracking_target

#: Rows of the hold-out used to measure feature importance; contributions of a random forest
#: cost a tree walk per row, and a few thousand rows rank features as well as all of them.
IMPORTANCE_ROWS = 2000
#: Early stopping needs this many validation frauds to trust the validation curve.
MIN_EARLY_STOPPING_FRAUDS = 200
#: Rounds without a better validation PR-AUC before boosting stops.
EARLY_STOPPING_ROUNDS = 50

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
    """A fitted estimator, the rows it was judged on and the scores it gave them.

    ``validation_rows``/``validation_scores`` are where the thresholds are chosen (the time
    split's validation period; with K-fold, the out-of-fold scores of every row).
    """

    estimator: Any
    train_rows: np.ndarray
    test_rows: np.ndarray
    test_scores: np.ndarray
    fold_metrics: dict[str, float]
    fit_seconds: float
    validation_rows: np.ndarray | None = None
    validation_scores: np.ndarray | None = None


def run_training(
    config: TrainingConfig, progress: ProgressCallback | None = None
) -> TrainingResult:
    """Train, evaluate, log and register one model as ``config`` says."""
    step = progress or (lambda _message: None)
    step(f"loading and validating {config.data}")
    dataset = load_dataset(config.data, data_format=config.data_format, mapping=config.mapping)
    step(f"building {dataset.feature_set} features for {len(dataset.frame):,} rows")
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    amounts = dataset.frame["amount"].to_numpy(np.float64)
    features, feature_names, inputs, risk = model_inputs(config, dataset)
    step(f"fitting {config.algorithm} ({config.split} split)")
    fitted = fit_and_score(config, features, labels, timestamp_ms(dataset.frame["timestamp"]))
    step("choosing thresholds on the validation rows, measuring on the test rows")
    cost_model = CostModel(review_fee=config.review_fee)
    test = fitted.test_rows
    thresholds = choose_thresholds(
        labels[fitted.validation_rows],
        fitted.validation_scores,
        amounts[fitted.validation_rows],
        cost_model,
        config.decline_precision,
    )
    evaluation = evaluate(
        labels[test],
        fitted.test_scores,
        amounts[test],
        cost_model,
        decline_precision=config.decline_precision,
        thresholds=thresholds,
    )
    metrics = {**evaluation.metrics, **fitted.fold_metrics, "fit_seconds": fitted.fit_seconds}
    ts_ms = timestamp_ms(dataset.frame["timestamp"])
    cards = dataset.frame["customer_id"].to_numpy()
    if len(np.unique(cards[test])) > 1:
        metrics[f"card_precision_at_{DEFAULT_CARD_PRECISION_K}"] = card_precision_at_k(
            cards[test], ts_ms[test], labels[test], fitted.test_scores
        )
    lineage = dataset_lineage(dataset, labels)
    bundle = ModelBundle(
        feature_set=dataset.feature_set,
        algorithm=config.algorithm,
        estimator=fitted.estimator,
        thresholds=evaluation.thresholds,
        metrics=metrics,
        reference_profile=reference_profile(features[fitted.train_rows], feature_names),
        score_profile=feature_profile(fitted.test_scores),
        params=learner_params(fitted.estimator),
        lineage=lineage,
        inputs=inputs,
        risk=risk,
    )
    holdout = HoldOut(
        feature_names=feature_names,
        features=features[test],
        labels=labels[test],
        amounts=amounts[test],
        scores=fitted.test_scores,
        rows=holdout_rows(dataset.frame.iloc[test]),
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
            feature_names,
            feature_importance(bundle, holdout.features),
            Path(scratch),
        )
        registered = log_training_run(
            target,
            config.experiment,
            config.model_name,
            bundle,
            holdout,
            {
                **config.run_params(),
                "feature_set": dataset.feature_set,
                "feature_names": ",".join(feature_names),
                "feature_inputs": json.dumps(inputs.describe()),
                "feature_definition": json.dumps(bundle.feature_definition()),
                **_prefixed(bundle.params),
            },
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


def model_inputs(
    config: TrainingConfig, dataset: Dataset
) -> tuple[np.ndarray, tuple[str, ...], FeatureInputs, RiskFeatures | None]:
    """The feature matrix, its column names, the fitted pass-through inputs and the fitted
    risk features (transactions feature set only; None otherwise) of a data set.

    The risk features read every row's label, but a row only sees labels of transactions at
    least the risk label delay older than itself (see :mod:`fraud_training.risk_features`);
    their prior is the fraud rate of the rows before the test period.
    """
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    feature_set = FEATURE_SETS[dataset.feature_set]
    fit_rows = encoding_rows(config, dataset, labels)
    entity_windows = config.entity_windows_ms()
    inputs = FeatureInputs.fit(
        dataset.frame,
        dataset.pass_through,
        fit_rows,
        dataset.entities,
        entity_windows,
        builtin_histories(entity_windows, config.pair_windows_ms()),
    )
    risk = None
    if dataset.feature_set == "transactions":
        risk = config.risk_definition().fitted(labels[fit_rows])
        check_risk_columns(risk, dataset)
    # The serving order (model_feature_names): the feature set's and the entity histories'
    # features, the risk features, then the pass-through columns.
    parts = [feature_set.build(dataset.frame, inputs)]
    if risk is not None:
        parts.append(risk.build(dataset.frame, labels))
    if inputs.columns:
        parts.append(inputs.encode(dataset.frame, len(dataset.frame)))
    names = model_feature_names(dataset.feature_set, inputs, risk.feature_names if risk else ())
    check_distinct_names(names)
    return np.column_stack(parts), names, inputs, risk


def check_distinct_names(names: Sequence[str]) -> None:
    """Refuse a model whose inputs share a name (a pass-through column named like a history
    feature of the configured windows): its bundle could not tell them apart."""
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(
            f"--feature: {', '.join(repeated)} is also the name of a computed feature; "
            "rename the column in the mapping"
        )


def check_risk_columns(risk: RiskFeatures, dataset: Dataset) -> None:
    """Refuse, by name, a risk entity whose column the data does not have."""
    for entity in risk.entities:
        for column in entity.columns:
            if column not in dataset.frame.columns:
                raise DataError(
                    f"--risk-entity {column}: the data has no such column; name one of our fields "
                    "(device_id, merchant_country, ...) or a mapped --entity or --feature column"
                )


def encoding_rows(config: TrainingConfig, dataset: Dataset, labels: np.ndarray) -> np.ndarray:
    """The rows input encodings are learned on: those before the test period (all rows for
    K-fold), so no test value shapes a vocabulary."""
    if config.split != "time":
        return np.arange(len(labels))
    ts_ms = timestamp_ms(dataset.frame["timestamp"])
    return time_holdout(ts_ms, labels, config.test_fraction).train


def fit_and_score(
    config: TrainingConfig, features: np.ndarray, labels: np.ndarray, timestamps_ms: np.ndarray
) -> FittedModel:
    """Fit the final model and score rows it did not train on.

    With the time split (see :func:`fraud_training.splits.time_split`) a first model fits the
    training period, early-stops on the validation period (when it holds enough frauds to
    measure) and scores it; the thresholds are chosen on those scores. The final model is then
    refit on training and validation rows with the number of boosting rounds found, and scores the
    test period; gap rows are used for nothing. With K-fold, every row is scored by the fold model
    that did not see it (out-of-fold scores), and the final model is refit on all rows; the fold
    spread is reported as ``*_fold_std``.
    """
    started = time.perf_counter()
    if config.split == "time":
        split = time_split(
            timestamps_ms,
            labels,
            config.test_fraction,
            config.validation_fraction,
            config.label_delay_days,
        )
        probe, rounds = _fit_with_early_stopping(
            config, features, labels, split.train, split.validation
        )
        validation_scores = probe.predict_proba(features[split.validation])[:, 1]
        labelled = split.labelled
        estimator = _fit(config, features, labels, labelled, rounds)
        scores = estimator.predict_proba(features[split.test])[:, 1]
        fit_metrics = {
            "train_rows": float(len(split.train)),
            "validation_rows": float(len(split.validation)),
            "gap_rows": float(len(split.gap)),
            "validation_pr_auc": float(
                average_precision_score(labels[split.validation], validation_scores)
            ),
        }
        if rounds is not None:
            fit_metrics["boosting_rounds"] = float(rounds)
        return FittedModel(
            estimator,
            labelled,
            split.test,
            scores,
            fit_metrics,
            time.perf_counter() - started,
            split.validation,
            validation_scores,
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
        everything,
        scores,
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


def _fit(
    config: TrainingConfig,
    features: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    rounds: int | None = None,
) -> Any:
    """The pipeline fitted on ``rows``; ``rounds`` overrides a boosted learner's tree count."""
    estimator = build_estimator(
        config.algorithm, labels[rows], config.imbalance, config.hyperparameters, config.seed
    )
    if rounds is not None:
        estimator.set_params(**{f"{MODEL_STEP}__n_estimators": rounds})
    return estimator.fit(features[rows], labels[rows])


def _fit_with_early_stopping(
    config: TrainingConfig,
    features: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    validation: np.ndarray,
) -> tuple[Any, int | None]:
    """The model of the training period and the boosting rounds validation chose (or None).

    Early stopping needs a validation set whose PR-AUC means something: with fewer than
    :data:`MIN_EARLY_STOPPING_FRAUDS` frauds its curve is noise (on the ULB set's ~50 validation
    frauds it stops at less than half the trees and loses 0.02 test PR-AUC), so the configured
    number of rounds is kept. Only the boosted learners early-stop.
    """
    estimator = build_estimator(
        config.algorithm, labels[train], config.imbalance, config.hyperparameters, config.seed
    )
    learner = learner_of(estimator)
    frauds = int(labels[validation].sum())
    boosted = isinstance(learner, XGBClassifier | LGBMClassifier)
    if not boosted or frauds < MIN_EARLY_STOPPING_FRAUDS:
        return estimator.fit(features[train], labels[train]), None
    eval_set = [(features[validation], labels[validation])]
    if isinstance(learner, XGBClassifier):
        estimator.set_params(**{f"{MODEL_STEP}__early_stopping_rounds": EARLY_STOPPING_ROUNDS})
        fit_params = {f"{MODEL_STEP}__eval_set": eval_set, f"{MODEL_STEP}__verbose": False}
    else:
        fit_params = {
            f"{MODEL_STEP}__eval_set": eval_set,
            f"{MODEL_STEP}__eval_metric": "average_precision",
            f"{MODEL_STEP}__callbacks": [
                lightgbm.early_stopping(
                    EARLY_STOPPING_ROUNDS, first_metric_only=True, verbose=False
                )
            ],
        }
    estimator.fit(features[train], labels[train], **fit_params)
    best = learner.best_iteration if isinstance(learner, XGBClassifier) else learner.best_iteration_
    return estimator, int(best) + (1 if isinstance(learner, XGBClassifier) else 0)


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
