"""Probability predictors: a compiled one for XGBoost, the bundle's own estimator otherwise.

Measured on this project's 2-core machine with a 200-tree XGBoost model, one row per call:
``Booster.inplace_predict`` costs 150-250 us (XGBoost's per-call overhead, not the trees),
Treelite's GTIL 50 us, a TL2cgen-compiled library 30 us and ONNX Runtime 7 us. ONNX Runtime also
needs no C compiler in the serving image, so XGBoost models are converted to ONNX and checked
against the estimator when the bundle is saved (its serving payload, see
:mod:`fraud_training.serving_payload`), and serving runs that ONNX model without the training
stack. A bundle without a payload is converted here when loaded, with the same check; any other
estimator (or a conversion that does not agree) is served through ``ModelBundle.predict_proba``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from fraud_training.bundle import ModelBundle

log = logging.getLogger(__name__)

#: Largest difference allowed between the compiled model and the estimator on the probe rows.
#: ONNX evaluates the trees in float32 like XGBoost does, and only the final sigmoid differs.
AGREEMENT_TOLERANCE = 1e-5
PROBE_ROWS = 512


class Predictor(Protocol):
    """Fraud probability for each row of a feature matrix in the bundle's feature order."""

    kind: str

    def probability(self, features: np.ndarray) -> np.ndarray: ...


class EstimatorPredictor:
    """The bundle's estimator as trained: works for every algorithm, at its own speed."""

    kind = "estimator"

    def __init__(self, bundle: ModelBundle) -> None:
        self._bundle = bundle

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Delegates to :meth:`ModelBundle.predict_proba`."""
        return self._bundle.predict_proba(features)


class OnnxTreePredictor:
    """An XGBoost classifier compiled to ONNX and run by ONNX Runtime on one thread.

    One intra-op thread on purpose: the service runs one worker process per core and XGBoost's
    or ONNX's own thread pools would fight the event loop for that core.
    """

    kind = "onnxruntime"

    def __init__(self, model_bytes: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_xgboost(cls, estimator: object, n_features: int) -> OnnxTreePredictor:
        """Convert an XGBoost classifier (needs onnxmltools, the training side's)."""
        return cls(xgboost_onnx(estimator, n_features))

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Column 1 of the ONNX ``probabilities`` output, as float64."""
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        (probabilities,) = self._session.run(["probabilities"], {"features": matrix})
        return probabilities[:, 1].astype(np.float64)


def xgboost_onnx(estimator: object, n_features: int) -> bytes:
    """An XGBoost classifier as an ONNX model: ``features`` in, ``probabilities`` out."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = onnxmltools.convert_xgboost(
        estimator, initial_types=[("features", FloatTensorType([None, n_features]))]
    )
    return model.SerializeToString()


def xgboost_learner(bundle: ModelBundle) -> Any | None:
    """The bundle's XGBoost classifier if it sees the features as they are, else ``None``.

    Bundles hold a pipeline ending in the learner; samplers (SMOTE) only act at fit time, so the
    learner sees the raw feature matrix unless a step transforms it (scaling, for instance).
    """
    from xgboost import XGBClassifier

    estimator = bundle.estimator
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        if any(hasattr(step, "transform") for _, step in steps[:-1]):
            return None
        estimator = steps[-1][1]
    return estimator if isinstance(estimator, XGBClassifier) else None


def predictor_for(bundle: ModelBundle, choice: str = "auto") -> Predictor:
    """The fastest predictor that agrees with the bundle's estimator on probe rows (``auto``),
    or the estimator itself (``estimator``)."""
    reference = EstimatorPredictor(bundle)
    learner = xgboost_learner(bundle)
    if learner is None:
        return reference
    _single_threaded(learner)
    if choice == "estimator":
        return reference
    try:
        compiled = OnnxTreePredictor.from_xgboost(learner, len(bundle.feature_names))
    except Exception as error:  # any converter failure means: serve the estimator itself
        log.warning("ONNX conversion failed (%s); serving the XGBoost estimator directly", error)
        return reference
    probe = probe_rows(len(bundle.feature_names))
    difference = float(np.max(np.abs(compiled.probability(probe) - reference.probability(probe))))
    if difference > AGREEMENT_TOLERANCE:
        log.warning(
            "ONNX model differs from the estimator by %.2g; serving the estimator", difference
        )
        return reference
    return compiled


def probe_rows(n_features: int, rows: int = PROBE_ROWS) -> np.ndarray:
    """Rows spread over many magnitudes (and some missing values) to exercise most branches."""
    rng = np.random.default_rng(20_240_601)
    magnitude = 10.0 ** rng.integers(-1, 5, size=(rows, n_features))
    probe = rng.standard_normal((rows, n_features)) * magnitude
    small = rng.random((rows, n_features)) < 0.4
    probe[small] = rng.integers(0, 6, size=int(small.sum()))  # counts and 0/1 flags
    probe[rng.random((rows, n_features)) < 0.02] = np.nan
    return probe


def _single_threaded(learner: Any) -> None:
    """XGBoost on one thread in the serving process (see :class:`OnnxTreePredictor`)."""
    learner.set_params(n_jobs=1)
    learner.get_booster().set_param({"nthread": 1})
