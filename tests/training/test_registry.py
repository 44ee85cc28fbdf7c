"""Aliases, version listing and ``download_bundle`` for every model URI form."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import numpy as np
import pytest
from fraud_training.choices import CHALLENGER, CHAMPION
from fraud_training.errors import RegistryError
from fraud_training.registry import download_bundle, list_versions, promote
from fraud_training.tracking import TrackingTarget, load_run_holdout
from fraud_training.train import TrainingResult
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME


def test_download_by_version_carries_the_registry_coordinates(
    good_version: TrainingResult, local_tracking: TrackingTarget
) -> None:
    loaded = download_bundle(f"models:/{MODEL_NAME}/1", local_tracking.tracking_uri)
    assert (loaded.name, loaded.version, loaded.alias) == (MODEL_NAME, 1, None)
    assert loaded.run_id == good_version.run_id
    assert loaded.bundle.thresholds == good_version.thresholds


def test_downloaded_bundle_scores_the_hold_out_as_at_training_time(
    good_version: TrainingResult, local_tracking: TrackingTarget, client: MlflowClient
) -> None:
    bundle = download_bundle(good_version.model_uri, local_tracking.tracking_uri).bundle
    holdout = load_run_holdout(client, good_version.run_id)
    np.testing.assert_allclose(bundle.predict_proba(holdout.features), holdout.scores, rtol=1e-6)
    assert set(bundle.reference_profile) == set(bundle.feature_names)


def test_the_bundle_profiles_its_hold_out_scores_for_score_drift(
    good_version: TrainingResult, local_tracking: TrackingTarget, client: MlflowClient
) -> None:
    bundle = download_bundle(good_version.model_uri, local_tracking.tracking_uri).bundle
    holdout = load_run_holdout(client, good_version.run_id)

    assert sum(bundle.score_profile["counts"]) == len(holdout.scores)
    assert bundle.score_profile["mean"][0] == pytest.approx(float(np.mean(holdout.scores)))


def test_download_by_alias_resolves_the_version_it_points_at(
    no_aliases: None, client: MlflowClient, local_tracking: TrackingTarget
) -> None:
    promote(client, MODEL_NAME, 2, CHAMPION)
    loaded = download_bundle(f"models:/{MODEL_NAME}@{CHAMPION}", local_tracking.tracking_uri)
    assert (loaded.version, loaded.alias) == (2, CHAMPION)
    assert loaded.bundle.params["n_estimators"] == 1


def test_download_by_run(good_version: TrainingResult, local_tracking: TrackingTarget) -> None:
    loaded = download_bundle(f"runs:/{good_version.run_id}/model", local_tracking.tracking_uri)
    assert (loaded.name, loaded.version, loaded.run_id) == (None, None, good_version.run_id)
    assert loaded.bundle.metrics["pr_auc"] == good_version.metrics["pr_auc"]


def test_download_from_a_local_mlflow_model_folder(
    good_version: TrainingResult,
    local_tracking: TrackingTarget,
    client: MlflowClient,
    tmp_path: Path,
) -> None:
    folder = mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(MODEL_NAME, "1"),
        dst_path=str(tmp_path),
        tracking_uri=local_tracking.tracking_uri,
    )
    loaded = download_bundle(folder)
    assert (loaded.name, loaded.version) == (None, None)
    assert loaded.bundle.thresholds == good_version.thresholds


def test_download_from_a_bundle_folder(
    good_version: TrainingResult, local_tracking: TrackingTarget, tmp_path: Path
) -> None:
    bundle = download_bundle(good_version.model_uri, local_tracking.tracking_uri).bundle
    loaded = download_bundle(str(bundle.save(tmp_path / "bundle")))
    assert loaded.bundle.algorithm == "xgboost"
    assert loaded.source_uri == str((tmp_path / "bundle").resolve())


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"models:/{MODEL_NAME}@{CHAMPION}", "has no version with alias 'champion'"),
        (f"models:/{MODEL_NAME}/99", "has no version 99 (versions: 2, 1)"),
        ("models:/no-such-model/1", "no registered model 'no-such-model'"),
        ("runs:/0123456789abcdef/model", "no run '0123456789abcdef'"),
        (f"models:/{MODEL_NAME}", "names no version"),
        ("runs:/0123456789abcdef", "names no artifact"),
        ("s3://bucket/model", "unsupported"),
        ("/no/such/folder", "is not a folder"),
    ],
)
def test_download_of_something_missing_names_it(
    no_aliases: None, local_tracking: TrackingTarget, uri: str, message: str
) -> None:
    with pytest.raises(RegistryError, match=re.escape(message)):
        download_bundle(uri, local_tracking.tracking_uri)


def test_promote_moves_the_alias_and_returns_the_previous_version(
    no_aliases: None, client: MlflowClient
) -> None:
    assert promote(client, MODEL_NAME, 1, CHAMPION) is None
    assert promote(client, MODEL_NAME, 2, CHAMPION) == 1
    assert int(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == 2


def test_promoting_the_challenger_to_champion_clears_its_challenger_alias(
    no_aliases: None, client: MlflowClient
) -> None:
    promote(client, MODEL_NAME, 2, CHALLENGER)
    promote(client, MODEL_NAME, 2, CHAMPION)
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert {alias: int(version) for alias, version in aliases.items()} == {CHAMPION: 2}


def test_promotion_uses_aliases_not_stages(no_aliases: None, client: MlflowClient) -> None:
    promote(client, MODEL_NAME, 1, CHAMPION)
    assert client.get_model_version(MODEL_NAME, "1").current_stage == "None"


def test_promote_refuses_an_unknown_alias(no_aliases: None, client: MlflowClient) -> None:
    with pytest.raises(RegistryError, match="'production' is not one of champion, challenger"):
        promote(client, MODEL_NAME, 1, "production")


def test_promote_refuses_an_unknown_version(no_aliases: None, client: MlflowClient) -> None:
    with pytest.raises(RegistryError, match="has no version 7"):
        promote(client, MODEL_NAME, 7, CHAMPION)


def test_list_versions_shows_aliases_and_metrics_newest_first(
    no_aliases: None, client: MlflowClient, good_version: TrainingResult
) -> None:
    promote(client, MODEL_NAME, 1, CHAMPION)
    promote(client, MODEL_NAME, 2, CHALLENGER)
    versions = list_versions(client, MODEL_NAME)
    assert [(v.version, v.aliases) for v in versions] == [(2, (CHALLENGER,)), (1, (CHAMPION,))]
    assert versions[1].metrics["pr_auc"] == good_version.metrics["pr_auc"]
    assert versions[1].algorithm == "xgboost"
