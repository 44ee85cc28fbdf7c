"""Where MLflow lives and how a training run is written to it.

Without configuration, tracking is a SQLite file plus an artifact folder under
``.fraudops/mlflow/`` of the working directory: nothing to start, and ``mlflow ui`` reads it.
``MLFLOW_TRACKING_URI`` (or ``--tracking-uri``) points anywhere else, such as a real ``mlflow
server``; the registry always lives at the same URI as the tracking store.

A run records everything needed to trust and reproduce the model: parameters, hold-out metrics,
the data set's lineage (sha256, rows, frauds, source) as tags, evaluation plots, the hold-out
itself (the gate re-scores it) and the model as an MLflow pyfunc whose only artifact is the
:class:`~fraud_training.bundle.ModelBundle` folder, registered as a new version of a named model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient

from fraud_training.bundle import MLFLOW_ARTIFACT, ModelBundle
from fraud_training.errors import RegistryError
from fraud_training.holdout import HOLDOUT_ARTIFACT_DIR, HOLDOUT_FILE, HoldOut

# The tracking target lives apart (the scoring service needs it without pandas); re-exported here,
# where the training side has always found it.
from fraud_training.tracking_target import DEFAULT_HOME as DEFAULT_HOME
from fraud_training.tracking_target import SQLITE_PREFIX as SQLITE_PREFIX
from fraud_training.tracking_target import TrackingTarget as TrackingTarget
from fraud_training.tracking_target import local_store as local_store
from fraud_training.tracking_target import quiet_mlflow as quiet_mlflow
from fraud_training.tracking_target import tracking_target as tracking_target

MODEL_ARTIFACT = "model"
#: The pyfunc model's code, logged as a file ("models from code") rather than a pickled object.
PYFUNC_MODEL_CODE = Path(__file__).with_name("pyfunc_model.py")
PLOTS_ARTIFACT_DIR = "plots"
INPUT_EXAMPLE_ROWS = 5
#: The distributions a scoring environment needs to unpickle and run any bundle.
RUNTIME_DISTRIBUTIONS = (
    "mlflow",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "imbalanced-learn",
    "xgboost-cpu",
    "lightgbm",
)


@contextmanager
def mlflow_errors(tracking_uri: str) -> Iterator[None]:
    """Turn a failure of MLflow itself (server down, store unreadable) into a
    :class:`RegistryError` naming the tracking URI, so the CLI prints one line, not a traceback."""
    try:
        yield
    except MlflowException as error:
        raise RegistryError(
            f"tracking_uri: MLflow at {tracking_uri} failed: {error.message}"
        ) from error


def experiment_id(target: TrackingTarget, name: str) -> str:
    """The id of experiment ``name``, created (with the local artifact folder) if missing."""
    client = target.client()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, artifact_location=target.artifact_location)


@dataclass(frozen=True)
class RegisteredRun:
    """Where a training run landed: its run id and the registered model version."""

    run_id: str
    experiment_id: str
    model_name: str
    version: int
    model_uri: str


def runtime_requirements() -> list[str]:
    """Pinned versions of the distributions installed here, so MLflow need not infer them."""
    pins = []
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def log_training_run(
    target: TrackingTarget,
    experiment: str,
    model_name: str,
    bundle: ModelBundle,
    holdout: HoldOut,
    run_params: dict[str, Any],
    plots: list[Path],
) -> RegisteredRun:
    """Log one training run and register its model as a new version of ``model_name``.

    The run is marked FAILED if anything raises, and registration is the last step, so a run
    that breaks half-way never leaves a registered version behind.
    """
    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.tracking_uri)
    exp_id = experiment_id(target, experiment)
    with mlflow.start_run(experiment_id=exp_id) as run, tempfile.TemporaryDirectory() as scratch:
        mlflow.set_tags(
            {
                "algorithm": bundle.algorithm,
                "feature_set": bundle.feature_set,
                **{f"dataset_{key}": str(value) for key, value in bundle.lineage.items()},
            }
        )
        mlflow.log_params(_loggable(run_params))
        mlflow.log_metrics(bundle.metrics)
        for path in plots:
            mlflow.log_artifact(str(path), artifact_path=PLOTS_ARTIFACT_DIR)
        holdout_file = holdout.save(Path(scratch) / HOLDOUT_ARTIFACT_DIR)
        mlflow.log_artifact(str(holdout_file), artifact_path=HOLDOUT_ARTIFACT_DIR)
        info = log_pyfunc_model(bundle, holdout, Path(scratch))
    version = register_version(target.client(), model_name, info, run.info.run_id)
    return RegisteredRun(
        run_id=run.info.run_id,
        experiment_id=exp_id,
        model_name=model_name,
        version=version,
        model_uri=f"models:/{model_name}/{version}",
    )


def log_pyfunc_model(bundle: ModelBundle, holdout: HoldOut, scratch: Path) -> ModelInfo:
    """Log the bundle as the pyfunc model of the active run, with a signature and an input
    example taken from the first hold-out rows."""
    example = pd.DataFrame(
        holdout.features[:INPUT_EXAMPLE_ROWS], columns=list(bundle.feature_names)
    )
    example_scores = bundle.predict_proba(example.to_numpy(np.float64))
    example_output = pd.DataFrame(
        {
            "probability": example_scores,
            "decision": bundle.thresholds.decide(example_scores).astype(str),
        }
    )
    return mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=str(PYFUNC_MODEL_CODE),
        artifacts={MLFLOW_ARTIFACT: str(bundle.save(scratch / MLFLOW_ARTIFACT))},
        signature=infer_signature(example, example_output),
        input_example=example,
        pip_requirements=runtime_requirements(),
    )


def register_version(client: MlflowClient, name: str, model: ModelInfo, run_id: str) -> int:
    """Register a logged model as the next version of ``name`` (created on first use)."""
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        name, source=model.model_uri, run_id=run_id, model_id=model.model_id
    )
    return int(version.version)


def load_run_holdout(client: MlflowClient, run_id: str) -> HoldOut:
    """The hold-out logged with run ``run_id``."""
    with tempfile.TemporaryDirectory(prefix="fraudops-holdout-") as scratch:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id,
                artifact_path=f"{HOLDOUT_ARTIFACT_DIR}/{HOLDOUT_FILE}",
                dst_path=scratch,
                tracking_uri=client.tracking_uri,
            )
        except (MlflowException, OSError) as error:
            raise RegistryError(
                f"run {run_id} has no hold-out artifact {HOLDOUT_ARTIFACT_DIR}/{HOLDOUT_FILE} "
                f"(was it logged by `fraudctl train`?): {error}"
            ) from None
        return HoldOut.load(Path(path))


def _loggable(params: dict[str, Any]) -> dict[str, str]:
    """Parameters as MLflow strings, without the unset ones (MLflow caps a value at 6000 chars)."""
    return {key: str(value)[:6000] for key, value in params.items() if value is not None}
