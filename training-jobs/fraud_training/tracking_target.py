"""Which MLflow a process talks to: the tracking URI and, for the local store, its artifacts.

Apart from :mod:`fraud_training.tracking` (which writes training runs and needs pandas and the
learners) so that the scoring service resolves and downloads models with the MLflow client alone.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient

DEFAULT_HOME = Path(".fraudops") / "mlflow"
SQLITE_PREFIX = "sqlite:///"
#: MLflow's own chatter that says nothing to a fraud engineer.
_QUIET_ENVIRONMENT = {
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def quiet_mlflow() -> None:
    """Silence progress bars, telemetry, info logs and the Python warnings raised inside MLflow
    (deprecations of its own dependencies); MLflow's logged warnings and errors still show."""
    for key, value in _QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    for logger in ("mlflow", "alembic"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"mlflow\..*")


@dataclass(frozen=True)
class TrackingTarget:
    """A tracking URI and, for the default local store, the folder that holds its artifacts."""

    tracking_uri: str
    artifact_location: str | None = None

    def client(self) -> MlflowClient:
        """A client for both the tracking store and the model registry at this URI."""
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


def tracking_target(tracking_uri: str | None = None, home: Path | None = None) -> TrackingTarget:
    """The explicit URI, else ``MLFLOW_TRACKING_URI``, else a local SQLite store under ``home``."""
    quiet_mlflow()
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        return local_store(home or DEFAULT_HOME)
    if uri.startswith(SQLITE_PREFIX):
        return local_store(Path(uri.removeprefix(SQLITE_PREFIX)).parent, database=uri)
    return TrackingTarget(uri)


def local_store(folder: Path, database: str | None = None) -> TrackingTarget:
    """A SQLite tracking store in ``folder`` with its artifacts beside it in ``artifacts/``.

    Without an artifact location MLflow would put a SQLite store's artifacts under the current
    directory (``./mlruns``), wherever the command happens to run.
    """
    folder = folder.resolve()
    (folder / "artifacts").mkdir(parents=True, exist_ok=True)
    return TrackingTarget(
        tracking_uri=database or f"{SQLITE_PREFIX}{folder / 'mlflow.db'}",
        artifact_location=(folder / "artifacts").as_uri(),
    )
