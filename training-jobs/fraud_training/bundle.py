"""The model bundle: everything serving needs, saved as one folder inside the MLflow model.

A bundle holds the fitted estimator with its preprocessing, the feature set it was trained on (so
serving rebuilds the same features), the decision thresholds chosen on the hold-out, the training
metrics and a reference profile of the training features (for drift checks). Saving it also writes
its serving payload (:mod:`fraud_training.serving_payload`), which serving loads without the
training stack.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from lightgbm import LGBMClassifier
from scipy import sparse
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from xgboost import DMatrix, XGBClassifier

from fraud_training.algorithms import learner_inputs, learner_of
from fraud_training.bundle_layout import BUNDLE_FILE, METADATA_FILE, MLFLOW_ARTIFACT
from fraud_training.decisions import DECISIONS as DECISIONS
from fraud_training.decisions import Thresholds
from fraud_training.features import (
    FeatureInputs,
    feature_definition,
    model_feature_names,
)
from fraud_training.risk_features import RiskFeatures
from fraud_training.schema import OPTIONAL_FIELDS, REQUIRED_FIELDS

__all__ = [
    "BUNDLE_FILE",
    "DECISIONS",
    "METADATA_FILE",
    "MLFLOW_ARTIFACT",
    "ModelBundle",
    "Thresholds",
]


class Contribution(NamedTuple):
    """One feature's part in one score: its name, its value and how far it moved the score."""

    feature: str
    value: float
    contribution: float


