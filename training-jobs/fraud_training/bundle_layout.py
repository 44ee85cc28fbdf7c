"""Where the parts of a model bundle sit in its folder, and how to find that folder.

Free of the training stack, so the scoring service can locate a bundle (and its serving payload)
in a downloaded MLflow model without importing what unpickling the estimator would need.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from fraud_training.errors import RegistryError

BUNDLE_FILE = "bundle.pkl"
#: The name of the bundle folder among the artifacts of the MLflow (pyfunc) model that carries it.
MLFLOW_ARTIFACT = "bundle"
METADATA_FILE = "metadata.json"
#: The folder inside a bundle with what serving needs without the training stack.
SERVING_FOLDER = "serving"
MODEL_URI_FORMS = (
    "models:/<name>@<alias>, models:/<name>/<version>, runs:/<run_id>/<path> "
    "or a local folder holding an MLflow model or a bundle"
)


def local_model_folder(model_uri: str) -> Path | None:
    """The bundle folder a local model URI names; ``None`` for a registry or run URI.

    A local form that is not a folder is the caller's mistake, named at once (no MLflow needed).
    """
    if "://" in model_uri or model_uri.startswith(("models:", "runs:")):
        return None
    local = Path(model_uri)
    if not local.is_dir():
        raise RegistryError(f"model_uri: {model_uri!r} is not a folder; use {MODEL_URI_FORMS}")
    return bundle_folder(local)


def bundle_folder(folder: Path) -> Path:
    """The bundle folder itself, or the ``bundle`` artifact of the MLflow model in ``folder``."""
    if (folder / BUNDLE_FILE).is_file() or (folder / SERVING_FOLDER).is_dir():
        return folder
    mlmodel = folder / "MLmodel"
    if not mlmodel.is_file():
        raise RegistryError(f"model_uri: {folder} holds neither an MLflow model nor a bundle")
    flavors = yaml.safe_load(mlmodel.read_text()).get("flavors", {})
    artifacts = flavors.get("python_function", {}).get("artifacts", {})
    relative = artifacts.get(MLFLOW_ARTIFACT, {}).get("path")
    if relative is None:
        raise RegistryError(f"model_uri: the MLflow model in {folder} has no {MLFLOW_ARTIFACT!r}")
    return folder / relative
