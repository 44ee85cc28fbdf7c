"""The serving payload: what the scoring service needs from a bundle, without the training stack.

Written into the bundle's ``serving/`` folder whenever a bundle is saved (so the training Job's
bundle carries it): the model compiled to ONNX, the path-attribution explainer compiled to ONNX,
and a manifest with the feature definition (feature set, column order, pass-through encodings),
the input schema, the thresholds, the metrics and the reference profiles. Serving loads these
with ONNX Runtime and numpy alone, never unpickling the estimator, so its image needs neither
scikit-learn, XGBoost nor LightGBM.

Every compiled part is checked against the estimator on probe rows before it is written; a
disagreement beyond the tolerance fails the save, so no bundle ever carries a payload that scores
differently from the model that was evaluated and gated. Only XGBoost models (the default
algorithm, and the one the ONNX predictor has served since it existed) are exported today; for
the others no payload is written and serving needs the training stack (the ``all`` image).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_training.bundle_layout import SERVING_FOLDER
from fraud_training.errors import FraudOpsError

if TYPE_CHECKING:
    from fraud_training.bundle import ModelBundle

log = logging.getLogger(__name__)

#: Bumped when the manifest changes in a way an older service cannot read (2: the built-in
#: histories and their windows, ``builtin``).
PAYLOAD_FORMAT = 2
MANIFEST_FILE = "serving.json"
MODEL_FILE = "model.onnx"
EXPLAINER_FILE = "explainer.onnx"
#: Largest probability difference allowed between the ONNX model and the estimator on the probe
#: rows: both evaluate the trees in float32; only the final sigmoid differs.
PROBABILITY_TOLERANCE = 1e-5
#: Largest contribution difference allowed between the ONNX explainer and XGBoost's own path
#: attribution (``approx_contribs``), in log-odds: float32 sums over hundreds of trees.
CONTRIBUTION_TOLERANCE = 1e-3


class PayloadMismatch(FraudOpsError):
    """A compiled part of the serving payload does not score like the estimator."""


def write_serving_payload(bundle: ModelBundle, folder: Path) -> Path | None:
    """Export and check the serving payload into ``folder/serving``; ``None`` for an algorithm
    without an export (the bundle is then served from its estimator)."""
    from fraud_inference.explain import TreePathExplainer, path_attribution_onnx
    from fraud_inference.predictor import (
        OnnxTreePredictor,
        probe_rows,
        xgboost_learner,
        xgboost_onnx,
    )

    learner = xgboost_learner(bundle)
    if learner is None:
        log.info(
            "no serving payload for a %s model: it is served from its estimator", bundle.algorithm
        )
        return None
    n_features = len(bundle.feature_names)
    model = xgboost_onnx(learner, n_features)
    explainer = path_attribution_onnx(learner.get_booster(), n_features)
    probe = probe_rows(n_features)
    probability_difference = _max_difference(
        OnnxTreePredictor(model).probability(probe), bundle.predict_proba(probe)
    )
    contribution_difference = _max_difference(
        TreePathExplainer(explainer).contributions(probe),
        _xgboost_path_contributions(learner, probe),
    )
    for part, difference, tolerance in (
        ("model", probability_difference, PROBABILITY_TOLERANCE),
        ("explainer", contribution_difference, CONTRIBUTION_TOLERANCE),
    ):
        if not difference <= tolerance:
            raise PayloadMismatch(
                f"serving payload: the ONNX {part} differs from the estimator by {difference:.3g} "
                f"on {len(probe)} probe rows (allowed {tolerance:g}); the bundle is not saved"
            )
    target = folder / SERVING_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    (target / MODEL_FILE).write_bytes(model)
    (target / EXPLAINER_FILE).write_bytes(explainer)
    manifest = serving_manifest(bundle)
    manifest["checked"] = {
        "probe_rows": len(probe),
        "probability_max_abs_difference": probability_difference,
        "contribution_max_abs_difference": contribution_difference,
    }
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=float))
    return target


def serving_manifest(bundle: ModelBundle) -> dict[str, Any]:
    """The manifest's data: everything serving reads from a bundle besides the ONNX models."""
    return {
        "format": PAYLOAD_FORMAT,
        "feature_set": bundle.feature_set,
        "feature_names": list(bundle.feature_names),
        "algorithm": bundle.algorithm,
        "thresholds": asdict(bundle.thresholds),
        "metrics": {name: float(value) for name, value in bundle.metrics.items()},
        "input_schema": bundle.input_schema(),
        "inputs": [asdict(column) for column in bundle.inputs.columns],
        # the entity histories, built-in and user-named: serving keeps them over the windows
        # training computed them with
        "builtin": [entity.describe() for entity in bundle.inputs.builtin],
        "entities": [entity.describe() for entity in bundle.inputs.entities],
        "risk": bundle.risk.describe() if bundle.risk is not None else None,
        "reference_profile": bundle.reference_profile,
        "score_profile": bundle.score_profile,
        "model": MODEL_FILE,
        "explainer": EXPLAINER_FILE,
    }


def _xgboost_path_contributions(learner: Any, features: np.ndarray) -> np.ndarray:
    from xgboost import DMatrix

    booster = learner.get_booster()
    contributions = booster.predict(DMatrix(features), pred_contribs=True, approx_contribs=True)
    return np.asarray(contributions)[:, :-1]


def _max_difference(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected), initial=0.0))
