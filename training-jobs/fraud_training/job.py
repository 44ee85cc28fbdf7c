"""``python -m fraud_training.job``: what the operator's training Job runs.

The operator hands the FraudModel's spec as JSON (``FRAUDOPS_JOB_SPEC``, from the generation's
ConfigMap) and the Job's own name (``FRAUDOPS_JOB_NAME``). The Job generates or reads the data,
trains and registers a version through the same :func:`run_training` as ``fraudctl train``, and
tags that version with the Job's name: that tag is how the operator finds the version a Job made,
after any restart. Bad input exits with code 2 and one line naming the problem, which the Job's
pod failure policy turns into a failed Job at once, without retries. Data at ``s3://bucket/key``
is read from object storage (:mod:`fraud_training.object_store`); when the store refuses or cannot
be reached the Job exits with code 3 and one line naming the URI and the store's error, which the
operator reports as ``StorageError``; the SDK has retried already, so the pod failure policy
fails the Job at once here too.

A retraining (drift, falling precision, the schedule) also sets ``FRAUDOPS_RETRAINING_REASON``,
tagged on the version, and ``FRAUDOPS_PRODUCTION_WINDOW`` with ``DATABASE_URL``: the labelled
transactions the model served in that window are added to the configured data, so the retrained
model learns from what production saw rather than from the same configured rows again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from fraud_training import version_tags
from fraud_training.choices import (
    DEFAULT_ENTITY_WINDOWS,
    DEFAULT_PAIR_WINDOWS,
    DEFAULT_RISK_LABEL_DELAY_DAYS,
    DEFAULT_RISK_SMOOTHING,
    DEFAULT_RISK_WINDOWS,
)
from fraud_training.config import TrainingConfig
from fraud_training.errors import FraudOpsError
from fraud_training.generator.config import GeneratorConfig
from fraud_training.generator.stream import generate_transactions, write_transactions
from fraud_training.loaders import ColumnMapping, load_dataset
from fraud_training.monitoring.durations import parse_duration
from fraud_training.monitoring.production_window import (
    labelled_production_window,
    with_production_window,
)
from fraud_training.object_store import is_object_uri
from fraud_training.risk_features import risk_entities
from fraud_training.schema import LABEL, LEGIT_PATTERN, PATTERN
from fraud_training.train import TrainingResult, run_training

RETRAINING_REASON_ENV = "FRAUDOPS_RETRAINING_REASON"
PRODUCTION_WINDOW_ENV = "FRAUDOPS_PRODUCTION_WINDOW"
#: ``fraud_pattern`` of a confirmed fraud from production, whose pattern nobody knows.
PRODUCTION_PATTERN = "production"


def data_path(data: Mapping[str, Any], scratch: Path) -> Path | str:
    """The training data: a file generated into ``scratch`` for ``synthetic``, the ``s3://`` URI
    itself (the loader fetches it), else ``uri``'s local path."""
    if "synthetic" in data:
        synthetic = data["synthetic"]
        config = GeneratorConfig(
            rows=int(synthetic.get("rows", 200_000)),
            fraud_rate=float(synthetic.get("fraudRate", 0.02)),
            seed=int(synthetic.get("seed", 42)),
            days=int(synthetic.get("days", 30)),
        )
        return write_transactions(generate_transactions(config), scratch / "transactions.parquet")
    if is_object_uri(data["uri"]):
        return str(data["uri"])
    path = Path(str(data["uri"]).removeprefix("file://"))
    if not path.is_file():
        raise FraudOpsError(f"data.uri: {data['uri']} does not exist or is not a file")
    return path


def training_config(spec: Mapping[str, Any], data: Path | str) -> TrainingConfig:
    """The FraudModel's training, registry and data-format fields as a :class:`TrainingConfig`."""
    training, split = spec.get("training", {}), spec.get("training", {}).get("split", {})
    risk = training.get("riskFeatures", {})
    mapping = spec["data"].get("columnMapping")
    return TrainingConfig(
        data=data,
        algorithm=training.get("algorithm", "xgboost"),
        imbalance=training.get("imbalance", "weights"),
        split=split.get("strategy", "time"),
        folds=int(split.get("folds", 5)),
        test_fraction=float(split.get("testFraction", 0.2)),
        label_delay_days=float(split.get("labelDelayDays", 0.0)),
        hyperparameters=dict(training.get("hyperparameters") or {}),
        model_name=spec["registry"]["modelName"],
        tracking_uri=spec["registry"].get("trackingUri") or os.environ.get("MLFLOW_TRACKING_URI"),
        mapping=ColumnMapping.from_spec(mapping) if mapping else None,
        data_format=spec["data"].get("format", "auto"),
        risk_label_delay_days=float(risk.get("labelDelayDays", DEFAULT_RISK_LABEL_DELAY_DAYS)),
        risk_windows=tuple(risk.get("windows", DEFAULT_RISK_WINDOWS)),
        risk_smoothing=float(risk.get("smoothing", DEFAULT_RISK_SMOOTHING)),
        risk_entities=risk_entities(
            risk.get("entities") or (), "spec.training.riskFeatures.entities"
        ),
        entity_windows=tuple(training.get("entityWindows") or DEFAULT_ENTITY_WINDOWS),
        pair_windows=tuple(training.get("pairWindows") or DEFAULT_PAIR_WINDOWS),
    )


