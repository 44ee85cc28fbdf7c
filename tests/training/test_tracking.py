"""What a training run leaves in MLflow: lineage, parameters, metrics, plots, the hold-out and a
pyfunc model with signature and input example; and where tracking goes by default."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fraud_training.bundle import DECISIONS
from fraud_training.loaders import file_sha256
from fraud_training.tracking import (
    TrackingTarget,
    load_run_holdout,
    tracking_target,
)
from fraud_training.train import TrainingResult
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_run_records_the_data_sets_lineage(
    good_version: TrainingResult, client: MlflowClient, transactions_file: Path
) -> None:
    tags = client.get_run(good_version.run_id).data.tags
    assert tags["dataset_sha256"] == file_sha256(transactions_file)
    assert (tags["dataset_rows"], tags["dataset_frauds"]) == ("20000", "800")
    assert tags["dataset_source"] == str(transactions_file)
    assert tags["feature_set"] == "transactions"


def test_run_records_options_learner_parameters_and_metrics(
    good_version: TrainingResult, client: MlflowClient
) -> None:
    data = client.get_run(good_version.run_id).data
    assert data.params["algorithm"] == "xgboost"
    assert data.params["split"] == "time"
    assert data.params["model.n_estimators"] == "60"
    assert float(data.params["model.scale_pos_weight"]) > 1
    assert data.metrics["pr_auc"] == good_version.metrics["pr_auc"]
    assert data.metrics["roc_auc"] == good_version.metrics["roc_auc"]


def test_run_logs_four_plots_as_png(
    good_version: TrainingResult, local_tracking: TrackingTarget, tmp_path: Path
) -> None:
    folder = Path(
        mlflow.artifacts.download_artifacts(
            run_id=good_version.run_id,
            artifact_path="plots",
            dst_path=str(tmp_path),
            tracking_uri=local_tracking.tracking_uri,
        )
    )
    plots = sorted(path.name for path in folder.iterdir())
    assert plots == [
        "confusion_matrix.png",
        "feature_importance.png",
        "pr_curve.png",
        "roc_curve.png",
    ]
    assert all((folder / name).read_bytes().startswith(PNG_MAGIC) for name in plots)


def test_run_logs_the_hold_out_it_was_judged_on(
    good_version: TrainingResult, client: MlflowClient
) -> None:
    holdout = load_run_holdout(client, good_version.run_id)
    assert len(holdout) == good_version.test_rows
    assert holdout.labels.sum() == good_version.metrics["test_frauds"]


def test_the_hold_out_keeps_ids_timestamps_and_amounts_to_recompute_metrics_from(
    good_version: TrainingResult, client: MlflowClient
) -> None:
    rows = load_run_holdout(client, good_version.run_id).rows
    assert list(rows.columns) == [
        "transaction_id",
        "customer_id",
        "merchant_id",
        "device_id",
        "timestamp",
        "amount",
    ]
    assert rows["transaction_id"].is_unique
    assert len(rows) == good_version.test_rows
    assert rows["timestamp"].is_monotonic_increasing or rows["timestamp"].notna().all()


@pytest.fixture(scope="module")
def model_folder(
    good_version: TrainingResult,
    local_tracking: TrackingTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Version 1's MLflow model, downloaded."""
    client = local_tracking.client()
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(MODEL_NAME, "1"),
            dst_path=str(tmp_path_factory.mktemp("model")),
            tracking_uri=local_tracking.tracking_uri,
        )
    )


def test_model_has_a_signature_and_an_input_example(model_folder: Path) -> None:
    model = Model.load(str(model_folder))
    inputs = model.signature.inputs.input_names()
    assert inputs[:3] == ["amount", "log_amount", "hour_of_day"]
    assert model.signature.outputs.input_names() == ["probability", "decision"]
    assert model.saved_input_example_info is not None


def test_pyfunc_model_scores_feature_rows(
    model_folder: Path, good_version: TrainingResult, client: MlflowClient
) -> None:
    holdout = load_run_holdout(client, good_version.run_id)
    model = mlflow.pyfunc.load_model(str(model_folder))
    columns = model.metadata.get_input_schema().input_names()
    scored = model.predict(pd.DataFrame(holdout.features[:50], columns=columns))
    np.testing.assert_allclose(scored["probability"], holdout.scores[:50], rtol=1e-6)
    assert set(scored["decision"]) <= set(DECISIONS)


def test_default_tracking_is_a_local_sqlite_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    target = tracking_target(home=tmp_path / "mlflow")
    assert target.tracking_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert target.artifact_location == (tmp_path / "mlflow" / "artifacts").as_uri()


def test_mlflow_tracking_uri_from_the_environment_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert tracking_target() == TrackingTarget("http://127.0.0.1:5999")


def test_a_sqlite_uri_keeps_its_artifacts_beside_the_database(tmp_path: Path) -> None:
    target = tracking_target(f"sqlite:///{tmp_path}/store/runs.db")
    assert target.artifact_location == (tmp_path / "store" / "artifacts").as_uri()
