"""A promotion says who made it and why, on the version, and ``fraudctl models list`` shows it."""

from __future__ import annotations

from fraud_training import version_tags
from fraud_training.choices import CHAMPION
from fraud_training.registry import list_versions, promote
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME


def test_fraudctl_promote_records_itself_and_the_reason(
    no_aliases: None, client: MlflowClient
) -> None:
    promote(client, MODEL_NAME, 1, CHAMPION, reason="rollback: v2 flags too many")

    tags = client.get_model_version(MODEL_NAME, "1").tags
    assert tags[version_tags.PROMOTED_BY] == version_tags.FRAUDCTL
    assert tags[version_tags.PROMOTED_REASON] == "rollback: v2 flags too many"
    assert tags[version_tags.PROMOTED_AT].endswith("Z")


def test_models_list_shows_who_promoted_each_version(
    no_aliases: None, client: MlflowClient
) -> None:
    promote(client, MODEL_NAME, 2, CHAMPION, reason="manual")

    shown = {v.version: v.promoted for v in list_versions(client, MODEL_NAME)}
    assert shown[2] == "fraudctl: manual"


def test_moving_the_challenger_records_no_promotion(no_aliases: None, client: MlflowClient) -> None:
    before = dict(client.get_model_version(MODEL_NAME, "2").tags)

    promote(client, MODEL_NAME, 2, "challenger")

    after = client.get_model_version(MODEL_NAME, "2").tags
    assert after.get(version_tags.PROMOTED_AT) == before.get(version_tags.PROMOTED_AT)