def _say(message: str) -> None:
    print(f"[train] {message}", flush=True)


def with_recent_production(
    config: TrainingConfig,
    scratch: Path,
    environ: Mapping[str, str],
    now: datetime | None = None,
) -> TrainingConfig:
    """``config`` training on its data plus the labelled production window of
    ``FRAUDOPS_PRODUCTION_WINDOW`` (read from ``DATABASE_URL``, the model's own predictions), or
    ``config`` unchanged without a window, without labelled rows in it, or for data in the ULB
    schema or with pass-through columns (which production transactions do not carry)."""
    window_text = environ.get(PRODUCTION_WINDOW_ENV)
    if not window_text:
        return config
    database_url = environ.get("DATABASE_URL")
    if not database_url:
        raise FraudOpsError(f"{PRODUCTION_WINDOW_ENV} is set but DATABASE_URL is not")
    window = parse_duration(window_text, PRODUCTION_WINDOW_ENV)
    configured = load_dataset(config.data, data_format=config.data_format, mapping=config.mapping)
    if configured.feature_set != "transactions" or configured.pass_through:
        _say(
            f"production window skipped: the configured data ({configured.feature_set}) has "
            "columns production transactions do not carry"
        )
        return config
    end = now or datetime.now(UTC)
    production = labelled_production_window(database_url, end - window, end, config.model_name)
    _say(f"adding {len(production):,} labelled production transactions of the last {window_text}")
    if production.empty:
        return config
    if PATTERN in configured.frame.columns and PATTERN not in production.columns:
        # The simulator's ground-truth pattern; production only knows fraud or not.
        production = production.assign(
            **{PATTERN: production[LABEL].map({1: PRODUCTION_PATTERN, 0: LEGIT_PATTERN})}
        )
    combined = with_production_window(configured.frame, production)
    # Data files hold millisecond timestamps; the audit trail keeps microseconds.
    combined["timestamp"] = combined["timestamp"].dt.floor("ms")
    merged = write_transactions(combined, scratch / "with-production.parquet")
    return dataclasses.replace(config, data=merged, data_format="transactions", mapping=None)


def run_job(
    spec: Mapping[str, Any], job_name: str, environ: Mapping[str, str] | None = None
) -> TrainingResult:
    """Train as the spec says (plus the production window of a retraining) and tag the
    registered version with the Job that made it and why it was retrained."""
    environ = os.environ if environ is None else environ
    with tempfile.TemporaryDirectory(prefix="fraudops-job-") as scratch:
        config = training_config(spec, data_path(spec["data"], Path(scratch)))
        config = with_recent_production(config, Path(scratch), environ)
        result = run_training(config, progress=_say)
    owner = spec.get("fraudModel", {})
    client = MlflowClient(tracking_uri=result.tracking_uri, registry_uri=result.tracking_uri)
    tags = {
        version_tags.FRAUDMODEL: f"{owner.get('namespace', '')}/{owner.get('name', '')}",
        version_tags.GENERATION: str(owner.get("generation", "")),
        **(
            {version_tags.RETRAINING_REASON: environ[RETRAINING_REASON_ENV]}
            if environ.get(RETRAINING_REASON_ENV)
            else {}
        ),
        version_tags.JOB: job_name,  # last: to the operator it means "the version is complete"
    }
    for key, value in tags.items():
        client.set_model_version_tag(result.model_name, str(result.version), key, value)
    return result


def main() -> int:
    """Entry point of the training container."""
    raw = os.environ.get("FRAUDOPS_JOB_SPEC")
    job_name = os.environ.get("FRAUDOPS_JOB_NAME", "")
    try:
        if not raw:
            raise FraudOpsError(
                "FRAUDOPS_JOB_SPEC is not set: the Job must carry the FraudModel spec"
            )
        if not job_name:
            raise FraudOpsError("FRAUDOPS_JOB_NAME is not set: the Job must know its own name")
        try:
            spec = json.loads(raw)
        except json.JSONDecodeError as error:
            raise FraudOpsError(f"FRAUDOPS_JOB_SPEC is not valid JSON: {error}") from error
        result = run_job(spec, job_name)
    except FraudOpsError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    metrics = result.metrics
    print(
        f"registered {result.model_name} version {result.version}: "
        f"ROC-AUC {metrics['roc_auc']:.4f}, PR-AUC {metrics['pr_auc']:.4f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