@dataclass
class ModelBundle:
    """A trained fraud model and all it needs to score raw transactions."""

    feature_set: str
    algorithm: str
    estimator: Any
    thresholds: Thresholds
    metrics: dict[str, float] = field(default_factory=dict)
    reference_profile: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    #: The profile of the hold-out scores (out-of-sample, as live scores are), for score drift.
    score_profile: dict[str, list[float]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    #: The entity histories and the user's own columns the model takes (with their fitted
    #: encodings).
    inputs: FeatureInputs = field(default_factory=FeatureInputs)
    #: The label-aware risk features (with their fitted prior), or None for a model without.
    risk: RiskFeatures | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Column order of the matrices the estimator takes (:func:`model_feature_names`)."""
        risk = self.risk.feature_names if self.risk is not None else ()
        return model_feature_names(self.feature_set, self.inputs, risk)

    def input_schema(self) -> dict[str, Any]:
        """What a raw transaction must and may carry for this model: the serving contract.

        ``features`` are the pass-through columns; a request may omit one (it is then missing
        to the model, as an empty value was in training). ``entity_columns`` are the further key
        columns the entity histories and risk features read (a request without one scores as
        that entity's first transaction).
        """
        schema: dict[str, Any] = {"features": self.inputs.describe()}
        if self.feature_set == "transactions":
            keys = [c for entity in self.inputs.entities for c in entity.columns]
            if self.risk is not None:
                keys += [c for entity in self.risk.entities for c in entity.columns]
            schema.update(
                required=list(REQUIRED_FIELDS),
                optional=list(OPTIONAL_FIELDS),
                entity_columns=[
                    c for c in dict.fromkeys(keys) if c not in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
                ],
            )
        return schema

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Fraud probability of each row of a feature matrix."""
        return np.asarray(self.estimator.predict_proba(features))[:, 1]

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """How much each feature pushed each row's score up or down (rows x features).

        Units are the learner's own: log-odds for XGBoost, LightGBM and logistic regression (exact
        SHAP values for the trees, coefficient x standardised value for the linear model),
        probability for the random forest (Saabas decision-path attribution). Compare features
        within a row, not contributions across algorithms.
        """
        features = np.asarray(features, dtype=np.float64)
        inputs = learner_inputs(self.estimator, features)
        return _learner_contributions(learner_of(self.estimator), inputs)

    def top_features(self, features: np.ndarray, k: int = 5) -> list[list[Contribution]]:
        """Each row's ``k`` features with the largest absolute contribution, largest first."""
        features = np.asarray(features, dtype=np.float64)
        contributions = self.contributions(features)
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
        names = self.feature_names
        return [
            [Contribution(names[j], float(features[i, j]), float(contributions[i, j])) for j in row]
            for i, row in enumerate(order)
        ]

    def feature_definition(self) -> dict[str, Any]:
        """The history features this model's feature set computes, as data (empty for a set
        without histories), so a reader of the bundle sees which entities and windows it uses;
        ``risk`` holds the risk features' definition (delay, windows, smoothing, prior)."""
        if self.feature_set != "transactions":
            return {}
        definition = feature_definition(self.inputs.entities, self.inputs.builtin)
        if self.risk is not None:
            definition = {**definition, "risk": self.risk.describe()}
        return definition

    def metadata(self) -> dict[str, Any]:
        """The human-readable part of the bundle (written beside the pickle)."""
        return {
            "feature_set": self.feature_set,
            "feature_names": list(self.feature_names),
            "feature_definition": self.feature_definition(),
            "input_schema": self.input_schema(),
            "algorithm": self.algorithm,
            "thresholds": asdict(self.thresholds),
            "metrics": self.metrics,
            "params": self.params,
            "lineage": self.lineage,
        }

    def save(self, folder: Path) -> Path:
        """Write the bundle to ``folder`` (created) with its checked serving payload (raising
        :class:`~fraud_training.serving_payload.PayloadMismatch` if it disagrees), return it."""
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / BUNDLE_FILE).open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (folder / METADATA_FILE).write_text(json.dumps(self.metadata(), indent=2, default=str))
        from fraud_training.serving_payload import write_serving_payload  # imports fraud_inference

        write_serving_payload(self, folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> ModelBundle:
        """Read a bundle written by :meth:`save`."""
        path = Path(folder) / BUNDLE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no model bundle at {path}")
        with path.open("rb") as fh:
            bundle = pickle.load(fh)
        if not isinstance(bundle, cls):
            raise TypeError(f"{path} holds a {type(bundle).__name__}, not a ModelBundle")
        return bundle


def _learner_contributions(learner: Any, inputs: np.ndarray) -> np.ndarray:
    """Per-row, per-feature contributions for each learner the algorithms module builds."""
    if isinstance(learner, XGBClassifier):
        return learner.get_booster().predict(DMatrix(inputs), pred_contribs=True)[:, :-1]
    if isinstance(learner, LGBMClassifier):
        return np.asarray(learner.predict(inputs, pred_contrib=True))[:, :-1]
    if isinstance(learner, LogisticRegression):
        return inputs * learner.coef_[0]
    if isinstance(learner, RandomForestClassifier):
        return _forest_contributions(learner, inputs)
    raise TypeError(f"no contribution method for a {type(learner).__name__}")


def _forest_contributions(forest: Any, inputs: np.ndarray) -> np.ndarray:
    """Saabas attribution, averaged over the trees.

    Along a row's path from root to leaf, each split moves the fraud probability from the parent
    node's value to the child's; that change is credited to the parent's split feature. One
    sparse matrix per tree maps nodes to those credits, so a product with the tree's decision-path
    indicator attributes every row at once.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    total = np.zeros(inputs.shape, dtype=np.float64)
    fraud_column = int(np.flatnonzero(forest.classes_ == 1)[0])
    for tree in forest.estimators_:
        structure = tree.tree_
        value = structure.value[:, 0, :]
        fraud_probability = value[:, fraud_column] / value.sum(axis=1)
        parent = np.full(structure.node_count, -1)
        for children in (structure.children_left, structure.children_right):
            has_child = children >= 0
            parent[children[has_child]] = np.flatnonzero(has_child)
        child = np.flatnonzero(parent >= 0)
        credit = sparse.csr_matrix(
            (
                fraud_probability[child] - fraud_probability[parent[child]],
                (child, structure.feature[parent[child]]),
            ),
            shape=(structure.node_count, inputs.shape[1]),
        )
        total += (tree.decision_path(inputs) @ credit).toarray()
    return total / len(forest.estimators_)
