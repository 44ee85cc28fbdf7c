"""The model bundle: everything serving needs, saved as one folder inside the MLflow model.

A bundle holds the fitted estimator with its preprocessing, the feature set it was trained on (so
serving rebuilds the same features), the decision thresholds chosen on the hold-out, the training
metrics and a reference profile of the training features (for drift checks). Serving loads the
bundle and nothing else.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fraud_training.features import FEATURE_SETS

BUNDLE_FILE = "bundle.pkl"
METADATA_FILE = "metadata.json"
DECISIONS = ("approve", "review", "decline")


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs: at or above ``review`` a transaction is reviewed, at or above ``decline``
    it is declined. ``review`` minimises the expected cost on the hold-out."""

    review: float
    decline: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.decline <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= review <= decline <= 1, got {self}")

    def decide(self, probability: np.ndarray) -> np.ndarray:
        """approve / review / decline for each probability."""
        index = (probability >= self.review).astype(np.int64) + (probability >= self.decline)
        return np.asarray(DECISIONS, dtype=object)[index]


@dataclass
class ModelBundle:
    """A trained fraud model and all it needs to score raw transactions."""

    feature_set: str
    algorithm: str
    estimator: Any
    thresholds: Thresholds
    metrics: dict[str, float] = field(default_factory=dict)
    reference_profile: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Column order of the matrices the estimator takes."""
        return FEATURE_SETS[self.feature_set].names

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Fraud probability of each row of a feature matrix."""
        return np.asarray(self.estimator.predict_proba(features))[:, 1]

    def metadata(self) -> dict[str, Any]:
        """The human-readable part of the bundle (written beside the pickle)."""
        return {
            "feature_set": self.feature_set,
            "feature_names": list(self.feature_names),
            "algorithm": self.algorithm,
            "thresholds": asdict(self.thresholds),
            "metrics": self.metrics,
            "params": self.params,
            "lineage": self.lineage,
        }

    def save(self, folder: Path) -> Path:
        """Write the bundle to ``folder`` (created) and return it."""
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / BUNDLE_FILE).open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (folder / METADATA_FILE).write_text(json.dumps(self.metadata(), indent=2, default=str))
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
