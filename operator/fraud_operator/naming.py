"""Names and labels of a FraudModel's children, derived from the object alone.

Deriving every name from the FraudModel (for training, the hash of its training spec; for the gate,
the version it judges) is what makes
reconciliation idempotent: a repeated reconcile or a restarted operator computes the same name and
finds the child it created before instead of starting a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

GROUP = "fraudops.io"
VERSION = "v1alpha1"
PLURAL = "fraudmodels"
KIND = "FraudModel"
API_VERSION = f"{GROUP}/{VERSION}"

LABEL_MODEL = f"{GROUP}/fraudmodel"
LABEL_GENERATION = f"{GROUP}/generation"
#: The training spec's hash (:func:`fraud_operator.builders.training.training_hash`) a Job trains.
LABEL_TRAINING_HASH = f"{GROUP}/training-hash"
#: Why a training Job retrains: Drift, PerformanceDegraded or Schedule (absent: a spec change).
LABEL_RETRAINING_REASON = f"{GROUP}/retraining-reason"
#: The model version a gate Job judges, or a KServe predictor (and its pods) serves.
LABEL_MODEL_VERSION = f"{GROUP}/model-version"
#: Which of a KServe FraudModel's revisions a predictor is: stable, or the canary beside it.
LABEL_TRACK = f"{GROUP}/track"
TRACK_STABLE, TRACK_CANARY = "stable", "canary"
LABEL_COMPONENT = "app.kubernetes.io/component"
MAX_NAME = 63
SERVING_PORT = 8080


def _fit(name: str, limit: int = MAX_NAME) -> str:
    """Shorten ``name`` to ``limit`` characters, keeping it unique with a hash suffix."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def training_job_name(model_name: str, training_hash: str) -> str:
    """The one training Job of a training spec (also the name of its ConfigMap)."""
    return _fit(f"{model_name}-train-{training_hash}")


def gate_job_name(model_name: str, version: str) -> str:
    """The one gate Job of a candidate version."""
    return _fit(f"{model_name}-gate-v{version}")


def retrain_cronjob_name(model_name: str) -> str:
    """The CronJob that retrains on ``retraining.schedule``; its Jobs get an 11-character suffix."""
    return _fit(f"{model_name}-retrain", limit=52)


def monitor_cronjob_name(model_name: str) -> str:
    """The CronJob of the monitoring pass; its Jobs get an 11-character suffix."""
    return _fit(f"{model_name}-monitor", limit=52)


def retraining_job_name(model_name: str, reason: str, sequence: int) -> str:
    """The ``sequence``-th retraining the operator started, for ``reason`` (Drift,
    PerformanceDegraded). Never a training-hash name (``-train-``) nor a CronJob Job's
    (``-retrain-<digits>``), so it cannot collide with either."""
    return _fit(f"{model_name}-retrain-{reason.lower()}-{sequence}")


def serving_name(model_name: str) -> str:
    """Deployment, Service, HPA or InferenceService serving the champion."""
    return _fit(f"{model_name}-serving")


def canary_serving_name(model_name: str) -> str:
    """The InferenceService of a KServe canary (KServe appends ``-predictor`` to its children)."""
    return _fit(f"{model_name}-serving-canary", limit=MAX_NAME - len("-predictor"))


def admin_secret_name(model_name: str) -> str:
    """The Secret holding the token with which the operator asks serving pods to reload."""
    return _fit(f"{model_name}-serving-admin")


def registered_model_name(namespace: str, name: str, spec: Mapping[str, Any]) -> str:
    """The MLflow registered model: ``registry.modelName`` or ``<namespace>-<name>``."""
    return spec.get("registry", {}).get("modelName") or f"{namespace}-{name}"


def labels(model_name: str, component: str) -> dict[str, str]:
    """Labels every child carries: who owns it and which part of the system it is."""
    return {
        "app.kubernetes.io/name": "fraudops",
        "app.kubernetes.io/instance": model_name,
        "app.kubernetes.io/managed-by": "fraudops-operator",
        LABEL_COMPONENT: component,
        LABEL_MODEL: model_name,
    }


def selector(model_name: str, component: str) -> dict[str, str]:
    """The stable subset of :func:`labels` that selects a component's pods."""
    return {LABEL_MODEL: model_name, LABEL_COMPONENT: component}
